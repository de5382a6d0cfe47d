r"""The fully expanded closed form, on request, within a size limit.

Expanding inlines every shared sub-product: the coefficient of :math:`g_k` in
:math:`\theta_T` becomes a polynomial in :math:`\varepsilon_j, \mu_j, \tau,
\lambda` whose number of terms grows geometrically in :math:`T - k` (about
:math:`3.4\times` per step for ``pytorch_sgd`` with every hyperparameter
symbolic).  The definitions are evaluated in order in a sparse polynomial ring
over :math:`\mathbb{Q}` (:mod:`sympy.polys.rings`; exact, and much faster than
``sympy.expand`` on the inlined tree).  The running size is checked after every
step, and before it starts the printed size is estimated (:func:`estimate`) from
the same formulation expanded at horizons 5, 6, 7: past *limit_bytes* the
expansion is refused up front, with the estimate.
"""

from __future__ import annotations

import math
from typing import Callable

import sympy as sp
from sympy.polys.rings import ring

from derive.errors import DeriveError

# Characters per printed term before any is measured; replaced by a measurement once the size matters.
BYTES_PER_TERM_GUESS = 40


def _generators(cf) -> list:
    defined = set(cf.definitions)
    atoms: set = set()
    exprs = list(cf.definitions.values())
    exprs += [e for coeffs in cf.coefficients.values() for item in coeffs.items() for e in item]
    for e in exprs:
        indexed = {a for a in e.atoms(sp.Indexed) if a not in defined}
        labels = {a.base.label for a in e.atoms(sp.Indexed)}
        atoms |= indexed
        atoms |= {s for s in e.free_symbols if isinstance(s, sp.Symbol) and s not in labels}
    return sorted(atoms, key=sp.default_sort_key)


class _Ring:
    """Expressions over the names, evaluated into polynomials over QQ."""

    def __init__(self, gens):
        self.R, *elements = ring(gens, sp.QQ) if gens else ring([sp.Dummy("unused")], sp.QQ)
        self.env = dict(zip(gens, elements))

    def __call__(self, expr):
        env = self.env
        if expr in env:
            return env[expr]
        if expr.is_Rational:
            return self.R(sp.QQ(int(expr.p), int(expr.q)))
        if expr.is_Add:
            total = self.R.zero
            for a in expr.args:
                total += self(a)
            return total
        if expr.is_Mul:
            product = self.R.one
            for a in expr.args:
                product *= self(a)
            return product
        if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
            return self(expr.base) ** int(expr.exp)
        raise DeriveError(f"cannot expand {expr}: not a polynomial in the hyperparameters")


PROBES = (5, 6, 7)


def printed_size(coefficients: dict) -> int:
    """Characters of the expanded coefficients as printed."""
    return sum(len(ring_text(c)) for coeffs in coefficients.values() for c in coeffs.values())


def estimate(f, steps: int, *, objective=None) -> float:
    r"""The printed size of *f* unrolled for *steps* and expanded, from the horizons in ``PROBES``.

    Two models are fitted to the sizes :math:`s_6, s_7`: geometric
    :math:`s_T = s_7 r^{T-7}` and polynomial :math:`s_T = s_7 (T/7)^p`; the one
    that predicts :math:`s_5` better is used (symbolic momentum with weight decay
    is geometric, :math:`r \approx 3.4`; without coupling it is polynomial).
    Without shared sub-products (every hyperparameter a number) nothing is
    inlined: nothing to refuse.  Costs the probes only, never the horizon itself.
    """
    from derive.unroll import closed_form

    if steps <= PROBES[-1]:
        return float(printed_size(expanded(closed_form(f, steps, objective=objective), limit_bytes=None)))
    probes = [closed_form(f, n, objective=objective) for n in PROBES]
    if not probes[-1].definitions:
        return 0.0
    s5, s6, s7 = (printed_size(expanded(cf, limit_bytes=None)) for cf in probes)
    r = s7 / s6
    p = math.log(s7 / s6) / math.log(7 / 6)
    geometric = abs(math.log(s6 / r / s5)) <= abs(math.log(s6 * (5 / 6) ** p / s5))
    try:
        return s7 * r ** (steps - 7) if geometric else s7 * (steps / 7) ** p
    except OverflowError:
        return math.inf


def refuse_if_too_large(f, steps: int, limit_bytes: int) -> None:
    """Refuse, before any unrolling, when :func:`estimate` passes *limit_bytes*."""
    size = estimate(f, steps)
    if size > limit_bytes:
        shown = f"about {size / 1e6:.3g} MB" if size < 1e30 else "more than 10^24 MB"
        raise DeriveError(f"the expanded closed form of {f.name} at T = {steps} would be "
                          f"{shown} (over the {limit_bytes / 1e6:g} MB limit; estimated from "
                          f"T = {', '.join(map(str, PROBES))}); print the factored form (drop --expand) "
                          "or raise --expand-limit")


def expanded(cf, *, limit_bytes: int | None, tick: Callable[[int], object] | None = None) -> dict:
    """``{state base: {input: expanded coefficient (ring element)}}``, or refuse past *limit_bytes*.

    A safety net behind :func:`refuse_if_too_large`: the printed size is tracked
    as terms x characters per term (measured on the latest definition) and the
    expansion stops once it passes the limit, extrapolating the last complete
    step's growth to the remaining steps.
    """
    to_ring = _Ring(_generators(cf))
    sizes: list[int] = []  # terms defined per step, latest last
    per_term, step, total = BYTES_PER_TERM_GUESS, None, 0
    for name, value in cf.definitions.items():
        element = to_ring.env[name] = to_ring(value)
        if name.indices[1] != step:
            step = name.indices[1]
            sizes.append(0)
            if tick is not None:
                tick(1)
        sizes[-1] += len(element)
        total += len(element)
        if limit_bytes is not None and total * per_term > limit_bytes:
            per_term = max(1, len(str(element)) // max(1, len(element)))  # measured, once it matters
            if limit_bytes is not None and total * per_term > limit_bytes:
                raise DeriveError(_refusal(cf, sizes, total * per_term, per_term, limit_bytes))
    out = {}
    for s, coeffs in cf.coefficients.items():
        out[s] = {x: to_ring(c) for x, c in coeffs.items()}
    return out


def _refusal(cf, sizes: list[int], so_far: int, per_term: int, limit_bytes: int) -> str:
    done = sizes[:-1]  # the latest step is partial
    growth = done[-1] / done[-2] if len(done) > 1 and done[-2] else 1.0
    remaining = max(0, cf.steps - len(sizes))
    last, estimate = sizes[-1] * per_term, float(so_far)
    for _ in range(remaining):
        last *= growth
        estimate += last
        if estimate > 1e30:
            break
    shown = f"about {estimate / 1e6:.3g} MB" if estimate <= 1e30 else "more than 10^24 MB"
    return (f"the expanded closed form of {cf.formulation.name} at T = {cf.steps} would be {shown} "
            f"(passed the {limit_bytes / 1e6:g} MB limit after {len(sizes)} of {cf.steps} steps, "
            f"growing {growth:.2f}x per step); print the factored form (drop --expand) or raise "
            f"--expand-limit")


_NAMES: dict = {}  # ring -> its generators as printed


def ring_text(element) -> str:
    """A ring element in the unroll schema's grammar, terms in the ring's order.

    Written here rather than by ``str(element)``, which prints every generator of
    every term through SymPy's printer (30x slower on the expanded forms).
    """
    R = element.ring
    names = _NAMES.get(R)
    if names is None:
        from derive.factored import expression_text

        names = _NAMES[R] = [expression_text(x) for x in R.symbols]
    out = []
    for monom, coeff in element.terms():
        p, q = int(coeff.numerator), int(coeff.denominator)
        factors = [names[i] if e == 1 else f"{names[i]}**{e}" for i, e in enumerate(monom) if e]
        number = f"{abs(p)}" if q == 1 else f"{abs(p)}/{q}"
        body = "*".join(factors if number == "1" and factors else [number, *factors])
        out.append(("-" if p < 0 else "") + body if not out else (" - " if p < 0 else " + ") + body)
    return "".join(out) or "0"


def expression(element) -> sp.Expr:
    return element.as_expr()
