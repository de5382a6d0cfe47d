r"""The numeric pre-screen for a translation: a schedule :math:`\nu_t` and :math:`S_t` solved together.

With the target built with :math:`\nu_t` in one role (:func:`derive.equivalence.translation`),
the conditions of :mod:`derive.equivalence` are polynomial in the unknowns
:math:`\nu_k` and the entries of :math:`S_k` (bilinear for every catalogue entry).
At an exact rational point for every other hyperparameter (:mod:`derive.screen`)
they are polynomials over :math:`\mathbb{Q}`, kept here as ``{monomial: Fraction}``
with a monomial a sorted tuple of unknowns.  Elimination as the symbolic solver
does it: solve an equation :math:`a u + r = 0` for an unknown :math:`u` whose
coefficient :math:`a` is a non-zero number (so :math:`r` is free of :math:`u`) and
substitute everywhere; an equation with no such unknown waits, and one that
reduces to a non-zero number proves that no :math:`(\nu, S)` exists at the point; when only
equations non-linear in every unknown are left (a momentum squared in the update), a reduced
Groebner basis ``[1]`` proves they have no common root, even over :math:`\mathbb{C}`.
Each step keeps the system equivalent, so the refutation is sound (a translation
found symbolically would specialise to a solution at the point, unless the point
is a zero of one of its denominators: two points must both refute).
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from derive.equivalence import NU
from derive.formulation import Formulation
from functools import lru_cache

from derive.screen import POINTS, _matrices, _unrolled, at_point, point


class NotPolynomial(Exception):
    """An entry is not a polynomial in the schedule with rational coefficients: screen symbolically."""


def _key(u) -> tuple[int, int, int]:
    return (int(u.indices[0]), -1, 0)  # nu_k sorts just before S_k's entries


def _poly(e) -> dict:
    """A SymPy expression (numbers and ``nu[k]`` only) as ``{monomial: Fraction}``."""
    e = sp.sympify(e)
    if e.is_Rational:
        return {(): Fraction(int(e.p), int(e.q))} if e != 0 else {}
    gens = sorted(e.atoms(sp.Indexed), key=sp.default_sort_key)
    if any(g.base != NU for g in gens) or e.free_symbols - set(gens) - {NU.label}:
        raise NotPolynomial(str(e))
    try:
        P = sp.Poly(e, *gens)
    except sp.PolynomialError:
        raise NotPolynomial(str(e)) from None
    if not P.get_domain().is_QQ and not P.get_domain().is_ZZ:
        raise NotPolynomial(str(e))
    out = {}
    for powers, c in P.terms():
        mono = tuple(sorted(k for g, p in zip(gens, powers) for k in [_key(g)] * p))
        out[mono] = Fraction(int(c.p), int(c.q))
    return out


def _mul(p: dict, q: dict) -> dict:
    out: dict = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            m = tuple(sorted(m1 + m2))
            out[m] = out.get(m, 0) + c1 * c2
    return {m: c for m, c in out.items() if c}


def _add(p: dict, q: dict, sign: int = 1) -> dict:
    out = dict(p)
    for m, c in q.items():
        out[m] = out.get(m, 0) + sign * c
    return {m: c for m, c in out.items() if c}


def _matrix(M: sp.Matrix, point: dict) -> list[list[dict]]:
    return [[_poly(e) for e in row] for row in at_point(M, point).tolist()]


def _product(X, Y):
    out = []
    for r in range(len(X)):
        line = []
        for c in range(len(Y[0])):
            acc: dict = {}
            for i in range(len(Y)):
                acc = _add(acc, _mul(X[r][i], Y[i][c]))
            line.append(acc)
        out.append(line)
    return out


def _S(k: int, m: int, n: int) -> list[list[dict]]:
    return [[{((k, i, j),): Fraction(1)} for j in range(n)] for i in range(m)]


@lru_cache(maxsize=4096)
def _polynomial(f: Formulation, p0: sp.Basic, steps: int, index: int):
    """*f*'s ``(x_0, dx_0/dtheta_0, [(A_k, B_k, C_k)])`` at point *index*, ``nu`` kept, as polynomials."""
    x0, per_step, _ = _unrolled(f, p0, steps)
    at = point(_matrices(f, p0, steps), index, keep=(NU,))
    return (_matrix(x0, at), _matrix(x0.jacobian([p0]), at),
            [tuple(_matrix(X, at) for X in three) for three in per_step])


def polynomial_conditions(F: Formulation, G: Formulation, steps: int, index: int) -> list[dict]:
    """The conditions of :func:`derive.equivalence.conditions` at point *index* (every parameter but
    ``nu``), as polynomials in ``nu_k`` and the ``S_k`` entries, in the solver's order."""
    p0 = F.params[0]
    x0F, M, stepsF = _polynomial(F, p0, steps, index)
    x0G, _, stepsG = _polynomial(G, p0, steps, index)
    m, n = len(G.state), len(F.state)
    eqs: list[dict] = []

    def add(E, minus):
        eqs.extend(_add(a, b, -1) for ra, rb in zip(E, minus) for a, b in zip(ra, rb))

    add(_product(_S(0, m, n), x0F), x0G)
    for k, ((AF, BF, CF), (AG, BG, CG)) in enumerate(zip(stepsF, stepsG), start=1):
        add(_product(_product(CG, _S(k - 1, m, n)), M), _product(CF, M))
        add(_product(_S(k, m, n), BF), BG)
        AFM = _product(AF, M)
        add(_product(_product(AG, _S(k - 1, m, n)), M), _product(_S(k, m, n), AFM))
        M = [row + extra for row, extra in zip(AFM, BF)]
    return eqs


def _substitute(p: dict, u, value: dict) -> dict:
    out: dict = {}
    for mono, c in p.items():
        d = mono.count(u)
        term = {tuple(x for x in mono if x != u): c}
        for _ in range(d):
            term = _mul(term, value)
        out = _add(out, term)
    return out


def contradicts(eqs: list[dict]) -> bool:
    """Whether eliminating *eqs* (as :func:`derive.equivalence.eliminate`) reaches a non-zero number."""
    sol: dict = {}
    pending = list(eqs)
    while pending:
        deferred = []
        for p in pending:
            for u, value in sol.items():
                if any(u in mono for mono in p):
                    p = _substitute(p, u, value)
            unknowns = {x for mono in p for x in mono}
            if not unknowns:
                if p:
                    return True
                continue
            # an unknown that appears only alone and to the first power has a number for coefficient
            linear = [u for u in unknowns if all(mono == (u,) or u not in mono for mono in p)]
            if not linear:
                deferred.append(p)
                continue
            u = max(linear)  # later steps first
            a = p[(u,)]
            value = {mono: -c / a for mono, c in p.items() if mono != (u,)}
            sol = {w: _substitute(v, u, value) if any(u in mono for mono in v) else v for w, v in sol.items()}
            sol[u] = value
        if len(deferred) == len(pending):
            return not _common_root(deferred)
        pending = deferred
    return False


MAX_GROEBNER_UNKNOWNS = 6  # past this many unknowns left a Groebner basis may not finish: no refutation


def _common_root(eqs: list[dict]) -> bool:
    """Whether the polynomials *eqs* (over QQ, each one non-linear in every unknown it holds) may have a
    common root over the complex numbers: False only when their reduced Groebner basis is ``[1]``
    (Hilbert's Nullstellensatz), so a schedule quadratic in ``nu`` (``mu**2`` in an update) is refuted too."""
    unknowns = sorted({x for p in eqs for mono in p for x in mono})
    if len(unknowns) > MAX_GROEBNER_UNKNOWNS:
        return True
    names = {x: sp.Symbol(f"u{n}") for n, x in enumerate(unknowns)}
    polys = [sp.Add(*(sp.Rational(c.numerator, c.denominator) * sp.Mul(*(names[x] for x in mono))
                      for mono, c in p.items())) for p in eqs]
    basis = sp.groebner(polys, *names.values(), order="grevlex", domain=sp.QQ)
    return list(basis.exprs) != [1]


def translation_refuted(F: Formulation, G: Formulation, *, steps: int = 4) -> bool:
    """Whether no schedule ``nu_t`` (G built with ``NU[t]`` in the translated role) and no ``S_t`` exist at
    the concrete steps at either of two exact points: :func:`derive.equivalence.translation` would find none.

    Every ``nu[k]`` in the conditions is an unknown (the symbolic solver fixes ``nu_1..nu_steps``; one more
    unknown only weakens the screen).  A non-polynomial entry leaves the decision to the symbolic solver.
    """
    for index in range(POINTS):
        try:
            eqs = polynomial_conditions(F, G, steps, index)
        except NotPolynomial:
            return False
        if not contradicts(eqs):
            return False
    return True
