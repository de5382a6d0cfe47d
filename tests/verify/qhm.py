"""Quasi-hyperbolic momentum (Ma and Yarats 2019), as a user would bring it: a torch optimizer whose
param groups say ``beta`` and ``nu`` (not torch's names), and a derive Formulation of it declared
outside the catalogue.

    b_t = beta b_{t-1} + (1 - beta) g_t,  b_0 = 0
    theta_t = theta_{t-1} - lr [(1 - nu) g_t + nu b_t]
"""

import numpy as np
import sympy as sp
import torch

from derive.formulation import Assign, Formulation
from derive.hyperparameters import resolve
from derive.symbols import b, eps, g, mu, t, theta

NU = sp.Symbol("nu", real=True)
TEST_ENTRY = "qhm_user"  # registered by the tests' fixture; the catalogue's own ``qhm`` may exist too


def qhm_user(*, lr=None, momentum=None, nu=None) -> Formulation:
    """QHM with its momentum in the ``momentum`` role and nu in a role of its own."""
    lr, beta, nu = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum"), resolve(nu, NU, "nu")
    return Formulation(
        name=TEST_ENTRY, title="QHM (a user's declaration)", citation="Ma and Yarats 2019, eq. (3)",
        state=(theta, b), params=theta, grad_at=theta[t - 1],
        update=(Assign(b[t], beta * b[t - 1] + (1 - beta) * g[t]),
                Assign(theta[t], theta[t - 1] - lr * ((1 - nu) * g[t] + nu * b[t]))),
        init={b: 0}, hyper={"lr": lr, "momentum": beta, "nu": nu},
    )


class QHM(torch.optim.Optimizer):
    """QHM with param-group keys lr, beta, nu."""

    def __init__(self, params, lr=0.05, beta=0.9, nu=0.7):
        super().__init__(params, {"lr": lr, "beta": beta, "nu": nu})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "buffer" not in state:
                    state["buffer"] = torch.zeros_like(p)
                buffer = state["buffer"]
                buffer.mul_(group["beta"]).add_(p.grad, alpha=1 - group["beta"])
                p.add_((1 - group["nu"]) * p.grad + group["nu"] * buffer, alpha=-group["lr"])
        return loss


class Float32LR(torch.optim.Optimizer):
    """Plain SGD on float64 parameters that holds its lr in float32, as Keras on TF, MLX or Paddle do."""

    def __init__(self, params, lr=0.05):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = float(np.float32(group["lr"]))
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-lr)
        return loss


class QHMHoldingNuOutside(QHM):
    """QHM that keeps nu as an attribute, not in its param groups: the recording cannot see it."""

    def __init__(self, params, lr=0.05, beta=0.9, nu=0.7):
        super().__init__(params, lr=lr, beta=beta, nu=nu)
        self.nu = nu
        for group in self.param_groups:
            del group["nu"]

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            group["nu"] = self.nu
        try:
            return super().step(closure)
        finally:
            for group in self.param_groups:
                del group["nu"]
