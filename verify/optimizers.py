r"""torch optimizers for the paper forms torch lacks, and the map back to the classical iterate.

* :class:`SutskeverMomentum` -- classical momentum with the learning rate inside the velocity
  (Sutskever, Martens, Dahl, Hinton, ICML 2013, eqs. 1-2):

  .. math:: v_t = \mu_t v_{t-1} - \varepsilon_t \nabla f(\theta_{t-1}), \qquad \theta_t = \theta_{t-1} + v_t

* :class:`SutskeverNesterov` -- Nesterov's accelerated gradient with the gradient taken at the
  look-ahead point, through the closure (eqs. 3-4):

  .. math:: v_t = \mu_t v_{t-1} - \varepsilon_t \nabla f(\theta_{t-1} + \mu_t v_{t-1}), \qquad
            \theta_t = \theta_{t-1} + v_t

* :func:`classical_iterate` -- the documented iterate :math:`\theta` recovered from what
  ``torch.optim.SGD(nesterov=True)`` stores (:math:`\theta'` and the buffer :math:`b`). The
  map is not typed here: it is the inverse change of variables that
  :func:`derive.equivalence.recovery` proves, lambdified once.

Each optimizer is an implementation under test like any other: the sweep verifies it against
its catalogue formulation (``sutskever_momentum``, ``sutskever_nesterov``).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp
import torch


class _PaperMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr: float | torch.Tensor = 1e-3, momentum: float = 0.9):
        if not 0.0 <= float(lr):
            raise ValueError(f"Invalid learning rate: lr={lr}; it must be >= 0")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum: momentum={momentum}; it must be >= 0")
        super().__init__(params, {"lr": lr, "momentum": momentum})

    def _velocity(self, p: torch.Tensor) -> torch.Tensor:
        state = self.state[p]
        if "velocity" not in state:
            state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state["velocity"]

    def _advance(self, group) -> None:
        lr, mu = float(group["lr"]), float(group["momentum"])
        for p in group["params"]:
            if p.grad is None:
                continue
            v = self._velocity(p)
            v.mul_(mu).add_(p.grad, alpha=-lr)
            p.add_(v)


class SutskeverMomentum(_PaperMomentum):
    """Classical momentum, paper placement: each gradient keeps the lr it entered with."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._advance(group)
        return loss


class SutskeverNesterov(_PaperMomentum):
    """Nesterov momentum with a true look-ahead: ``step`` needs the closure."""

    @torch.no_grad()
    def step(self, closure=None):
        if closure is None:
            raise RuntimeError("SutskeverNesterov evaluates the gradient at the look-ahead point "
                               "theta + mu v: pass step(closure) with a closure that computes it")
        saved = []
        for group in self.param_groups:
            mu = float(group["momentum"])
            for p in group["params"]:
                saved.append((p, p.detach().clone(memory_format=torch.preserve_format)))
                p.add_(self._velocity(p), alpha=mu)
        with torch.enable_grad():
            loss = closure()
        for p, value in saved:  # restore exactly: theta + mu v - mu v would round
            p.copy_(value)
        for group in self.param_groups:
            self._advance(group)
        return loss


@lru_cache(maxsize=1)
def _recovery():
    """derive's proof that θ = S_t^{-1}(θ', b) under constant lr and momentum, lambdified."""
    from derive.catalogue import get
    from derive.equivalence import inverse_params_map, recovery

    from derive.symbols import constant_of

    eps, mu = constant_of("lr"), constant_of("momentum")
    documented = get("pytorch_nesterov_documented", lr=eps, momentum=mu)
    implemented = get("pytorch_nesterov_implemented", lr=eps, momentum=mu)
    proof = recovery(constant=True)
    if not proof:
        raise RuntimeError(f"derive no longer proves the Nesterov recovery map: {proof}")
    expr = inverse_params_map(proof, documented, implemented)
    from derive.symbols import t

    stored = [s[t] for s in implemented.state]
    return sp.lambdify([*stored, eps, mu], expr, "torch"), expr


def classical_iterate(optimizer: torch.optim.Optimizer, group: dict, p: torch.Tensor) -> torch.Tensor:
    r"""The documented Nesterov iterate :math:`\theta` behind ``p`` (torch stores :math:`\theta'`).

    Uses the map derive proves, :math:`\theta_t = \theta'_t + \varepsilon\mu\, b_t`, with
    ``group``'s current lr and momentum (after a scheduler step, those of step :math:`t+1`,
    which is what the map needs; it is exact when :math:`\varepsilon_k\mu_k` is constant).
    Before the first step (no buffer) :math:`\theta = \theta'`.
    """
    buffer = optimizer.state.get(p, {}).get("momentum_buffer")
    if buffer is None:
        return p.detach().clone()
    fn, _ = _recovery()
    return fn(p.detach(), buffer, float(group["lr"]), float(group["momentum"]))
