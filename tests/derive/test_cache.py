"""The verdict cache: keys move exactly when a verdict's sources move; a broken cache is a miss, never a crash."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from derive import cache
from derive.claims import REGISTRY, Verdict, judge, judge_all
from derive.claims import dependencies
from derive.claims.dependencies import module_text, split

ROOT = Path(__file__).resolve().parents[2]

# Read off the claims' code by hand (grep for the entry's name and the constants naming it).
# D1 runs torch: registered (by verify's plugin) only where torch is installed.
TORCH_CLAIMS = {"D1"}
USES_MLX = {"MLX-first-step", "B9", "D1", "QHM-momentum"}
USES_PYTORCH_MOMENTUM_DOCUMENTED = {  # directly (A*: PT) or through pytorch_nesterov_documented (B*: DOC)
    "A1", "A2", "A3", "A4", "A5", "B2", "B2-nag", "B3", "B4", "B7", "B8", "B10", "B11", "B8-retune",
    "AggMo-K1", "SPA-momentum"}  # the literature's claims that compare with PyTorch's placement


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def keys(read=module_text) -> dict[str, str]:
    return {c.id: cache.verdict_key(c, read=read) for c in REGISTRY.values()}


def edited(module: str, name: str | None = None):
    """A reader that sees *module* with a statement added at the end of definition *name* (or of the module)."""
    def read(m: str) -> str:
        text = module_text(m)
        if m != module:
            return text
        if name is None:
            return text + "EDITED = True\n"
        body = split(text, {name})[0][name]
        return text.replace(body, body + "    pass  # an edit inside the definition\n")
    return read


def registered(ids: set[str]) -> set[str]:
    """*ids* less the torch claims where torch is not installed; any other unknown id stays (and fails)."""
    return ids - (TORCH_CLAIMS - set(REGISTRY))


def moved(read) -> set[str]:
    before, after = keys(), keys(read)
    return {i for i in before if before[i] != after[i]}


def test_keys_are_stable_when_nothing_changes():
    assert keys() == keys()
    assert len(set(keys().values())) == len(REGISTRY)  # the claim id is part of every key


def test_editing_a_catalogue_entry_moves_exactly_the_keys_of_the_claims_that_build_it():
    assert moved(edited("derive.catalogue.frameworks", "mlx_sgd")) == registered(USES_MLX)


def test_editing_an_entry_that_another_entry_calls_moves_the_callers_claims_too():
    assert moved(edited("derive.catalogue.pytorch", "pytorch_momentum_documented")) == \
        USES_PYTORCH_MOMENTUM_DOCUMENTED


def test_editing_a_catalogue_module_outside_its_entries_moves_the_claims_of_every_entry_there():
    changed = moved(edited("derive.catalogue.frameworks"))
    builds_frameworks = {"B5", "B9", "D1", "TF1-approx", "Chainer-NAG", "MLX-first-step", "Keras-decay",
                         "MXNet-SGD-doc", "Lasagne-Nesterov", "Optax-Sutskever",  # caffe_sgd, lasagne, optax
                         "QHM-momentum"}
    assert changed == registered(builds_frameworks)


def test_editing_one_claim_moves_only_its_key():
    assert moved(edited("derive.claims.placement", "a3")) == {"A3"}


def test_editing_an_engine_module_moves_every_key():
    assert moved(edited("derive.equivalence")) == set(REGISTRY)


@pytest.mark.torch  # the claims that run torch are verify's, registered only where torch is installed
def test_editing_verify_moves_only_the_keys_of_claims_that_run_torch():
    torch_claims = {c.id for c in REGISTRY.values() if c.torch}
    assert torch_claims and moved(edited("verify.reference")) == torch_claims


@pytest.mark.torch
def test_the_torch_version_enters_only_the_keys_of_claims_that_run_torch(monkeypatch):
    before = keys()
    real = cache.version
    monkeypatch.setattr(cache, "version", lambda d: "0.0-other" if d == "torch" else real(d))
    after = keys()
    assert {i for i in before if before[i] != after[i]} == {c.id for c in REGISTRY.values() if c.torch}


def test_the_sympy_version_enters_every_key(monkeypatch):
    before = keys()
    real = cache.version
    monkeypatch.setattr(cache, "version", lambda d: "0.0-other" if d == "sympy" else real(d))
    assert all(before[i] != k for i, k in keys().items())


def test_a_stored_verdict_is_served_without_judging(cache_dir):
    c = REGISTRY["B1"]
    planted = replace(judge(c), evidence="served from the cache")
    cache.Store().save("verdicts", cache.verdict_key(c), planted)
    assert judge_all([c]).pairs()[0][1].evidence == "served from the cache"
    assert judge_all([c], cache=False).pairs()[0][1].evidence != "served from the cache"


def test_a_judged_verdict_is_stored_and_read_back(cache_dir):
    c = REGISTRY["B3"]
    first = judge_all([c]).pairs()[0][1]
    stored = cache.Store().load("verdicts", cache.verdict_key(c), Verdict)
    assert stored == first
    again = judge_all([c])
    assert again.hits == 1 and again.pairs()[0][1] == first


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", pickle.dumps({"a": "dict"}), pickle.dumps(42)[:-2]])
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(cache_dir, garbage):
    c = REGISTRY["B1"]
    path = cache.Store().path("verdicts", cache.verdict_key(c))
    path.parent.mkdir(parents=True)
    path.write_bytes(garbage)
    judging = judge_all([c])
    assert judging.hits == 0 and judging.pairs()[0][1].verdict == c.expected
    assert isinstance(pickle.loads(path.read_bytes()), Verdict)


def test_an_unwritable_cache_directory_judges_anyway(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(cache.ENV, str(blocker / "cache"))
    assert judge_all([REGISTRY["B1"]]).pairs()[0][1].verdict == REGISTRY["B1"].expected


def test_a_verdict_that_built_an_entry_its_key_does_not_name_is_not_stored(cache_dir, monkeypatch):
    c = REGISTRY["B1"]  # builds sutskever_nesterov; pretend the static reading missed it
    monkeypatch.setattr(dependencies, "closure", lambda p: dependencies.Dependencies((), (), ()))
    judge_all([c]).pairs()
    assert not cache.Store().path("verdicts", cache.verdict_key(c)).exists()


def test_a_stand_in_claim_is_never_cached(cache_dir):
    stand_in = replace(REGISTRY["B1"], procedure=lambda: REGISTRY["B1"].procedure())
    judge_all([stand_in]).pairs()
    assert not (cache_dir / "verdicts").exists()


def test_the_directory_is_the_variable_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "x"))
    assert cache.directory() == tmp_path / "x"
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.directory() == tmp_path / "xdg" / "sgd-derive"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.directory() == tmp_path / "home" / ".cache" / "sgd-derive"


def test_torch_version_is_read_without_importing_torch():
    code = ("import sys; sys.modules['torch'] = None\nfrom dataclasses import replace\n"
            "from derive.claims import REGISTRY\nfrom derive import cache\n"
            "print(cache.environment(torch=True)); print(cache.verdict_key(replace(REGISTRY['B1'], torch=True)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    assert "('torch', " in out.stdout


@pytest.mark.slow
def test_every_claim_judged_in_parallel_is_stored_and_equals_its_serial_judgement(cache_dir):
    selected = list(REGISTRY.values())
    judging = judge_all(selected, workers=2)
    pairs = judging.pairs()
    assert [c.id for c, _ in pairs] == [c.id for c in selected]  # the registry's order, whatever finished first
    # every verdict was stored: no claim built an entry that its key does not name
    stored = {p.stem for p in (cache_dir / "verdicts").iterdir()}
    assert stored == {cache.verdict_key(c) for c in selected}
    for c, v in pairs:
        if not c.torch:
            assert replace(judge(c), seconds=0) == replace(v, seconds=0), c.id


def test_no_claims_module_imports_what_the_keys_leave_out():
    """The keys omit the renderers and the commands: no claim may run through them (the cache only stores)."""
    import ast

    left_out = tuple(m for m in dependencies.NOT_ENGINE if m != "derive.cache")
    for path in sorted((ROOT / "derive" / "claims").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(left_out), f"{path.name} imports {name}"
