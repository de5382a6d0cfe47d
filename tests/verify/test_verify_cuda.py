"""The same checks on a CUDA device (skipped, with the reason, where torch sees none)."""

import pytest

torch = pytest.importorskip("torch")

from verify.sweep import SCENARIOS, check, sweep_configs  # noqa: E402

pytestmark = pytest.mark.cuda


@pytest.mark.parametrize("dtype, steps", [("float64", 25), ("float32", 25), ("float16", 10), ("bfloat16", 10)])
def test_cuda_sgd_follows_the_pytorch_sgd_formulation(dtype, steps):
    outcomes = [check(c) for c in sweep_configs(devices=("cuda",), dtypes=(dtype,), steps=steps)]
    unexpected = [o.report.describe() for o in outcomes if o.unexpected]
    assert not unexpected, "\n".join(unexpected[:10])


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_cuda_training_loop_scenario(name):
    outcome = check(SCENARIOS[name].with_(device="cuda"))
    assert not outcome.unexpected, outcome.report.describe()
