r"""A formulation run on numbers: given gradients, or an objective per coordinate.

:func:`trajectory` steps the linear system :math:`x_t = A_t x_{t-1} + B_t g_t`
(matrices bound by :mod:`derive.numeric`, nothing retyped) with the gradient

* given: ``grads[t-1]`` is :math:`g_t` (a number, or one per coordinate), or
* computed: :math:`g_t = \nabla f(C_t x_{t-1})` for an objective :math:`f` of one
  coordinate (one objective per coordinate for a vector of parameters; the
  coordinates of an SGD step do not interact), or derive's quadratic.

Hyperparameters are bound by role (``"lr"``, ``"nu"``) or by symbol, each a constant or an explicit
per-step sequence (``hyper["lr"][0]`` is step 1's).  ``exact=True`` runs in exact
rationals (floats read through their shortest repr, as everywhere in derive).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import sympy as sp

from derive import arguments
from derive.errors import DeriveError
from derive.formulation import Formulation
from derive.numeric import step_factors
from derive.system import linear_system

X = sp.Symbol("x", real=True)  # the coordinate an objective given as text is written in


def _formulation(entry) -> Formulation:
    if isinstance(entry, str):
        from derive.catalogue import get

        return get(entry)
    return arguments.formulation(entry, "entry", "trajectory")


def _objectives(objective) -> list[sp.Expr]:
    """One SymPy expression per coordinate (text through derive's expression grammar, in ``x``)."""
    from derive.expressions import parse_expression

    items = list(objective) if isinstance(objective, (list, tuple)) else [objective]
    out = []
    for item in items:
        if isinstance(item, str):
            item = parse_expression(item, variables={"x": X})
        item = sp.sympify(item)
        free = item.free_symbols
        if len(free) > 1:
            raise DeriveError(f"trajectory: an objective reads one coordinate, got {item} in {sorted(map(str, free))}")
        out.append(item.xreplace({s: X for s in free}))
    return out


def _hyper(f: Formulation, hyper: Mapping | None, exact: bool) -> dict:
    from derive.hyperparameters import exact as exact_number

    if hyper is None:
        hyper = {}
    if not isinstance(hyper, Mapping):
        raise arguments.InvalidArgument(f"trajectory: hyper must map roles or symbols to values, got {hyper!r}")
    from derive.symbols import ROLES

    known = set(f.hyper) | set(f.roles()) | set(ROLES)  # a table role the entry lacks is ignored
    unknown = [k for k in hyper if k not in known]
    if unknown:
        raise DeriveError(f"trajectory: {f.name} has no hyperparameter {unknown[0]!r}; "
                          f"its roles are {', '.join(f.hyper) or 'none'}")

    def convert(key, value):
        if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
            return [convert(key, v) for v in value]
        return exact_number(value, str(key)) if exact else float(value)

    return {k: convert(k, v) for k, v in hyper.items()}


def trajectory(entry: Formulation | str, hyper: Mapping | None = None, steps: int | None = None, *,
               grads: Sequence | None = None, objective=None, x0=None, initial: Mapping | None = None,
               exact: bool = False, curvature: float = 1.0, offset: float = 0.0) -> np.ndarray:
    r"""Run *entry* for *steps* steps; the state after each step.

    Args:
        entry: a :class:`~derive.formulation.Formulation` or a catalogue name.
        hyper: values by role or symbol: a constant, or a sequence with one value per step
            (``hyper["lr"][0]`` is step 1's; a form that reads ``mu[t+1]`` needs one more).
        steps: how many steps (default: ``len(grads)``).
        grads: the gradients, ``grads[t-1]`` being :math:`g_t`: numbers, or one row per step
            with a value per coordinate.  Exclusive with *objective*.
        objective: :math:`f` of one coordinate (SymPy expression, or text in ``x`` such as
            ``"x**4/4 - x"``), or a list of them, one per coordinate; :math:`g_t = f'(C_t x_{t-1})`.
            Neither given: :math:`f(\theta) = \tfrac{h}{2}\theta^2 - q\theta` with
            ``h = curvature``, ``q = offset``.
        x0: the initial parameters (a number or one per coordinate; default 1).
        initial: initial values of other state variables by base (default: the entry's ``init``).
        exact: exact SymPy numbers (an object array) instead of float64.

    Returns:
        An array of shape ``(steps + 1, len(state))`` (one coordinate) or
        ``(steps + 1, coordinates, len(state))``, columns in ``entry.state`` order, row 0 the start.
    """
    f = _formulation(entry)
    if grads is not None and objective is not None:
        raise arguments.InvalidArgument("trajectory: give grads or objective, not both")
    if steps is None:
        if grads is None:
            raise arguments.InvalidArgument("trajectory: steps is required without grads")
        steps = len(grads)
    steps = arguments.integer(steps, "steps", "trajectory", minimum=1)
    if grads is not None and len(grads) < steps:
        raise DeriveError(f"trajectory: {steps} steps need {steps} gradients, got {len(grads)}")
    values = _hyper(f, hyper, exact)
    number = (lambda v: exact_value(v)) if exact else float
    if objective is None and grads is None:
        objective = [sp.Rational(repr(float(curvature))) * X**2 / 2 - sp.Rational(repr(float(offset))) * X]
    objectives = _objectives(objective) if objective is not None else None
    gradient_rows = [np.atleast_1d(np.asarray(row, dtype=object)) for row in grads] if grads is not None else None
    if x0 is None:
        x0 = (initial or {}).get(f.params, 1)
    n = max(len(objectives or ()), len(np.atleast_1d(np.asarray(x0, dtype=object))),
            max((len(r) for r in gradient_rows or ()), default=1))
    derivatives = None
    if objectives is not None:
        objectives = objectives * n if len(objectives) == 1 else objectives
        derivatives = [sp.diff(o, X) for o in objectives]
        if not exact:
            derivatives = [sp.lambdify(X, d, modules="math") for d in derivatives]
    start = np.atleast_1d(np.asarray(x0, dtype=object))
    start = np.resize(start, n)
    factors = step_factors(linear_system(f))
    dtype = object if exact else np.float64
    x = np.empty((n, len(f.state)), dtype=dtype)
    for c in range(n):
        for s_index, s in enumerate(f.state):
            given = (initial or {}).get(s, f.init.get(s)) if s != f.params else start[c]
            x[c, s_index] = number(given if given is not None else 1)
    rows = [x.copy()]
    for step in range(1, steps + 1):
        A, B, C = factors.at(values, step, exact=exact)
        if exact:
            A, B, C = (np.array(M.tolist(), dtype=object) for M in (A, B, C))
        B, C = B.reshape(-1), C.reshape(-1)
        new = np.empty_like(x)
        for c in range(n):
            if derivatives is not None:
                point = C.dot(x[c])
                g = derivatives[c].subs(X, point) if exact else derivatives[c](float(point))
            else:
                row = gradient_rows[step - 1]
                g = number(row[c] if len(row) > 1 else row[0])
            new[c] = A.dot(x[c]) + B * g
        x = new
        rows.append(x.copy())
    out = np.array(rows, dtype=dtype)
    return out[:, 0, :] if n == 1 else out


def exact_value(value) -> sp.Expr:
    """A number as an exact SymPy value (floats through their shortest repr)."""
    if isinstance(value, sp.Basic):
        return value
    from derive.hyperparameters import exact

    return exact(value, "value")
