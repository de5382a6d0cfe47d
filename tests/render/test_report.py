"""The main job's command: appendix files, the claims table, where the files are."""

from __future__ import annotations

import pytest

claims = pytest.importorskip("derive.claims", reason="the claims engine is not installed")


def test_claims_table_marks_a_verdict_that_differs_from_the_record():
    from dataclasses import replace

    from derive.commands.report import claims_table

    claim = claims.REGISTRY["B3"]
    judged = claims.judge("B3")
    flipped = replace(judged, verdict="fails" if judged.verdict != "fails" else "holds")
    lines = claims_table([(claim, judged), (claim, flipped)])
    assert "recorded" not in lines[1] and f"recorded: {claim.expected}" in lines[2]


@pytest.mark.slow
def test_report_writes_the_appendix_prints_every_claim_and_the_paths(tmp_path, capsys):
    from derive.cli import main

    status = main(["report", "--out", str(tmp_path), "--no-pdf"])
    out = capsys.readouterr().out
    assert status == 0, out
    for claim_id in claims.REGISTRY:
        assert f"\n{claim_id} " in out
    for name in ("appendix.tex", "appendix-body.tex", "appendix.md"):
        assert str((tmp_path / name).resolve()) in out
