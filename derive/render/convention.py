r"""The velocity convention a formulation is shown in: the paper's or PyTorch's.

*Paper*: the velocity carries the learning rate and points downhill,
:math:`\theta_t = \theta_{t-1} + v_t`.  *PyTorch*: the buffer has no learning
rate and points uphill, :math:`\theta_t = \theta_{t-1} - \varepsilon_t b_t`.
The two are one change of variables apart, :math:`v_t = -\varepsilon_t b_t`.

:func:`convert` applies that change of variables to a formulation's *program*
(substitute, then solve each assignment for the new variable) and returns the
rows of the converted update; with a time-varying learning rate the converted
momentum reads :math:`\mu_t \varepsilon_t / \varepsilon_{t-1}`.  Nothing is
typed: the rows are the catalogue's program rewritten by SymPy.
"""

from __future__ import annotations

import sympy as sp

from derive.formulation import Formulation
from derive.render.derivation import Cases, Row
from derive.render.printer import SCHEDULES
from derive.symbols import b, g, grad_f, t, v

CONVENTIONS = ("paper", "pytorch")
vbar = sp.IndexedBase("vbar", real=True)  # the paper velocity, when the buffer is already called v


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
    terms = sorted({a for a in expr.atoms(sp.Indexed) if str(a.base.label) not in SCHEDULES},
                   key=sp.default_sort_key)
    grouped = sp.collect(expr, terms, evaluate=False)
    return sp.Add(*(sp.factor(c) * x for x, c in grouped.items()))


def convert(f: Formulation, convention: str):
    """The update rows of *f* in *convention*, or None when *f* is already in it (or has no velocity)."""
    found = placement(f)
    if found is None or found[0] == convention:
        return None
    _, u = found
    lr = sp.sympify(f.hyper["lr"])
    if convention == "paper":  # buffer -> velocity: u_t = -w_t / eps_t
        w = vbar if u == v else v
        old_of_new = lambda step: -w[step] / lr.subs(t, step)  # noqa: E731
        new_of_old = -lr * u[t]
    else:  # velocity -> buffer: u_t = -eps_t w_t
        w = b
        old_of_new = lambda step: -lr.subs(t, step) * w[step]  # noqa: E731
        new_of_old = -u[t] / lr
    swap = {u[t - 1]: old_of_new(t - 1), u[t]: old_of_new(t)}
    rows = [Row(w[t], new_of_old, "change of variables"),
            Row(g[t], grad_f(collected(f.grad_at.xreplace(swap))), "gradient point")]
    for assign in f.update:
        if assign.base == u:
            values = [(assign.first, "t = 1")] if assign.first is not None else []
            values.append((assign.value, r"t \geq 2" if values else ""))
            solved = [(collected(new_of_old.xreplace({u[t]: val}).xreplace(swap)), cond) for val, cond in values]
            rhs = solved[0][0] if len(solved) == 1 else Cases(tuple(solved))
            rows.append(Row(w[t], rhs, "state"))
        else:
            label = "state" if assign.base in f.state else "intermediate"
            rows.append(Row(assign.target, collected(assign.value.xreplace(swap)), label))
    return tuple(rows)
