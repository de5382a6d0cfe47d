r"""Closed forms for a concrete horizon :math:`T`.

For a formulation with linear-system view :math:`x_t = A_t x_{t-1} + B_t u_t`,

.. math::
    x_T = \Phi(T,0)\, x_0 + \sum_{k=1}^{T} \Phi(T,k)\, B_k u_k,
    \qquad \Phi(T,k) = A_T A_{T-1} \cdots A_{k+1},

where the input :math:`u_k` is the gradient :math:`g_k` (any objective) or, for a
quadratic objective :math:`\nabla f(y) = h y - q`, the constant :math:`-q` with
:math:`A_k + h B_k C_k` in place of :math:`A_k`.

Nothing is expanded.  The entries of :math:`\Phi(T,k)` are *shared sub-products*
``Phi[T, k, r, c]``, each defined from :math:`\Phi(T,k+1)` and the step factor
:math:`A_{k+1}` (``definitions``); a coefficient reads one of them.  The closed form
therefore grows linearly in :math:`T`, never hits the recursion limit, and
expands on request (:meth:`ClosedForm.expression`) when :math:`T` is small.
Each step instantiates one template per kind of step (regular, first) rather
than substituting into :math:`A_t` and multiplying matrices.  The printed forms
are in :mod:`derive.factored` (text written from the same templates) and
:mod:`derive.expansion` (the expanded form, within a size limit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from derive import arguments
from derive.errors import DeriveError
from derive.formulation import Formulation
from derive import numeric
from derive.symbols import Phi, g, t
from derive.system import LinearSystem, linear_system

h = sp.Symbol("h", real=True)
q = sp.Symbol("q", real=True)


@dataclass(frozen=True)
class Quadratic:
    r"""The objective :math:`f(\theta) = \tfrac{h}{2}\theta^2 - q\theta`, so :math:`\nabla f = h\theta - q`."""

    curvature: sp.Expr = h
    offset: sp.Expr = q

    def gradient(self, point: sp.Expr) -> sp.Expr:
        return self.curvature * point - self.offset


@dataclass(frozen=True)
class ClosedForm:
    """The state at step ``steps`` as exact linear combinations of the inputs.

    ``coefficients[s]`` maps each input (a symbolic initial value such as
    ``theta[0]``, a gradient ``g[k]``, or ``1`` for constant terms) to its
    coefficient in ``s[steps]``.  Coefficients may read the shared sub-products
    in ``definitions`` (ordered: each reads only earlier ones).
    """

    formulation: Formulation
    steps: int
    coefficients: Mapping[sp.IndexedBase, Mapping[sp.Expr, sp.Expr]]
    definitions: Mapping[sp.Indexed, sp.Expr] = field(default_factory=dict)
    objective: Quadratic | None = None

    @property
    def params(self) -> Mapping[sp.Expr, sp.Expr]:
        """The coefficients of the parameters the user reads."""
        return self.coefficients[self.formulation.params]

    def inline(self, expr: sp.Expr) -> sp.Expr:
        """*expr* with every shared sub-product replaced by its definition."""
        if not self.definitions:
            return expr
        return expr.xreplace(self._inlined())

    def _inlined(self) -> dict:
        cache = self.__dict__.get("_inlined_cache")
        if cache is None:
            cache = {}
            for name, value in self.definitions.items():
                cache[name] = sp.expand(value.xreplace(cache))
            object.__setattr__(self, "_inlined_cache", cache)
        return cache

    def coefficient(self, base: sp.IndexedBase, input_: sp.Expr, *, inline: bool = True) -> sp.Expr:
        value = self.coefficients[base].get(sp.sympify(input_), sp.S.Zero)
        return sp.expand(self.inline(value)) if inline else value

    def expression(self, base: sp.IndexedBase | None = None) -> sp.Expr:
        """``base[steps]`` as one expanded expression (for small horizons)."""
        base = base or self.formulation.params
        return sp.expand(sum((self.inline(c) * x for x, c in self.coefficients[base].items()), sp.S.Zero))

    def size(self) -> int:
        """Tree nodes in the coefficients and definitions: the closed form's size."""
        exprs = list(self.definitions.values())
        exprs += [c for coeffs in self.coefficients.values() for c in coeffs.values()]
        return sum(sp.count_ops(e, visual=False) + 1 for e in exprs)

    def evaluate(self, values: Mapping, inputs: Mapping) -> dict:
        """The state at ``steps`` in float64 for given hyperparameters and inputs.

        *values* binds hyperparameters by role or symbol (scalars or per-step
        sequences, :mod:`derive.numeric.binding`); *inputs* binds the initial
        values (``theta[0]``; a variable the formulation initialises keeps its
        ``init``, any other defaults to 0) and the gradients (``"g"``: a
        sequence, ``g[k]`` is ``inputs["g"][k-1]``), or for a quadratic objective
        ``h`` and ``q``.  The numbers come from the engine
        (:func:`derive.numeric.run`): the same linear system the closed form
        unrolls, stepped.
        """
        f = self.formulation
        initial = {s: inputs.get(s[0], 0) for s in f.state if s not in f.init}
        if self.objective is None:
            run = numeric.run(f, values, self.steps, gradients=inputs["g"], initial=initial)
        else:
            hq = [inputs[k] if k in inputs else inputs[str(k)] if str(k) in inputs else v
                  for k, v in ((h, self.objective.curvature), (q, self.objective.offset))]
            if not all(sp.sympify(x).is_number for x in hq):
                raise DeriveError(f"evaluate needs numbers for the quadratic's h and q, got h={hq[0]}, q={hq[1]}")
            run = numeric.run(f, values, self.steps, objective=Quadratic(*map(float, hq)), initial=initial)
        return run.state(self.steps)


def check_steps(steps) -> int:
    message = f"the horizon must be a non-negative integer, got steps={steps!r}"
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise arguments.InvalidArgument(message)
    if steps < 0:
        raise DeriveError(message)
    return int(steps)


def _factors(system: LinearSystem, step: int, objective: Quadratic | None):
    A, B, C = system.at(step)
    if objective is None:
        return A, B, g[step]
    return A + objective.curvature * B * C, B, -objective.offset


def closed_form(f: Formulation, steps: int, *, objective: Quadratic | None = None,
                symbolic_init: bool = False, progress: Callable[[int], object] | None = None) -> ClosedForm:
    """Unroll *f* for *steps* steps into exact linear combinations of its inputs.

    With *objective* the gradients are :math:`\\nabla f` of a quadratic evaluated
    at each step's gradient point, which gives a fully explicit trajectory.
    ``symbolic_init=True`` keeps every initial value a symbol (``v[0]`` too).
    *progress*, if given, is called with ``1`` after each step (a progress bar's ``update``).

    Args:
        f: the formulation; steps: the horizon ``T`` (a positive integer).
        objective: a :class:`Quadratic` whose gradient replaces ``g_k`` (None: the ``g_k`` stay symbols).
        symbolic_init: keep every initial value a symbol; progress: called with 1 after each step.

    Returns:
        A :class:`ClosedForm`: ``coefficients[state base][input]``, reading the shared ``Phi`` entries
        in ``definitions`` (``expression(base)`` inlines them).
    """
    T = check_steps(steps)
    system = linear_system(arguments.formulation(f, "f", "closed_form"))
    n = system.size
    x0 = f.initial_state(symbolic=symbolic_init)
    definitions: dict[sp.Indexed, sp.Expr] = {}
    P = [[sp.S.One if r == c else sp.S.Zero for c in range(n)] for r in range(n)]  # Phi(T, k)
    coefficients: list[dict] = [dict() for _ in range(n)]
    slots = [[sp.Dummy(f"P{r}{c}") for c in range(n)] for r in range(n)]
    regular, first = step_templates(system, objective, slots, t), step_templates(system, objective, slots, 1)
    atoms: dict = {}  # (base, step) -> base[step], built once: an Indexed costs more than a lookup

    def add(r: int, key: sp.Expr, value: sp.Expr) -> None:
        if value != 0:
            coefficients[r][key] = coefficients[r].get(key, sp.S.Zero) + value

    for k in range(T, 0, -1):
        PB, PA, u, schedule = first if k == 1 else regular
        # One template per kind of step, instantiated: cheaper than substituting into A_t and multiplying.
        sub = {slots[r][c]: P[r][c] for r in range(n) for c in range(n)}
        sub[t] = sp.Integer(k)
        for dummy, (base, offset) in schedule.items():
            atom = atoms.get((base, k + offset))
            if atom is None:
                atom = atoms[base, k + offset] = base[k + offset]
            sub[dummy] = atom
        u = u.xreplace(sub)
        key, scale = (u, 1) if objective is None else (sp.S.One, u)
        for r in range(n):
            add(r, key, PB[r].xreplace(sub) * scale)
        # Phi(T, k-1) = Phi(T, k) A_k, each entry named once it is more than an atom.
        for r in range(n):
            for c in range(n):
                entry = PA[r][c].xreplace(sub)
                if entry.is_Atom or entry.is_Indexed:
                    P[r][c] = entry
                else:
                    name = Phi[T, k - 1, r, c]
                    definitions[name] = entry
                    P[r][c] = name
        if progress is not None:
            progress(1)
    for c, s in enumerate(f.state):
        value = x0[s]
        key, scale = (value, 1) if not value.is_number else (sp.S.One, value)
        for r in range(n):
            add(r, key, P[r][c] * scale)
    coeffs = {s: coefficients[r] for r, s in enumerate(f.state)}
    return ClosedForm(f, T, coeffs, definitions, objective)


def step_templates(system: LinearSystem, objective: Quadratic | None, slots, step):
    """``Phi B_step``, ``Phi A_step`` and the input ``u_step`` with ``Phi`` the matrix of *slots*."""
    A, B, u = _factors(system, step, objective)
    u = sp.sympify(u)
    # Schedule entries at step t + offset become placeholders too (mu[t+1] -> (mu, 1)).
    schedule, placeholders = {}, {}
    for atom in sorted(A.atoms(sp.Indexed) | B.atoms(sp.Indexed) | u.atoms(sp.Indexed), key=sp.default_sort_key):
        offset = sp.expand(atom.indices[0] - t) if len(atom.indices) == 1 else None
        if offset is not None and offset.is_Integer:
            placeholders[atom] = dummy = sp.Dummy(f"{atom.base}")
            schedule[dummy] = (atom.base, int(offset))
    P = sp.Matrix(slots)
    PA = (P * A).xreplace(placeholders)
    PB = (P * B).xreplace(placeholders)
    n = len(slots)
    return ([PB[r] for r in range(n)], [[PA[r, c] for c in range(n)] for r in range(n)],
            u.xreplace(placeholders), schedule)


def iterate(f: Formulation, steps: int, *, expand: bool = False, symbolic_init: bool = False,
            objective: Quadratic | None = None) -> dict:
    """Direct step-by-step symbolic iteration of the program (the closed form's check).

    ``expand=True`` expands after every step: the naive approach the benchmark
    measures the closed form against.
    """
    T = check_steps(steps)
    state = arguments.formulation(f, "f", "iterate").initial_state(symbolic=symbolic_init)
    for k in range(1, T + 1):
        grad = g[k] if objective is None else objective.gradient(f.gradient_point(state, k))
        new = f.step(state, grad, k)
        state = {s: (sp.expand(new[s]) if expand else new[s]) for s in f.state}
    return state


def gradient_points(f: Formulation, steps: int, **options) -> list[sp.Expr]:
    """``y_{k-1}``, the point where ``g[k]`` is evaluated, for ``k = 1..steps`` (expanded)."""
    system = linear_system(f)
    points = []
    for k in range(1, check_steps(steps) + 1):
        cf = closed_form(f, k - 1, **options)
        state = sp.Matrix([cf.expression(s) for s in f.state])
        points.append(sp.expand((system.at(k)[2] * state)[0]))
    return points
