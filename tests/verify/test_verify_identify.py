"""identify names the formulations an optimizer implements, and the varying lr separates the
ones that agree only under a constant lr."""

import pytest

torch = pytest.importorskip("torch")

from verify.identify import identify, load  # noqa: E402
from verify.optimizers import SutskeverMomentum  # noqa: E402

CANDIDATES = ["plain_gd", "sutskever_momentum", "sutskever_nesterov", "pytorch_sgd",
              "pytorch_nesterov_implemented", "pytorch_nesterov_documented", "bengio_nesterov"]


def _verdict(result, name):
    return next(v for v in result.verdicts if v.formulation == name)


def test_torch_sgd_momentum_is_pytorch_sgd_and_paper_momentum_only_under_a_constant_lr():
    result = identify(torch.optim.SGD, {"momentum": 0.9}, candidates=CANDIDATES, steps=15)
    assert "pytorch_sgd" in result.matches
    paper = _verdict(result, "sutskever_momentum")
    assert not paper.implements and paper.constant_only


def test_torch_sgd_nesterov_stores_the_look_ahead_iterate():
    result = identify(torch.optim.SGD, {"momentum": 0.9, "nesterov": True}, candidates=CANDIDATES, steps=15)
    assert {"pytorch_sgd", "pytorch_nesterov_implemented"} <= set(result.matches)
    assert "sutskever_nesterov" not in result.matches and "pytorch_nesterov_documented" not in result.matches


def test_a_match_to_nothing_names_the_closest_and_where_it_departs():
    result = identify(torch.optim.Adam, {}, candidates=CANDIDATES, steps=10)
    assert result.matches == []
    assert result.closest is not None and "departs under the" in result.describe()


def test_the_paper_momentum_optimizer_is_identified_as_sutskever_momentum():
    result = identify(SutskeverMomentum, {"momentum": 0.9}, candidates=CANDIDATES, steps=15)
    assert result.matches == ["sutskever_momentum"]


def test_load_accepts_a_module_or_a_file_and_explains_a_missing_name(tmp_path):
    assert load("torch.optim:SGD") is torch.optim.SGD
    path = tmp_path / "mine.py"
    path.write_text("import torch\nclass Mine(torch.optim.SGD):\n    pass\n")
    assert load(f"{path}:Mine").__name__ == "Mine"
    with pytest.raises(ValueError, match="has no 'Nope'"):
        load("torch.optim:Nope")
