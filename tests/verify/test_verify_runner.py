"""The runner records what torch actually did, and survives what real training loops do."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from verify.runner import GroupSpec, RunConfig, TensorSpec, run  # noqa: E402
from verify.sweep import check  # noqa: E402


def test_onecycle_overwrites_momentum_and_the_runner_records_what_step_read():
    observed = run(RunConfig(options={"lr": 0.05, "momentum": 0.9}, schedule="onecycle", steps=20))
    lr, momentum = observed.hyper[0]["lr"], observed.hyper[0]["momentum"]
    assert lr[0] == pytest.approx(0.1 / 25)  # OneCycleLR starts at max_lr / div_factor
    assert momentum[0] == 0.95  # ... and overwrites the constructor's 0.9 with max_momentum
    assert momentum.min() == pytest.approx(0.85, abs=1e-3)
    assert np.argmax(lr) == np.argmin(momentum)  # momentum cycles opposite to the lr


def test_plateau_halves_the_lr_after_patience_and_a_tensor_lr_keeps_its_float32_value():
    observed = run(RunConfig(options={"lr": 0.05, "momentum": 0.9}, schedule="plateau", steps=20, lr_tensor=True))
    lr = observed.hyper[0]["lr"]
    assert lr[0] == float(torch.tensor(0.05))  # the float32 value torch used, not 0.05
    assert lr[-1] < lr[0] / 2
    assert set(np.round(lr / lr[0], 6)) <= {1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125}


def test_a_frozen_tensor_keeps_its_values_and_is_recorded_inactive():
    groups = (GroupSpec((TensorSpec((3,), frozen=frozenset({1, 2, 5})), TensorSpec((2,)))),)
    observed = run(RunConfig(options={"lr": 0.1, "momentum": 0.9}, groups=groups, steps=6))
    theta, active = observed.theta[0][0], observed.active[0][0]
    assert list(active) == [False, False, True, True, False, True]
    assert np.array_equal(theta[0], theta[2]) and np.array_equal(theta[4], theta[5])
    assert not np.array_equal(theta[2], theta[3])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parameters_stay_non_contiguous_through_the_run(dtype):
    layouts = []

    def readout(optimizer, group, p):
        layouts.append(p.is_contiguous())
        return p

    groups = (GroupSpec((TensorSpec((2, 3), contiguous=False), TensorSpec((4,), contiguous=False))),)
    observed = run(RunConfig(options={"lr": 0.1}, groups=groups, steps=3, readout=readout, impl="foreach",
                             dtype=dtype))
    assert observed.error is None and not any(layouts)


class _FailsAtStepThree(torch.optim.SGD):
    def step(self, closure=None):
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 3:
            raise RuntimeError("boom at the third step")
        return super().step(closure)


def test_an_exception_inside_the_optimizer_is_a_reported_failure_not_a_crash():
    outcome = check(RunConfig(optimizer=_FailsAtStepThree, options={"lr": 0.1}, steps=5))
    assert not outcome.report.passed
    assert "step 3" in outcome.report.error and "boom at the third step" in outcome.report.error


@pytest.mark.parametrize("impl", ["for-loop", "foreach", "fused"])
def test_resuming_from_a_state_dict_continues_the_same_trajectory(impl):
    base = RunConfig(options={"lr": 0.05, "momentum": 0.9, "dampening": 0.2}, schedule="cyclic", steps=12, impl=impl)
    straight, resumed = run(base), run(base.with_(checkpoint_at=6))
    for a, b in zip(straight.theta[0], resumed.theta[0]):
        assert np.array_equal(a, b)


def test_a_scaler_skipped_step_changes_nothing_and_later_steps_unscale_exactly():
    observed = run(RunConfig(options={"lr": 0.05, "momentum": 0.9}, skip_steps=frozenset({2, 3}), steps=5))
    theta = observed.theta[0][0]
    assert list(observed.skipped) == [False, True, True, False, False]
    assert np.array_equal(theta[1], theta[3]) and not np.array_equal(theta[3], theta[4])


def test_a_constructor_that_refuses_the_options_is_reported_with_its_message():
    config = RunConfig(options={"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "nesterov": True}, steps=3)
    outcome = check(config)
    assert not outcome.report.passed
    assert outcome.report.error.startswith("step 0: ValueError: Nesterov momentum requires")


def test_gradients_a_user_gives_are_the_ones_the_optimizer_sees():
    grads = [[np.arange(6.0).reshape(3, 2)]]
    groups = (GroupSpec((TensorSpec((2,)),)),)
    observed = run(RunConfig(options={"lr": 0.5}, groups=groups, steps=3, gradients=grads))
    np.testing.assert_array_equal(observed.grads[0][0], grads[0][0])
    np.testing.assert_array_equal(observed.theta[0][0][3] - observed.theta[0][0][0], -0.5 * grads[0][0].sum(0))
    assert check(RunConfig(options={"lr": 0.5, "momentum": 0.9}, groups=groups, steps=3, gradients=grads)).report.passed
