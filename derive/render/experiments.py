r"""Numbers for the notebooks, computed from derive's objects (never from a retyped formula).

* :func:`trajectory` runs a formulation's linear system :math:`x_t = A_t x_{t-1} + B_t g_t`
  (matrices from :func:`derive.numeric.step_factors`) on derive's quadratic objective
  (:class:`derive.unroll.Quadratic`), gradient taken at the formulation's own point :math:`C_t x_{t-1}`.
* :func:`effective_momentum` is the coefficient of the previous velocity once the
  formulation is written in the other convention (:func:`derive.render.convention.convert`):
  :math:`\mu_t \varepsilon_t / \varepsilon_{t-1}` for PyTorch's placement seen as a paper velocity.
* :func:`display_rows` typesets derivation rows for IPython (``$$\begin{aligned}...$$``).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import sympy as sp

from derive.formulation import Formulation
from derive.numeric import step_factors
from derive.render.convention import convert, placement
from derive.render.layout import aligned_lines
from derive.symbols import t
from derive.system import linear_system
from derive.unroll import Quadratic


def trajectory(f: Formulation, values: Mapping, steps: int, *, curvature: float = 1.0, offset: float = 0.0,
               initial: Mapping | None = None) -> np.ndarray:
    """The state after each step, rows ``0..steps`` (float64), columns in ``f.state`` order.

    *values* binds hyperparameters by role (scalars or per-step sequences, ``values[role][0]`` is
    step 1's); *initial* the initial values by base (default: ``f.init``, parameters 1).
    """
    objective = Quadratic(curvature=curvature, offset=offset)  # derive's objective, evaluated in floats
    system = linear_system(f)
    factors = step_factors(system)
    x = np.array([float((initial or {}).get(s, f.init.get(s, 1.0))) for s in f.state])
    rows = [x.copy()]
    for step in range(1, steps + 1):
        A, B, C = factors.at(values, step)
        B, C = B.reshape(-1), C.reshape(-1)
        gradient = objective.gradient(float(C @ x))
        x = A @ x + B * gradient
        rows.append(x.copy())
    return np.array(rows)


def effective_momentum(f: Formulation, convention: str) -> sp.Expr | None:
    """The coefficient of ``w[t-1]`` in the velocity row of *f* written in *convention*."""
    rows = convert(f, convention)
    if rows is None:
        return None
    velocity = rows[0].lhs.base  # the change-of-variables row defines the new velocity
    row = next(r for r in rows[2:] if getattr(r.lhs, "base", None) == velocity)
    rhs = row.rhs.branches[-1][0] if hasattr(row.rhs, "branches") else row.rhs
    return sp.factor(sp.expand(rhs).coeff(velocity[t - 1]))


def at_steps(expr: sp.Expr, f: Formulation, values: Mapping, steps: Sequence[int]) -> np.ndarray:
    """*expr* (a template in ``t``) evaluated at each step with the schedule *values* by role.

    ``epsilon[t-1]`` at step ``n`` reads ``values["lr"][n-2]``: each indexed hyperparameter is
    looked up at its own step.
    """
    roles = {atom.base: role for role, e in f.hyper.items() for atom in sp.sympify(e).atoms(sp.Indexed)}
    out = []
    for step in steps:
        binding = {}
        for atom in expr.atoms(sp.Indexed):
            value = values[roles[atom.base]]
            n = int(atom.indices[0].subs(t, step))
            binding[atom] = value if np.isscalar(value) else value[n - 1]
        out.append(float(expr.xreplace(binding)))
    return np.array(out)


def display_rows(rows) -> str:
    """Derivation rows as a Markdown/MathJax display block."""
    return "$$\\begin{aligned}\n" + " \\\\\n".join(aligned_lines(rows)) + "\n\\end{aligned}$$"


__all__ = ["trajectory", "effective_momentum", "at_steps", "display_rows", "placement"]
