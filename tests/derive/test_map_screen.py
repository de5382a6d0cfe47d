"""The map's numeric pre-screen (derive.screen, derive.screen_schedule): the same equations as the
symbolic solver, sound refutations, the same classes as the symbolic cascade, and a failing pair
reported as an error verdict instead of stopping the map."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy as sp

from derive import equivalence_map, screen, screen_schedule
from derive.catalogue import get
from derive.cli import main
from derive.commands.map import record
from derive.equivalence import NU, conditions, equivalence
from derive.equivalence_map import classify, first_residual, judge_map
from derive.symbols import t


def _point_for(F, G, steps, index=0):
    """The substitution the screen makes at point *index* (every parameter of both, nu kept)."""
    p0 = F.params[0]
    return screen.point(screen._matrices(F, p0, steps) + screen._matrices(G, p0, steps), index, keep=(NU,))


def _unknown_S(F, G, steps):
    return [sp.Matrix(len(G.state), len(F.state), lambda r, c: sp.Symbol(f"s{k}_{r}{c}")) for k in range(steps + 1)]


# -- the same equations as derive.equivalence.conditions -------------------------------------------
def test_the_linear_rows_are_the_symbolic_conditions_at_the_point():
    F, G, steps = get("keras_sgd"), get("caffe_sgd"), 2
    point = _point_for(F, G, steps)
    rows = screen.linear_conditions(F, G, steps, 0)
    S = _unknown_S(F, G, steps)
    symbolic = conditions(F, G, steps, S)
    assert [label for label, _, _ in rows] == [label for label, _ in symbolic]
    rng = random.Random(3)  # the S entries at random values too: row . s - constant must equal the condition
    s_values = {(k, r, c): Fraction(rng.randint(-50, 50), rng.randint(1, 50))
                for k, M in enumerate(S) for r in range(M.rows) for c in range(M.cols)}
    at = {**point, **{S[k][r, c]: sp.Rational(v.numerator, v.denominator) for (k, r, c), v in s_values.items()}}
    for (label, row, constant), (_, expr) in zip(rows, symbolic):
        value = sum((a * s_values[u] for u, a in row.items()), Fraction(0)) - constant
        exact = sp.sympify(expr).xreplace(at)
        assert exact == sp.Rational(value.numerator, value.denominator), label


def test_the_polynomial_conditions_of_a_translation_are_the_symbolic_ones_at_the_point():
    F, G, steps = get("sutskever_momentum"), get("pytorch_momentum_documented", momentum=NU[t]), 2
    point = _point_for(F, G, steps)
    polys = screen_schedule.polynomial_conditions(F, G, steps, 0)
    symbolic = conditions(F, G, steps, _unknown_S(F, G, steps))
    assert len(polys) == len(symbolic)
    rng = random.Random(5)
    values = {}
    for _, expr in symbolic:
        for a in sp.sympify(expr).xreplace(point).free_symbols | sp.sympify(expr).atoms(sp.Indexed):
            if a not in point and a not in values and not (isinstance(a, sp.Symbol) and a == NU.label):
                values[a] = sp.Rational(rng.randint(-40, 40), rng.randint(1, 40))

    def key(a):
        if isinstance(a, sp.Indexed):
            return screen_schedule._key(a)
        k, rc = a.name[1:].split("_")
        return (int(k), int(rc[0]), int(rc[1]))

    numeric = {key(a): Fraction(int(v.p), int(v.q)) for a, v in values.items()}
    for poly, (label, expr) in zip(polys, symbolic):
        value = sum((c * _product(numeric[u] for u in mono) for mono, c in poly.items()), Fraction(0))
        assert sp.sympify(expr).xreplace(point).xreplace(values) == sp.Rational(value.numerator, value.denominator), label


def _product(xs):
    out = Fraction(1)
    for x in xs:
        out *= x
    return out


def test_elimination_refutes_only_a_contradiction_and_waits_on_a_product():
    x, y = (0, 0, 0), (0, 0, 1)
    assert screen_schedule.contradicts([{(x,): Fraction(1), (): Fraction(-1)}, {(x,): Fraction(1), (): Fraction(-2)}])
    assert not screen_schedule.contradicts([{(x, y): Fraction(1), (): Fraction(-1)}])  # x y = 1: solvable
    # x = 2, then x y = 1 becomes linear in y: solvable; and 2 y = 1, y = 1 contradicts
    assert not screen_schedule.contradicts([{(x,): Fraction(1), (): Fraction(-2)}, {(x, y): Fraction(1), (): Fraction(-1)}])
    assert screen_schedule.contradicts([{(x,): Fraction(1), (): Fraction(-2)}, {(x, y): Fraction(1), (): Fraction(-1)},
                                        {(y,): Fraction(1), (): Fraction(-1)}])
    assert screen.inconsistent([("a", {x: Fraction(1)}, Fraction(1)), ("b", {x: Fraction(2)}, Fraction(3))]) == "b"
    assert screen.inconsistent([("a", {x: Fraction(1), y: Fraction(1)}, Fraction(1)),
                                ("b", {x: Fraction(1)}, Fraction(3))]) is None


# -- sound refutations, and never a refutation where the solver proves ------------------------------
def test_the_screen_keeps_every_proved_pair_and_refutes_at_the_solvers_first_failing_step():
    assert equivalence(get("sutskever_nesterov"), get("bengio_nesterov"))
    assert screen.equivalence_refuted(get("sutskever_nesterov"), get("bengio_nesterov")) is None
    refuted = screen.equivalence_refuted(get("sutskever_momentum"), get("sutskever_nesterov"))
    symbolic = equivalence(get("sutskever_momentum"), get("sutskever_nesterov"))
    assert not symbolic and refuted.step == symbolic.label.step == 2


def test_the_translation_screen_keeps_a_translation_and_refutes_where_none_exists():
    F = get("sutskever_momentum")
    assert not screen_schedule.translation_refuted(F, get("pytorch_momentum_documented", momentum=NU[t]))
    assert screen_schedule.translation_refuted(get("plain_gd"), get("sutskever_momentum", momentum=NU[t]))


@pytest.mark.parametrize("source,target", [("sutskever_momentum", "sutskever_nesterov"),
                                           ("pytorch_sgd", "plain_gd"), ("plain_gd", "sutskever_momentum")])
def test_the_first_residual_up_to_the_failing_step_is_the_solvers(source, target):
    F, G = get(source), get(target)
    full = equivalence(F, G)
    (where, residual), relations = first_residual(F, G, screen.equivalence_refuted(F, G).step)
    assert (where, residual, relations) == (full.label, full.residual, tuple(full.conditions))


@pytest.mark.slow
@pytest.mark.parametrize("source,target", [
    ("tf1_momentum", "pytorch_momentum_documented"),  # identical
    ("sutskever_nesterov", "bengio_nesterov"),  # change of variables
    ("sutskever_momentum", "pytorch_momentum_documented"),  # translation
    ("sutskever_momentum", "pytorch_sgd"),  # condition, three restrictions
    ("pytorch_nesterov_documented", "pytorch_nesterov_implemented"),  # condition, a constant lr*momentum
    ("chainer_nesterov_ag", "pytorch_momentum_documented"),  # never, after a restriction that does not help
    ("plain_gd", "sutskever_momentum"),  # never at step 1
])
def test_the_screened_class_is_the_symbolic_cascades(source, target):
    fast, full = classify(source, target), classify(source, target, screened=False)
    assert record(fast) == record(full)


# -- one failing pair does not stop the map --------------------------------------------------------
@pytest.mark.matplotlib
def test_a_pair_that_raises_is_reported_in_one_line_and_the_others_are_judged(monkeypatch, capsys, tmp_path):
    judged = classify

    def broken(source, target, **options):
        if (source, target) == ("plain_gd", "tf1_momentum"):
            raise KeyError(sp.Indexed("nu", 1))
        return judged(source, target, **options)

    monkeypatch.setattr(equivalence_map, "classify", broken)
    monkeypatch.setenv("SGD_DERIVE_CACHE", str(tmp_path / "cache"))
    verdicts = judge_map(["plain_gd", "tf1_momentum"], workers=1)
    failed = verdicts[("plain_gd", "tf1_momentum")]
    assert failed.kind == "error" and failed.detail() == "error: KeyError: nu[1]"
    assert verdicts[("tf1_momentum", "plain_gd")].kind == "never"
    figure = tmp_path / "map.png"
    assert main(["map", "--only", "plain_gd,tf1_momentum", "--figure", str(figure), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if "error" in line] == [
        next(line for line in lines if line.startswith("plain_gd") and "tf1_momentum" in line)]
    assert lines[2].split(" | ")[2].strip() == "error" and lines[2].endswith("| error: KeyError: nu[1]")
    assert figure.read_bytes().startswith(b"\x89PNG")
    # an error is cached like a verdict (it recurs for the same sources); --no-cache judges the pair again
    monkeypatch.setattr(equivalence_map, "classify", judged)
    assert judge_map(["plain_gd", "tf1_momentum"], workers=1)[("plain_gd", "tf1_momentum")].kind == "error"
    fresh = judge_map(["plain_gd", "tf1_momentum"], workers=1, cache=False)
    assert fresh[("plain_gd", "tf1_momentum")].kind == "never"


def test_a_translation_search_past_its_budget_is_reported_undecided_not_hung(monkeypatch):
    """A pair whose translation search runs past the budget is ``undecided``, naming the search (never a guessed class)."""
    import time as clock

    from derive import equivalence_map

    def slow(*args, **kwargs):
        clock.sleep(5)
        raise AssertionError("the budget did not interrupt the search")

    monkeypatch.setattr(equivalence_map, "TRANSLATION_SECONDS", 0.2)
    monkeypatch.setattr(equivalence_map, "translation", slow)
    verdict = equivalence_map.classify_guarded("sutskever_momentum", "pytorch_momentum_documented")
    assert verdict.kind == equivalence_map.UNDECIDED == "undecided"
    assert "undecided: the translation search for pytorch_momentum_documented's" in verdict.error
    assert verdict.detail() == verdict.error
    assert verdict.seconds < 4
