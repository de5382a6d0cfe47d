"""Shared evidence for claim procedures: constant hyperparameters, conditions, one-line summaries."""

from __future__ import annotations

import sympy as sp

from derive.claims import finding
from derive.equivalence import Proof, Residual
from derive.symbols import t

# Constant hyperparameters (a schedule made constant): positive, so 1/epsilon is defined.
EPS = sp.Symbol("epsilon", positive=True)
MU = sp.Symbol("mu", positive=True)
CONSTANT = {"lr": EPS, "momentum": MU}


def template(expr: sp.Expr) -> sp.Expr:
    """A residual at concrete steps rewritten at the latest step ``t`` (``eps[2] -> eps[t]``)."""
    expr = sp.sympify(expr)
    indices = [a.indices[0] for a in expr.atoms(sp.Indexed) if a.indices[0].is_Integer]
    if not indices:
        return expr
    top = max(indices)
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.indices[0].is_Integer,
                        lambda e: e.base[t + e.indices[0] - top])


def condition_of(residual: Residual) -> str:
    """The condition under which the residual vanishes, as a template in ``t``."""
    return f"{sp.sstr(sp.factor(template(residual.residual)))} = 0 at every step"


def describe(result) -> str:
    """One line: the change of variables found, or the residual that prevents it."""
    if isinstance(result, Proof):
        S = result.S.get(t, result.S[max(k for k in result.S if isinstance(k, int))])
        return f"S_t = {sp.sstr(S.tolist())}"
    return f"residual {sp.sstr(result.residual)} ({result.label})"


def by_schedule(schedule, constant, *, what: str):
    """Verdict of an equivalence judged under schedules and under constant hyperparameters."""
    rows = (("schedule: " + describe(schedule), _rows_value(schedule)),
            ("constant: " + describe(constant), _rows_value(constant)))
    rows += tuple(schedule.rows[:4]) + tuple(constant.rows[-4:])
    if schedule and constant:
        return finding("holds", f"{what} under any schedule: {describe(schedule)}", rows=rows)
    if constant:
        return finding("holds under a condition",
                       f"{what}: constant hyperparameters give {describe(constant)}; "
                       f"a schedule leaves {describe(schedule)}",
                       condition=condition_of(schedule), rows=rows, witness=schedule.witness)
    return finding("fails", f"{what}: no change of variables even with constants: {describe(constant)}",
                   rows=rows, witness=constant.witness)


def _rows_value(result):
    if isinstance(result, Proof):
        return result.S.get(t, next(iter(result.S.values())))
    return result.residual
