r"""The general two-state optimizer that QHM's paper characterises (Ma and Yarats 2019, Appendix).

A module of its own beside :mod:`derive.catalogue.literature`, so that its entry's source (which
keys the verdict and map caches, with the rest of its module) stays apart from the other
literature entries'.
"""

from __future__ import annotations

import sympy as sp

from derive.catalogue import entry
from derive.catalogue.literature import QHM_PAPER
from derive.formulation import Assign, Formulation
from derive.hyperparameters import InvalidHyperparameter, exact
from derive.symbols import g, t, theta

a_tso = sp.IndexedBase("a", real=True)  # the two-state optimizer's auxiliary state
TSO_ROLES = ("h", "k", "l", "m", "q", "z")  # a signed coefficient each: resolved without the sign check


@entry
def two_state(*, h=None, k=None, l=None, m=None, q=None, z=None, at_rest: bool = False) -> Formulation:
    r"""The general two-state optimizer: both states are linear in the old states and the gradient.

    .. math:: a_t = h\,a_{t-1} + k\,\theta_{t-1} + l\,g_t, \qquad
              \theta_t = m\,a_{t-1} + q\,\theta_{t-1} + z\,g_t, \qquad a_0 = 0

    The coefficients are signed (a descent method has :math:`z < 0`).  ``at_rest=True`` starts it
    at rest instead: at a stationary point (:math:`g = 0`) :math:`\theta` stays put, which fixes
    :math:`a_0 = (1-q)\theta_0/m` and needs :math:`m \neq 0` (the same start when :math:`q = 1`).
    QHM in its own coordinates is :math:`h = \beta`, :math:`k = 0`, :math:`l = 1 - \beta`,
    :math:`m = -\alpha\beta\nu`, :math:`q = 1`, :math:`z = -\alpha(1 - \nu\beta)`.
    """
    given = dict(zip(TSO_ROLES, (h, k, l, m, q, z)))
    # named h_TSO.. : plain h, q are derive's quadratic objective (derive.unroll), k an index
    c = {role: sp.Symbol(f"{role}_TSO", real=True) if value is None else exact(value, role)
         for role, value in given.items()}
    if at_rest and c["m"].is_number and c["m"] == 0:
        raise InvalidHyperparameter("two_state at rest needs m != 0 (theta must read a), got m=0")
    return Formulation(
        name="two_state",
        title="General two-state optimizer (Ma and Yarats 2019)",
        citation=QHM_PAPER + ", Appendix (two-state optimization algorithms); coefficients as in "
        "facebookresearch/qhoptim qhoptim/common/param_conv.py from_two_state_optimizer"
        + ("; started at rest" if at_rest else "; a_0 = 0"),
        state=(theta, a_tso),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(a_tso[t], c["h"] * a_tso[t - 1] + c["k"] * theta[t - 1] + c["l"] * g[t]),
            Assign(theta[t], c["m"] * a_tso[t - 1] + c["q"] * theta[t - 1] + c["z"] * g[t]),
        ),
        init={a_tso: sp.cancel((1 - c["q"]) / c["m"]) * theta[0] if at_rest else 0},
        hyper=c,
    )
