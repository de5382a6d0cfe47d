"""Every claim of derive's own modules gives its recorded verdict; false variants of true claims are refuted.

The claims that run torch are verify's (its built-in plugin): tests/verify/test_verify_claims.py.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest
import sympy as sp

from derive.catalogue import get
from derive.claims import REGISTRY, VERDICTS, Verdict, judge
from derive.claims.evidence import CONSTANT, EPS, MU
from derive.cli import main
from derive.equivalence import equivalence

CLAIMS = [pytest.param(c, id=c.id) for c in REGISTRY.values() if c.procedure.__module__.startswith("derive.")]


@pytest.mark.parametrize("claim", CLAIMS)
def test_verdict_is_the_recorded_one(claim):
    verdict = judge(claim)
    assert verdict.verdict == claim.expected, verdict.evidence
    assert verdict.claim_id == claim.id and verdict.evidence and "\n" not in verdict.evidence
    if verdict.verdict == "holds under a condition":
        assert verdict.condition
    if verdict.verdict == "fails" and claim.id not in ("TF1-approx",):
        assert verdict.witness or verdict.rows  # a refutation carries its evidence
    assert not claim.torch and verdict.torch_version is None


def test_every_source_claim_that_needs_no_torch_is_encoded_in_derive():
    wanted = {f"A{i}" for i in range(1, 6)} | {f"B{i}" for i in range(1, 12)} | {"D3"}
    ours = {c.id for c in REGISTRY.values() if c.procedure.__module__.startswith("derive.")}
    assert wanted <= ours
    assert all(c.expected in VERDICTS for c in REGISTRY.values())


def test_verdict_record_has_the_renderers_shape():
    assert [f.name for f in fields(Verdict)] == ["claim_id", "verdict", "condition", "evidence", "rows",
                                                 "witness", "torch_version", "seconds"]
    v = judge("B7")
    assert all(isinstance(label, str) and isinstance(value, (sp.Basic, str)) for label, value in v.rows)
    assert all(isinstance(x, (str, int, dict)) for x in v.witness.as_dict().values())  # JSON-ready
    assert all(isinstance(x, sp.Rational) for x in v.witness.hyperparameters.values())


def test_a_claim_recorded_wrongly_makes_the_command_fail(monkeypatch, capsys):
    monkeypatch.setitem(REGISTRY, "B5", replace(REGISTRY["B5"], expected="fails"))
    assert main(["claims", "--only", "B5"]) == 1
    assert "B5" in capsys.readouterr().err


def test_cli_json_and_unknown_id(capsys):
    assert main(["claims", "--json", "--only", "B3", "A4"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == ["B3", "A4"]
    assert {"id", "statement", "reading", "verdict", "condition", "evidence", "witness"} <= set(data[0])
    assert main(["claims", "--only", "NOPE"]) == 2
    assert "unknown claim id NOPE" in capsys.readouterr().err


# -- false variants of true claims, each refuted by the same engine -----------------------------
def test_false_variant_a2_with_lr_times_rho_is_refuted_and_rho_is_proved():
    pt = get("pytorch_momentum_documented", **CONSTANT)
    assert not equivalence(pt, get("sutskever_momentum", lr=EPS, momentum=EPS * MU), same_params=True)
    assert equivalence(pt, get("sutskever_momentum", lr=EPS, momentum=MU), same_params=True)


def test_false_variant_d1_first_step_damped_is_refuted():
    assert not equivalence(get("pytorch_sgd", weight_decay=0), get("mlx_sgd", weight_decay=0), same_params=True)


def _stderr_on_a_terminal(argv: list[str]) -> tuple[int, bytes]:
    from terminal import stderr_on_a_terminal

    return stderr_on_a_terminal("derive", argv)


def test_claims_draws_a_progress_bar_on_a_terminal_and_none_under_quiet():
    status, drawn = _stderr_on_a_terminal(["claims", "--no-cache", "--only", "B1", "B3"])
    assert status == 0 and b"judging claims" in drawn and b"0/2" in drawn  # drawn, then cleared
    status, drawn = _stderr_on_a_terminal(["claims", "--no-cache", "--quiet", "--only", "B1", "B3"])
    assert status == 0 and drawn == b""


def test_claims_prints_no_bar_when_stderr_is_not_a_terminal(capfd):
    assert main(["claims", "--no-cache", "--only", "B1"]) == 0
    assert capfd.readouterr().err == ""
