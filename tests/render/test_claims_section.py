"""The claims section prints what the engine returned: the verdict, its condition, every row."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.render.claims_section import claim_section, condition_parts, evidence_table
from derive.render.document import Math, Table
from derive.render.printer import house_latex
from derive.symbols import eps, mu, t

claims = pytest.importorskip("derive.claims", reason="the claims engine is not installed")


def test_a_sympy_condition_is_typeset_and_words_stay_words():
    (math_part, rest) = condition_parts("(epsilon[t - 1] - epsilon[t])*mu[t] = 0 at every step")
    assert isinstance(math_part, Math) and rest == " at every step"
    assert math_part.tex == house_latex(sp.Eq((eps[t - 1] - eps[t]) * mu[t], 0, evaluate=False))
    assert condition_parts("maximize=False") == ("maximize=False",)


@pytest.mark.parametrize("claim_id", ["B5", "B3"])
def test_claim_section_carries_the_verdict_and_every_row(claim_id):
    v = claims.judge(claim_id)
    section = claim_section(claims.REGISTRY[claim_id], v)
    tables = [b for b in section.blocks if isinstance(b, Table)]
    assert len(tables[0].rows) == len(v.rows) if v.rows else not tables
    prose = " ".join(p for b in section.blocks if hasattr(b, "parts") for p in b.parts if isinstance(p, str))
    assert v.verdict in prose and v.evidence in prose


def test_evidence_rows_keep_the_engine_order_and_equations():
    rows = (("first", sp.Eq(mu[t], eps[t])), ("second", "in words"), ("third", mu[t] - mu[t]))
    table = evidence_table(rows)
    assert [cells[0] for cells in table.rows] == [("first",), ("second",), ("third",)]
    assert table.rows[0][1][0].tex == r"\mu_{t} = \varepsilon_{t}" and table.rows[1][1] == ("in words",)
