r"""Objectives written once as a SymPy expression, turned into every function verify needs.

An objective is separable: :math:`f(\theta) = \sum_i \varphi(\theta_i)`, with :math:`\varphi`
a SymPy expression in one symbol. Separability keeps every parameter element an independent
copy of the scalar system that derive describes, so the reference can step all elements at once.

This module is the single place where the expression becomes code:

* :meth:`Objective.torch_loss` -- the torch function the optimizer differentiates (autograd);
* :meth:`Objective.gradient` -- :math:`\varphi'` in float64 NumPy, for the float reference;
* :meth:`Objective.gradient_exact` -- :math:`\varphi'` at a :class:`fractions.Fraction`;
* :meth:`Objective.gradient_magnitude` and :meth:`Objective.curvature` -- the two terms of the
  tolerance model (:mod:`verify.compare`): how much rounding evaluating :math:`\varphi'` costs,
  and how much an error in the evaluation point moves the gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy as sp

from derive.expressions import CONSTANTS, DEFAULT_FUNCTIONS, ExpressionError, parse_expression

X = sp.Symbol("x", real=True)


class _AnyName(dict):
    """Variables for the parser: ``x``, and any other plain name as a symbol, refused later by name."""

    def __contains__(self, name) -> bool:
        return not name.startswith("_") and name not in CONSTANTS and name not in DEFAULT_FUNCTIONS

    def __missing__(self, name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True)

# Roundings charged to one libm-style call (SLEEF's u10/u35 variants: <= 3.5 ULP).
FUNCTION_ROUNDINGS = 4


@dataclass(frozen=True)
class Objective:
    r"""A separable objective :math:`f(\theta)=\sum_i \varphi(\theta_i)`.

    >>> q = Objective.parse("x**2/2 - x")
    >>> float(q.gradient(np.array([3.0]))[0])
    2.0
    """

    expr: sp.Expr
    symbol: sp.Symbol = X
    name: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str, name: str = "") -> "Objective":
        """Read ``text``: numbers, ``x``, arithmetic, ``**`` and the functions of
        :data:`derive.expressions.DEFAULT_FUNCTIONS` (parsed, never executed).

        Raises :class:`derive.expressions.ExpressionError` (a ``ValueError``) naming what
        was refused; a complex or non-float64 number (``1j``, ``1e999``) is refused too.
        """
        expr = parse_expression(text, variables=_AnyName(x=X))
        extra = expr.free_symbols - {X}
        if extra:
            names = ", ".join(sorted(map(str, extra)))
            raise ExpressionError(f"objective {text!r} has free symbols {names}; write it in x only")
        if expr.has(sp.I, sp.nan, sp.zoo, sp.oo):
            raise ExpressionError(f"objective {text!r} is not real; write a real function of x")
        for number in expr.atoms(sp.Number):
            if not np.isfinite(float(number)):
                raise ExpressionError(f"objective {text!r} has a number beyond float64's range")
        return cls(expr, X, name or text)

    # -- derived expressions -------------------------------------------------------------
    @cached_property
    def derivative(self) -> sp.Expr:
        return sp.diff(self.expr, self.symbol)

    @cached_property
    def second_derivative(self) -> sp.Expr:
        return sp.diff(self.expr, self.symbol, 2)

    # -- torch ---------------------------------------------------------------------------
    @cached_property
    def _torch_phi(self):
        return sp.lambdify(self.symbol, self.expr, "torch")

    def torch_loss(self, tensors):
        """:math:`\\sum` over all elements of all ``tensors`` of :math:`\\varphi` (a 0-d tensor)."""
        total = None
        for tensor in tensors:
            value = self._torch_phi(tensor)
            if not hasattr(value, "sum"):  # a constant phi: keep the graph connected
                value = tensor * 0 + value
            part = value.sum()
            total = part if total is None else total + part
        return total

    # -- numpy ---------------------------------------------------------------------------
    @cached_property
    def _np_derivative(self):
        return sp.lambdify(self.symbol, self.derivative, "numpy")

    @cached_property
    def _np_phi(self):
        return sp.lambdify(self.symbol, self.expr, "numpy")

    def value(self, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._np_phi(x), np.shape(x)).astype(np.float64)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._np_derivative(x), np.shape(x)).astype(x.dtype)

    @cached_property
    def _np_curvature(self):
        return sp.lambdify(self.symbol, sp.Abs(self.second_derivative), "numpy")

    def curvature(self, x: np.ndarray) -> np.ndarray:
        r""":math:`|\varphi''(x)|`: how far the gradient moves per unit error in the point."""
        return np.broadcast_to(self._np_curvature(x), np.shape(x)).astype(np.float64)

    @cached_property
    def _np_magnitude(self):
        return sp.lambdify(self.symbol, rounding_magnitude(self.derivative), "numpy")

    def gradient_magnitude(self, x: np.ndarray) -> np.ndarray:
        r""":math:`M(\varphi')(x)`: the rounding error of :math:`\varphi'` is at most
        ``gradient_roundings * u * M``; see :func:`rounding_magnitude`."""
        return np.broadcast_to(self._np_magnitude(x), np.shape(x)).astype(np.float64)

    @cached_property
    def gradient_roundings(self) -> int:
        r"""Roundings charged to one evaluation of :math:`\varphi'` by autograd.

        Autograd evaluates the forward expression and then its chain rule, not SymPy's
        :math:`\varphi'`; we charge twice SymPy's operation count (forward plus backward) plus
        :data:`FUNCTION_ROUNDINGS` per function call, a stated modelling assumption.
        """
        ops = int(sp.count_ops(self.derivative)) + int(sp.count_ops(self.expr))
        calls = len(self.derivative.atoms(sp.Function)) + len(self.expr.atoms(sp.Function))
        return 2 * ops + FUNCTION_ROUNDINGS * calls + 1

    # -- exact ---------------------------------------------------------------------------
    @cached_property
    def is_affine_gradient(self) -> bool:
        """Whether phi' is affine (a quadratic objective): then the exact reference is exact."""
        return self.derivative.is_polynomial(self.symbol) and sp.degree(self.derivative, self.symbol) <= 1

    @cached_property
    def _mp_derivative(self):
        return sp.lambdify(self.symbol, self.derivative, "mpmath")

    @cached_property
    def _mp_phi(self):
        return sp.lambdify(self.symbol, self.expr, "mpmath")

    def gradient_exact(self, x: Fraction) -> Fraction:
        r""":math:`\varphi'(x)`: exact when :math:`\varphi'` is affine, else to 60 significant digits.

        Exact rational arithmetic through a non-affine :math:`\varphi'` multiplies the size of
        the numbers at every step (``x**3`` triples it), so the "exact" reference rounds there,
        at a relative 1e-60: far below any float64 ULP.
        """
        if self.is_affine_gradient:
            value = self.derivative.subs(self.symbol, sp.Rational(x.numerator, x.denominator))
            return Fraction(int(value.p), int(value.q))
        return _mp_eval(self._mp_derivative, x)

    def value_exact(self, x: Fraction) -> Fraction:
        return _mp_eval(self._mp_phi, x)


def _mp_eval(fn, x: Fraction) -> Fraction:
    import mpmath

    with mpmath.workdps(_DIGITS):
        value = mpmath.mpf(fn(mpmath.mpf(x.numerator) / x.denominator))
        sign, mantissa, exponent, _ = value._mpf_  # value = (-1)**sign * mantissa * 2**exponent
        return (-1) ** sign * Fraction(int(mantissa)) * (Fraction(2) ** int(exponent))


_DIGITS = 60


def rounding_magnitude(expr: sp.Expr) -> sp.Expr:
    r"""An expression :math:`M(e) \ge |e|` with :math:`|\mathrm{fl}(e)-e| \le n\,u\,M(e)` to first order.

    The classical running-error argument for a straight-line program: every rounding perturbs
    its result by a relative :math:`u`, and the perturbation reaches the output scaled by the
    absolute values of what it is combined with. Rules: a leaf is :math:`|e|`; a sum is
    :math:`\sum M(a_i)`; a product is :math:`\prod M(a_i)`; an integer power :math:`a^n` is
    :math:`M(a)^n` for :math:`n>0` and :math:`|n|\,|a^n|\,M(a)/|a|` otherwise; a function call
    :math:`h(a)` is :math:`|h(a)| + |h'(a)|\,M(a)`.
    """
    if expr.is_Atom:
        return sp.Abs(expr)
    if expr.is_Add:
        return sp.Add(*(rounding_magnitude(a) for a in expr.args))
    if expr.is_Mul:
        return sp.Mul(*(rounding_magnitude(a) for a in expr.args))
    if expr.is_Pow:
        base, exponent = expr.args
        if exponent.is_Integer and exponent > 0:
            return rounding_magnitude(base) ** exponent
        return sp.Abs(exponent) * sp.Abs(expr) * rounding_magnitude(base) / sp.Abs(base) + sp.Abs(expr)
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        (arg,) = expr.args
        u = sp.Dummy("u")
        slope = sp.diff(expr.func(u), u).subs(u, arg)
        return sp.Abs(expr) + sp.Abs(slope) * rounding_magnitude(arg)
    return sp.Abs(expr)


QUADRATIC = Objective(X**2 / 2 - X / 4, X, "quadratic")
QUARTIC = Objective(X**2 / 2 + X**4 / 8, X, "quartic")
NEGATIVE_QUARTIC = Objective(-(X**2 / 2 + X**4 / 8), X, "negative quartic")  # for maximize
