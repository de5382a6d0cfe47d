"""The claims section prints what the engine returned, typeset from the objects: verdict, condition, rows,
obligations said once, witnesses as a table of both runs."""

from __future__ import annotations

import pickle

import pytest
import sympy as sp

from derive.render.claims_section import claim_section, condition_parts
from derive.render.document import Display, Math, Paragraph, Table
from derive.render.evidence import OBLIGATION, row_blocks, witness_blocks
from derive.render.printer import house_latex
from derive.symbols import eps, mu, t

claims = pytest.importorskip("derive.claims", reason="the claims engine is not installed")
from derive.claims.evidence import OBLIGATION as ENGINE_OBLIGATION, Prose, matrix_equation  # noqa: E402


def test_a_condition_is_typeset_from_its_sympy_object_and_words_stay_words():
    condition = sp.Eq((eps[t - 1] - eps[t]) * mu[t], 0, evaluate=False)
    (math_part, rest) = condition_parts(Prose(condition, " at every step"))
    assert isinstance(math_part, Math) and rest == " at every step"
    assert math_part.tex == house_latex(condition)
    assert condition_parts("maximize off") == ("maximize off",)


def test_prose_keeps_its_objects_through_pickling_and_reads_as_plain_text():
    S = sp.Matrix([[1, 0], [0, -1 / sp.Symbol("epsilon")]])
    p = Prose("constant: ", matrix_equation("S_t", S), r"; $\tau = 0$")
    back = pickle.loads(pickle.dumps(p))
    assert back == p and back.parts[1] == p.parts[1] and isinstance(back.parts[1], sp.Equality)
    assert back.parts[1].rhs == sp.ImmutableMatrix(S)  # an Eq of an Indexed and a Matrix would unpickle as False
    assert str(p) == "constant: S_t = [[1, 0], [0, -1/ε]]; τ = 0"  # Unicode plain text (derive.plaintext)
    assert p.parts[2] == r"; $\tau = 0$"  # the LaTeX stays in the part the appendix typesets


@pytest.mark.parametrize("claim_id", ["B5", "B3"])
def test_claim_section_carries_the_verdict_and_every_row(claim_id):
    v = claims.judge(claim_id)
    section = claim_section(claims.REGISTRY[claim_id], v)
    words = " ".join(p for b in section.blocks if isinstance(b, Paragraph) for p in b.parts if isinstance(p, str))
    assert f"Verdict: {v.verdict}" in words.replace("Verdict:  ", "Verdict: ") or v.verdict in words
    for label, _ in v.rows:
        if label != ENGINE_OBLIGATION:
            assert all(part in words for part in getattr(label, "parts", (label,)) if isinstance(part, str)
                       and "$" not in part)


def test_rows_keep_the_engine_order_and_typeset_equations():
    rows = (("first", sp.Eq(mu[t], eps[t])), ("second", "in words"), ("third", mu[t] - mu[t]))
    blocks = row_blocks(rows)
    assert [b.parts[0] for b in blocks] == ["first", "second", "third"]
    assert blocks[0].parts[2] == Math(r"\mu_{t} = \varepsilon_{t}") and blocks[1].parts[2] == "in words"
    assert blocks[2].parts[2] == Math("0")


def test_a_long_value_is_displayed_and_broken_not_inlined():
    long = sum(eps[k] * mu[k] for k in range(1, 12))
    (label, display) = row_blocks((("a long sum", long),))
    assert isinstance(display, Display) and display.rows[0].rhs == long


def test_obligations_are_said_once_as_their_equations():
    assert OBLIGATION == ENGINE_OBLIGATION
    rows = ((OBLIGATION, Prose(r"$A'_{t} S_{t-1} = S_{t} A_{t}$ for every $t \geq 2$")),
            (OBLIGATION, Prose(r"$S_{t} B_{t} = B'_{t}$ for every $t \geq 2$")))
    (paragraph,) = row_blocks(rows)
    words = "".join(p for p in paragraph.parts if isinstance(p, str))
    assert words.count("reduces to 0") == 1
    assert Math(r"A'_{t} S_{t-1} = S_{t} A_{t}") in paragraph.parts and Math(r"S_{t} B_{t} = B'_{t}") in paragraph.parts


def test_a_witness_is_a_table_of_both_runs_at_the_first_differing_step():
    v = claims.judge("A2")
    w = v.witness
    intro, table = witness_blocks(w)
    assert isinstance(table, Table) and len(table.rows) == 1
    (step, predicted, target, difference), = table.rows
    # the runs' exact values, and the difference is the target's value minus the prediction
    values = [w.claimed, w.value, w.difference]
    assert values[1] - values[0] == values[2] != 0
    assert [c[0].tex for c in (predicted, target, difference)] == [house_latex(x) for x in values]
    assert step == (str(w.step),)
    assert Math(house_latex(sp.Eq(sp.Symbol("epsilon"), sp.Rational(1, 2), evaluate=False))) in intro.parts
