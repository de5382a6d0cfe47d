"""The literature's optimizers (written from the papers and the authors' code) follow derive's
catalogue entries in torch, and the checks tell the entries apart where the claims say they differ."""

import pytest

torch = pytest.importorskip("torch")

from verify.literature import (  # noqa: E402
    ENTRIES, QHM, AccSGD, AggMo, HeavyBall, PIDControl, PolyakRuppertSGD, PrimalAveraging, ScheduleFreeSGD,
    SynthesizedNesterov, TwoState, average_readout, check,
)
from verify.objectives import QUARTIC  # noqa: E402
from verify.runner import RunConfig  # noqa: E402

OPTIONS = {
    HeavyBall: {"lr": 0.05, "momentum": 0.9},
    QHM: {"lr": 0.5, "momentum": 0.9, "nu": 0.7},
    SynthesizedNesterov: {"lr": 0.05, "momentum": 0.9, "lookahead": 0.6},
    AccSGD: {"lr": 0.05, "kappa": 100.0, "xi": 5.0, "c": 0.7},
    AggMo: {"lr": 0.05, "betas": (0.0, 0.9, 0.99)},
    PrimalAveraging: {"lr": 0.05, "averaging": "1/t"},
    ScheduleFreeSGD: {"lr": 0.05, "momentum": 0.9, "averaging": "1/t"},
    PolyakRuppertSGD: {"lr": 0.05, "averaging": "1/(t+1)"},
}
CASES = [(opt, schedule, objective, dtype) for opt in OPTIONS for schedule in ("constant", "explicit")
         for objective in (None, QUARTIC) for dtype in ("float64", "float32")]


def _config(optimizer, **changes):
    return RunConfig(optimizer=optimizer, options=OPTIONS[optimizer], impl=None, steps=40).with_(**changes)


@pytest.mark.parametrize("optimizer, schedule, objective, dtype", CASES,
                         ids=lambda v: getattr(v, "__name__", getattr(v, "name", str(v))))
def test_literature_optimizer_follows_its_catalogue_entry(optimizer, schedule, objective, dtype):
    report = check(_config(optimizer, schedule=schedule, objective=objective, dtype=dtype), ENTRIES[optimizer]).report
    assert report.passed, report.describe()


def test_heavy_ball_is_pytorchs_momentum_only_under_a_constant_lr():
    assert check(_config(HeavyBall), "pytorch_momentum_documented").report.passed
    report = check(_config(HeavyBall, schedule="explicit"), "pytorch_momentum_documented").report
    assert not report.passed and report.first is not None and report.first.step <= 3


def test_look_ahead_gradient_tells_synthesized_nesterov_from_heavy_ball():
    report = check(_config(SynthesizedNesterov, objective=QUARTIC), "heavy_ball").report
    assert not report.passed and report.first.step <= 2


def test_schedule_free_reference_weights_are_not_the_papers():
    """The implementation's 1/t (initial point weight 0) against the paper's 1/(t+1): claim SF-reference-weights."""
    def implementation(params, **options):
        return ScheduleFreeSGD(params, **{**options, "averaging": "1/t"})

    config = RunConfig(optimizer=implementation, options={**OPTIONS[ScheduleFreeSGD], "averaging": "1/(t+1)"},
                       impl=None, steps=40, objective=QUARTIC)
    report = check(config, "schedule_free_sgd").report
    assert not report.passed and report.first.step == 1


def test_polyak_ruppert_average_is_read_out_of_the_state():
    config = _config(PolyakRuppertSGD, objective=QUARTIC, readout=average_readout)
    assert check(config, "polyak_ruppert_sgd", readout_row="thetabar").report.passed
    assert not check(config, "polyak_ruppert_sgd").report.passed  # the average is not the iterate


def test_a_do_nothing_optimizer_never_passes_this_modules_check():
    """verify.literature.check applies verify's soundness rules: a run that never evaluates a gradient,
    or that the stationary trajectory would pass too, is not a pass."""
    import torch

    from verify.literature import check
    from verify.runner import RunConfig

    class DoesNothing(torch.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9):
            super().__init__(params, {"lr": lr, "momentum": momentum})

        def step(self, closure=None):
            return None

    config = RunConfig(optimizer=DoesNothing, options={"lr": 0.1, "momentum": 0.9}, steps=5)
    outcome = check(config, "heavy_ball")
    assert not outcome.report.passed and "not checkable" in (outcome.report.error or ""), outcome.report


# QHM(1/2, 1/2, 1/3) written with a = theta + 2b (claim TSO-QHM); a_0 = 0 in the check (the reference's start)
TSO = {"h": 11 / 24, "k": 13 / 24, "l": 7 / 12, "m": -1 / 24, "q": 25 / 24, "z": -5 / 12}


@pytest.mark.parametrize("objective", [None, QUARTIC], ids=["quadratic", "quartic"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_state_optimizer_follows_its_catalogue_entry(objective, dtype):
    """Constant schedule only: the entry has no learning rate for a schedule to scale."""
    config = RunConfig(optimizer=TwoState, options=TSO, impl=None, steps=40, objective=objective, dtype=dtype)
    report = check(config, "two_state").report
    assert report.passed, report.describe()


def test_a_two_state_optimizer_reading_the_new_a_is_told_from_the_entry():
    class ReadsNewA(TwoState):
        @torch.no_grad()
        def step(self, closure=None):
            loss = self._closure(closure)  # the runner's gradients come through the closure
            for group in self.param_groups:
                h, k, l, m, q, z = (float(group[r]) for r in ("h", "k", "l", "m", "q", "z"))
                for p in (p for p in group["params"] if p.grad is not None):
                    a = self._state(p, a=torch.zeros_like)["a"]
                    a.mul_(h).add_(p, alpha=k).add_(p.grad, alpha=l)
                    p.mul_(q).add_(a, alpha=m).add_(p.grad, alpha=z)  # theta reads the new a: not the TSO
            return loss

    report = check(RunConfig(optimizer=ReadsNewA, options=TSO, impl=None, steps=40), "two_state").report
    assert not report.passed and report.first is not None and report.first.step == 1


def _trajectory(make, steps=30):
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(5, dtype=torch.float64))
    curvature = torch.linspace(0.5, 3.0, 5, dtype=torch.float64)
    opt, out = make([p]), []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (curvature * p * p).sum()).backward()
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out)


def test_two_state_at_rest_is_qhm_with_the_right_nu_and_not_with_qhoptims():
    """TSO-QHM in torch: qhoptim's map gives nu = 5/18 for this TSO; QHM's own nu is 1/3."""
    tso = _trajectory(lambda ps: TwoState(ps, **TSO, at_rest=True))
    right = _trajectory(lambda ps: QHM(ps, lr=0.5, momentum=0.5, nu=1 / 3))
    mapped = _trajectory(lambda ps: QHM(ps, lr=0.5, momentum=0.5, nu=5 / 18))
    assert torch.allclose(tso, right, rtol=1e-12, atol=1e-14)
    assert not torch.allclose(tso, mapped, rtol=1e-6, atol=1e-8)


PID = {"k_I": 0.1, "k_D": 0.3, "filter": 0.6}  # C_1 = 0.052, C_2 = -0.012


@pytest.mark.parametrize("objective", [None, QUARTIC], ids=["quadratic", "quartic"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pid_controller_in_the_blogs_second_form_follows_the_pid_entry(objective, dtype):
    """torch runs Lessard's x_{t+1} = (1+beta)x_t - beta x_{t-1} + e_t, u = C_1 x_t + C_2 x_{t-1}; derive's
    entry is the w, v recursion: two programs of one controller. Constant schedule only (no learning rate)."""
    config = RunConfig(optimizer=PIDControl, options=PID, impl=None, steps=40, objective=objective, dtype=dtype)
    report = check(config, "pid_control").report
    assert report.passed, report.describe()


def test_a_pid_that_adds_a_plain_gradient_step_is_told_from_the_entry():
    class CurrentError(PIDControl):  # the output also reads the current error at once: not Recht's controller
        @torch.no_grad()
        def step(self, closure=None):
            loss = self._closure(closure)
            for group in self.param_groups:
                k_i = float(group["k_I"])
                for p in (p for p in group["params"] if p.grad is not None):
                    p.sub_(p.grad, alpha=k_i)  # a plain step on top: the integral term reads e_t at once
            return super().step()

    report = check(RunConfig(optimizer=CurrentError, options=PID, impl=None, steps=40), "pid_control").report
    assert not report.passed and report.first is not None and report.first.step <= 2


def test_pid_is_qhm_with_the_derived_map_and_not_with_qhoptims():
    """QHM-PID in torch: qhoptim's from_pid(k_P, k_I, k_D) against alpha = k_I, beta = filter,
    nu = k_D (1 - beta)^2 / (beta k_I)."""
    k_i, k_d, b = PID["k_I"], PID["k_D"], PID["filter"]
    k_p = -(1 - b) * k_d
    pid = _trajectory(lambda ps: PIDControl(ps, **PID))
    right = _trajectory(lambda ps: QHM(ps, lr=k_i, momentum=b, nu=k_d * (1 - b) ** 2 / (b * k_i)))
    mapped = _trajectory(lambda ps: QHM(ps, lr=k_i, momentum=k_d / (k_d - k_p), nu=k_p**2 / (k_i * k_d)))
    assert torch.allclose(pid, right, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(pid, mapped, rtol=1e-6, atol=1e-8)
