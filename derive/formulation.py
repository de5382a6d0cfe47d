r"""The formulation record: one declaration per optimizer form.

A formulation is a *program*: an ordered tuple of assignments that turns the
state at step :math:`t-1` into the state at step :math:`t`.  Each right-hand
side may read

* the previous state ``theta[t-1]``, ``v[t-1]`` (any base in ``state``),
* earlier targets of the same step (``ghat[t]``, ``d[t]``),
* the step's hyperparameters ``epsilon[t]``, ``mu[t]`` (``mu[t+1]`` too, for a
  form that stores a look-ahead point), constants ``tau``, ``lambda``,
* the raw gradient ``g[t]``, evaluated at ``grad_at`` (an expression in the
  previous state).

An assignment may carry a different value for the first step (PyTorch starts its
buffer at the first gradient).  Nothing downstream types the algebra again: the
linear-system view (:mod:`derive.system`), the closed forms
(:mod:`derive.unroll`), the renderings and verify's numeric reference are all
computed from this record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

import sympy as sp

from derive.symbols import g, t

HYPER_DTYPES = ("float16", "bfloat16", "float32", "float64")  # what Formulation.hyper_dtype may name


@dataclass(frozen=True)
class Assign:
    """``target = value`` at step ``t``; ``first`` replaces ``value`` at ``t = 1``."""

    target: sp.Indexed
    value: sp.Expr
    first: sp.Expr | None = None

    @property
    def base(self) -> sp.IndexedBase:
        return self.target.base

    def value_at(self, step) -> sp.Expr:
        """The right-hand side written for *step* (an integer or a symbol)."""
        rhs = self.first if (self.first is not None and step == 1) else self.value
        return rhs.subs(t, step)


@dataclass(frozen=True, eq=False)
class Formulation:
    """One optimizer form, declared once.

    ``state`` lists the variables carried from step to step, ``params`` is the
    one the user reads as "the parameters", ``grad_at`` is the point (in terms of
    the state at ``t-1``) where ``g[t]`` is evaluated, ``init`` fixes initial
    values (``v[0] = 0``), ``hyper`` maps each role (``lr``, ``momentum``,
    ``dampening``, ``weight_decay``) to its symbol or exact value, and
    ``options`` records the framework flags the entry was built with.

    ``hyper_dtype`` records where the framework holds hyperparameters in a
    narrower float than the parameters (MXNet's kernels read ``float lr,
    momentum, wd``; Paddle's ``float mu, regularization_coeff``): a dtype name
    for every role, or a mapping from role to dtype name for some.  ``None``
    (the default) means the update uses the exact value given (a Python float
    in the parameters' dtype).  The mathematics is unchanged; verify's reference
    rounds the recorded values to this dtype before comparing
    (:meth:`dtype_of`).
    """

    name: str
    title: str
    citation: str
    state: tuple[sp.IndexedBase, ...]
    params: sp.IndexedBase
    grad_at: sp.Expr
    update: tuple[Assign, ...]
    init: Mapping[sp.IndexedBase, sp.Expr] = field(default_factory=dict)
    hyper: Mapping[str, sp.Expr] = field(default_factory=dict)
    options: Mapping[str, object] = field(default_factory=dict)
    note: str = ""
    hyper_dtype: str | Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        targets = [a.base for a in self.update]
        missing = [s for s in self.state if s not in targets]
        if missing:
            raise ValueError(f"{self.name}: state {missing} is never assigned by the update")
        if self.params not in self.state:
            raise ValueError(f"{self.name}: params {self.params} is not a state variable")
        dtypes = ({"": self.hyper_dtype} if isinstance(self.hyper_dtype, str)
                  else dict(self.hyper_dtype or {}))
        unknown = {d for d in dtypes.values() if d not in HYPER_DTYPES}
        if unknown:
            raise ValueError(f"{self.name}: hyper_dtype {sorted(unknown)} is not one of {', '.join(HYPER_DTYPES)}")

    def dtype_of(self, role: str) -> str | None:
        """The dtype the framework holds hyperparameter *role* in; None: exact (the given value)."""
        if self.hyper_dtype is None or isinstance(self.hyper_dtype, str):
            return self.hyper_dtype
        return self.hyper_dtype.get(role)

    @property
    def has_first_step(self) -> bool:
        """Whether step 1 differs from the regular step (a first-step special case)."""
        return any(a.first is not None for a in self.update)

    def roles(self) -> dict[sp.Basic, str]:
        """Each schedule base (``epsilon``) and constant symbol (``tau``) mapped to its role."""
        roles: dict[sp.Basic, str] = {}
        for role, expr in self.hyper.items():
            expr = sp.sympify(expr)
            labels = {atom.base.label for atom in expr.atoms(sp.Indexed)}
            for atom in expr.atoms(sp.Indexed):
                roles[atom.base] = role
            for sym in expr.free_symbols:
                if isinstance(sym, sp.Symbol) and sym != t and not sym.is_integer and sym not in labels:
                    roles.setdefault(sym, role)
        return roles

    def previous(self, step=t) -> tuple[sp.Indexed, ...]:
        """The state variables at ``step - 1``: the symbols a step reads."""
        return tuple(s[step - 1] for s in self.state)

    def step(self, state: Mapping[sp.IndexedBase, sp.Expr], gradient: sp.Expr, step=t) -> dict:
        """Run the program once: the state after *step*, given the state before it.

        Returns every assigned quantity (state and intermediates) by base.  This is
        the direct, step-by-step iteration that the closed forms are checked
        against.
        """
        known = {s[step - 1]: state[s] for s in self.state}
        known[g[step]] = gradient
        out = {}
        for assign in self.update:
            value = assign.value_at(step).xreplace(known)
            known[assign.base[step]] = value
            out[assign.base] = value
        return out

    def gradient_point(self, state: Mapping[sp.IndexedBase, sp.Expr], step=t) -> sp.Expr:
        """Where ``g[step]`` is evaluated, given the state before *step*."""
        known = {s[step - 1]: state[s] for s in self.state}
        return self.grad_at.subs(t, step).xreplace(known)

    def initial_state(self, *, symbolic: bool = False) -> dict:
        """``x_0``: the declared initial values, the rest as symbols ``theta[0]``, ...

        With ``symbolic=True`` every variable stays a symbol (to study ``v_0 != 0``).
        """
        return {
            s: (s[0] if symbolic or s not in self.init else sp.sympify(self.init[s]))
            for s in self.state
        }


def looking_ahead(f: Formulation, *, name: str, title: str, citation: str) -> Formulation:
    r"""*f*'s program with the gradient taken at the look-ahead point (Nesterov's idea).

    The look-ahead point is where the momentum step alone would move the
    parameters: :math:`\theta_t` with :math:`g_t = 0`.  For paper placement that
    is :math:`\theta_{t-1} + \mu_t v_{t-1}`, for PyTorch's documented form
    :math:`\theta_{t-1} - \varepsilon_t \mu_t v_{t-1}`; neither is typed here.
    """
    state = {s: s[t - 1] for s in f.state}
    ahead = f.step(state, 0, t)[f.params]
    return replace(f, name=name, title=title, citation=citation, grad_at=ahead)
