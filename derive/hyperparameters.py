"""Hyperparameter values at the boundary: schedules, constants, exact numbers.

A hyperparameter is given as ``None`` (leave it symbolic: a schedule such as
``epsilon[t]`` or a constant symbol such as ``tau``), a SymPy expression, or a
Python number.  Numbers become exact rationals (``0.9 -> 9/10``): derive never
puts a float in an expression.  Validation mirrors what ``torch.optim.SGD``
refuses, with a message that names the bad value.
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Number

import sympy as sp

from derive.errors import InvalidHyperparameter
from derive.expressions import ExpressionError, parse_expression

# Texts that name a non-finite value; refused with the same sentence as sp.nan or float("inf").
NON_FINITE_WORDS = frozenset({"nan", "inf", "infinity", "oo", "zoo"})
_NON_FINITE = (sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I)


def not_finite(name: str, shown) -> InvalidHyperparameter:
    """The one message for nan, infinities, complex numbers and float64 overflow, from Python or the CLI."""
    return InvalidHyperparameter(f"{name} must be finite, got {name}={shown}; give a finite real number")


def exact(value, name: str) -> sp.Expr:
    """*value* as an exact SymPy expression (floats via their shortest repr: ``0.9 -> 9/10``).

    Text is read by :func:`derive.expressions.parse_expression` (numbers and
    arithmetic, never executed).  A number must be real and finite as a float64
    (``1e999`` is refused like ``inf``), an expression must not contain ``nan``,
    ``oo``, ``zoo`` or ``I``.
    """
    if isinstance(value, bool):
        raise InvalidHyperparameter(f"{name} must be a number, got {name}={value!r}")
    if isinstance(value, str):
        expr = _text(value, name)
    elif isinstance(value, sp.Basic):
        expr = value
    elif isinstance(value, (int, Fraction)):
        expr = sp.Rational(value)
    elif isinstance(value, complex):
        raise not_finite(name, value)
    elif isinstance(value, Number):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise not_finite(name, value) from None
        if not math.isfinite(number):
            raise not_finite(name, value)
        expr = sp.Rational(repr(number))
    else:
        raise InvalidHyperparameter(f"{name} must be a number or a SymPy expression, got {name}={value!r}")
    _check_finite(expr, value, name)
    return expr


def _text(text: str, name: str) -> sp.Expr:
    if text.strip().lower().lstrip("+-") in NON_FINITE_WORDS:
        raise not_finite(name, text.strip())
    try:
        return parse_expression(text, variables={})
    except ExpressionError as exc:
        raise InvalidHyperparameter(f"{name} must be a number, got {name}={text!r}: {exc}") from None


def _check_finite(expr, shown, name: str) -> None:
    if not isinstance(expr, sp.Expr) or expr.has(*_NON_FINITE):
        raise not_finite(name, shown)
    if expr.is_number:
        try:
            number = float(expr)
        except (TypeError, ValueError, OverflowError):
            raise not_finite(name, shown) from None
        if not math.isfinite(number):
            raise not_finite(name, shown)


def flag(value, name: str) -> bool:
    """A flag from Python: exactly ``True`` or ``False`` (``1``, ``"no"`` are refused, not guessed)."""
    if isinstance(value, bool):
        return value
    raise InvalidHyperparameter(f"{name} is a flag: pass True or False, got {name}={value!r}")


def resolve(value, default: sp.Expr, name: str, *, schedule: sp.IndexedBase | None = None) -> sp.Expr:
    """The expression for a hyperparameter: *default* when ``None``, else exact.

    For a schedule hyperparameter, *default* is ``base[t]`` and a constant given
    by the user replaces the whole schedule.
    """
    if value is None:
        return default
    if schedule is not None and value is schedule:
        return default
    expr = exact(value, name)
    if expr.is_number and expr.is_negative:
        raise InvalidHyperparameter(f"{name} must be non-negative, got {name}={value}")
    return expr


def is_zero(expr: sp.Expr) -> bool:
    return expr.is_number and expr == 0


def check_nesterov(nesterov: bool, momentum: sp.Expr, dampening: sp.Expr) -> None:
    """torch.optim.SGD: "Nesterov momentum requires a momentum and zero dampening"."""
    if not flag(nesterov, "nesterov"):
        return
    if is_zero(momentum):
        raise InvalidHyperparameter(
            f"nesterov=True requires momentum > 0, got momentum={momentum}; "
            "set a momentum or drop nesterov"
        )
    if not is_zero(dampening):
        raise InvalidHyperparameter(
            f"nesterov=True requires dampening=0, got dampening={dampening}; "
            "torch.optim.SGD refuses this combination"
        )
