"""A residual's condition is a SymPy relation, solved, and flagged sufficient only when imposing it proves
the equivalence (every fact below is re-checked by solving the equivalence again, not read off the flag)."""

from __future__ import annotations

import sympy as sp

from derive import equivalence, get
from derive.claims.evidence import condition_of
from derive.conditions import KAPPA, condition, covers, solve_factor, substitute
from derive.symbols import eps, mu, t, tau

B9 = ("mlx_sgd", "pytorch_sgd")


def b9(**options):
    return equivalence(get(B9[0], weight_decay=0, **options), get(B9[1], weight_decay=0, **options),
                       same_params=True)


def test_b9_condition_is_tau_zero_necessary_and_sufficient_the_residual_in_lowest_terms():
    # the residual is the numerator of the reduced condition: no factor tau - 1 from S's denominator 1 - tau
    result = b9()
    assert not result
    assert sp.expand(result.residual - (-tau * eps[1])) == 0
    (relation,) = result.conditions
    assert isinstance(relation, sp.Eq) and sp.expand(relation.lhs - relation.rhs - tau) == 0
    assert result.sufficient is True
    assert dict(result.alternatives) == {sp.Eq(tau, 0): True}
    assert result.necessity() == "necessary and sufficient"
    assert not b9(dampening=1)  # tau = 1 itself is refuted: it was never a root of the residual


def only_necessary():
    """A residual tau*(tau - 1)*epsilon_1 at step 1 whose root tau = 1 still fails at step 2: sutskever_momentum
    against itself with the lr scaled by 1 + tau*(tau - 1) and the momentum by 1 - tau."""
    return equivalence(get("sutskever_momentum"),
                       get("sutskever_momentum", lr=eps[t] * (1 + tau * (tau - 1)), momentum=mu[t] * (1 - tau)),
                       same_params=True)


def test_a_condition_whose_root_still_leaves_a_residual_is_only_necessary():
    result = only_necessary()
    assert not result
    (relation,) = result.conditions
    assert isinstance(relation, sp.Eq) and sp.expand(relation.lhs - relation.rhs - tau * (tau - 1)) == 0
    assert result.sufficient is False
    assert dict(result.alternatives) == {sp.Eq(tau, 0): True, sp.Eq(tau, 1): False}
    assert "necessary, not sufficient: tau = 1" in result.necessity()


def test_b9_tau_one_satisfies_the_condition_and_still_fails_tau_zero_proves_it():
    # the flag's two alternatives, checked on the catalogue entries built with those values
    assert not b9(dampening=1)
    assert b9(dampening=0)


def test_b7_condition_is_a_constant_product_and_sufficient():
    result = equivalence(get("pytorch_nesterov_documented"), get("pytorch_nesterov_implemented"))
    assert result.conditions == (sp.Eq(eps[t] * mu[t], eps[t - 1] * mu[t - 1]),)
    assert result.sufficient is True
    # independently: momentum kappa/epsilon_t makes the product constant, and the schedules then agree
    imposed = {"momentum": KAPPA / eps[t]}
    assert equivalence(get("pytorch_nesterov_documented", **imposed), get("pytorch_nesterov_implemented", **imposed))


def test_a1_condition_is_a_constant_learning_rate_and_sufficient():
    result = equivalence(get("sutskever_momentum"), get("pytorch_momentum_documented"))
    assert result.conditions == (sp.Eq(eps[t], eps[t - 1]),)
    assert result.sufficient is True


def test_a_residual_that_no_nonzero_lr_or_momentum_removes_has_no_condition():
    from derive.claims.evidence import CONSTANT

    result = equivalence(get("bengio_nesterov", **CONSTANT), get("chainer_nesterov_ag", **CONSTANT), same_params=True)
    assert not result and result.conditions == () and result.sufficient is False


def test_a_factor_of_a_constant_is_solved_for_it():
    assert solve_factor(tau - 1).relation == sp.Eq(tau, 1)
    assert solve_factor(mu[t]).relation == sp.Eq(mu[t], 0)


def test_alternatives_of_schedules_do_not_cover_a_mix_across_steps():
    nu = sp.IndexedBase("nu", real=True)
    relations, alternatives = condition((eps[1] - eps[2]) * nu[2])
    assert relations == (sp.Eq((eps[t - 1] - eps[t]) * nu[t], 0),) or \
        sp.expand(relations[0].lhs + (eps[t - 1] - eps[t]) * nu[t]) == 0
    assert len(alternatives) == 2 and not covers(alternatives)
    assert covers(condition(tau * (tau - 1) * eps[1])[1])


def test_substitute_imposes_a_schedule_template_at_every_step():
    f = substitute(get("pytorch_momentum_documented"), {mu: KAPPA / eps[t]})
    velocity = f.update[0]
    assert not velocity.value.has(mu)
    assert sp.expand(velocity.value_at(3)).coeff(velocity.base[2]) == KAPPA / eps[3]


def test_the_claims_condition_is_read_from_the_relations_and_says_its_standing():
    prose = condition_of(only_necessary())
    assert sp.Eq(tau, 1) in prose.parts and "necessary, not sufficient" in str(prose)
    prose = condition_of(b9())
    assert sp.Eq(tau, 0) in prose.parts and "(necessary and sufficient)" in str(prose)
    prose = condition_of(equivalence(get("sutskever_momentum"), get("pytorch_momentum_documented")))
    assert sp.Eq(eps[t], eps[t - 1]) in prose.parts and "(necessary and sufficient)" in str(prose)


def test_the_claims_conditions_carry_their_standing():
    from derive.claims import judge

    assert str(judge("B7").condition).endswith("at every step (necessary and sufficient)")  # through a claimed S_t
    assert str(judge("B9").condition).endswith("at every step (necessary and sufficient))")  # tau = 0


def test_a_residual_names_its_condition_by_structure_not_by_text():
    import pickle

    from derive.claims.evidence import where
    from derive.equivalence import Location

    label = equivalence(get("sutskever_momentum"), get("pytorch_momentum_documented")).label
    assert isinstance(label, Location) and (label.relation, label.step, label.entry) == ("transition", 2, (0, 1))
    assert str(label) == "step 2: A'_2 S_1 = S_2 A_2 [0,1]" and label.tex() == "A'_{2} S_{1} = S_{2} A_{2}"
    assert where(label).parts == ("step 2, entry (0,1) of $A'_{2} S_{1} = S_{2} A_{2}$",)  # LaTeX for the appendix
    assert str(where(label)) == "step 2, entry (0,1) of A'_2 S_1 = S_2 A_2"  # plain text for the terminal
    assert pickle.loads(pickle.dumps(label)).relation == "transition"
    assert str(where("step 2: A'_2 S_1 = S_2 A_2 [0,1]")) == "step 2: A'_2 S_1 = S_2 A_2 [0,1]"  # text is not parsed
