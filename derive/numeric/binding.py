r"""Hyperparameter values bound to the symbols a step reads, by role and step offset.

A step template reads schedule entries ``base[t + o]`` and constant symbols; each
is an :class:`Argument`.  At step ``k`` the entry ``base[t + o]`` reads the
value for step ``k + o``: ``mu[t+1]`` (the next step's momentum, in a form that
stores the look-ahead point) at offset +1, ``epsilon[t-1]`` at -1.

A value is found in a mapping under, in this order: the concrete entry
(``epsilon[3]``), the schedule base or constant symbol (``epsilon``, ``tau``),
its name (``"epsilon"``), the role (``"lr"``).  A scalar is a constant; a
sequence gives ``values[0]`` to step 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np
import sympy as sp

from derive.errors import DeriveError
from derive.symbols import t


@dataclass(frozen=True)
class Argument:
    """One hyperparameter a template reads: ``symbol`` (``mu[t + 1]`` or ``tau``) at ``step + offset``."""

    symbol: sp.Basic
    key: sp.Basic  # the schedule base or the constant symbol
    role: str | None
    offset: int

    @property
    def name(self) -> str:
        """How a message names it: the role, else the symbol."""
        return self.role or str(self.key)


def argument(symbol: sp.Basic, roles: Mapping) -> Argument:
    """*symbol* as an :class:`Argument`, its role from *roles* (``Formulation.roles()``)."""
    if isinstance(symbol, sp.Indexed):
        offset = sp.expand(symbol.indices[0] - t)
        if len(symbol.indices) != 1 or not offset.is_Integer:
            raise DeriveError(f"{symbol}: a hyperparameter entry must be read at t plus a whole number of steps")
        return Argument(symbol, symbol.base, roles.get(symbol.base), int(offset))
    return Argument(symbol, symbol, roles.get(symbol), 0)


def is_sequence(value) -> bool:
    """A per-step sequence (a list, tuple or array), as opposed to one constant."""
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str)


def lookup(values: Mapping, arg: Argument, step: int):
    """The value *arg* reads at *step*, from *values* (see the module docstring); refused with a reason."""
    n = step + arg.offset
    if arg.symbol == t:  # the step index itself (a template such as 1/t)
        return step
    if isinstance(arg.symbol, sp.Indexed):
        entry = arg.key[n]
        if entry in values:
            return values[entry]
    for key in (arg.key, str(arg.key), arg.role):
        if key is not None and key in values:
            value = values[key]
            break
    else:
        if any(isinstance(k, sp.Indexed) and k.base == arg.key for k in values):
            raise DeriveError(f"no value for {arg.name} at step {n} ({arg.key[n]}); step {step} reads it")
        raise DeriveError(f"no value for {arg.name} ({arg.key}); pass it as {arg.name!r}")
    if not is_sequence(value):
        return value
    if n < 1:
        raise DeriveError(f"{arg.name} has no value for step {n}; step {step} reads {arg.symbol}")
    if n > len(value):
        raise DeriveError(f"{arg.name} has {len(value)} values but step {step} needs its value at step {n}")
    return value[n - 1]


def exact_number(value):
    """*value* as an exact number: a Fraction when rational (a float by its binary value), else SymPy."""
    if isinstance(value, bool):
        raise DeriveError(f"a hyperparameter or input must be a number, got {value!r}")
    if isinstance(value, (Fraction, int)):
        return Fraction(value)
    if isinstance(value, np.integer):
        return Fraction(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise DeriveError(f"an exact run needs finite numbers, got {value!r}")
        return Fraction(float(value))
    expr = sp.sympify(value)
    return Fraction(int(expr.p), int(expr.q)) if expr.is_Rational else expr


def as_sympy(value) -> sp.Expr:
    """An exact number of the engine (Fraction or SymPy) as SymPy."""
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    return sp.sympify(value)
