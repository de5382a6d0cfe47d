r"""Exact elimination for :mod:`derive.equivalence`: the conditions on the :math:`S_k` solved step by step.

Every condition is a polynomial in the unknowns (the entries of the :math:`S_k`, and a
translated schedule's :math:`\nu_k`) whose coefficients are rational functions of the
hyperparameters.  The elimination keeps each one as an element of
:math:`K[\text{unknowns}]` with :math:`K = \mathbb{Q}(\text{hyperparameters})`
(SymPy's sparse ``PolyRing`` over a ``FractionField``): a coefficient is a reduced
fraction of sparse polynomials, so substituting a solved unknown is polynomial
composition and cancelling is one gcd per coefficient, never ``cancel`` over an
expression tree.  An equation is solved for an unknown :math:`u` that it contains
linearly with a coefficient :math:`a \in K` (free of unknowns):
:math:`u = -(e - a u)/a`, substituted into every value found so far.  One that reduces
to a non-zero element of :math:`K` is a **residual**, reported as the numerator
:math:`L e` (:math:`L` the lcm of the coefficients' denominators), factored.

The pivot rule is the solver's: later steps first, the first unknown whose coefficient
in :math:`L e` is a number, else the last one with a coefficient free of unknowns;
equations with no such unknown wait their turn (non-linear ones), and once a step leaves
a residual later steps are not examined (the first failing step is the evidence).
An expression that is not rational in its symbols (a square root of a hyperparameter)
is eliminated over SymPy expressions instead (:func:`eliminate_expressions`), with the
same rule.
"""

from __future__ import annotations

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.fields import FracField
from sympy.polys.orderings import lex
from sympy.polys.polyerrors import CoercionFailed
from sympy.polys.rings import PolyRing


class NotRational(Exception):
    """A condition is not a polynomial in the unknowns over the rational functions of the rest."""


def _parameters(exprs, unknowns) -> list:
    """The symbols and indexed symbols of *exprs* other than the unknowns, in a fixed order."""
    return sorted(symbols_and_indexed(exprs) - set(unknowns), key=sp.default_sort_key)


def symbols_and_indexed(exprs) -> set:
    """Every ``Indexed`` and every ``Symbol`` of *exprs*, a Symbol that only labels an ``Indexed`` left out
    (qhm's :math:`\nu` and a translated schedule ``nu[k]`` share a name: both are kept)."""
    atoms = set()
    for e in exprs:
        indexed = e.atoms(sp.Indexed)
        atoms |= indexed
        if indexed:
            hidden = {i: sp.Dummy() for i in indexed}
            atoms |= {s for s in e.xreplace(hidden).free_symbols if s not in hidden.values()}
        else:
            atoms |= e.free_symbols
    return atoms


def _step(label) -> str:
    return str(label).split(":")[0]


def eliminate(eqs, unknowns) -> tuple[dict, list[tuple[str, sp.Expr]]]:
    """Exact elimination: returns (solution, residuals).  Non-linear equations wait their turn.

    Equations are ``(label, expression = 0)`` with labels ``step k: ...``; the solution maps
    solved unknowns to quotients in lowest terms (``sp.cancel`` gives their normal form) of
    the hyperparameters and the free unknowns; the residuals (at most six) are factored numerators.
    """
    eqs = [(label, sp.sympify(e)) for label, e in eqs]
    try:
        return _eliminate_field(eqs, set(unknowns))
    except NotRational:
        return eliminate_expressions(eqs, unknowns)


class _Ring:
    """The flat polynomial ring QQ[unknowns, parameters], with the few operations the elimination needs."""

    def __init__(self, ordered: list, parameters: list):
        self.n = len(ordered)
        gens = list(ordered) + list(parameters)
        self.R = PolyRing(gens or [sp.Dummy("none")], QQ, lex)
        self.K = FracField(parameters, QQ, lex) if parameters else None
        self.x = dict(zip(ordered, self.R.gens))
        self.ordered = ordered

    def convert(self, e: sp.Expr):
        """``(p, q)`` with ``e = p/q``, q free of the unknowns (else :class:`NotRational`)."""
        try:
            return self.R.from_expr(e), self.R.one
        except (ValueError, CoercionFailed):
            pass
        try:
            f = FracField(self.R.symbols, QQ, lex).from_expr(e)
        except (ValueError, CoercionFailed) as exc:
            raise NotRational(str(exc)) from None
        p, q = f.numer.set_ring(self.R), f.denom.set_ring(self.R)
        if not self.free(q):
            raise NotRational(f"a denominator holds an unknown: {e}")
        return p, q

    def free(self, p) -> bool:
        """Whether *p* holds no unknown."""
        n = self.n
        return all(not any(m[:n]) for m in p.itermonoms())

    def present(self, p) -> list:
        n, seen = self.n, set()
        for m in p.itermonoms():
            seen.update(i for i in range(n) if m[i])
        return [self.ordered[i] for i in sorted(seen)]

    def reduced(self, p, q):
        """``(p/g, q/g)`` with g the gcd of q and every coefficient of p in the unknowns."""
        if q.is_ground:
            return p, q
        n, groups = self.n, {}
        for m, c in p.iterterms():
            groups.setdefault(m[:n], {})[(0,) * n + m[n:]] = c
        g = q
        for d in groups.values():
            g = g.gcd(self.R.from_dict(d))
            if g.is_ground:
                return p, q
        return p.exquo(g), q.exquo(g)

    def substitute(self, p, q, x, N, D):
        """``p/q`` with the generator *x* replaced by ``N/D`` (D free of the unknowns), reduced."""
        d = p.degree(x)
        if d <= 0:
            return p, q
        i = self.R.gens.index(x)
        parts: dict = {}
        for m, c in p.iterterms():
            parts.setdefault(m[i], {})[m[:i] + (0,) + m[i + 1:]] = c
        out = self.R.zero
        for k, terms in parts.items():
            out += self.R.from_dict(terms) * (N**k if k else self.R.one) * D**(d - k)
        return self.reduced(out, q * D**d)

    def expression(self, p, q) -> sp.Expr:
        """``p/q`` as an expression (already in lowest terms; ``cancel`` gives its normal form)."""
        return p.as_expr() if q == self.R.one else p.as_expr() / q.as_expr()

    def numerator(self, p, q) -> sp.Expr:
        """The residual ``p/q`` (free of unknowns) as its numerator, in the fraction field's normal form."""
        if self.K is None:
            return sp.expand(p.as_expr())
        n, ring = self.n, self.K.ring
        f = self.K.new(ring.from_dict({m[n:]: c for m, c in p.iterterms()}),
                       ring.from_dict({m[n:]: c for m, c in q.iterterms()}))
        return f.numer.as_expr()


def _eliminate_field(eqs, unknowns: set):
    ordered = sorted(unknowns, key=sp.default_sort_key)
    order = {u: n for n, u in enumerate(ordered)}
    ring = _Ring(ordered, _parameters([e for _, e in eqs], unknowns))
    polys = [(label, *ring.convert(e)) for label, e in eqs]
    sol: dict = {}  # unknown -> (N, D): its value N/D, D free of the unknowns
    residuals: list = []
    pending = polys
    while pending:
        deferred = []
        for label, p, q in pending:
            if residuals and _step(label) != _step(residuals[0][0]):
                deferred = []
                break
            for u in ring.present(p):
                if u in sol:
                    p, q = ring.substitute(p, q, ring.x[u], *sol[u])
            here = ring.present(p)
            if not here:
                if p:
                    residuals.append((label, p, q))
                continue
            choice = None
            for u in sorted(here, key=lambda u: -order[u]):  # later steps first
                a = p.diff(ring.x[u])
                if a and ring.free(a):
                    choice = (u, a)
                    if a.is_ground:  # p is a reduced numerator: a number here is one in the solver's form
                        break
            if choice is None:
                deferred.append((label, p, q))
                continue
            u, a = choice
            x = ring.x[u]
            N, D = ring.reduced(-(p - a * x), a)
            sol = {w: (ring.substitute(*v, x, N, D) if v[0].degree(x) > 0 else v) for w, v in sol.items()}
            sol[u] = (N, D)
        if deferred and len(deferred) == len(pending):
            residuals.extend(deferred)
            break
        pending = deferred
    out = {u: ring.expression(*v) for u, v in sol.items()}
    return out, [(label, sp.factor(ring.numerator(p, q))) for label, p, q in residuals[:6]]


def eliminate_expressions(eqs, unknowns) -> tuple[dict, list[tuple[str, sp.Expr]]]:
    """:func:`eliminate` over SymPy expressions (``together``, ``cancel``): for conditions that are
    not rational in their symbols."""
    unknowns = set(unknowns)
    order = {u: n for n, u in enumerate(sorted(unknowns, key=sp.default_sort_key))}
    sol: dict = {}
    residuals = []
    pending = list(eqs)
    while pending:
        deferred = []
        for label, e in pending:
            if residuals and _step(label) != _step(residuals[0][0]):
                deferred = []
                break
            num = sp.expand(sp.numer(sp.together(sp.sympify(e).xreplace(sol))))
            present = num.free_symbols & unknowns
            if not present:
                if num != 0:
                    residuals.append((label, num))
                continue
            choice = None
            for u in sorted(present, key=lambda u: -order[u]):  # later steps first
                a = sp.diff(num, u)
                if not (a.free_symbols & unknowns) and sp.expand(a) != 0:
                    choice = (u, a)
                    if a.is_number:
                        break
            if choice is None:
                deferred.append((label, num))
                continue
            u, a = choice
            value = sp.cancel(-sp.expand(num - a * u) / a)
            # only entries that contain u change; the others are already cancelled
            sol = {k: sp.cancel(v.xreplace({u: value})) if v.has(u) else v for k, v in sol.items()}
            sol[u] = value
        if deferred and len(deferred) == len(pending):
            residuals.extend(deferred)
            break
        pending = deferred
    return sol, [(label, sp.factor(r)) for label, r in residuals[:6]]
