r"""Step a formulation's linear system, in float64 or exactly.

.. math::
    x_k = A_k x_{k-1} + B_k g_k, \qquad
    g_k = \begin{cases} \text{the given gradient} \\ h\, C_k x_{k-1} - q &
    \text{on } f(\theta) = \tfrac{h}{2}\theta^2 - q\theta \end{cases}

Each element of a parameter vector is an independent copy of the scalar
system (the step matrices are shared, the state is ``(n, N)``).  The matrices
come from :class:`~derive.numeric.compiled.CompiledStep`, bound to the
hyperparameters before the first step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import sympy as sp
from derive import arguments
from derive.errors import DeriveError
from derive.formulation import Formulation
from derive.numeric.binding import as_sympy, exact_number, is_sequence
from derive.numeric.compiled import compile_step
from derive.system import LinearSystem, linear_system


@dataclass(frozen=True)
class Trajectory:
    """States after steps ``0..T``: ``x[k, r]`` (or ``x[k, r, e]`` per element) in ``formulation.state`` order.

    float64, or (``exact``) Python objects: Fractions when everything was rational, else SymPy numbers.
    """

    formulation: Formulation
    x: np.ndarray
    exact: bool

    @property
    def steps(self) -> int:
        return self.x.shape[0] - 1

    def state(self, step: int) -> dict:
        """The state after *step* by base (exact values as SymPy)."""
        row = self.x[step]
        if self.exact:
            row = np.vectorize(as_sympy, otypes=[object])(row) if row.size else row
        return {s: row[r] for r, s in enumerate(self.formulation.state)}

    @property
    def params(self) -> np.ndarray:
        """The parameters the user reads, after each step."""
        return self.x[:, self.formulation.state.index(self.formulation.params)]


def _elements(value, what: str) -> int | None:
    """How many elements *value* carries: None for a scalar."""
    if not is_sequence(value):
        return None
    if len(value) == 0:
        raise DeriveError(f"{what} is empty")
    return len(value)


def run(f: Formulation | LinearSystem, hyper: Mapping, steps: int, *, gradients: Sequence | None = None,
        objective=None, initial: Mapping | None = None, exact: bool = False,
        symbolic: bool = False) -> Trajectory:
    """Run *f* for *steps* steps.

    Args:
      f: the formulation (or its linear system).
      hyper: hyperparameter values by entry, symbol, name or role, constants or per-step sequences
        (:mod:`derive.numeric.binding`).
      steps: the horizon T.
      gradients: ``g_1..g_T`` (``gradients[k-1]`` is ``g_k``), each a number or one per element.
      objective: instead of *gradients*, a quadratic with numeric ``curvature`` h and ``offset`` q
        (:class:`derive.unroll.Quadratic`); ``g_k = h C_k x_{k-1} - q`` at the formulation's own point.
      initial: initial values by base, a number or one per element; a base not given takes its
        declared ``init``.
      exact: exact arithmetic (Fractions, or SymPy for irrational values) instead of float64.
      symbolic: with *exact*, a hyperparameter without a value stays a symbol (``epsilon[0]``,
        ``tau``) instead of being refused; the states are then SymPy expressions in it.

    Returns:
      The :class:`Trajectory`; ``x[0]`` is the initial state.
    """
    system = f if isinstance(f, LinearSystem) else linear_system(arguments.formulation(f, "f", "run"))
    formulation = system.formulation
    steps = arguments.integer(steps, "steps", "run", minimum=0)
    if (gradients is None) == (objective is None):
        raise DeriveError("run needs exactly one of gradients= (g_1..g_T) and objective= (a quadratic)")
    if gradients is not None and (not is_sequence(gradients) or len(gradients) < steps):
        shown = len(gradients) if is_sequence(gradients) else repr(gradients)
        raise DeriveError(f"gradients must give g_1..g_{steps}, got {shown}")
    if symbolic and not exact:
        raise DeriveError("symbolic=True keeps unbound hyperparameters as symbols: it needs exact=True")
    compiled = compile_step(system)
    bound = compiled.bind(hyper, steps, symbolic=symbolic)  # every lookup before the first step
    x0 = _initial(formulation, initial or {})
    sizes = {n for n in [_elements(v, f"the initial {s}") for s, v in zip(formulation.state, x0)]
             + ([_elements(g, f"g_{k}") for k, g in enumerate(gradients[:steps], 1)] if gradients is not None else [])
             if n is not None}
    if len(sizes) > 1:
        raise DeriveError(f"the initial values and gradients disagree on the number of elements: {sorted(sizes)}")
    N = sizes.pop() if sizes else None
    grads = None if gradients is None else list(gradients[:steps])
    step = _exact_run if exact else _float_run
    return Trajectory(formulation, step(compiled, bound, steps, x0, grads, objective, N), exact)


def _initial(f: Formulation, initial: Mapping) -> list:
    unknown = [s for s in initial if s not in f.state]
    if unknown:
        raise DeriveError(f"{f.name} has no state {unknown[0]}; its state is {', '.join(map(str, f.state))}")
    given = {s[0]: initial[s] for s in f.state if s in initial}
    out = []
    for s in f.state:
        value = initial.get(s, f.init.get(s))
        if value is None:
            raise DeriveError(f"{f.name}: no initial value for {s}; pass initial={{{s}: ...}}")
        if s not in initial and isinstance(value, sp.Basic) and value.free_symbols:
            # a declared initial value may read another variable's (the heavy ball's theta_{-1} = theta_0)
            if value in given:
                value = given[value]
            elif all(not is_sequence(v) for v in given.values()):
                value = sp.sympify(value).xreplace({k: sp.sympify(v) for k, v in given.items()})
        out.append(value)
    return out


def _float_run(compiled, bound, steps, x0, grads, objective, N) -> np.ndarray:
    arrays = [np.array([np.nan if v is None else float(v) for v in row], dtype=np.float64) for row in bound]
    A, B, C = compiled.float_matrices(arrays, steps)
    x = np.empty((compiled.size,) if N is None else (compiled.size, N))
    for r, value in enumerate(x0):
        x[r] = np.asarray(value, dtype=np.float64) if is_sequence(value) else float(value)
    if objective is not None:
        h, q = float(objective.curvature), float(objective.offset)
    rows = [x.copy()]
    for k in range(steps):
        if objective is not None:
            point = C[k].reshape(-1) @ x
            gradient = h * (float(point) if N is None else point) - q
        else:
            gradient = float(grads[k]) if N is None else np.asarray(grads[k], dtype=np.float64)
        x = A[k] @ x + (B[k].reshape(-1) if N is None else B[k]) * gradient
        rows.append(x.copy())
    return np.array(rows)


def _exact_run(compiled, bound, steps, x0, grads, objective, N) -> np.ndarray:
    n, width = compiled.size, 1 if N is None else N
    # columns of the state: one per element
    columns = [[exact_number(v[e]) if is_sequence(v) else exact_number(v) for v in x0] for e in range(width)]
    if objective is not None:
        h, q = exact_number(objective.curvature), exact_number(objective.offset)
    history = [[list(col) for col in columns]]
    for k in range(1, steps + 1):
        A, B, C = compiled.exact([row[k - 1] for row in bound], k)
        for e, x in enumerate(columns):
            if objective is not None:
                gradient = h * _dot(C[0], x) - q
            else:
                g = grads[k - 1]
                gradient = exact_number(g[e] if is_sequence(g) else g)
            columns[e] = [_dot(A[r], x) + B[r][0] * gradient for r in range(n)]
        history.append([list(col) for col in columns])
    out = np.empty((steps + 1, n, width), dtype=object)
    for k, cols in enumerate(history):
        for e, col in enumerate(cols):
            for r, value in enumerate(col):
                out[k, r, e] = value
    return out[..., 0] if N is None else out


def _dot(row, x):
    total = row[0] * x[0]
    for a, b in zip(row[1:], x[1:]):
        total = total + a * b
    return total
