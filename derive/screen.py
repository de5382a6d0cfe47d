r"""A numeric pre-screen for :mod:`derive.equivalence`: decide "no change of variables" at exact points.

The conditions for :math:`x'_t = S_t x_t` (:func:`derive.equivalence.conditions`)
are linear in the entries of the :math:`S_k`, with coefficients rational in the
hyperparameters.  Replace every hyperparameter (each :math:`\varepsilon_k, \mu_k`,
each constant, :math:`\theta_0`) by an exact random rational (:func:`value`) and the
conditions become a linear system over :math:`\mathbb{Q}`, solved here by exact
Gaussian elimination over :class:`~fractions.Fraction` in the solver's order
(:func:`inconsistent`): a row that reduces to :math:`0 = c \ne 0` proves the numeric
system has no solution.  (With a translated schedule :math:`\nu_k` the system is
bilinear: :mod:`derive.screen_schedule`.)

Soundness: a symbolic solution (rational functions of the hyperparameters and of
the entries left free) specialises to a numeric one at every point where none of
its denominators vanishes.  So if the numeric system is inconsistent, either the
symbolic one is, or the point is a zero of a denominator; the values have large
denominators and *both* of two points must refute before the screen says
"inconsistent" (it never says "consistent": that is proved symbolically).
"""

from __future__ import annotations

import random
from functools import lru_cache
from fractions import Fraction

import sympy as sp

from derive.elimination import symbols_and_indexed
from derive.equivalence import _initial
from derive.formulation import Formulation
from derive.results import Location
from derive.system import linear_system

POINTS = 2
SEED = 20261202  # fixed: the same parameter gets the same values in every run (deterministic output)


def _atoms(*matrices) -> set:
    """Every symbol or indexed symbol in *matrices* (a Symbol that labels an Indexed is not a value)."""
    return symbols_and_indexed([sp.sympify(e) for M in matrices for e in M])


def value(parameter: sp.Basic, index: int) -> sp.Rational:
    """The parameter's value at screening point *index*: an exact rational in (0, 1) with a large
    denominator (positive like every rate, and generic), the same in every pair (so each entry's
    matrices are evaluated once) and in every run (seeded by the parameter's name)."""
    rng = random.Random(f"{SEED}/{index}/{sp.srepr(parameter)}")
    return sp.Rational(rng.randint(1, 10**6 - 1), 10**6 + rng.randint(1, 997))


def point(matrices, index: int, keep=()) -> dict:
    """``{parameter: value}`` for every parameter of *matrices* except those in *keep*."""
    return {a: value(a, index) for a in _atoms(*matrices) if a not in keep
            and not (isinstance(a, sp.Indexed) and a.base in keep)}


def at_point(M: sp.Matrix, at: dict) -> sp.Matrix:
    """*M* with the values *at* put in, an ``Indexed``'s label left alone (a Symbol may share its name)."""
    hidden = {i: sp.Dummy() for e in M for i in sp.sympify(e).atoms(sp.Indexed)}
    shown = {d: i for i, d in hidden.items()}
    return M.xreplace(hidden).xreplace({hidden.get(k, k): v for k, v in at.items()}).xreplace(shown)


@lru_cache(maxsize=1024)  # an entry meets every other one: its matrices are made once per process
def _unrolled(f: Formulation, p0: sp.Basic, steps: int):
    """``(x_0, [(A_k, B_k, C_k) for k = 1..steps], c)`` of *f*, with *p0* for its initial parameters."""
    system = linear_system(f)
    return _initial(f, p0), [system.at(k) for k in range(1, steps + 1)], system.c


def _systems(F: Formulation, G: Formulation, steps: int, same_params: bool = False):
    """The matrices :func:`derive.equivalence.conditions` multiplies, still symbolic:
    ``(x0_F, x0_G, dx0_F/dtheta0, [(A, B, C) of F and of G per step], (c_F, c_G))``."""
    p0 = F.params[0]
    (x0F, stepsF, cF), (x0G, stepsG, cG) = _unrolled(F, p0, steps), _unrolled(G, p0, steps)
    return x0F, x0G, x0F.jacobian([p0]), list(zip(stepsF, stepsG)), (cF, cG)


def _matrices(f: Formulation, p0: sp.Basic, steps: int) -> list[sp.Matrix]:
    x0, per_step, c = _unrolled(f, p0, steps)
    return [x0, x0.jacobian([p0]), c, *(X for three in per_step for X in three)]


@lru_cache(maxsize=4096)
def _numeric(f: Formulation, p0: sp.Basic, steps: int, index: int):
    """*f*'s ``(x_0, dx_0/dtheta_0, [(A_k, B_k, C_k)], c)`` at point *index*, over Fractions."""
    x0, per_step, c = _unrolled(f, p0, steps)
    at = point(_matrices(f, p0, steps), index)
    num = lambda A: _fractions(at_point(A, at))  # noqa: E731
    return num(x0), num(x0.jacobian([p0])), [tuple(map(num, three)) for three in per_step], num(c)


def _fractions(M: sp.Matrix) -> list[list[Fraction]]:
    return [[Fraction(int(e.p), int(e.q)) for e in row] for row in M.tolist()]


def _mul(X, Y):
    return [[sum((X[r][i] * Y[i][c] for i in range(len(Y))), Fraction(0)) for c in range(len(Y[0]))]
            for r in range(len(X))]


def linear_conditions(F: Formulation, G: Formulation, steps: int, index: int, *, same_params: bool = False):
    """The conditions of :func:`derive.equivalence.conditions` at point *index* (:func:`value`), as rows
    ``(label, {unknown: coefficient}, constant)`` over :class:`~fractions.Fraction` meaning
    ``row . s = constant`` (the unknown ``(k, r, c)`` is the entry ``S_k[r, c]``): they are linear in the
    ``S_k``, so the products are taken entry by entry without SymPy, in the solver's order and labels."""
    p0 = F.params[0]
    x0F, M, stepsF, cF = _numeric(F, p0, steps, index)
    x0G, _, stepsG, cG = _numeric(G, p0, steps, index)
    m, n = len(G.state), len(F.state)

    def terms(L, k, R) -> list[list[dict]]:
        """The entries of ``L S_k R`` (L None: the identity) as ``{unknown: coefficient}``."""
        out = [[{} for _ in range(len(R[0]))] for _ in range(m if L is None else len(L))]
        for r, line in enumerate(out):
            for c, row in enumerate(line):
                for i in range(m):
                    li = (1 if i == r else 0) if L is None else L[r][i]
                    for j in range(n):
                        if li and R[j][c]:
                            row[(k, i, j)] = row.get((k, i, j), 0) + li * R[j][c]
        return out

    def add(relation, step, lhs, minus=None, constant=None):
        """Rows for ``lhs - minus - constant = 0``."""
        for r, line in enumerate(lhs):
            for c, row in enumerate(line):
                if minus is not None:
                    row = {**row, **{u: row.get(u, 0) - b for u, b in minus[r][c].items()}}
                rows.append((Location.of(relation, step, (r, c)), row, constant[r][c] if constant else Fraction(0)))

    rows: list = []
    add("initial", 0, terms(None, 0, x0F), constant=x0G)
    for k, ((AF, BF, CF), (AG, BG, CG)) in enumerate(zip(stepsF, stepsG), start=1):
        add("point", k, terms(CG, k - 1, M), constant=_mul(CF, M))
        add("input", k, terms(None, k, BF), constant=BG)
        AFM = _mul(AF, M)
        add("transition", k, terms(AG, k - 1, M), minus=terms(None, k, AFM))
        M = [row + extra for row, extra in zip(AFM, BF)]
        if same_params:
            add("params", k, terms(cG, k, M), constant=_mul(cF, M))
    return rows


def inconsistent(rows) -> str | None:
    """The label of the first row that contradicts the rows before it (exact Gaussian elimination), else None."""
    pivots: dict = {}  # unknown -> (row with coefficient 1 there, constant), in the order they were made
    for label, row, constant in rows:
        row = {u: a for u, a in row.items() if a}
        for u, (prow, pconst) in pivots.items():
            a = row.get(u)
            if a:
                for v, b in prow.items():
                    row[v] = row.get(v, 0) - a * b
                constant -= a * pconst
                row = {v: b for v, b in row.items() if b}
        if not row:
            if constant != 0:
                return label
            continue
        u = max(row)  # later steps first, as the symbolic elimination
        a = row[u]
        pivots[u] = ({v: b / a for v, b in row.items()}, constant / a)
    return None


def equivalence_refuted(F: Formulation, G: Formulation, *, steps: int = 4, same_params: bool = False) -> str | None:
    """Where no ``S_t`` exists for ``F -> G`` at the concrete steps (the label of the first failing
    condition, a :class:`~derive.results.Location`), or None when the screen cannot refute."""
    first = None
    for index in range(POINTS):
        found = inconsistent(linear_conditions(F, G, steps, index, same_params=same_params))
        if found is None:
            return None
        first = first or found
    return first
