"""The elimination over QQ[unknowns, hyperparameters] (derive.elimination) and the map's undecided pairs:
the same solutions as the expression elimination, residuals in lowest terms, and the pairs that used to run
past their budget or divide by zero decided, each refutation sound."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp

from derive import elimination, equivalence_map, screen_schedule
from derive.catalogue import get
from derive.equivalence import NU, conditions
from derive.symbols import eps, t, tau

PAIRS = [("sutskever_momentum", "pytorch_sgd"), ("heavy_ball", "sutskever_momentum"),
         ("pytorch_nesterov_documented", "pytorch_nesterov_implemented"), ("qhm", "sutskever_momentum"),
         ("mlx_sgd", "pytorch_sgd")]


def _conditions(source, target, steps=3):
    F, G = get(source), get(target)
    S = [sp.Matrix(len(G.state), len(F.state), lambda r, c: sp.Symbol(f"s{k}_{r}{c}")) for k in range(steps + 1)]
    return conditions(F, G, steps, S), {u for M in S for u in M.free_symbols}


@pytest.mark.parametrize("source,target", PAIRS)
def test_the_polynomial_elimination_solves_as_the_expression_one_with_residuals_in_lowest_terms(source, target):
    eqs, unknowns = _conditions(source, target)
    sol, residuals = elimination.eliminate(eqs, unknowns)
    sol_expr, residuals_expr = elimination.eliminate_expressions(eqs, unknowns)
    assert {u: sp.cancel(v) for u, v in sol.items()} == sol_expr  # same pivots, same values
    assert [label for label, _ in residuals] == [label for label, _ in residuals_expr]
    for (_, r), (_, r_expr) in zip(residuals, residuals_expr):
        # the expression form may keep a factor of a denominator of S; never the other way round
        quotient = sp.cancel(r_expr / r)
        assert sp.denom(quotient).is_number, (r, r_expr)


def test_a_residual_keeps_no_factor_of_a_denominator():
    # damped first step (MLX) against PyTorch's: S carries 1/(1 - tau); the residual is tau*epsilon_1 only
    F, G = get("mlx_sgd", weight_decay=0), get("pytorch_sgd", weight_decay=0)
    S = [sp.Matrix(2, 2, lambda r, c: sp.Symbol(f"s{k}_{r}{c}")) for k in range(2)]
    _, residuals = elimination.eliminate(conditions(F, G, 1, S, same_params=True), {u for M in S for u in M})
    assert sp.expand(residuals[0][1] + tau * eps[1]) == 0


def test_a_condition_not_rational_in_its_symbols_is_eliminated_over_expressions():
    h, s = sp.Symbol("h", positive=True), sp.Symbol("s0_00")
    sol, residuals = elimination.eliminate([("step 1: x", sp.sqrt(h) * s - 1)], {s})
    assert sp.simplify(sol[s] - 1 / sp.sqrt(h)) == 0 and residuals == []


def test_a_symbol_named_like_an_indexed_base_is_a_parameter_of_its_own(monkeypatch):
    # qhm's nu and the translated schedule nu[k] share a name: the polynomial path must keep both
    nu, s = sp.Symbol("nu", real=True), sp.Symbol("s0_00")
    monkeypatch.setattr(elimination, "eliminate_expressions", lambda *a: pytest.fail("fell back to expressions"))
    sol, residuals = elimination.eliminate([("step 1: x", nu * s - NU[1])], {s})
    assert sp.cancel(sol[s] - NU[1] / nu) == 0 and residuals == []


def test_a_residual_is_found_where_the_expression_elimination_finds_it():
    a, b, s = sp.Symbol("a"), sp.Symbol("b"), sp.Symbol("s1_00")
    eqs = [("step 1: x", a * s - 1), ("step 1: y", b * s - 1), ("step 2: z", s - 5)]
    sol, residuals = elimination.eliminate(eqs, {s})
    assert sol == {s: 1 / a} and [label for label, _ in residuals] == ["step 1: y"]
    assert sp.expand(residuals[0][1] - (b - a)) == 0 or sp.expand(residuals[0][1] + (b - a)) == 0


# -- the pairs that were undecided ------------------------------------------------------------------
def test_a_quadratic_schedule_without_a_common_root_is_refuted_by_its_groebner_basis():
    one = Fraction(1)
    x = (1, -1, 0)
    # x**2 = 1 and x**2 = 4: no common root; x**2 = 2 alone has two (irrational) roots, not refuted
    assert screen_schedule.contradicts([{(x, x): one, (): -one}, {(x, x): one, (): -4 * one}])
    assert not screen_schedule.contradicts([{(x, x): one, (): -2 * one}])


def test_chainer_nesterov_ag_with_a_momentum_schedule_squared_is_refuted_at_both_points():
    # mu**2 in its update: every condition left is quadratic in nu, the old search ran past its budget
    G = get("chainer_nesterov_ag", momentum=NU[t])
    assert screen_schedule.translation_refuted(get("sutskever_momentum"), G)
    verdict = equivalence_map.classify_guarded("sutskever_momentum", "chainer_nesterov_ag")
    assert verdict.kind == "never" and verdict.residual is not None and verdict.residual[1] != 0


def test_qhm_with_a_translated_momentum_is_screened_with_its_own_nu_given_a_value():
    assert screen_schedule.translation_refuted(get("mxnet_nag"), get("qhm", momentum=NU[t]))


def test_no_restriction_sets_a_constant_that_divides_to_zero():
    F, G = get("accsgd"), get("pytorch_sgd")
    kappa = [s for s in F.roles() if F.roles()[s] == "kappa"][0]
    offered = [words for words, _, _ in equivalence_map.candidates(kappa * eps[1], F, G)]
    assert "kappa = 0" not in offered and "a constant lr" in offered
    c = [s for s in F.roles() if F.roles()[s] == "c"][0]  # c only appears in kappa + c*xi: c = 0 is offered
    assert "c = 0" in [words for words, _, _ in equivalence_map.candidates(c * eps[1], F, G)]
    assert equivalence_map.classify_guarded("accsgd", "pytorch_sgd").kind in equivalence_map.CLASSES
