"""derive.testing: each helper passes on a right claim and fails, with the residual, its conditions and the
witness in the message, on a wrong one."""

from __future__ import annotations

import pytest
import sympy as sp

from derive import Proof, Residual, get
from derive.claims.evidence import CONSTANT, EPS
from derive.testing import assert_equivalent, assert_not_equivalent
from derive.symbols import t
from user_formulations import alpha, beta, nu, qhm

PAPER, TORCH = "sutskever_momentum", "pytorch_momentum_documented"


def test_assert_equivalent_passes_at_a_constant_learning_rate():
    assert isinstance(assert_equivalent(get(PAPER), get(TORCH), under={"lr": EPS}), Proof)


def test_assert_equivalent_fails_under_a_schedule_showing_residual_condition_and_witness():
    with pytest.raises(AssertionError) as caught:
        assert_equivalent(get(PAPER), get(TORCH))
    message = str(caught.value)
    assert "sutskever_momentum and pytorch_momentum_documented are not equivalent" in message
    assert "residual (epsilon[1] - epsilon[2])*mu[2]" in message
    assert "condition: epsilon[t] = epsilon[t - 1] at every step (necessary and sufficient)" in message
    assert "witness: on f(theta) = 3*theta**2/4 - theta from theta_0 = 2" in message
    assert "at step 2 pytorch_momentum_documented gives 1/2, the claim predicts 1/8 (difference 3/8)" in message


def test_assert_equivalent_says_when_the_condition_is_only_necessary():
    from derive.symbols import eps, mu, tau

    # lr scaled by 1 + tau*(tau - 1), momentum by 1 - tau: tau = 1 removes the step-1 residual, not step 2's
    scaled = get(PAPER, lr=eps[t] * (1 + tau * (tau - 1)), momentum=mu[t] * (1 - tau))
    with pytest.raises(AssertionError, match=r"necessary, not sufficient: tau = 1 satisfies it"):
        assert_equivalent(get(PAPER), scaled, same_params=True)


def test_assert_not_equivalent_passes_and_checks_the_first_differing_step():
    damped = (get("mlx_sgd", weight_decay=0), get("pytorch_sgd", weight_decay=0))
    assert isinstance(assert_not_equivalent(*damped, same_params=True, first_step=1), Residual)
    with pytest.raises(AssertionError, match="first differ at step 1, not at step 2"):
        assert_not_equivalent(*damped, same_params=True, first_step=2)


def test_assert_not_equivalent_fails_on_equivalent_forms_showing_the_change_of_variables():
    with pytest.raises(AssertionError) as caught:
        assert_not_equivalent(get(PAPER, **CONSTANT), get(TORCH, **CONSTANT))
    assert "are equivalent" in str(caught.value) and "S_t = [[1, 0], [0, -1/epsilon]]" in str(caught.value)


def test_qhm_with_nu_zero_is_plain_gd_and_with_nu_one_a_damped_zero_buffer():
    lr = alpha[t]
    assert_equivalent(qhm(), get("plain_gd", lr=lr), same_params=True, under={nu: 0})
    assert_equivalent(qhm(nu_value=1), get("mlx_sgd", lr=lr, momentum=beta, dampening=beta, weight_decay=0),
                      same_params=True)
    assert_not_equivalent(qhm(), get("plain_gd", lr=lr), same_params=True, first_step=1)
