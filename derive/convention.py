r"""A formulation in the other velocity convention, proved equivalent by :mod:`derive.equivalence`.

*Paper*: the velocity carries the learning rate and points downhill,
:math:`\theta_t = \theta_{t-1} + v_t`.  *PyTorch*: the buffer has no learning
rate and points uphill, :math:`\theta_t = \theta_{t-1} - \varepsilon_t b_t`.

:func:`in_convention` rewrites a formulation's program under the change of
variables :math:`v_t = -\varepsilon_t b_t` (substitute, then solve each
assignment for the new variable; with a time-varying learning rate the
momentum reads :math:`\mu_t \varepsilon_{t-1} / \varepsilon_t`), then asks the
equivalence solver for a change of variables :math:`x'_t = S_t x_t` that maps
the original trajectory onto the rewritten one for every objective; the solver
is not told the rewrite's map, it solves for :math:`S_t`.  The change of
variables a reader sees is the proof's :math:`S_t`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from derive.equivalence import Proof, equivalence
from derive.errors import DeriveError
from derive.formulation import Assign, Formulation
from derive.symbols import b, schedule_names, t, v

CONVENTIONS = ("paper", "pytorch")
vbar = sp.IndexedBase("vbar", real=True)  # the paper velocity, when the buffer is already called v


@dataclass(frozen=True)
class Converted:
    """*formulation* rewritten with velocity ``new`` for ``old``; ``proof.S[t]`` maps the original onto it."""

    original: Formulation
    formulation: Formulation
    old: sp.IndexedBase
    new: sp.IndexedBase
    proof: Proof

    def momentum(self) -> sp.Expr:
        """The effective momentum: the coefficient of ``new[t-1]`` in the new velocity's regular update.

        For PyTorch's placement seen as a paper velocity it is :math:`\\mu_t \\varepsilon_t / \\varepsilon_{t-1}`.
        """
        value = next(a.value for a in self.formulation.update if a.base == self.new)
        return sp.factor(sp.expand(value).coeff(self.new[t - 1]))

    def definition(self) -> sp.Expr:
        """``new_t`` in terms of the original state at ``t``: the new velocity's row of ``S_t``."""
        S = self.proof.S[t]
        row = list(self.formulation.state).index(self.new)
        return sp.expand((S.row(row) * sp.Matrix([s[t] for s in self.original.state]))[0])


def describe(convention: str) -> str:
    return {"paper": "lr inside the velocity, which points downhill",
            "pytorch": "no lr in the buffer, which points uphill"}[convention]


def placement(f: Formulation) -> tuple[str, sp.IndexedBase] | None:
    """``("paper" | "pytorch", velocity base)``, or None without one velocity and a schedule lr."""
    others = [s for s in f.state if s != f.params]
    lr = sp.sympify(f.hyper.get("lr", 0))
    if len(others) != 1 or not lr.has(t):
        return None
    (u,) = others
    value = next(a.value for a in f.update if a.base == u)
    # A velocity that contains the step's lr (directly or through an intermediate) is paper placement.
    expanded = value
    for a in f.update:
        expanded = expanded.subs(a.target, a.value)
    return ("paper" if expanded.has(lr) else "pytorch", u)


def collected(expr: sp.Expr) -> sp.Expr:
    """*expr* as a combination of the state and gradient terms, each coefficient factored."""
    expr = sp.expand(expr)
    schedules = schedule_names()
    terms = sorted({a for a in expr.atoms(sp.Indexed) if str(a.base.label) not in schedules},
                   key=sp.default_sort_key)
    grouped = sp.collect(expr, terms, evaluate=False)
    return sp.Add(*(sp.factor(c) * x for x, c in grouped.items()))


def in_convention(f: Formulation, convention: str) -> Converted | None:
    """*f* in *convention*, proved; None when *f* is already in it (or has no velocity and schedule lr)."""
    if convention not in CONVENTIONS:
        raise DeriveError(f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}")
    found = placement(f)
    if found is None or found[0] == convention:
        return None
    _, u = found
    lr = sp.sympify(f.hyper["lr"])
    if convention == "paper":  # buffer -> velocity: u_t = -w_t / eps_t
        w = vbar if u == v else v
        old_of_new = lambda step: -w[step] / lr.subs(t, step)  # noqa: E731
        scale = -lr
    else:  # velocity -> buffer: u_t = -eps_t w_t
        w = b
        old_of_new = lambda step: -lr.subs(t, step) * w[step]  # noqa: E731
        scale = -1 / lr
    swap = {u[t - 1]: old_of_new(t - 1), u[t]: old_of_new(t)}
    update = []
    for assign in f.update:
        if assign.base == u:
            def solved(value):
                return None if value is None else collected((scale * value).xreplace(swap))
            update.append(Assign(w[t], solved(assign.value), solved(assign.first)))
        else:
            first = None if assign.first is None else collected(assign.first.xreplace(swap))
            update.append(Assign(assign.target, collected(assign.value.xreplace(swap)), first))
    state = tuple(w if s == u else s for s in f.state)
    init = {(w if s == u else s): (sp.sympify(value) * scale.subs(t, 0) if s == u else value)
            for s, value in f.init.items()}
    g = replace(f, name=f"{f.name}_{convention}", state=state, grad_at=collected(f.grad_at.xreplace(swap)),
                update=tuple(update), init=init, note="")
    # The solver finds S_t on its own (nothing of the rewrite is passed to it): what a reader sees is proved.
    proof = equivalence(f, g)
    if not proof:
        raise DeriveError(f"{f.name}: the change of variables to the {convention} convention does not hold "
                          f"({proof.label}: residual {proof.residual})")
    return Converted(f, g, u, w, proof)
