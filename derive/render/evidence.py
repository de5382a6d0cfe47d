r"""A claim's evidence as blocks: rows as words and mathematics, obligations, witnesses, verify runs.

The claims engine returns :class:`~derive.claims.evidence.Prose` (words with the
SymPy objects that were checked) and rows ``(label, value)``.  Here they become
paragraphs, displays and tables; nothing is parsed back from printed text:

* a row whose value is mathematics is a paragraph (the label) and, when the
  value is long, a display (:mod:`derive.render.layout` breaks it at ``+``);
* the obligations the solver proved are said once, as their equations;
* ``verify`` runs are a table (configuration, implementation, dtype, steps,
  max ULP of allowed, verdict);
* a witness is a small table of the two runs' values at the first step where
  they differ, after the exact objective and hyperparameters it ran on.
"""

from __future__ import annotations

import sympy as sp

from derive.render.derivation import Row
from derive.render.document import Display, Math, Paragraph, Table, math, prose
from derive.render.layout import width

INLINE = 28  # visible width up to which a value stays inline in its paragraph
OBLIGATION = "obligation, reduces to 0"  # derive.claims.evidence.OBLIGATION (kept free of the claims import)


def parts(value) -> tuple:
    """Words and mathematics of a value: Prose keeps its parts; SymPy objects become math."""
    items = getattr(value, "parts", None)
    if items is None:
        items = (value,)
    out: list = []
    for item in items:
        if isinstance(item, str):
            out += prose(item)
        elif isinstance(item, sp.Basic):
            out.append(math(item))
        elif isinstance(item, (bool, int)):
            out.append(str(item))
        else:
            out.append(math(sp.sympify(item)))
    return tuple(out)


def _is_math(value) -> bool:
    return isinstance(value, sp.Basic) and not isinstance(value, str)


def _value_blocks(label, value) -> list:
    head = list(parts(label))
    if not _is_math(value):
        return [Paragraph(tuple(head + [": "] + list(parts(value)) + ["."]))]
    tex = math(value).tex
    if width(tex) <= INLINE:
        return [Paragraph(tuple(head + [": ", Math(tex), "."]))]
    if isinstance(value, sp.Equality):
        row = Row(value.lhs, value.rhs)
    else:
        row = Row(None, value, relation="")  # a value on its own: no "=" in front
    return [Paragraph(tuple(head + [":"])), Display((row,))]


def verify_table(runs) -> Table:
    """``verify`` runs: configuration, implementation, dtype, steps, max ULP of allowed, verdict."""
    rows = tuple((parts(config), (impl,), (dtype,), (str(steps),), (f"{ulps:.3g} of {allowed:.3g}",),
                  ("pass" if passed else "FAIL",))
                 for config, impl, dtype, steps, ulps, allowed, passed in runs)
    return Table(("configuration", "impl.", "dtype", "steps", "max ULP of allowed", "verdict"), rows,
                 widths=(0.28, 0.15, 0.17, 0.11, 0.17, 0.12))


def row_blocks(rows) -> list:
    """The engine's rows in its order; proved obligations said once; verify runs as one table."""
    blocks: list = []
    obligations = [value for label, value in rows if label == OBLIGATION]
    runs = [value.run for label, value in rows if hasattr(value, "run")]
    for label, value in rows:
        if label == OBLIGATION or hasattr(value, "run"):
            continue
        blocks += _value_blocks(label, value)
    if obligations:
        listed: list = ["Every obligation of the proof reduces to 0 by exact simplification: "]
        for n, value in enumerate(obligations):
            listed += ([", " if n < len(obligations) - 1 else " and "] if n else []) + list(parts(value))
        blocks.append(Paragraph(tuple(listed + ["."])))
    if runs:
        blocks += [Paragraph(("The same configurations through verify (seeded inputs, lr and momentum "
                              "schedules), against the argued tolerance:",)), verify_table(runs)]
    return blocks


def witness_blocks(witness) -> list:
    """A witness (:class:`~derive.witness.Witness`): where it ran, then a table of both runs at the first
    differing step.  Every value is the exact object the runs computed; nothing is parsed back from text.
    Another record (a torch run's first mismatch, a dict) is a table of its quantities."""
    if isinstance(witness, dict):
        return _record_blocks(witness)
    theta = sp.Symbol("theta")
    objective = sp.Eq(sp.Function("f")(theta), witness.objective.xreplace(
        {s: theta for s in witness.objective.free_symbols if s.name == "theta"}), evaluate=False)
    values = [sp.Eq(symbol, value, evaluate=False) for symbol, value in witness.hyperparameters.items()]
    intro: list = [f"Witness: the source {witness.source} and the target {witness.target} run in exact "
                   "rationals on ", math(objective), " from ",
                   math(sp.Eq(sp.IndexedBase("theta")[0], witness.theta0, evaluate=False))]
    for n, eq in enumerate(values):
        intro += [" with " if n == 0 else ", ", math(eq)]
    intro.append(f"; the target's parameters first differ from those the claim predicts from the source's run "
                 f"at step {witness.step}:")
    table = Table(("step", "predicted from the source", "the target's value", "difference"),
                  (((str(witness.step),), (math(witness.claimed),), (math(witness.value),),
                    (math(witness.difference),)),),
                  widths=(0.12, 0.34, 0.3, 0.24))
    return [Paragraph(tuple(intro)), table]


def _number(text: str):
    try:
        return sp.Rational(text)
    except (TypeError, ValueError):
        return None


def _record_blocks(record: dict) -> list:
    rows = []
    for key, value in record.items():
        number = _number(value) if isinstance(value, str) else None
        if number is not None:
            cell = (math(number),)
        elif isinstance(value, (int, sp.Basic)) and not isinstance(value, bool):
            cell = (math(sp.sympify(value)),)
        else:
            cell = parts(str(value))
        rows.append(((str(key),), cell))
    return [Paragraph(("Witness:",)), Table(("quantity", "value"), tuple(rows), widths=(0.3, 0.66))]
