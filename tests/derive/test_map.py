"""``derive map``: the class of known pairs, the JSON schema, the figure, the cache, one-line refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import sympy as sp

from derive import equivalence_map
from derive.catalogue import get, names
from derive.claims.evidence import EPS
from derive.cli import main
from derive.equivalence import equivalence
from derive.equivalence_map import CLASSES, KAPPA, classify, judge_map, program
from derive.symbols import b, eps, mu, t, theta, theta_la, v

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "docs" / "images" / "map.png"


@lru_cache(maxsize=None)
def judged(source: str, target: str):
    return classify(source, target)


def derive(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)


# -- classes of known pairs -------------------------------------------------------------------
def test_pytorch_sgd_follows_sutskever_only_under_a_constant_lr_without_decay_or_dampening():
    verdict = judged("sutskever_momentum", "pytorch_sgd")
    assert verdict.kind == "condition"
    assert set(verdict.conditions) == {"a constant lr", "weight_decay = 0", "dampening = 0"}
    # "only": without the constant lr (decay and dampening off) no change of variables exists ...
    scheduled = equivalence(get("sutskever_momentum"), get("pytorch_sgd", weight_decay=0, dampening=0))
    assert not scheduled and sp.expand(scheduled.residual.subs({eps[1]: 1, eps[2]: 1})) == 0
    # ... and with it one does, with the same parameters (D3)
    constant = equivalence(get("sutskever_momentum", lr=EPS), get("pytorch_sgd", lr=EPS, weight_decay=0, dampening=0))
    assert constant
    target, value = verdict.params_map
    assert target == theta[t] and sp.expand(value - theta[t]) == 0


def test_the_placements_are_a_momentum_translation_apart_in_both_directions():
    forward = judged("sutskever_momentum", "pytorch_momentum_documented")
    backward = judged("pytorch_momentum_documented", "sutskever_momentum")
    assert forward.kind == backward.kind == "translation"
    role, schedule, default = forward.translation
    assert role == "momentum" and default == mu[t]
    assert sp.simplify(schedule - mu[t] * eps[t - 1] / eps[t]) == 0
    assert sp.simplify(backward.translation[1] - mu[t] * eps[t] / eps[t - 1]) == 0
    # the first residual (every hyperparameter free) vanishes exactly when the lr is constant
    where, residual = forward.residual
    assert residual != 0 and sp.expand(residual.replace(lambda e: isinstance(e, sp.Indexed) and e.base == eps,
                                                        lambda e: EPS)) == 0


def test_documented_and_implemented_nesterov_are_a_change_of_variables_under_a_constant_lr_times_momentum():
    forward = judged("pytorch_nesterov_documented", "pytorch_nesterov_implemented")
    assert forward.kind == "condition" and forward.conditions == ("a constant lr*momentum",)
    target, value = forward.params_map
    assert target == theta_la[t] and sp.expand(value - (theta[t] - KAPPA * v[t])) == 0
    backward = judged("pytorch_nesterov_implemented", "pytorch_nesterov_documented")
    assert backward.kind == "condition"
    assert sp.expand(backward.params_map[1] - (theta_la[t] + KAPPA * b[t])) == 0


def test_bengio_is_sutskevers_nesterov_under_every_schedule_storing_the_look_ahead_point():
    verdict = judged("sutskever_nesterov", "bengio_nesterov")
    assert verdict.kind == "change of variables"
    assert sp.expand(verdict.params_map[1] - (theta[t] + mu[t + 1] * v[t])) == 0


@pytest.mark.parametrize("name", names())
def test_every_entry_is_identical_to_itself(name):
    assert judged(name, name).kind == "identical"


def test_tf1_momentum_is_the_documented_pytorch_program_with_the_buffer_renamed():
    assert judged("tf1_momentum", "pytorch_momentum_documented").kind == "identical"
    assert program(get("tf1_momentum")) == program(get("pytorch_momentum_documented"))
    assert program(get("tf1_momentum")) != program(get("sutskever_momentum"))


def test_plain_gradient_descent_is_never_followed_by_momentum_and_the_residual_says_where():
    verdict = judged("plain_gd", "sutskever_momentum")
    assert verdict.kind == "never"
    where, residual = verdict.residual
    assert where.startswith("step 1:") and residual != 0


def test_no_condition_sets_the_lr_or_the_momentum_to_zero():
    F, G = get("pytorch_momentum_documented"), get("chainer_nesterov_ag")
    residual = sp.Symbol("epsilon", positive=True) * (mu[1] - mu[2])
    offered = [words for words, _, _ in equivalence_map.candidates(residual, F, G)]
    assert "lr = 0" not in offered and all(not w.startswith("momentum =") for w in offered)


# -- judging many: cache, workers, the command ---------------------------------------------
PAIR = ["sutskever_momentum", "pytorch_momentum_documented"]


def test_a_second_map_is_served_from_the_cache_and_no_cache_judges_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SGD_DERIVE_CACHE", str(tmp_path))
    first = judge_map(PAIR, workers=1)
    assert list(first) == [(a, c) for a in PAIR for c in PAIR]

    def refuse(*pair):
        raise AssertionError(f"judged again: {pair}")

    monkeypatch.setattr(equivalence_map, "classify", refuse)
    again = judge_map(PAIR, workers=1)
    assert {k: (v.kind, v.detail()) for k, v in again.items()} == {k: (v.kind, v.detail()) for k, v in first.items()}
    uncached = judge_map(PAIR, cache=False, workers=1)  # judged again: each pair reports refuse's exception
    assert all(v.kind == "error" and v.detail().startswith("error: AssertionError: judged again")
               for v in uncached.values())


def test_a_key_moves_with_the_entries_of_its_pair_and_no_other():
    keys = equivalence_map.Keys()
    before = {pair: keys.key(*pair) for pair in [("plain_gd", "sutskever_momentum"), ("mlx_sgd", "plain_gd")]}
    edited = equivalence_map.Keys()
    original = edited._read

    def read(module):
        text = original(module)
        return text.replace("apply_single", "apply_single ") if module == "derive.catalogue.frameworks" else text

    edited._read = read
    assert edited.key("plain_gd", "sutskever_momentum") == before[("plain_gd", "sutskever_momentum")]
    assert edited.key("mlx_sgd", "plain_gd") != before[("mlx_sgd", "plain_gd")]


def test_workers_give_the_verdicts_one_process_gives(tmp_path):
    alone = judge_map(PAIR, cache=False, workers=1)
    forked = judge_map(PAIR, cache=False, workers=2)
    assert {k: v.detail() for k, v in alone.items()} == {k: v.detail() for k, v in forked.items()}


def test_json_follows_the_documented_schema(tmp_path, capsys):
    out = tmp_path / "map.json"
    assert main(["map", "--only", ",".join(PAIR), "--format", "json", "--out", str(out), "--quiet"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "sgd-derive/map" and data["version"] == 1
    assert data["entries"] == PAIR and data["classes"] == list(CLASSES)
    assert [(p["source"], p["target"]) for p in data["pairs"]] == [(a, c) for a in PAIR for c in PAIR]
    fields = {"source", "target", "class", "params_map", "S", "conditions", "restrictions", "translation",
              "residual", "relations", "error"}
    for p in data["pairs"]:
        assert set(p) == fields and p["class"] in CLASSES and p["error"] is None
        assert all(isinstance(x, str) for x in p["conditions"] + p["restrictions"] + p["relations"])
        if p["class"] == "translation":
            assert set(p["translation"]) == {"role", "schedule", "default"} and p["params_map"].startswith("theta[t] = ")
            assert all(isinstance(e, str) for row in p["S"] for e in row)
            assert set(p["residual"]) == {"where", "expression"}
    forward = data["pairs"][1]
    assert forward["translation"]["schedule"] == "epsilon[t - 1]*mu[t]/epsilon[t]"
    assert capsys.readouterr().out == ""


def test_the_text_table_has_one_row_per_ordered_pair(capsys):
    assert main(["map", "--only", ",".join(PAIR), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(" | ")[:3] == ["source".ljust(27), "target".ljust(27), "class".ljust(11)]
    assert len(lines) == 1 + len(PAIR) ** 2
    assert "translation" in lines[2] and "epsilon[t - 1]*mu[t]/epsilon[t]" in lines[2]


def test_a_progress_bar_is_drawn_on_a_terminal_and_none_under_quiet():
    sys.path.insert(0, str(ROOT / "tests"))
    from terminal import stderr_on_a_terminal

    status, drawn = stderr_on_a_terminal("derive", ["map", "--no-cache", "--only", "plain_gd,tf1_momentum"])
    assert status == 0 and b"judging pairs" in drawn and b"0/4" in drawn
    status, drawn = stderr_on_a_terminal("derive", ["map", "--no-cache", "--quiet", "--only", "plain_gd,tf1_momentum"])
    assert status == 0 and drawn == b""


# -- the figure ---------------------------------------------------------------------------------
@pytest.mark.matplotlib
def test_the_figure_is_written_atomically_and_a_failure_leaves_the_previous_one(tmp_path, monkeypatch):
    figure = tmp_path / "map.png"
    assert main(["map", "--only", ",".join(PAIR), "--figure", str(figure), "--quiet"]) == 0
    written = figure.read_bytes()
    assert written.startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]  # no temporary left behind

    from derive.errors import DeriveError
    from derive.render import map_figure

    def broken(*_):
        raise DeriveError("rendering failed")

    monkeypatch.setattr(map_figure, "png", broken)
    assert main(["map", "--only", ",".join(PAIR), "--figure", str(figure), "--quiet"]) == 2
    assert figure.read_bytes() == written and sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]


@pytest.mark.matplotlib
def test_the_figure_is_deterministic_and_shows_the_classes():
    from derive.render.map_figure import png

    verdicts = judge_map(PAIR, workers=1)
    first, second = png(verdicts, PAIR), png(verdicts, PAIR)
    assert first == second
    changed = dict(verdicts)
    key = (PAIR[0], PAIR[1])
    changed[key] = equivalence_map.PairVerdict(*key, "never", residual=("step 2", eps[1] - eps[2]))
    assert png(changed, PAIR) != first


MAP_JSON = ROOT / "docs" / "images" / "map.json"


def committed_map() -> dict:
    return json.loads(MAP_JSON.read_text())


@pytest.mark.matplotlib
def test_the_committed_map_covers_the_catalogue_and_its_image_is_drawn_from_it():
    """docs/images/map.json is `derive map --format json` over the whole catalogue; map.png is its figure.

    A new or renamed entry without a regenerated map fails here (the cold map judges every ordered
    pair, minutes of CPU; the sample test below re-judges a few pairs of every class)."""
    from derive.render.map_figure import png

    document = committed_map()
    assert document["entries"] == names(), (
        "docs/images/map.json is stale (the catalogue changed); regenerate both files: python -m derive map "
        "--format json --out docs/images/map.json --figure docs/images/map.png")
    verdicts = {(p["source"], p["target"]): equivalence_map.PairVerdict(p["source"], p["target"], p["class"])
                for p in document["pairs"]}
    assert IMAGE.read_bytes() == png(verdicts, document["entries"])


def _sample(document, per_class: int = 2):
    """The first *per_class* pairs of every class in the committed map (errors left out: they are undecided)."""
    chosen = []
    for kind in CLASSES:
        chosen += [p for p in document["pairs"] if p["class"] == kind and p["source"] != p["target"]][:per_class]
    return chosen


@pytest.mark.slow
def test_a_sample_of_every_class_in_the_committed_map_is_what_the_solver_says_now():
    """Re-judge a deterministic sample (two pairs of every class) with today's solver: same class, same detail."""
    from derive.commands.map import record

    document = committed_map()
    sample = _sample(document)
    assert {p["class"] for p in sample} >= {"never", "condition"}
    for committed in sample:
        now = record(equivalence_map.classify_guarded(committed["source"], committed["target"]))
        assert now == committed, (committed["source"], committed["target"])


# -- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize("args,message", [
    (["map", "--only", "plain_gd,nope"], "--only: unknown formulation 'nope'"),
    (["map", "--only", ","], "--only: unknown formulation (none given)"),
    (["map", "--only", "plain_gd", "--figure", "map.svg"], "--figure must name a .png file"),
])
def test_a_bad_request_is_refused_in_one_line_before_any_judging(args, message):
    done = derive(*args)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error: ") and message in lines[0], done.stderr


# -- the appendix section -------------------------------------------------------------------
@pytest.mark.matplotlib
def test_the_appendix_map_section_shows_the_figure_and_every_related_pair():
    from derive.render import files
    from derive.render.appendix import Options, build
    from derive.render.document import Figure, Table

    options = Options(only=tuple(PAIR), sections=("map",))
    (section,) = build(options).sections
    assert section.key == "map"
    (figure,) = [b for b in section.blocks if isinstance(b, Figure)]
    (table,) = [b for b in section.blocks if isinstance(b, Table)]
    assert figure.data.startswith(b"\x89PNG") and figure.name == "map.png"
    assert [(r[0][0], r[1][0], r[2][0]) for r in table.rows] == [
        ("sutskever_momentum", "pytorch_momentum_documented", "translation"),
        ("pytorch_momentum_documented", "sutskever_momentum", "translation")]
    rendered = files.render(options, pdf=False)
    assert rendered["map.png"] == figure.data
    assert "\\includegraphics[width=\\linewidth]{map.png}" in rendered["appendix-body.tex"].decode()
    assert "](map.png)" in rendered["appendix.md"].decode()
    assert "map" not in Options().sections  # every ordered pair is minutes of judging when cold: chosen, not default
