"""The claims and the operation counts as appendix sections.

Each claim is judged when the appendix is built (:func:`derive.claims.judge`),
so the appendix can never say more than was proved: the verdict, its
condition, the one-line evidence and the engine's own derivation rows are
printed as returned.  The operation counts are :func:`derive.opcount.table`
and :func:`derive.opcount.traffic_table`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sympy as sp

from derive.render.derivation import Text, expression_rows
from derive.render.document import Paragraph, Section, Table, math, text


@lru_cache(maxsize=None)
def verdict(claim_id: str):
    """The claim's verdict, judged once per process (the renderers share it; a command's parallel run answers first)."""
    from derive.claims import verdict as judged

    return judged(claim_id)


def _value(value) -> tuple:
    if isinstance(value, sp.Basic):
        return (math(value),)
    if isinstance(value, (list, tuple)):
        parts: list = ["("]
        for n, item in enumerate(value):
            parts += ([", "] if n else []) + list(_value(item))
        return tuple(parts + [")"])
    if isinstance(value, float):
        return (repr(value),)
    return (str(value),)


_CONDITION = re.compile(r"^(?P<expr>[^=:;]+?) = 0(?P<rest> at every step)?$")


def condition_parts(condition: str | None) -> tuple:
    """A claim's condition, typeset when it is ``<expression> = 0 [at every step]`` in SymPy syntax."""
    if not condition:
        return ("",)
    match = _CONDITION.match(condition.strip())
    if match:
        from sympy.parsing.sympy_parser import parse_expr

        from derive import symbols

        names = {"epsilon": symbols.eps, "mu": symbols.mu, "tau": symbols.tau, "lam_": symbols.lam, "t": symbols.t}
        try:
            expr = parse_expr(re.sub(r"\blambda\b", "lam_", match["expr"]), local_dict=names)
        except Exception:  # not SymPy syntax: keep the engine's words
            return (condition,)
        if isinstance(expr, sp.Expr) and not expr.has(sp.Symbol("nan")):
            return (math(sp.Eq(expr, 0, evaluate=False)), match["rest"] or "")
    return (condition,)


def witness_paragraph(witness: dict) -> Paragraph:
    """``Witness: key = value; ...`` with keys sorted, SymPy values as math."""
    parts: list = ["Witness: "]
    for n, key in enumerate(sorted(witness, key=str)):
        parts += ([", "] if n else []) + [f"{key} = "] + list(_value(witness[key]))
    return Paragraph(tuple(parts + ["."]))


def evidence_table(rows) -> Table:
    """The engine's derivation rows, in its order: what each step is, and the expression."""
    cells = []
    for row in expression_rows(rows):
        if isinstance(row.rhs, Text):
            expr = (row.rhs.text,)
        elif row.lhs is not None:
            expr = (math(sp.Eq(row.lhs, row.rhs, evaluate=False)),)
        else:
            expr = (math(row.rhs),)
        cells.append(((row.label,), expr))
    return Table(("step", "expression"), tuple(cells), widths=(0.4, 0.5))


def claim_section(claim, v) -> Section:
    head = (v.verdict, " (", *condition_parts(v.condition), ")") if v.condition else (v.verdict,)
    blocks = [text("Source: ", claim.source, "."),
              text("Statement: ", claim.statement),
              text("Reading judged: ", claim.reading)]
    if claim.assumptions:
        blocks.append(text("Assumptions: ", claim.assumptions))
    blocks.append(text("Verdict: ", *head, ". Evidence: ", v.evidence))
    if v.torch_version:
        blocks.append(text(f"Judged against torch {v.torch_version}."))
    if v.rows:
        blocks.append(evidence_table(v.rows))
    if v.witness:
        blocks.append(witness_paragraph(v.witness))
    return Section(f"Claim {claim.id}", f"claim-{claim.id}", tuple(blocks))


def claims_table(pairs) -> Table:
    rows = tuple(((c.id,), (v.verdict,), condition_parts(v.condition), (v.evidence,)) for c, v in pairs)
    return Table(("claim", "verdict", "condition", "evidence"), rows,
                 "Every claim of the sources, judged by derive (python -m derive claims).", (0.08, 0.12, 0.24, 0.42))


def opcount_sections(formulation_names) -> list[Section]:
    from derive.opcount import CONVENTIONS, table, traffic_table

    counts = table(formulation_names)
    conventions = list(CONVENTIONS)
    by_name: dict[str, dict] = {}
    for row in counts:
        by_name.setdefault(row.formulation, {})[row.convention] = row
    rows = tuple(((name,),) + tuple((f"{r[c].total} ({r[c].mul} mul, {r[c].add} add"
                                     + (f", {r[c].neg} neg" if r[c].neg else "")
                                     + (f", {r[c].fma} fma" if r[c].fma else "") + ")",)
                                    for c in conventions)
                 for name, r in by_name.items())
    blocks = [text("Operations per element in one regular step, read from each update program, "
                   "under each counting convention:"),
              Table(("convention", "what counts"), tuple(((c,), (CONVENTIONS[c].describe(),)) for c in conventions),
                    widths=(0.18, 0.72)),
              Table(("formulation",) + tuple(conventions), rows, "Arithmetic operations per element and step.",
                    (0.24,) + (0.6 / len(conventions),) * len(conventions))]
    traffic = traffic_table()
    blocks += [text("Memory traffic of torch.optim.SGD per element and step (tensor elements read and written):"),
               Table(("configuration", "implementation", "step", "reads", "writes", "kernels"),
                     tuple(((r.config,), (r.impl,), (r.step,), (str(r.reads),), (str(r.writes),), (str(r.kernels),))
                           for r in traffic), "Memory traffic per element and step.")]
    return [Section("Operation counts", "opcount", tuple(blocks))]


def sections(claim_ids, formulation_names) -> list[Section]:
    """The claims section (table, then one subsection per claim) and the operation counts."""
    out = []
    if claim_ids is None:
        out.append(Section("Claims", "claims", (text(
            "The claims engine (derive.claims) is not available in this installation: no verdict is shown."),)))
    elif claim_ids:
        from derive.claims import claims

        pairs = [(c, verdict(c.id)) for c in claims(claim_ids)]
        out.append(Section("Claims", "claims", (claims_table(pairs),),
                           tuple(claim_section(c, v) for c, v in pairs)))
    if formulation_names:
        try:
            out += opcount_sections(formulation_names)
        except ImportError:
            out.append(Section("Operation counts", "opcount", (text(
                "The operation counter (derive.opcount) is not available in this installation."),)))
    return out
