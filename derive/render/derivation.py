r"""Derivations as explicit rows, built from derive's objects.

A derivation is a list of :class:`Row` records ``(lhs, relation, rhs, label)``,
typeset one per line in an ``align`` environment.  The rows are *computed*:

* :func:`update_rows` reads a formulation's program (its :class:`~derive.formulation.Assign`
  tuple), with the first-step value as a case;
* :func:`system_rows` reads the linear-system matrices :math:`A_t, B_t, C_t`;
* :func:`closed_form_rows` reads a concrete closed form, one input per line;
* :func:`expression_rows` turns a claims-engine row list ``[(label, expr)]``
  into rows (an ``Eq`` splits into both sides, a string stays text).

Nothing here knows an update formula: change the catalogue and every row follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union

import sympy as sp

from derive.formulation import Formulation
from derive.render.printer import latest_step
from derive.symbols import g, grad_f, t
from derive.system import linear_system
from derive.unroll import ClosedForm


# The linear-system view's names: x_t = A_t x_{t-1} + B_t g_t, gradient at C_t x_{t-1}.
x, A, B, C = (sp.IndexedBase(name) for name in "xABC")


@dataclass(frozen=True)
class Cases:
    """A value by case: ``((value, condition_tex), ...)``, e.g. the first step."""

    branches: tuple[tuple[sp.Expr, str], ...]


@dataclass(frozen=True)
class Combination:
    r"""An ordered linear combination :math:`\sum_i c_i x_i`: one term per line when long."""

    terms: tuple[tuple[sp.Expr, sp.Expr], ...]  # (coefficient, input)

    def expr(self) -> sp.Expr:
        return sp.Add(*(c * x for c, x in self.terms))


@dataclass(frozen=True)
class Text:
    """A right-hand side that is prose (a claim's evidence given in words)."""

    text: str


Rhs = Union[sp.Basic, Cases, Combination, Text]


@dataclass(frozen=True)
class Row:
    """One line of a derivation: ``lhs relation rhs`` with a label in the margin.

    ``lhs=None`` continues the previous line (``&= ...``).
    """

    lhs: sp.Basic | None
    rhs: Rhs
    label: str = ""
    relation: str = "="


def update_rows(f: Formulation) -> tuple[Row, ...]:
    """The formulation's program, one assignment per row, plus where ``g_t`` is taken.

    An assignment with a different first step is a case: its value at
    :math:`t = 1`, then the regular value for :math:`t \\ge 2`.
    """
    rows = [Row(g[t], grad_f(f.grad_at), "gradient point")]
    for assign in f.update:
        if assign.first is not None:
            rhs = Cases(((assign.first, "t = 1"), (assign.value, r"t \geq 2")))
            rows.append(Row(assign.target, rhs, "first step differs"))
        else:
            label = "state" if assign.base in f.state else "intermediate"
            rows.append(Row(assign.target, assign.value, label))
    for base in f.state:
        if base in f.init:
            label = "never read (buffer set at step 1)" if f.has_first_step and base != f.params else "initial value"
            rows.append(Row(base[0], sp.sympify(f.init[base]), label))
    return tuple(rows)


def system_rows(f: Formulation) -> tuple[Row, ...]:
    r"""The linear-system view :math:`x_t = A_t x_{t-1} + B_t g_t`, :math:`y_{t-1} = C_t x_{t-1}`."""
    system = linear_system(f)
    rows = [Row(x[t], sp.Matrix([s[t] for s in f.state]), "state")]
    rows.append(Row(A[t], system.A, "transition"))
    rows.append(Row(B[t], system.B, "gradient input"))
    rows.append(Row(C[t], system.C, "gradient point"))
    if system.first_step_differs:
        rows.append(Row(A[1], system.A1, "first step"))
        rows.append(Row(B[1], system.B1, "first step"))
    return tuple(rows)


def input_order(x: sp.Expr):
    """Initial values first, then the gradients by step: theta_0, v_0, g_1, g_2, ..."""
    return (latest_step(x), sp.default_sort_key(x))


def readable(coefficient: sp.Expr) -> sp.Expr:
    r"""A coefficient in its shortest printed form among: factored, and collected by one symbol or
    schedule entry with each part factored (``collect(expand(c), x, func=factor)``).

    Ties go to the factored form, then to SymPy's sort key, so the choice is deterministic; e.g.
    :math:`1 - \lambda(\varepsilon_1 + \varepsilon_2) + \lambda^2 \varepsilon_1\varepsilon_2` reads
    :math:`(1 - \lambda\varepsilon_1)(1 - \lambda\varepsilon_2)`, and a long polynomial in
    :math:`\lambda` reads by powers of :math:`\lambda`.
    """
    from derive.render.printer import house_latex

    coefficient = sp.sympify(coefficient)
    if coefficient.is_number:
        return coefficient
    expanded = sp.expand(coefficient)
    labels = {a.base.label for a in expanded.atoms(sp.Indexed)}
    atoms = sorted(expanded.atoms(sp.Indexed) | {s for s in expanded.atoms(sp.Symbol) if s not in labels},
                   key=sp.default_sort_key)
    candidates = [sp.factor(coefficient)] + [sp.collect(expanded, a, func=sp.factor) for a in atoms]
    return min(enumerate(candidates), key=lambda nc: (len(house_latex(nc[1])), nc[0]))[1]


def combination(coefficients, *, simplify=readable) -> Combination:
    """A :class:`Combination` of ``{input: coefficient}``, inputs in reading order."""
    terms = [(simplify(c), x) for x, c in coefficients.items()]
    return Combination(tuple((c, x) for c, x in sorted(terms, key=lambda cx: input_order(cx[1])) if c != 0))


def closed_form_rows(cf: ClosedForm, *, state: bool = False) -> tuple[Row, ...]:
    """The parameters (and, with *state*, every state variable) at step ``cf.steps``."""
    f = cf.formulation
    bases = [f.params] + ([s for s in f.state if s != f.params] if state else [])
    rows = []
    for base in bases:
        coefficients = {x: cf.inline(c) for x, c in cf.coefficients[base].items()}
        label = "parameters" if base == f.params else "state"
        rows.append(Row(base[cf.steps], combination(coefficients), label))
    return tuple(rows)


def expression_rows(rows: Iterable[tuple[str, object]]) -> tuple[Row, ...]:
    """Rows from the claims engine's ``[(label, expr)]``: an ``Eq`` keeps both sides."""
    out = []
    for label, expr in rows:
        if isinstance(expr, str):
            out.append(Row(None, Text(expr), label))
        elif isinstance(expr, sp.Equality):
            out.append(Row(expr.lhs, expr.rhs, label))
        elif isinstance(expr, tuple) and len(expr) == 2:
            out.append(Row(expr[0], expr[1], label))
        else:
            out.append(Row(None, sp.sympify(expr), label))
    return tuple(out)
