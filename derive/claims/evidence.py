r"""Shared evidence for claim procedures: constant hyperparameters, conditions, summaries as mathematics.

Evidence is :class:`Prose`: a ``str`` (the plain Unicode text the terminal and JSON
show, :func:`plain`) that also carries its *parts*, words and SymPy objects, so that the
appendix typesets every expression from the object that was checked, never
from its printed form.  In a word part, ``$...$`` is LaTeX (for names of
conditions such as :math:`A'_t S_{t-1} = S_t A_t`, which are not expressions).
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from derive.claims import finding as _finding
from derive.conditions import template
from derive.equivalence import Location, Proof, Residual
from derive.plaintext import expression, latex_text
from derive.symbols import constant_of, t

# Constant hyperparameters (a schedule made constant): positive, so 1/epsilon is defined.
EPS = constant_of("lr")
MU = constant_of("momentum")
CONSTANT = {"lr": EPS, "momentum": MU}

# The label every proved obligation row carries (its value is the obligation, as an equation).
OBLIGATION = "obligation, reduces to 0"


def plain(part) -> str:
    """A part as terminal text (:mod:`derive.plaintext`): words with their ``$...$`` LaTeX read as
    Unicode text, a matrix as nested lists, an expression in SymPy syntax with Greek letters."""
    if isinstance(part, str):
        return latex_text(part)
    if isinstance(part, sp.MatrixBase):
        return expression(part.tolist())
    if isinstance(part, sp.Equality):
        return f"{plain(part.lhs)} = {plain(part.rhs)}"
    return expression(part)


class Prose(str):
    """Words and mathematics: ``str(p)`` is plain text, ``p.parts`` keeps the SymPy objects.

    >>> Prose("residual ", eps[1] - eps[2]).parts[1]
    epsilon[1] - epsilon[2]
    """

    def __new__(cls, *parts):
        flat: list = []
        for part in parts:
            if isinstance(part, Prose):
                flat += part.parts
            elif isinstance(part, str):
                flat.append(part)
            else:
                flat.append(part if isinstance(part, sp.Basic) else sp.sympify(part))
        obj = super().__new__(cls, " ".join("".join(plain(p) for p in flat).split()))
        obj.parts = tuple(flat)
        return obj

    def __reduce__(self):
        return (Prose, self.parts)


def joined(items, separator: str = "; ") -> Prose:
    parts: list = []
    for n, item in enumerate(items):
        parts += ([separator] if n else []) + [item]
    return Prose(*parts)


def finding(verdict: str, evidence, **options):
    """:func:`derive.claims.finding`, keeping *evidence* (and a condition) as :class:`Prose` when given so."""
    v = _finding(verdict, str(evidence), **options)
    return replace(v, evidence=evidence) if isinstance(evidence, Prose) else v


def condition_of(residual: Residual) -> Prose:
    """The residual's structured condition (:attr:`Residual.conditions`), at every step, said as necessary
    and sufficient or only necessary (with the alternative that satisfies it and still fails)."""
    relations = residual.conditions or (sp.Eq(sp.factor(template(residual.residual)), 0, evaluate=False),)
    parts: list = []
    for n, relation in enumerate(relations):
        parts += ([" and "] if n else []) + [relation]
    parts.append(" at every step")
    if residual.sufficient:
        return Prose(*parts, " (necessary and sufficient)")
    failing = [relation for relation, ok in residual.alternatives if ok is False]
    if failing:
        shown = [item for n, relation in enumerate(failing) for item in ([", "] if n else []) + [relation]]
        return Prose(*parts, " (necessary, not sufficient: ", *shown, " satisfies it and still leaves a residual)")
    return Prose(*parts, " (necessary; not shown sufficient)")


def where(label: str) -> Prose:
    """A solver label (:class:`derive.equivalence.Location`) as words and the condition typeset, read from
    what the label names; any other label as it is."""
    if not isinstance(label, Location):
        return Prose(label)
    r, c = label.entry
    return Prose(f"step {label.step}, entry ({r},{c}) of ${label.tex()}$")


def matrix_equation(name: str, value: sp.MatrixBase) -> sp.Basic:
    """``name = value`` for a matrix; the left side is a MatrixSymbol so the equation survives pickling
    (an ``Eq`` of an Indexed and a Matrix re-evaluates to ``False`` when unpickled)."""
    value = sp.ImmutableMatrix(value)
    return sp.Eq(sp.MatrixSymbol(name, *value.shape), value, evaluate=False)


def change_of_variables(result: Proof) -> sp.Basic:
    r""":math:`S_t = \ldots`, the template (or the latest concrete step) of a proof."""
    S = result.S.get(t, result.S[max(k for k in result.S if isinstance(k, int))])
    return matrix_equation("S_t", S)


def describe(result) -> Prose:
    """The change of variables found, or the residual that prevents it (and where)."""
    if isinstance(result, Proof):
        return Prose(change_of_variables(result))
    return Prose("residual ", result.residual, " (", where(result.label), ")")


# Template obligations of a proof (derive.equivalence.template_conditions), as equations.
_TEMPLATE = {
    "A'_t S_{t-1} - S_t A_t": r"A'_{t} S_{t-1} = S_{t} A_{t}",
    "S_t B_t - B'_t": r"S_{t} B_{t} = B'_{t}",
    "C'_t S_{t-1} - C_t": r"C'_{t} S_{t-1} = C_{t}",
    "c' S_t - c": r"c' S_{t} = c",
}


def proof_rows(rows) -> tuple:
    """The solver's rows as evidence: each proved obligation once, as its equation; the rest as they are.

    An obligation whose residual is not zero stays a row with its residual (it is the evidence).
    """
    out = []
    for label, value in rows:
        zero = isinstance(value, sp.MatrixBase) and value.is_zero_matrix or value == 0
        if label in _TEMPLATE and zero:
            out.append((OBLIGATION, Prose(f"${_TEMPLATE[label]}$ for every $t \\geq 2$")))
        elif label.startswith("base case t = 1") and zero:
            out.append((OBLIGATION, Prose("every condition at $t = 1$ (the base case)")))
        elif label == "S_t" and isinstance(value, sp.MatrixBase):
            out.append(("change of variables", matrix_equation("S_t", value)))
        elif label[:2] == "S_" and label[2:].isdigit() and isinstance(value, sp.MatrixBase):
            out.append(("at step " + label[2:], matrix_equation(label, value)))
        else:
            out.append((where(label), value))
    return tuple(out)


def by_schedule(schedule, constant, *, what: str):
    """Verdict of an equivalence judged under schedules and under constant hyperparameters."""
    rows = ((Prose("schedule: ", describe(schedule)), _rows_value(schedule)),
            (Prose("constant: ", describe(constant)), _rows_value(constant)))
    rows += proof_rows(tuple(schedule.rows[:4]) + tuple(constant.rows[-4:]))
    if schedule and constant:
        return finding("holds", Prose(f"{what} under any schedule: ", describe(schedule)), rows=rows)
    if constant:
        return finding("holds under a condition",
                       Prose(f"{what}: constant hyperparameters give ", describe(constant),
                             "; a schedule leaves ", describe(schedule)),
                       condition=condition_of(schedule), rows=rows, witness=schedule.witness)
    return finding("fails", Prose(f"{what}: no change of variables even with constants: ", describe(constant)),
                   rows=rows, witness=constant.witness)


def _rows_value(result):
    if isinstance(result, Proof):
        return change_of_variables(result)
    return result.residual


def options_prose(options: dict) -> Prose:
    """Optimizer options as words and exact numbers: ``momentum = 1/2, nesterov``; never a Python repr."""
    parts: list = []
    for n, (key, value) in enumerate(options.items()):
        parts.append((", " if n else "") + key.replace("_", " "))
        if isinstance(value, bool):
            parts.append("" if value else " off")
        else:
            parts += [" = ", sp.Rational(str(value))]
    return Prose(*parts) if parts else Prose("defaults")


class VerifyRun(Prose):
    """One run of ``verify`` (torch against derive's linear system): the row of a results table."""

    def __new__(cls, config, impl: str, dtype: str, steps: int, max_ulps: float, allowed: float, passed: bool):
        obj = super().__new__(cls, config, f": {impl}, {dtype}, {steps} steps, max {max_ulps:.3g} ULP of "
                                           f"{allowed:.3g} allowed, {'pass' if passed else 'FAIL'}")
        obj.run = (config, impl, dtype, steps, max_ulps, allowed, passed)
        return obj

    def __reduce__(self):
        return (VerifyRun, self.run)
