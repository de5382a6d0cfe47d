"""Formulations a user would write outside the package (roles the role table does not know)."""

from __future__ import annotations

import sympy as sp

from derive import Assign, Formulation
from derive.hyperparameters import resolve
from derive.symbols import g, t

theta = sp.IndexedBase("theta", real=True)
b = sp.IndexedBase("b", real=True)
alpha = sp.IndexedBase("alpha", real=True)  # QHM's learning rate, a schedule under another name
beta = sp.Symbol("beta", real=True)  # a momentum called beta
nu = sp.Symbol("nu", real=True)  # QHM's immediate discount: a role the table does not have


def qhm(*, lr=None, momentum=None, nu_value=None, name: str = "qhm") -> Formulation:
    r"""Quasi-hyperbolic momentum (Ma and Yarats 2019):
    :math:`b_t = \beta b_{t-1} + (1-\beta) g_t`, :math:`\theta_t = \theta_{t-1} - \alpha_t[(1-\nu) g_t + \nu b_t]`."""
    lr = resolve(lr, alpha[t], "lr")
    m = resolve(momentum, beta, "momentum")
    n = resolve(nu_value, nu, "nu")
    return Formulation(
        name=name, title="Quasi-hyperbolic momentum",
        citation="Ma and Yarats, Quasi-hyperbolic momentum and Adam for deep learning, ICLR 2019",
        state=(theta, b), params=theta, grad_at=theta[t - 1],
        update=(Assign(b[t], m * b[t - 1] + (1 - m) * g[t]),
                Assign(theta[t], theta[t - 1] - lr * ((1 - n) * g[t] + n * b[t]))),
        init={b: 0}, hyper={"lr": lr, "momentum": m, "nu": n})
