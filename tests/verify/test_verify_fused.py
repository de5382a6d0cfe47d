"""The fused pass (verify.fused, verify.kernels) judges a large run exactly as the numpy path does:
the same verdict, the same first mismatch (step, group, tensor, index), the same figures up to the
float64 reference's own last bits, the same error for a non-finite reference. Every run here is
made "large" (STORE_VALUES = 0), then compared once through each path. With numba installed the
kernels are compiled; without it they run as plain Python, so these tests check their logic on
every machine (and the numpy path, the fallback, is checked against them)."""

import numpy as np
import pytest

pytest.importorskip("torch")

import torch  # noqa: E402

from verify import fused, kernels, reference  # noqa: E402
from verify.compare import compare, tolerance  # noqa: E402
from verify.reference import NonFiniteReference, compiled, expected  # noqa: E402
from verify.runner import GroupSpec, RunConfig, TensorSpec, run  # noqa: E402
from verify.sweep import SCENARIOS, check, formulation_options, sweep_configs  # noqa: E402

from wrong_sgd import MUTANTS  # noqa: E402

BASE = {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}
MIXED = RunConfig(options=BASE, dtype="float32", schedule="explicit", steps=14, skip_steps=frozenset({4, 9}),
                  groups=(GroupSpec((TensorSpec((3,), frozen=frozenset({1, 2, 6})),
                                     TensorSpec((2, 2), contiguous=False, frozen=frozenset({5, 6})),
                                     TensorSpec((700,)), TensorSpec((2,), frozen=frozenset({1, 2, 6})))),
                          GroupSpec((TensorSpec((4,)),), {"lr": 0.02, "momentum": 0.5})))


@pytest.fixture(autouse=True)
def large(monkeypatch):
    monkeypatch.setattr(reference, "STORE_VALUES", 0)  # every run is stepped inside compare


def _systems(observed, name="pytorch_sgd"):
    return [compiled(name, formulation_options(name, h, f)) for h, f in zip(observed.hyper, observed.flags)]


def _both(observed, monkeypatch, name="pytorch_sgd"):
    """compare() through the fused pass and through the numpy path: (fused report, numpy report)."""
    reports = []
    for enabled in (True, False):
        monkeypatch.setattr(fused, "ENABLED", enabled)
        reports.append(compare(observed, expected(_systems(observed, name), observed)))
    return reports


def _verdict(report) -> tuple:
    """What the two paths must agree on exactly: the verdict, where it first failed, the error."""
    first = report.first
    return report.passed, None if first is None else (first.step, first.group, first.tensor, first.index), report.error


def _figures(report) -> list[float]:
    """What they must agree on to rounding: the run's figures and the first mismatch's."""
    first = report.first
    return [report.max_abs, report.max_rel, report.max_ulps, report.max_allowed_ulps] + (
        [] if first is None else [first.expected, first.got, first.abs_error, first.rel_error, first.ulps,
                                  first.allowed_ulps])


def _approx(figures):
    return pytest.approx(figures, rel=1e-9, nan_ok=True)


def test_the_fused_pass_runs_and_the_numpy_path_does_not(monkeypatch):
    observed = run(MIXED)
    fast, slow = _both(observed, monkeypatch)
    assert fast.fused_seconds > 0 and slow.fused_seconds == 0
    assert fast.passed and slow.passed
    assert _verdict(fast) == _verdict(slow)
    assert _figures(fast) == _approx(_figures(slow))


@pytest.mark.parametrize("config", sweep_configs(steps=12)[::7], ids=lambda c: c.label())
def test_sweep_configurations_get_the_same_verdict_and_figures(config, monkeypatch):
    observed = run(config)
    fast, slow = _both(observed, monkeypatch)
    assert _verdict(fast) == _verdict(slow)
    assert _figures(fast) == _approx(_figures(slow))


@pytest.mark.parametrize("name", ["two_groups", "frozen_then_unfrozen", "scaler_skips", "scaler_skips_first",
                                  "grad_layout_differs", "checkpoint_resume", "scheduler_onecycle"])
def test_scenarios_get_the_same_verdict_and_figures(name, monkeypatch):
    fast, slow = _both(run(SCENARIOS[name]), monkeypatch)
    assert _verdict(fast) == _verdict(slow)
    assert _figures(fast) == _approx(_figures(slow))


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_a_wrong_optimizer_fails_at_the_same_place_on_both_paths(mutant, monkeypatch):
    options = {**BASE, "nesterov": mutant == "nesterov_without_mu", "maximize": mutant == "maximize_at_end"}
    if options["nesterov"]:
        options["dampening"] = 0.0
    config = RunConfig(optimizer=MUTANTS[mutant].optimizer, options=options, schedule="explicit", steps=20,
                       dtype="float32", groups=MIXED.groups[:1], impl=None)
    fast, slow = _both(run(config), monkeypatch)
    assert not fast.passed and fast.first is not None
    assert _verdict(fast) == _verdict(slow)
    assert _figures(fast) == _approx(_figures(slow))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_error_of_four_bounds_is_found_where_it_was_put(dtype, monkeypatch):
    config = RunConfig(options=BASE, dtype=dtype, schedule="explicit", steps=40,
                       groups=(GroupSpec((TensorSpec((30,)), TensorSpec((20, 30)))),))
    observed = run(config)
    monkeypatch.setattr(fused, "ENABLED", False)
    ref = expected(_systems(observed), observed)
    bound = tolerance(ref.groups[0], dtype)
    theta = ref.groups[0].x[:, ref.groups[0].theta_row]
    for step, tensor, flat in [(25, 0, 7), (17, 1, 13 * 30 + 11), (17, 1, 599)]:  # the earliest step wins
        start = 0 if tensor == 0 else 30
        view = observed.theta[0][tensor].reshape(41, -1)
        view[step:, flat] = theta[step:, start + flat] + 4 * bound[step:, start + flat]
    fast, slow = _both(observed, monkeypatch)
    assert (fast.first.step, fast.first.tensor, fast.first.index) == (17, 1, (13, 11))
    assert fast.first.ulps > fast.first.allowed_ulps
    assert _verdict(fast) == _verdict(slow)
    assert _figures(fast) == _approx(_figures(slow))


class Diverging(torch.optim.SGD):
    """torch's SGD, then one element set to NaN after step 6, and an exception at step 9."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.taken = 0

    def step(self, closure=None):
        loss = super().step(closure)
        self.taken += 1
        if self.taken == 6:
            with torch.no_grad():
                self.param_groups[0]["params"][2][5] = float("nan")
        if self.taken == 9:
            raise RuntimeError("gave up")
        return loss


def test_a_diverging_optimizer_that_fails_midway_is_judged_alike(monkeypatch):
    observed = run(RunConfig(optimizer=Diverging, options=BASE, steps=12, groups=MIXED.groups[:1]))
    assert observed.failed_step == 9
    fast, slow = _both(observed, monkeypatch)
    assert not fast.passed and fast.max_abs == np.inf
    assert (fast.first.step, fast.first.tensor, fast.first.index) == (6, 2, (5,))
    assert _verdict(fast) == _verdict(slow)
    assert _figures(fast) == _approx(_figures(slow))


def test_a_non_finite_gradient_and_an_overflowing_reference_raise_what_the_numpy_path_raises(monkeypatch):
    gradients = np.ones((6, 3))
    gradients[3, 1] = np.inf
    gradients[2, 2] = np.nan  # step 3 comes first: that one is named
    config = RunConfig(options=BASE, groups=(GroupSpec((TensorSpec((3,)),)),), gradients=[[gradients]], steps=6)
    huge = RunConfig(options={**BASE, "lr": 1e300}, groups=(GroupSpec((TensorSpec((5,)),)),), steps=6,
                     gradients=[[np.full((6, 5), 1e300)]])
    named = []
    for cfg in (config, huge):
        observed = run(cfg)
        messages = []
        for enabled in (True, False):
            monkeypatch.setattr(fused, "ENABLED", enabled)
            with pytest.raises(NonFiniteReference) as caught:
                compare(observed, expected(_systems(observed), observed))
            messages.append((str(caught.value), caught.value.step))
        assert messages[0] == messages[1]
        named.append(messages[0])
    assert named[0][1] == 3 and "the injected gradient is nan at step 3 (tensor 0, flat index 2)" in named[0][0]
    assert named[1][1] == 1 and "the reference state is -inf at step 1 (tensor 0, flat index 0)" in named[1][0]


def test_the_general_kernel_equals_the_two_state_kernel():
    rng = np.random.default_rng(5)
    steps, n = 30, 1100  # two blocks and a part
    A = rng.uniform(-1, 1, (steps, 2, 2)) * 0.5 + np.eye(2) * 0.5
    B, magB = rng.uniform(-1, 1, (steps, 2)), rng.uniform(0, 1, (steps, 2))
    magA = np.abs(A) + rng.uniform(0, 0.1, A.shape)
    active = rng.uniform(size=steps) < 0.8
    P = np.where(active[:, None, None], A, np.eye(2))
    sign = np.where(rng.uniform(size=(steps + 1, 2)) < 0.5, -1.0, 1.0)
    grads = rng.standard_normal((steps, n)).astype(np.float32)
    got = rng.standard_normal((steps + 1, n)).astype(np.float32)
    theta0 = got[0].copy()
    outs = []
    for run_kernel in kernels.kernels():
        res = np.zeros(kernels.RESULTS)
        run_kernel(theta0, np.array([0.0, 0.3]), grads, got, steps, steps - 3, A, B, magA, magB, P, sign, active,
                   1e-30 * active, 1e-7, 0, 2.0**-126, 2.0**-23, res, kernels.BLOCK)
        outs.append(res)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_a_group_whose_propagation_changes_sign_takes_the_numpy_path(monkeypatch):
    # lr * weight decay large against momentum: complex eigenvalues, Phi's entries change sign
    config = RunConfig(options={"lr": 1.5, "momentum": 0.9, "weight_decay": 1.0}, steps=20,
                       groups=(GroupSpec((TensorSpec((40,)),)),))
    observed = run(config)
    monkeypatch.setattr(fused, "ENABLED", True)
    ref = expected(_systems(observed), observed)
    assert fused._streams(ref.groups[0], "float64") is None
    fast, slow = _both(observed, monkeypatch)
    assert fast.fused_seconds == 0
    assert _verdict(fast) == _verdict(slow)
    assert _figures(fast) == _approx(_figures(slow))


def test_check_through_the_fused_pass_keeps_the_sweep_outcome(monkeypatch):
    config = sweep_configs(steps=15)[5]
    outcomes = []
    for enabled in (True, False):
        monkeypatch.setattr(fused, "ENABLED", enabled)
        outcomes.append(check(config))
    assert outcomes[0].report.fused_seconds > 0 and outcomes[1].report.fused_seconds == 0
    assert outcomes[0].report.passed and outcomes[1].report.passed
    fast, slow = (outcome.report for outcome in outcomes)
    assert _verdict(fast) == _verdict(slow)
    assert _figures(fast) == _approx(_figures(slow))
