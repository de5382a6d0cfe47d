"""verify's claims (C1-C4, D1, D2, B6-torch): registered into derive by verify's built-in plugin, judged
against the installed torch, with their recorded verdicts; a false variant is refuted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from derive import cache  # noqa: E402
from derive.catalogue import get  # noqa: E402
from derive.claims import REGISTRY, judge, judge_all  # noqa: E402
from derive.claims.evidence import CONSTANT  # noqa: E402
from derive.equivalence import equivalence  # noqa: E402
from derive.plugins import load_plugins  # noqa: E402
from derive.symbols import lam  # noqa: E402
from verify.claims import penalised  # noqa: E402
from verify.plugin import declared_claims  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TORCH_CLAIMS = ("C1", "C2", "C3", "C4", "D1", "D2", "B6-torch")

load_plugins(entry_points=False)  # as the commands do (conftest does too): the registry holds verify's claims
CLAIMS = [pytest.param(c, id=c.id) for c in REGISTRY.values() if c.procedure.__module__.startswith("verify.")]


def test_the_plugin_registers_the_claims_that_run_torch_and_only_those():
    assert [p.values[0].id for p in CLAIMS] == list(TORCH_CLAIMS) == list(declared_claims())
    assert all(c.torch for c in REGISTRY.values() if c.id in TORCH_CLAIMS)
    assert not [c.id for c in REGISTRY.values() if c.torch and c.id not in TORCH_CLAIMS]


def test_the_claims_are_the_packages_own_and_are_cached(tmp_path, monkeypatch):
    from derive.claims import cacheable

    monkeypatch.setenv(cache.ENV, str(tmp_path))
    c = REGISTRY["C3"]
    assert c.origin.builtin and str(c.origin) == "sgd-derive" and cacheable(c)
    judge_all([c]).pairs()
    assert cache.Store().path("verdicts", cache.verdict_key(c)).is_file()


@pytest.mark.torch
@pytest.mark.parametrize("claim", CLAIMS)
def test_verdict_is_the_recorded_one(claim):
    verdict = judge(claim)
    assert verdict.verdict == claim.expected, verdict.evidence
    assert verdict.claim_id == claim.id and verdict.evidence and "\n" not in verdict.evidence
    if verdict.verdict == "holds under a condition":
        assert verdict.condition
    if verdict.verdict == "fails":
        assert verdict.witness or verdict.rows  # a refutation carries its evidence
    assert verdict.torch_version == torch.__version__


def test_false_variant_l2_penalty_without_the_half_is_refuted():
    wd = get("pytorch_sgd", weight_decay=lam, **CONSTANT)
    doubled = penalised(get("pytorch_sgd", weight_decay=0, **CONSTANT), 2 * lam)  # lambda |theta|^2
    assert not equivalence(wd, doubled, same_params=True, steps=3)
    assert equivalence(wd, penalised(get("pytorch_sgd", weight_decay=0, **CONSTANT), lam), same_params=True, steps=3)


def test_the_torch_version_enters_the_keys_of_verifys_claims_only(monkeypatch):
    before = {c.id: cache.verdict_key(c) for c in REGISTRY.values()}
    real = cache.version
    monkeypatch.setattr(cache, "version", lambda d: "0.0-other" if d == "torch" else real(d))
    after = {c.id: cache.verdict_key(c) for c in REGISTRY.values()}
    assert {i for i in before if before[i] != after[i]} == set(TORCH_CLAIMS)


def test_editing_one_torch_claim_moves_only_its_key():
    from derive.claims.dependencies import module_text, split

    def read(module):
        text = module_text(module)
        if module != "verify.claims":
            return text
        body = split(text, {"c3"})[0]["c3"]
        return text.replace(body, body + "    pass  # an edit inside the definition\n")

    moved = {c.id for c in REGISTRY.values() if cache.verdict_key(c) != cache.verdict_key(c, read=read)}
    assert moved == {"C3"}


def test_a_cached_torch_verdict_loads_where_torch_cannot_be_imported(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    c = REGISTRY["C3"]
    judged = judge_all([c]).pairs()[0][1]
    assert judged.torch_version and type(judged.torch_version) is str
    path = cache.Store().path("verdicts", cache.verdict_key(c))
    code = ("import pickle, sys; sys.modules['torch'] = None\n"
            f"v = pickle.load(open({str(path)!r}, 'rb')); print(v.claim_id, v.verdict)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "C3"


def test_registering_the_claims_imports_no_torch():
    code = ("import sys\nfrom derive.plugins import load_plugins\nload_plugins(entry_points=False)\n"
            "from derive.claims import REGISTRY\n"
            "print(sum(c.torch for c in REGISTRY.values()), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(len(TORCH_CLAIMS)), "False"]
