r"""torch optimizers for the linear-momentum literature, and their check against derive's entries.

Each optimizer is written from its paper (or its authors' code), independently of derive's
program, and :func:`check` compares its run with the catalogue entry's linear system:

* :class:`HeavyBall` -- :math:`\theta_t = \theta_{t-1} - \varepsilon_t g_t + \mu_t(\theta_{t-1} - \theta_{t-2})`
  (Polyak 1964), started at rest;
* :class:`QHM` -- :math:`b_t = \beta b_{t-1} + (1-\beta) g_t`, :math:`\theta_t = \theta_{t-1} - \alpha[(1-\nu) g_t + \nu b_t]`
  (Ma and Yarats 2019);
* :class:`SynthesizedNesterov` -- heavy ball with the gradient at
  :math:`\theta_{t-1} + \gamma(\theta_{t-1} - \theta_{t-2})`, through the closure (Lessard et al. 2016);
* :class:`AccSGD` -- Kidambi et al.'s short and long steps;
* :class:`AggMo` -- :math:`K` velocities :math:`v^{(i)} = \beta^{(i)} v^{(i)} - g`, step :math:`\gamma/K \sum_i v^{(i)}`;
* :class:`PrimalAveraging` -- SGD on :math:`z`, the gradient at the average :math:`x` (Defazio 2020);
* :class:`ScheduleFreeSGD` -- the parameter holds :math:`y = (1-\beta) z + \beta x` (Defazio et al. 2024);
* :class:`PolyakRuppertSGD` -- plain SGD keeping the averaged iterate in its state;
* :class:`PIDControl` -- Recht's PID in the blog's second form, :math:`x_{t+1} = (1+\beta)x_t - \beta x_{t-1} + e_t`,
  :math:`u_t = C_1 x_t + C_2 x_{t-1}` with :math:`e = -f'(u)` (explicit: :math:`C_3 = 0`), started at rest;
  it has no learning rate;
* :class:`TwoState` -- :math:`a \leftarrow h a + k\theta + l g`, :math:`\theta \leftarrow m a + q\theta + z g`
  from the old values, :math:`a_0 = 0` or at rest :math:`(1-q)\theta_0/m` (Ma and Yarats 2019, appendix);
  it has no learning rate.

The averaging weight :math:`c_t` is a rule of the step: ``"1/t"``, ``"1/(t+1)"`` or a constant.
The runner records lr and momentum; :func:`check` adds the other roles' values (``nu``,
``averaging``, ...) from the run's options, so the reference binds every role by name.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from verify.compare import compare
from verify.reference import UnsupportedRun, compiled, expected
from verify.runner import RunConfig, run
from verify.transcribed import TranscribedOptimizer, clone, zeros
from verify.sweep import Outcome, formulation_options


def weight(rule, step: int) -> float:
    """The averaging weight :math:`c_t` of *rule* at *step* (1-based)."""
    if rule == "1/t":
        return 1.0 / step
    if rule == "1/(t+1)":
        return 1.0 / (step + 1)
    return float(rule)


class HeavyBall(TranscribedOptimizer):
    def __init__(self, params, lr=1e-3, momentum=0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, mu = float(group["lr"]), float(group["momentum"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state(p, previous=clone)
                previous = state["previous"]
                new = p + mu * (p - previous) - lr * p.grad
                previous.copy_(p)
                p.copy_(new)
        return loss


class QHM(TranscribedOptimizer):
    def __init__(self, params, lr=1e-3, momentum=0.999, nu=0.7):
        super().__init__(params, {"lr": lr, "momentum": momentum, "nu": nu})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, beta, nu = float(group["lr"]), float(group["momentum"]), float(group["nu"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                buffer = self._state(p, buffer=zeros)["buffer"]
                buffer.mul_(beta).add_(p.grad, alpha=1 - beta)
                p.sub_(lr * ((1 - nu) * p.grad + nu * buffer))
        return loss


class SynthesizedNesterov(TranscribedOptimizer):
    """Needs ``step(closure)``: the gradient is taken at the look-ahead point."""

    def __init__(self, params, lr=1e-3, momentum=0.9, lookahead=0.5):
        super().__init__(params, {"lr": lr, "momentum": momentum, "lookahead": lookahead})

    @torch.no_grad()
    def step(self, closure=None):
        if closure is None:
            raise RuntimeError("SynthesizedNesterov evaluates the gradient at the look-ahead point: pass step(closure)")
        saved = []
        for group in self.param_groups:
            for p in group["params"]:
                previous = self._state(p, previous=clone)["previous"]
                saved.append((p, clone(p)))
                p.add_(p - previous, alpha=float(group["lookahead"]))
        loss = self._closure(closure)
        for p, value in saved:
            p.copy_(value)  # back to theta exactly
        for group in self.param_groups:
            lr, mu = float(group["lr"]), float(group["momentum"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                previous = self.state[p]["previous"]
                new = p + mu * (p - previous) - lr * p.grad
                previous.copy_(p)
                p.copy_(new)
        return loss


class AccSGD(TranscribedOptimizer):
    """Kidambi et al.'s AccSGD.py (rahulkidambi/AccSGD), without weight decay."""

    def __init__(self, params, lr=1e-3, kappa=1000.0, xi=10.0, c=0.7):
        super().__init__(params, {"lr": lr, "kappa": kappa, "xi": xi, "c": c})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, kappa, xi, c = (float(group[k]) for k in ("lr", "kappa", "xi", "c"))
            long_lr, beta = lr * kappa / c, c * c * xi / kappa
            zeta = c / (c + beta)
            for p in group["params"]:
                if p.grad is None:
                    continue
                buffer = self._state(p, buffer=clone)["buffer"]
                buffer.mul_(1.0 / beta - 1.0).add_(p.grad, alpha=-long_lr).add_(p).mul_(beta)
                p.add_(p.grad, alpha=-lr).mul_(zeta).add_(buffer, alpha=1.0 - zeta)
        return loss


class AggMo(TranscribedOptimizer):
    """Lucas et al.'s AggMo (AtheMathmo/AggMo src/aggmo.py), without weight decay."""

    def __init__(self, params, lr=1e-3, betas=(0.0, 0.9, 0.99)):
        super().__init__(params, {"lr": lr, "betas": tuple(betas)})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, betas = float(group["lr"]), group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                buffers = self._state(p, buffers=lambda q: [zeros(q) for _ in betas])["buffers"]
                for beta, buffer in zip(betas, buffers):
                    buffer.mul_(beta).add_(p.grad)
                    p.sub_(buffer, alpha=lr / len(betas))
        return loss


class PrimalAveraging(TranscribedOptimizer):
    def __init__(self, params, lr=1e-3, averaging="1/t"):
        super().__init__(params, {"lr": lr, "averaging": averaging})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, c = float(group["lr"]), weight(group["averaging"], self._count(group))
            for p in group["params"]:
                if p.grad is None:
                    continue
                z = self._state(p, z=clone)["z"]
                z.sub_(p.grad, alpha=lr)
                p.mul_(1 - c).add_(z, alpha=c)
        return loss


class ScheduleFreeSGD(TranscribedOptimizer):
    """The parameter holds y (training mode of the reference implementation)."""

    def __init__(self, params, lr=1.0, momentum=0.9, averaging="1/t"):
        super().__init__(params, {"lr": lr, "momentum": momentum, "averaging": averaging})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, beta = float(group["lr"]), float(group["momentum"])
            c = weight(group["averaging"], self._count(group))
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state(p, z=clone, x=clone)
                z, x = state["z"], state["x"]
                z.sub_(p.grad, alpha=lr)
                x.mul_(1 - c).add_(z, alpha=c)
                p.copy_(x.mul(beta).add_(z, alpha=1 - beta))
        return loss


class PolyakRuppertSGD(TranscribedOptimizer):
    """Plain SGD; the averaged iterate is kept in ``state['average']`` (a read-out, never fed back)."""

    def __init__(self, params, lr=1e-3, averaging="1/t"):
        super().__init__(params, {"lr": lr, "averaging": averaging})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, c = float(group["lr"]), weight(group["averaging"], self._count(group))
            for p in group["params"]:
                if p.grad is None:
                    continue
                average = self._state(p, average=clone)["average"]
                p.sub_(p.grad, alpha=lr)
                average.mul_(1 - c).add_(p, alpha=c)
        return loss


class TwoState(TranscribedOptimizer):
    """The general two-state optimizer: every coefficient signed, both updates read the old state."""

    def __init__(self, params, h=0.9, k=0.0, l=0.1, m=-0.1, q=1.0, z=-0.1, lr=0.0, at_rest=False):
        if at_rest and float(m) == 0:
            raise ValueError("Invalid m=0: at rest needs a_0 = (1 - q) theta_0 / m")
        # lr is carried for the runner's records and never read: the coefficients are the whole step
        super().__init__(params, {"lr": lr, "h": h, "k": k, "l": l, "m": m, "q": q, "z": z, "at_rest": at_rest})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            h, k, l, m, q, z = (float(group[r]) for r in ("h", "k", "l", "m", "q", "z"))
            for p in group["params"]:
                if p.grad is None:
                    continue
                start = (lambda x: clone(x).mul_((1 - q) / m)) if group["at_rest"] else zeros
                a = self._state(p, a=start)["a"]
                new_a = h * a + k * p + l * p.grad
                p.copy_(m * a + q * p + z * p.grad)
                a.copy_(new_a)
        return loss


class PIDControl(TranscribedOptimizer):
    """Recht (2018): the PID controller in Lessard's change of variables, the gradient as minus the error.

    :math:`C_1 = k_I - (1-\\beta)^2 k_D`, :math:`C_2 = (1-\\beta)^2 k_D - \\beta k_I`, :math:`C_3 = 0`
    (:math:`k_P = -(1-\\beta) k_D`); at rest, :math:`x_0 = x_{-1} = u_0/(C_1 + C_2)`.
    """

    def __init__(self, params, k_I=0.1, k_D=0.3, filter=0.6, lr=0.0):
        if float(filter) == 1.0 or float(k_I) == 0.0:
            raise ValueError(f"Invalid filter={filter} or k_I={k_I}: the start x_0 = u_0/((1 - filter) k_I) needs both")
        # lr is carried for the runner's records and never read: the gains are the whole step
        super().__init__(params, {"lr": lr, "k_I": k_I, "k_D": k_D, "filter": filter})

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            k_i, k_d, beta = float(group["k_I"]), float(group["k_D"]), float(group["filter"])
            c1, c2 = k_i - (1 - beta) ** 2 * k_d, (1 - beta) ** 2 * k_d - beta * k_i
            for p in group["params"]:
                if p.grad is None:
                    continue
                rest = lambda q: clone(q).div_(c1 + c2)  # noqa: E731 -- x_0 = x_{-1}: u_0 = (C_1 + C_2) x_0
                state = self._state(p, x=rest, x_previous=rest)
                x, previous = state["x"], state["x_previous"]
                new = (1 + beta) * x - beta * previous - p.grad  # e_t = -f'(u_t)
                previous.copy_(x)
                x.copy_(new)
                p.copy_(c1 * x + c2 * previous)
        return loss


def average_readout(optimizer, group, p) -> torch.Tensor:
    """What :class:`PolyakRuppertSGD` averages (the parameter itself before the first step)."""
    return optimizer.state.get(p, {}).get("average", p).detach().clone()


# The catalogue entry each optimizer implements.
ENTRIES = {HeavyBall: "heavy_ball", QHM: "qhm", SynthesizedNesterov: "synthesized_nesterov", AccSGD: "accsgd",
           AggMo: "aggmo", PrimalAveraging: "primal_averaging", ScheduleFreeSGD: "schedule_free_sgd",
           PolyakRuppertSGD: "polyak_ruppert_sgd", TwoState: "two_state", PIDControl: "pid_control"}
_CONSTANT_ROLES = ("nu", "lookahead", "kappa", "xi", "c", "h", "k", "l", "m", "q", "z", "k_I", "k_D", "filter")


def extra_roles(options: dict, steps: int) -> dict[str, np.ndarray]:
    """Per-step values of the roles the runner does not record, from the run's options."""
    out = {role: np.full(steps, float(options[role])) for role in _CONSTANT_ROLES if role in options}
    if "averaging" in options:
        out["averaging"] = np.array([weight(options["averaging"], k) for k in range(1, steps + 1)])
    for i, beta in enumerate(options.get("betas", ()), start=1):
        out[f"beta_{i}"] = np.full(steps, float(beta))
    return out


def check(config: RunConfig, formulation: str, *, readout_row: str | None = None) -> Outcome:
    """Run *config* and compare it with catalogue entry *formulation* (derive's linear system).

    The roles beyond lr and momentum are bound from ``config.options`` (:func:`extra_roles`).
    *readout_row* compares another state variable than the parameters (``"thetabar"`` for the
    average a :class:`PolyakRuppertSGD` keeps, with ``config.readout = average_readout``).
    """
    from derive.catalogue import get
    from verify.compare import Report

    if not config.name:  # the default label formats numbers only (AggMo's betas, an averaging rule)
        shown = ",".join(f"{k}={v}" for k, v in config.options.items())
        config = config.with_(name=f"{formulation}|{shown}|{config.dtype}|{config.schedule}")
    from dataclasses import replace

    from verify.checkable import indistinguishable_from_null, run_problem

    observed = run(config)
    if observed.error is not None:
        return Outcome(config, Report(config.label(), False, error=f"step {observed.failed_step}: {observed.error}"))
    problem = run_problem(observed, formulation)  # never evaluated a gradient, or a zero lr it would read
    if problem is not None:
        return Outcome(config, Report(config.label(), False, error=f"not checkable: {problem}"))
    extra = extra_roles(dict(config.options), config.steps)
    for hyper in observed.hyper:
        hyper.update(extra)
    try:
        systems = []
        for h, f in zip(observed.hyper, observed.flags):
            options = formulation_options(formulation, h, f)
            system = compiled(formulation, options)
            if readout_row is not None:  # the same entry read at another state variable
                entry = get(formulation, **dict(options))
                base = next(s for s in entry.state if str(s) == readout_row)
                system = replace_params(system, base)
            systems.append(system)
        reference = expected(systems, observed)
        report = compare(observed, reference)
        if report.passed:  # a pass must be one the null (stationary) trajectory could not have earned
            why = indistinguishable_from_null(observed, reference)
            if why is not None:
                report = replace(report, passed=False, error=f"not checkable: {why}")
    except (UnsupportedRun, ValueError, KeyError) as exc:
        report = Report(config.label(), False, error=f"reference: {exc}")
    return Outcome(config, report)


def replace_params(system, base):
    """*system* reading *base* as its parameters (same program, another read-out)."""
    from verify.reference import CompiledSystem

    f = system.formulation
    # the read-out starts where the parameters do (x_0 = theta_0): the old parameters are its copy
    init = {s: (base[0] if value == f.params[0] else value) for s, value in f.init.items() if s != base}
    return CompiledSystem(replace(f, params=base, init={**init, f.params: base[0]}))
