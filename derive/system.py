r"""The linear-system view of a formulation, computed from its program.

For a given gradient sequence every catalogue form is an affine linear
time-varying system

.. math::
    x_t = A_t x_{t-1} + B_t g_t, \qquad y_{t-1} = C_t x_{t-1}, \qquad \theta_t = c\, x_t,

with ``x`` the state, ``y`` the point where :math:`g_t` is evaluated and ``c``
selecting the parameters the user reads.  :math:`A_t, B_t, C_t` are read off the
program by differentiation (the program must be affine in the state and the
gradient; anything else is refused with the offending residual).  ``A`` and
``B`` are templates in the step symbol ``t``; the first step has its own
matrices when the program has a first-step special case.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from derive.errors import DeriveError
from derive.formulation import Formulation
from derive.symbols import t


@dataclass(frozen=True)
class LinearSystem:
    """``A``, ``B``, ``C`` for the regular step (template in ``t``) and for step 1."""

    formulation: Formulation
    A: sp.Matrix
    B: sp.Matrix
    C: sp.Matrix
    c: sp.Matrix
    A1: sp.Matrix
    B1: sp.Matrix

    @property
    def size(self) -> int:
        return len(self.formulation.state)

    def at(self, step) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
        """``(A_step, B_step, C_step)`` for an integer or symbolic step."""
        C = self.C.subs(t, step)
        if step == 1:
            return self.A1, self.B1, C
        return self.A.subs(t, step), self.B.subs(t, step), C

    @property
    def first_step_differs(self) -> bool:
        return self.formulation.has_first_step and (
            self.A1 != self.A.subs(t, 1) or self.B1 != self.B.subs(t, 1)
        )

    def symbols(self) -> set[sp.Basic]:
        """The hyperparameters the matrices depend on: indexed bases and constant symbols."""
        bases: set[sp.Basic] = set()
        free: set[sp.Basic] = set()
        for M in (self.A, self.B, self.C, self.A1, self.B1):
            bases |= {atom.base for atom in M.atoms(sp.Indexed)}
            free |= M.free_symbols
        labels = {base.label for base in bases}
        return bases | {s for s in free if isinstance(s, sp.Symbol) and s not in labels and s != t}


def _affine(exprs, variables, name: str, what: str) -> sp.Matrix:
    """Jacobian of *exprs* in *variables*, refusing a non-affine or offset part."""
    J = sp.Matrix([[sp.diff(e, x) for x in variables] for e in exprs])
    residual = sp.Matrix(exprs) - J * sp.Matrix(variables)
    residual = residual.applyfunc(lambda e: sp.cancel(sp.expand(e)))  # rational hyperparameters (lr/(1-mu))
    if any(r != 0 for r in residual) or any(x in J.free_symbols for x in variables):
        raise DeriveError(f"{name}: {what} is not linear in the state and gradient (residual {list(residual)})")
    return J


def _step_matrices(f: Formulation, step) -> tuple[sp.Matrix, sp.Matrix]:
    xs = [sp.Dummy(f"x{n}") for n in range(len(f.state))]
    gd = sp.Dummy("g")
    new = f.step(dict(zip(f.state, xs)), gd, step)
    exprs = [new[s] for s in f.state]
    J = _affine(exprs, xs + [gd], f.name, f"the update at step {step}")
    return J[:, : len(xs)], J[:, len(xs):]


@lru_cache(maxsize=None)
def linear_system(f: Formulation) -> LinearSystem:
    """The linear-system view of *f* (cached: formulations are immutable)."""
    A, B = _step_matrices(f, t)
    A1, B1 = _step_matrices(f, 1) if f.has_first_step else (A.subs(t, 1), B.subs(t, 1))
    xs = [sp.Dummy(f"x{n}") for n in range(len(f.state))]
    point = f.gradient_point(dict(zip(f.state, xs)), t)
    C = _affine([point], xs, f.name, "the gradient point")
    c = sp.Matrix([[1 if s == f.params else 0 for s in f.state]])
    return LinearSystem(f, A, B, C, c, A1, B1)
