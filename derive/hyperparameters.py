"""Hyperparameter values at the boundary: schedules, constants, exact numbers.

A hyperparameter is given as ``None`` (leave it symbolic: a schedule such as
``epsilon[t]`` or a constant symbol such as ``tau``), a SymPy expression, or a
Python number.  Numbers become exact rationals (``0.9 -> 9/10``): derive never
puts a float in an expression.  Validation mirrors what ``torch.optim.SGD``
refuses, with a message that names the bad value.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Number

import sympy as sp

from derive.errors import InvalidHyperparameter


def exact(value, name: str) -> sp.Expr:
    """*value* as an exact SymPy number (floats via their shortest repr)."""
    if isinstance(value, bool):
        raise InvalidHyperparameter(f"{name} must be a number, got {name}={value!r}")
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, (int, Fraction)):
        return sp.Rational(value)
    if isinstance(value, Number):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidHyperparameter(f"{name} must be finite, got {name}={value!r}")
        return sp.Rational(repr(float(value)))
    if isinstance(value, str):
        try:
            return sp.Rational(value)
        except (TypeError, ValueError):
            pass
    raise InvalidHyperparameter(f"{name} must be a number or a SymPy expression, got {name}={value!r}")


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
    if not nesterov:
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
