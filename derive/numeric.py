"""Numbers for the symbols: bind hyperparameter values and instantiate the step factors.

A value is given per role (``"lr"``, ``"momentum"``, ``"dampening"``,
``"weight_decay"``) or per symbol, as a scalar (a constant) or a sequence
(``values[0]`` is step 1's).  The per-step matrices of
:class:`~derive.system.LinearSystem` are templates in ``t``; they are compiled
once with :func:`sympy.lambdify` and evaluated step by step, so a numeric
evaluation never rebuilds an expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from derive.errors import DeriveError
from derive.system import LinearSystem
from derive.symbols import t


@dataclass(frozen=True)
class StepFactors:
    """Compiled ``A_t``, ``B_t``, ``C_t`` templates and the arguments they read."""

    system: LinearSystem
    args: tuple[sp.Basic, ...]  # Indexed at offsets of t, then constant symbols
    A: Callable
    B: Callable
    C: Callable
    A1: Callable
    B1: Callable
    lifted: tuple  # A1, B1 written in the template's arguments (step 1's values)
    roles: Mapping  # symbol or indexed base -> role, computed once


    def arguments(self, values: Mapping, step: int) -> list:
        roles = self.roles
        out = []
        for a in self.args:
            key = a.base if isinstance(a, sp.Indexed) else a
            role = roles.get(key)
            if key in values:
                val = values[key]
            elif role in values:
                val = values[role]
            else:
                raise DeriveError(f"no value for {role or key} ({key}); pass it as {role!r}")
            if isinstance(val, (Sequence, np.ndarray)) and not isinstance(val, str):
                n = int((a.indices[0] - t).subs(t, 0)) + step if isinstance(a, sp.Indexed) else step
                if n > len(val):
                    raise DeriveError(
                        f"{role or key} has {len(val)} values but step {step} needs its value at step {n}"
                    )
                val = val[n - 1]
            out.append(val)
        return out

    def at(self, values: Mapping, step: int, *, exact: bool = False):
        """Numeric ``(A, B, C)`` for *step*: float64 arrays, or exact SymPy matrices."""
        args = self.arguments(values, step)
        if exact:
            sub = {a: sp.Rational(v) if not isinstance(v, sp.Basic) else v for a, v in zip(self.args, args)}
            A, B = self.exact_templates(step)
            return A.xreplace(sub), B.xreplace(sub), self.system.C.xreplace(sub)
        first = step == 1
        return (
            np.asarray((self.A1 if first else self.A)(*args), dtype=np.float64),
            np.asarray((self.B1 if first else self.B)(*args), dtype=np.float64),
            np.asarray(self.C(*args), dtype=np.float64),
        )

    def exact_templates(self, step: int):
        return (self.lifted[0], self.lifted[1]) if step == 1 else (self.system.A, self.system.B)


def step_factors(system: LinearSystem) -> StepFactors:
    """Compile the system's templates into functions of the step's hyperparameters."""
    mats = (system.A, system.B, system.C)
    indexed = sorted({a for M in mats for a in M.atoms(sp.Indexed)}, key=sp.default_sort_key)
    # A1/B1 are written at t = 1; express them back in the template's arguments.
    lifted = []
    for M in (system.A1, system.B1):
        lifted.append(M.xreplace({a.subs(t, 1): a for a in indexed}))
    consts = sorted(
        {s for s in system.symbols() if isinstance(s, sp.Symbol)}, key=sp.default_sort_key
    )
    args = tuple(indexed) + tuple(consts)
    dummies = [sp.Dummy(f"a{n}") for n in range(len(args))]
    sub = dict(zip(args, dummies))

    def compile_(M):
        return sp.lambdify(dummies, M.xreplace(sub), modules="numpy")

    return StepFactors(system, args, compile_(system.A), compile_(system.B), compile_(system.C),
                       compile_(lifted[0]), compile_(lifted[1]), tuple(lifted),
                       system.formulation.roles())
