"""The framework entries against torch optimizers written from the frameworks' kernels, and against
the runs recorded from the real frameworks (scripts/frameworks/runs, no framework needed here)."""

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from derive.catalogue import get  # noqa: E402
from verify import frameworks as fw  # noqa: E402
from verify.identify import identify  # noqa: E402
from verify.objectives import QUARTIC  # noqa: E402
from verify.runner import RunConfig  # noqa: E402

RUNS = Path(__file__).resolve().parents[2] / "scripts" / "frameworks" / "runs"
NAG = ("mxnet_nag_1_4", "mxnet_nag_1_5", "mxnet_nag")


def _config(cls, *, dtype="float64", schedule="explicit_momentum", steps=60, **changes):
    options = {"lr": 0.05, "momentum": 0.9, **({"weight_decay": 0.01} if cls.decay else {}),
               **({"nesterov": True} if "nesterov" in cls.flags else {}), **changes}
    return RunConfig(optimizer=cls, options=options, impl=None, steps=steps, dtype=dtype, schedule=schedule,
                     objective=QUARTIC)


CASES = [(entry, dtype, schedule) for entry in fw.OPTIMIZERS
         for dtype, schedule in (("float64", "explicit_momentum"), ("float32", "onecycle"))]


@pytest.mark.parametrize("entry, dtype, schedule", CASES)
def test_the_kernel_transcription_follows_its_catalogue_entry(entry, dtype, schedule):
    report = fw.judge(_config(fw.OPTIMIZERS[entry], dtype=dtype, schedule=schedule), entry)
    assert report.passed, report.describe()


@pytest.mark.parametrize("entry", [e for e, cls in fw.OPTIMIZERS.items() if cls.float32])
def test_float32_hyperparameters_need_the_entrys_hyper_dtype_in_float64(entry):
    config = _config(fw.OPTIMIZERS[entry])
    exact = fw.judge(config, entry, hyper_dtype=False)
    assert not exact.passed, "a float32 rounding of lr, mu or lambda went unnoticed in float64"
    assert fw.judge(config, entry).passed


@pytest.mark.parametrize("entry", fw.OPTIMIZERS)
def test_each_class_rounds_exactly_the_roles_its_entry_declares(entry):
    f = get(entry)
    assert {r for r in ("lr", "momentum", "weight_decay") if f.dtype_of(r) == "float32"} == set(
        fw.FLOAT32_ROLES[entry])


# an optimizer judged against the entry it must NOT match (the runs differ from step 1 or 2)
SIBLINGS = [("mxnet_nag", "mxnet_nag_1_5"), ("mxnet_nag_1_5", "mxnet_nag_1_4"), ("mxnet_nag_1_4", "mxnet_nag"),
            ("lasagne_nesterov_momentum", "lasagne_momentum"), ("chainer_nesterov_ag", "optimisers_jl_nesterov"),
            ("optimisers_jl_momentum", "optax_sgd"), ("paddle_momentum", "mxnet_nag_1_5"),
            ("optax_sgd", "mxnet_nag")]


@pytest.mark.parametrize("entry, other", SIBLINGS)
def test_a_kernel_transcription_is_rejected_by_a_neighbouring_entry(entry, other):
    report = fw.judge(_config(fw.OPTIMIZERS[entry]), other)
    assert not report.passed and report.first.step <= 3, report.describe()


@pytest.mark.parametrize("cls, kwargs, expected, others", [
    (fw.ChainerNesterovAG, {"momentum": 0.9, "weight_decay": 0.01}, ["chainer_nesterov_ag"],
     ["mxnet_nag", "bengio_nesterov", "optimisers_jl_nesterov"]),
    (fw.LasagneMomentum, {"momentum": 0.9}, ["sutskever_momentum", "lasagne_momentum", "chainer_momentum_sgd"],
     ["pytorch_momentum_documented", "lasagne_nesterov_momentum"]),
    (fw.MXNetNAG14, {"momentum": 0.9, "weight_decay": 0.01}, ["optax_sgd", "mxnet_nag_1_4"],
     ["mxnet_nag_1_5", "mxnet_nag", "chainer_nesterov_ag"]),
    (fw.OptimisersJlNesterov, {"momentum": 0.9, "weight_decay": 0.01}, ["optimisers_jl_nesterov"],
     ["mxnet_nag", "lasagne_nesterov_momentum"]),
])
def test_identify_names_the_entries_a_transcription_implements(cls, kwargs, expected, others):
    # optax_sgd is built with the probe's flags: MXNet 1.4's NAG is optax's sgd with nesterov
    if cls is fw.MXNetNAG14:
        cls = type("MXNetNAG14Flagged", (fw.MXNetNAG14,), {"flags": ("nesterov",), "entry": ""})
        kwargs = {**kwargs, "nesterov": True}
    result = identify(cls, kwargs, steps=20, candidates=expected + others, timeout=None)
    assert sorted(result.matches) == sorted(expected), result.describe()


def _records():
    for path in sorted(RUNS.glob("*.json")):
        for record in json.loads(path.read_text()):
            yield pytest.param(record, id=f"{path.stem}-{record['entry']}-{record['dtype']}-"
                                          f"{'-'.join(k for k, v in record['flags'].items() if v) or 'plain'}")


@pytest.mark.parametrize("record", list(_records()))
def test_the_real_frameworks_recorded_run_is_within_tolerance_of_its_entry(record):
    report = fw.replay(record, record["entry"])
    assert report.passed, report.describe()


def test_runs_of_every_framework_were_recorded():
    frameworks = {json.loads(p.read_text())[0]["framework"] for p in RUNS.glob("*.json")}
    assert frameworks == {"optax", "paddle", "mxnet", "chainer"}


@pytest.mark.parametrize("version, entry", [("1.4.1", "mxnet_nag_1_4"), ("1.5.1", "mxnet_nag_1_5"),
                                            ("1.6.0", "mxnet_nag"), ("1.9.1", "mxnet_nag")])
def test_each_mxnet_release_runs_exactly_one_of_the_three_nag_updates(version, entry):
    records = [r for r in json.loads((RUNS / f"mxnet-{version}.json").read_text()) if r["entry"] in NAG]
    assert records and all(r["entry"] == entry for r in records)
    for record in records:
        assert [n for n in NAG if fw.replay(record, n).passed] == [entry]


@pytest.mark.parametrize("name", ["paddle-3.3.1", "mxnet-1.9.1"])
def test_the_real_frameworks_float64_runs_need_float32_hyperparameters(name):
    for record in json.loads((RUNS / f"{name}.json").read_text()):
        if record["dtype"] == "float64":
            assert not fw.replay(record, record["entry"], hyper_dtype=False).passed
            assert fw.replay(record, record["entry"]).passed


def test_every_judgement_applies_the_entrys_declared_precision_role_by_role():
    """verify.check (the public path, not this module's judge) rounds what the entry declares:
    Paddle's momentum in float32, its lr exact; torch's exact-mu SGD then departs from it in float64."""
    import torch

    import verify
    from verify.frameworks import PaddleMomentum

    kwargs = {"lr": 0.1, "momentum": 0.9}
    paddle = verify.check(PaddleMomentum, "paddle_momentum", kwargs, dtype="float64")
    assert paddle.status == 0, paddle.describe()
    torch_sgd = verify.check(torch.optim.SGD, "paddle_momentum", kwargs, dtype="float64")
    assert torch_sgd.status == 1, torch_sgd.describe()
