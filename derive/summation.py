r"""Rewriting rules for finite Sums and Products over a symbolic horizon.

The induction proofs in :mod:`derive.induction` need three facts about finite
sums and products (Karr's convention, as in SymPy), applied mechanically rather
than left to ``simplify``:

* **empty range**: :math:`\sum_{v=a}^{a-1} f_v = 0`, :math:`\prod_{v=a}^{a-1} f_v = 1`;
* **peeling the last term**: :math:`\sum_{v=a}^{n+1} f_v = \sum_{v=a}^{n} f_v + f_{n+1}`
  and :math:`\prod_{v=a}^{n+1} f_v = \bigl(\prod_{v=a}^{n} f_v\bigr) f_{n+1}`;
* **sum linearity**: :math:`\sum_v (c\,f_v + c'\,f'_v) = c\sum_v f_v + c'\sum_v f'_v`
  for :math:`c, c'` free of :math:`v`;
* **renaming the index**: :math:`\sum_{j} f_j = \sum_{j'} f_{j'}` (nested kernel entries of a
  state larger than 2 sum over different index names).

:func:`linear_normal_form` writes an expression as a polynomial in monomial
Sums and Products (each summand a single monomial, constants pulled out), so two
expressions that agree by these rules become structurally equal and their
difference cancels to ``0``.  :func:`instantiate` expands every Sum/Product
whose limits are integers into its terms (for checks at a concrete horizon).
"""

from __future__ import annotations

from typing import Callable

import sympy as sp
from sympy.polys.rings import ring


def _range(e) -> tuple[sp.Symbol, sp.Expr, sp.Expr, sp.Expr]:
    if len(e.limits) != 1:
        raise ValueError(f"expected a single summation range, got {e.limits}")
    v, lo, hi = e.limits[0]
    return v, lo, hi, sp.expand(hi - lo + 1)


def _identity(e) -> sp.Expr:
    return sp.S.Zero if isinstance(e, sp.Sum) else sp.S.One


def peel(expr: sp.Expr, top: sp.Expr) -> sp.Expr:
    """Split the last term ``v = top`` off every Sum/Product whose upper limit is *top*.

    Outer ranges are peeled first, so the peeled term of an outer sum meets its
    inner ranges already instantiated (an inner range that became empty is
    evaluated, never peeled).
    """
    if isinstance(expr, (sp.Sum, sp.Product)):
        v, lo, hi, length = _range(expr)
        if length == 0:
            return _identity(expr)
        body = peel(expr.function, top)
        if sp.expand(hi - top) != 0:
            return expr.func(body, (v, lo, hi))
        rest = expr.func(body, (v, lo, top - 1))
        last = peel(expr.function.subs(v, top), top)
        return rest + last if isinstance(expr, sp.Sum) else rest * last
    if expr.is_Atom or isinstance(expr, sp.Indexed):
        return expr
    return expr.func(*[peel(a, top) for a in expr.args])


def _split(term: sp.Expr, v: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """``term = outside * inside`` with *outside* free of *v*."""
    inside, outside = [], []
    for factor in sp.Mul.make_args(term):
        (inside if v in factor.free_symbols else outside).append(factor)
    return sp.Mul(*inside), sp.Mul(*outside)


def linear_normal_form(expr: sp.Expr) -> sp.Expr:
    """*expr* expanded, with every Sum split by linearity into monomial Sums.

    Empty ranges are evaluated and a Product of ``1`` is ``1``; summands and
    factors are normalised bottom-up, so equal expressions give equal trees.  The
    coefficient of each Sum is then brought to lowest terms, so rational
    hyperparameters (AccSGD's kappa/(kappa + c xi)) cancel as polynomials do.
    """
    out = _linear_normal_form(expr)
    sums = sorted(out.atoms(sp.Sum), key=sp.default_sort_key)
    if not sums or not out.is_Add:
        return out
    parts = sp.collect(out, sums, evaluate=False)
    return sp.Add(*[sp.cancel(coefficient) * key for key, coefficient in parts.items()])


def _linear_normal_form(expr: sp.Expr) -> sp.Expr:
    if expr.is_Atom or isinstance(expr, sp.Indexed):
        return expr
    if isinstance(expr, sp.Sum):
        v, lo, hi, length = _range(expr)
        if length == 0:
            return sp.S.Zero
        out = []
        for term in sp.Add.make_args(sp.expand(_linear_normal_form(expr.function))):
            inside, outside = _split(term, v)
            out.append(outside * (length if inside == 1 else _canonical_sum(inside, v, lo, hi)))
        return sp.Add(*out)
    if isinstance(expr, sp.Product):
        v, lo, hi, length = _range(expr)
        body = sp.expand(_linear_normal_form(expr.function))
        if length == 0 or body == 1:
            return sp.S.One
        return sp.Product(body, (v, lo, hi))
    return sp.expand(expr.func(*[_linear_normal_form(a) for a in expr.args]))


def _height(expr: sp.Expr) -> int:
    """How many Sums nest inside *expr* (0 for none)."""
    if expr.is_Atom or isinstance(expr, sp.Indexed):
        return 0
    inner = max((_height(a) for a in expr.args), default=0)
    return inner + 1 if isinstance(expr, sp.Sum) else inner


def _canonical_sum(body: sp.Expr, v: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Sum:
    """``Sum(body, (v, lo, hi))`` with its index renamed by the sum's height (alpha-equivalence).

    Two sums that differ only in the name of their index (``j`` and ``j_2``, as nested kernel
    entries write them) become the same tree; the name is fresh (never a free symbol) and
    differs from every index inside the body, whose sums are lower.
    """
    height = _height(body) + 1
    index = sp.Symbol(f"_sum{height}", integer=True)
    return sp.Sum(body.xreplace({v: index}), (index, lo, hi))


def instantiate(expr: sp.Expr, name: Callable[[sp.Indexed], sp.Expr] | None = None) -> sp.Expr:
    """Expand every Sum/Product with integer limits into its terms, outermost first.

    *name* optionally rewrites an Indexed leaf once its indices are integers (the
    named kernel entries ``Phi[n, k, r, c]`` of a non-triangular closed form).
    """
    if isinstance(expr, (sp.Sum, sp.Product)):
        v, lo, hi, length = _range(expr)
        if not (lo.is_Integer and hi.is_Integer):
            raise ValueError(f"cannot instantiate a range with symbolic limits: {expr.limits}")
        if length < 0:
            raise ValueError(f"range {expr.limits} runs backwards")
        terms = [instantiate(expr.function.xreplace({v: sp.Integer(n)}), name)
                 for n in range(int(lo), int(hi) + 1)]
        return sp.Add(*terms) if isinstance(expr, sp.Sum) else sp.Mul(*terms)
    if isinstance(expr, sp.Indexed):
        return name(expr) if name is not None else expr
    if expr.is_Atom:
        return expr
    return expr.func(*[instantiate(a, name) for a in expr.args])


def same_polynomial(left: sp.Expr, right: sp.Expr) -> bool:
    """Whether *left* and *right* expand to the same polynomial (in a sparse ring over QQ).

    The ring multiplies nested products out far faster than ``sympy.expand``.
    """
    difference = left - right
    indexed = difference.atoms(sp.Indexed)
    labels = {a.base.label for a in indexed}
    gens = sorted(indexed | {s for s in difference.free_symbols if isinstance(s, sp.Symbol) and s not in labels},
                  key=sp.default_sort_key)
    if not gens:
        return sp.nsimplify(difference) == 0 if difference.has(sp.Float) else difference == 0
    R, *_ = ring(gens, sp.QQ)
    try:
        return R.from_expr(difference) == 0
    except ValueError:  # rational in the hyperparameters (AccSGD's c^2 xi/kappa): cancel instead
        return sp.cancel(sp.together(difference)) == 0
