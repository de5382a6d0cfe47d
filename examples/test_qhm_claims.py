"""A user's claims about their QHM, as pytest tests (run ``python -m pytest -q test_qhm_claims.py`` here)."""

import sympy as sp

import derive
from derive.symbols import t
from derive.testing import assert_equivalent, assert_not_equivalent

from qhm_plugin import ALPHA, BETA, alpha, beta, torch_nesterov, user_qhm


def test_nu_one_is_the_damped_zero_initialised_buffer_under_any_schedule():
    damped = derive.get("mlx_sgd", lr=alpha[t], momentum=beta[t], dampening=beta[t], weight_decay=0)
    assert_equivalent(user_qhm(nu=1), damped, same_params=True)


def test_nu_zero_is_plain_gradient_descent():
    assert_equivalent(user_qhm(nu=0), derive.get("plain_gd", lr=alpha[t]), same_params=True)


def test_nu_beta_is_nesterov_with_the_rescaled_rate_for_constant_beta():
    nesterov = derive.get("pytorch_sgd", lr=alpha[t] * (1 - BETA), momentum=BETA, nesterov=True, weight_decay=0)
    assert_equivalent(user_qhm(momentum=BETA, nu=BETA), nesterov)


def test_a_momentum_schedule_breaks_nu_beta_nesterov_at_step_two():
    assert_not_equivalent(user_qhm(nu=beta[t]), torch_nesterov(alpha[t] * (1 - beta[t])), first_step=2)
    result = derive.equivalence(user_qhm(nu=beta[t]), torch_nesterov(alpha[t] * (1 - beta[t])))
    # beta_t = beta_{t-1} satisfies the condition; the condition is only necessary
    assert result.conditions == (sp.Eq((beta[t - 1] - beta[t]) * beta[t], 0),)  # in lowest terms: no 1 - beta
    assert result.sufficient is False


def test_nu_beta_without_the_rescaling_is_not_nesterov_from_the_first_step():
    nesterov = derive.get("pytorch_sgd", lr=ALPHA, momentum=BETA, nesterov=True, weight_decay=0)
    assert_not_equivalent(user_qhm(lr=ALPHA, momentum=BETA, nu=BETA), nesterov, first_step=1)


def test_the_plugins_claims_are_judged_as_recorded():
    for claim_id, verdict in (("USER-QHM-1", "holds"), ("USER-QHM-2", "holds under a condition"),
                              ("USER-QHM-3", "fails")):
        assert derive.judge(claim_id).verdict == verdict, claim_id
