r"""The house symbols, shared by every formulation, renderer and check.

Time convention (as in ``docs/reference/formulations.md`` §0): step
:math:`t = 1, 2, \dots` turns the state :math:`x_{t-1}` into :math:`x_t`, using
the learning rate :math:`\varepsilon_t`, the momentum :math:`\mu_t` and the
gradient :math:`g_t`.
"""

from __future__ import annotations

import sympy as sp

t = sp.Symbol("t", integer=True, positive=True)
T = sp.Symbol("T", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
i = sp.Symbol("i", integer=True, positive=True)

# Hyperparameters: schedules are IndexedBase (a constant is the special case).
eps = sp.IndexedBase("epsilon", real=True)
mu = sp.IndexedBase("mu", real=True)
tau = sp.Symbol("tau", real=True)
lam = sp.Symbol("lambda", real=True)

# The raw minibatch gradient used at step t, and the objective's gradient.
g = sp.IndexedBase("g", real=True)
grad_f = sp.Function("nabla_f")

# State and intermediate variables used by the catalogue.
theta = sp.IndexedBase("theta", real=True)
theta_la = sp.IndexedBase("theta'", real=True)  # PyTorch's stored look-ahead iterate
Theta = sp.IndexedBase("Theta", real=True)  # Bengio et al.'s stored look-ahead iterate
v = sp.IndexedBase("v", real=True)  # lr-scaled velocity (paper placement)
b = sp.IndexedBase("b", real=True)  # unscaled buffer (PyTorch placement)
ghat = sp.IndexedBase("ghat", real=True)  # preprocessed gradient
d = sp.IndexedBase("d", real=True)  # search direction
theta_wd = sp.IndexedBase("thetatilde", real=True)  # after decoupled weight decay

HYPERPARAMETER_ROLES = ("lr", "momentum", "dampening", "weight_decay")


def constant(expr: sp.Expr, base: sp.IndexedBase, value: sp.Expr) -> sp.Expr:
    """Replace every ``base[...]`` in *expr* by *value* (a schedule made constant)."""
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == base, lambda e: value)


def at(expr: sp.Expr, step) -> sp.Expr:
    """The step-*t* template *expr* written for the given step."""
    return expr.subs(t, step)
