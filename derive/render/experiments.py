r"""Numbers for the notebooks, computed from derive's objects (never from a retyped formula).

* :func:`trajectory` runs a formulation's linear system :math:`x_t = A_t x_{t-1} + B_t g_t`
  (the engine, :func:`derive.numeric.run`) on derive's quadratic objective
  (:class:`derive.unroll.Quadratic`), gradient taken at the formulation's own point :math:`C_t x_{t-1}`.
* :func:`effective_momentum` is the coefficient of the previous velocity once the
  formulation is written in the other convention (:func:`derive.convention.in_convention`):
  :math:`\mu_t \varepsilon_t / \varepsilon_{t-1}` for PyTorch's placement seen as a paper velocity.
* :func:`display_rows` typesets derivation rows for IPython (``$$\begin{aligned}...$$``).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import sympy as sp

from derive.formulation import Formulation
from derive.convention import in_convention, placement
from derive.numeric import argument, lookup, run
from derive.render.layout import aligned_lines
from derive.unroll import Quadratic


def trajectory(f: Formulation, values: Mapping, steps: int, *, curvature: float = 1.0, offset: float = 0.0,
               initial: Mapping | None = None) -> np.ndarray:
    """The state after each step, rows ``0..steps`` (float64), columns in ``f.state`` order.

    *values* binds hyperparameters by role (scalars or per-step sequences, ``values[role][0]`` is
    step 1's); *initial* the initial values by base (default: ``f.init``, parameters 1).
    """
    x0 = {s: (initial or {}).get(s, f.init.get(s, 1.0)) for s in f.state}
    # derive's objective, evaluated in floats by the engine
    return run(f, values, steps, objective=Quadratic(curvature=curvature, offset=offset), initial=x0).x


def effective_momentum(f: Formulation, convention: str) -> sp.Expr | None:
    """The coefficient of ``w[t-1]`` in the velocity row of *f* written in *convention*
    (:meth:`derive.convention.Converted.momentum`); None when *f* is already in it."""
    converted = in_convention(f, convention)
    return None if converted is None else converted.momentum()


def at_steps(expr: sp.Expr, f: Formulation, values: Mapping, steps: Sequence[int]) -> np.ndarray:
    """*expr* (a template in ``t``) evaluated at each step with the schedule *values* by role.

    ``epsilon[t-1]`` at step ``n`` reads ``values["lr"][n-2]``: each indexed hyperparameter is
    looked up at its own step, as the engine binds it (:func:`derive.numeric.lookup`).
    """
    roles = f.roles()
    entries = [argument(atom, roles) for atom in sorted(expr.atoms(sp.Indexed), key=sp.default_sort_key)]
    return np.array([float(expr.xreplace({a.symbol: lookup(values, a, step) for a in entries}))
                     for step in steps])


def display_rows(rows) -> str:
    """Derivation rows as a Markdown/MathJax display block."""
    return "$$\\begin{aligned}\n" + " \\\\\n".join(aligned_lines(rows)) + "\n\\end{aligned}$$"


__all__ = ["trajectory", "effective_momentum", "at_steps", "display_rows", "placement"]
