"""The paper-form optimizers pass the same sweep against their catalogue entries, and the
classical Nesterov iterate is read from torch's stored parameters by derive's proved map."""

import pytest

pytest.importorskip("torch")

from verify.objectives import QUARTIC  # noqa: E402
from verify.optimizers import SutskeverMomentum, SutskeverNesterov, classical_iterate  # noqa: E402
from verify.runner import RunConfig  # noqa: E402
from verify.sweep import check  # noqa: E402

PAPER_FORMS = [(SutskeverMomentum, "sutskever_momentum"), (SutskeverNesterov, "sutskever_nesterov")]
CASES = [
    (optimizer, formulation, schedule, objective, dtype)
    for optimizer, formulation in PAPER_FORMS
    for schedule in ("constant", "explicit_momentum", "onecycle")
    for objective in (None, QUARTIC)
    for dtype in ("float64", "float32")
]


def _config(optimizer, **changes):
    return RunConfig(optimizer=optimizer, options={"lr": 0.05, "momentum": 0.9}, impl=None, steps=60).with_(**changes)


@pytest.mark.parametrize("optimizer, formulation, schedule, objective, dtype", CASES,
                         ids=lambda v: getattr(v, "__name__", getattr(v, "name", str(v))))
def test_paper_form_optimizer_follows_its_catalogue_entry(optimizer, formulation, schedule, objective, dtype):
    report = check(_config(optimizer, schedule=schedule, objective=objective, dtype=dtype), formulation).report
    assert report.passed, report.describe()


@pytest.mark.parametrize("optimizer, other", [(SutskeverMomentum, "sutskever_nesterov"),
                                              (SutskeverNesterov, "sutskever_momentum")])
def test_look_ahead_and_stored_point_gradients_are_told_apart(optimizer, other):
    report = check(_config(optimizer, objective=QUARTIC), other).report
    assert not report.passed and report.first.step <= 2


def test_nesterov_needs_the_closure_and_says_so():
    import torch

    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    with pytest.raises(RuntimeError, match="pass step\\(closure\\)"):
        SutskeverNesterov([p], lr=0.1).step()


@pytest.mark.parametrize("schedule, holds", [("constant", True), ("explicit", False)])
def test_classical_iterate_of_torch_nesterov_is_sutskevers_iterate_under_a_constant_lr(schedule, holds):
    config = RunConfig(options={"lr": 0.05, "momentum": 0.9, "nesterov": True}, objective=QUARTIC,
                       schedule=schedule, steps=60, readout=classical_iterate)
    report = check(config, "sutskever_nesterov").report
    assert report.passed is holds, report.describe()
