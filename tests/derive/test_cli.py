"""``python -m derive``: list, unroll (concrete and symbolic), and one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sympy as sp

from derive.catalogue import CATALOGUE, get
from derive.unroll import closed_form


def derive(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True,
                          timeout=120)


ERRORS = [
    (["unroll", "nope", "-T", "3"], "unknown formulation 'nope'"),
    (["unroll", "pytorch_sdg", "-T", "3"], "did you mean pytorch_sgd"),
    (["unroll", "plain_gd", "-T", "-3"], "--steps must be a non-negative integer, got -3"),
    (["unroll", "plain_gd", "-T", "2.5"], "--steps must be a non-negative integer, got '2.5'"),
    (["unroll", "plain_gd", "-T", "three"], "--steps must be a non-negative integer, got 'three'"),
    (["unroll", "plain_gd"], "--steps is required"),
    (["unroll", "pytorch_sgd", "-T", "2", "-o", "momentum"], "option 'momentum' is not KEY=VALUE"),
    (["unroll", "pytorch_sgd", "-T", "2", "-o", "=0.9"], "option '=0.9' is not KEY=VALUE"),
    (["unroll", "pytorch_sgd", "-T", "2", "-o", "foo=1"], "pytorch_sgd has no option foo"),
    (["unroll", "pytorch_sgd", "-T", "2", "-o", "momentum=abc"], "momentum must be a number"),
    (["unroll", "pytorch_sgd", "-T", "2", "-o", "lr=-1"], "lr must be non-negative, got lr=-1"),
    (["unroll", "pytorch_sgd", "-T", "2", "-o", "nesterov=true", "-o", "dampening=0.1"],
     "nesterov=True requires dampening=0"),
    (["unroll", "plain_gd", "--symbolic", "-T", "99"], "--steps is the check horizon"),
    (["unroll", "plain_gd", "-T", "2", "--format", "pdf"], "invalid choice: 'pdf'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


# Each case is a fresh interpreter (about 1 s); the default selection keeps one per kind of mistake.
SLOW = {"pytorch_sdg", "three", "=0.9", "momentum=abc", "99", "pdf"}


def _rows():
    for args, message in ERRORS:
        marks = [pytest.mark.slow] if SLOW & set(args) else []
        yield pytest.param(args, message, id=" ".join(args), marks=marks)


@pytest.mark.parametrize("args,message", list(_rows()))
def test_a_bad_request_is_one_line_on_stderr_and_a_nonzero_exit(args, message):
    done = derive(*args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("derive") and message in lines[0], lines[0]
    assert done.stdout == ""


def test_list_names_every_catalogue_entry_with_its_citation():
    done = derive("list")
    assert done.returncode == 0, done.stderr
    starts = {line.split()[0] for line in done.stdout.splitlines() if line and not line[0].isspace()}
    assert starts == set(CATALOGUE)
    for name in CATALOGUE:
        assert get(name).citation in done.stdout


def test_list_json_parses():
    entries = json.loads(derive("list", "--json").stdout)
    assert [e["name"] for e in entries] == list(CATALOGUE)


def test_unroll_json_parses_and_holds_the_closed_form():
    done = derive("unroll", "pytorch_sgd", "-T", "3", "--format", "json", "-o", "weight_decay=0")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    f = get("pytorch_sgd", weight_decay=0)
    cf = closed_form(f, 3)
    assert out["formulation"] == "pytorch_sgd" and out["steps"] == 3 and out["version"] == 2
    assert set(out["state"]) == {str(s) for s in f.state}
    names = {str(a.base.label): a.base for a in cf.expression().atoms(sp.Indexed)}
    names.update({"tau": sp.Symbol("tau", real=True), "Phi": sp.IndexedBase("Phi", real=True)})
    # The coefficients read the shared sub-products by name; inline them in order.
    known = {}
    for name, text in out["definitions"]:
        known[sp.sympify(name, locals=names)] = sp.sympify(text, locals=names).xreplace(known)
    for x, text in out["state"]["theta"].items():
        key = sp.sympify(x, locals=names)
        value = sp.sympify(text, locals=names).xreplace(known)
        assert sp.expand(value - cf.coefficient(f.params, key)) == 0, x


def test_unroll_symbolic_json_is_proven_and_verified():
    done = derive("unroll", "sutskever_momentum", "--symbolic", "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["symbolic"] is True and out["proved"] is True and out["verified_up_to"] == 8
    assert "Sum(" in out["state"]["theta"] and "Product(" in out["state"]["theta"]
    assert any("induction step" in row["label"] for row in out["proof"])


def test_unroll_symbolic_text_and_latex():
    text = derive("unroll", "pytorch_sgd", "--symbolic", "-T", "3")
    assert text.returncode == 0, text.stderr
    assert "theta[T] = " in text.stdout and "Phi[T, k, 0, 0]" in text.stdout
    assert "T = 1..3" in text.stdout
    latex = derive("unroll", "sutskever_momentum", "--symbolic", "--format", "latex")
    assert latex.returncode == 0, latex.stderr
    assert r"\sum_{k=1}^{T}" in latex.stdout and r"\prod_" in latex.stdout


def test_unroll_concrete_text_is_the_expanded_closed_form():
    done = derive("unroll", "plain_gd", "-T", "2")
    assert done.returncode == 0, done.stderr
    f = get("plain_gd")
    assert done.stdout.strip() == f"theta[2] = {closed_form(f, 2).expression()}"
