r"""Iterate averaging as a read-out: any entry plus an averaged copy of its parameters.

.. math:: \bar\theta_t = (1 - c_t)\,\bar\theta_{t-1} + c_t\,\theta_t, \qquad \bar\theta_0 = \theta_0

The average never feeds back (the gradient is still taken where the entry takes it), so the
entry's own trajectory is unchanged; :math:`c_t = 1/t` is the Polyak--Ruppert average of
:math:`\theta_1..\theta_t`, :math:`c_t = 1/(t+1)` the one that includes :math:`\theta_0`, a
constant :math:`c_t = 1 - \beta` an exponential moving average (EMA) started at
:math:`\theta_0`.  Like :func:`derive.formulation.looking_ahead` it types no algebra of the
entry: it appends one assignment to the entry's program.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from derive.catalogue import entry
from derive.catalogue.literature import c
from derive.catalogue.papers import plain_gd
from derive.formulation import Assign, Formulation
from derive.hyperparameters import resolve
from derive.symbols import t

theta_avg = sp.IndexedBase("thetabar", real=True)


def averaged(f: Formulation, *, name: str, title: str, citation: str, weight=None,
             average: sp.IndexedBase = theta_avg) -> Formulation:
    """*f* with the averaged parameters as one more state variable (role ``averaging``: ``c_t``)."""
    if average in f.state:
        raise ValueError(f"{f.name} already has a state variable {average}; pass another `average` base")
    w = resolve(weight, c[t], "averaging")
    p = f.params
    update = f.update + (Assign(average[t], (1 - w) * average[t - 1] + w * p[t]),)
    return replace(f, name=name, title=title, citation=citation, state=f.state + (average,), update=update,
                   init={**f.init, average: p[0]}, hyper={**f.hyper, "averaging": w})


@entry
def polyak_ruppert_sgd(*, lr=None, averaging=None) -> Formulation:
    r"""Gradient descent with the Polyak--Ruppert average read out: :math:`\bar\theta_t` with weight :math:`c_t`."""
    return averaged(
        plain_gd(lr=lr), name="polyak_ruppert_sgd", title="SGD with Polyak-Ruppert averaging", weight=averaging,
        citation="Polyak and Juditsky, Acceleration of stochastic approximation by averaging, SIAM J. Control "
        "Optim. 30(4), 1992; Ruppert 1988; as written in Defazio et al. 2024, eqs. (1)-(2)",
    )
