"""The literature's entries: state sizes beyond 2 in the symbolic closed form, AggMo's factory,
iterate averaging as a read-out, initial values equal to the parameters', and false variants of
the papers' parameter maps refuted."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.catalogue import get
from derive.catalogue.averaging import averaged, theta_avg
from derive.catalogue.literature import aggmo_with, theta_prev
from derive.equivalence import equivalence
from derive.formulation import Assign, Formulation
from derive.induction import _triangular_order, symbolic_closed_form, transition_kernel
from derive.summation import linear_normal_form
from derive.symbols import T, b, eps, g, j, k, mu, t, theta, v
from derive.system import linear_system
from derive.unroll import closed_form
from derive.witness import exact_trajectory

NU = sp.Symbol("nu")
WITNESS = {"nu": sp.Rational(1, 3), "lookahead": sp.Rational(1, 5)}


def chain() -> Formulation:
    """Three buffers in a chain (theta reads v reads b): kernel entries two steps above the diagonal."""
    return Formulation(name="chain", title="chain", citation="test", state=(theta, v, b), params=theta,
                       grad_at=theta[t - 1], init={v: 0, b: 0},
                       update=(Assign(b[t], mu[t] * b[t - 1] + g[t]), Assign(v[t], NU * v[t - 1] + b[t]),
                               Assign(theta[t], theta[t - 1] - eps[t] * v[t])))


@pytest.mark.parametrize("f", [get("aggmo"), chain(), aggmo_with(5)()], ids=["aggmo", "chain", "aggmo_5"])
def test_a_triangular_step_beyond_two_states_gets_an_explicit_kernel_proved_by_induction(f):
    scf = symbolic_closed_form(f)  # raises if the proof or the comparison with the unroll fails
    assert scf.kernel.explicit and scf.verified_up_to == 8
    assert len(f.state) > 2


def test_a_nested_kernel_entry_sums_over_its_own_index():
    entry = transition_kernel(linear_system(chain())).entries[0, 2]
    outer = entry if isinstance(entry, sp.Sum) else next(iter(entry.atoms(sp.Sum)))
    inner = {s.limits[0][0] for s in outer.function.atoms(sp.Sum)}
    assert outer.limits[0][0] != j and inner == {j}


def test_the_triangular_order_is_found_for_any_permutation_and_refused_for_a_cycle():
    A = sp.Matrix([[1, 0, 0], [2, 3, 0], [0, 4, 5]])  # lower triangular: reversed order
    order = _triangular_order(A)
    P = A.extract(list(order), list(order))
    assert order == (2, 1, 0) and all(P[r, c] == 0 for r in range(3) for c in range(r))
    assert _triangular_order(sp.Matrix([[1, 2, 0], [0, 1, 3], [4, 0, 1]])) is None


def test_sums_that_differ_only_in_their_index_name_cancel():
    j2 = sp.Symbol("j_2", integer=True, positive=True)
    left, right = sp.Sum(mu[j], (j, k + 1, T)), sp.Sum(mu[j2], (j2, k + 1, T))
    assert linear_normal_form(left - right) == 0
    assert linear_normal_form(left - sp.Sum(mu[j2 + 1], (j2, k + 1, T))) != 0


def test_aggmo_factory_takes_K_and_refuses_a_non_positive_one():
    f = aggmo_with(2)(lr="0.1", beta_1=0, beta_2="0.9")
    assert len(f.state) == 3 and f.hyper["beta_2"] == sp.Rational(9, 10)
    with pytest.raises(ValueError, match="K >= 1"):
        aggmo_with(0)


def test_heavy_ball_starts_at_rest_the_previous_iterate_is_the_initial_one():
    f = get("heavy_ball")
    cf = closed_form(f, 1)
    assert f.init[theta_prev] == theta[0]
    assert sp.expand(cf.expression() - (theta[0] - eps[1] * g[1])) == 0
    assert exact_trajectory(f, 1)[0][theta_prev] == exact_trajectory(f, 1)[0][theta]


def test_averaging_is_a_read_out_the_entry_trajectory_is_unchanged_and_the_average_is_the_mean():
    f = averaged(get("pytorch_sgd", weight_decay=0), name="avg", title="avg", citation="test", weight=1 / t)
    plain = exact_trajectory(get("pytorch_sgd", weight_decay=0), 4)
    states = exact_trajectory(f, 4)
    for n in range(1, 5):
        assert states[n][theta] == plain[n][theta]
        assert states[n][theta_avg] == sum(plain[m][theta] for m in range(1, n + 1)) / n
    with pytest.raises(ValueError, match="already has"):
        averaged(f, name="x", title="x", citation="x")


def test_ema_read_out_with_a_constant_weight_is_the_exponential_average():
    f = averaged(get("plain_gd"), name="ema", title="ema", citation="test", weight=sp.Rational(1, 10))
    s = exact_trajectory(f, 2)
    assert s[2][theta_avg] == sp.Rational(81, 100) * s[0][theta] + sp.Rational(9, 100) * s[1][theta] \
        + sp.Rational(1, 10) * s[2][theta]


def test_a_wrong_snv_map_is_refuted_with_a_witness():
    alpha, b1, b2 = sp.symbols("alpha beta_1 beta_2", positive=True)
    wrong = get("qhm", lr=alpha / (1 - b1), momentum=b1, nu=1 - b2 / b1)  # the (1 - beta1) factor dropped
    result = equivalence(wrong, get("synthesized_nesterov", lr=alpha, momentum=b1, lookahead=b2), values=WITNESS)
    assert not result and result.witness is not None


def test_qhm_nag_needs_the_lr_scaled_by_one_minus_beta():
    e, m = sp.symbols("epsilon mu", positive=True)
    unscaled = equivalence(get("qhm", nu=m, lr=e, momentum=m), get("pytorch_nesterov_implemented", lr=e, momentum=m),
                           same_params=True, values=WITNESS)
    assert not unscaled


# -- the general two-state optimizer (TSO-QHM) ----------------------------------------------------
def test_two_state_starts_at_rest_and_takes_signed_coefficients():
    from derive.catalogue.two_state import a_tso
    m_, q = sp.symbols("m_TSO q_TSO", real=True)
    f = get("two_state", m="-1/24", z="-5/12")
    assert f.hyper["m"] == sp.Rational(-1, 24) and f.hyper["z"] == sp.Rational(-5, 12)
    assert get("two_state").init[a_tso] == 0
    generic = get("two_state", at_rest=True)
    assert sp.simplify(generic.init[a_tso] - (1 - q) / m_ * theta[0]) == 0
    # at rest: with g = 0 the first step leaves theta where it was, whatever the coefficients
    assert sp.expand(closed_form(generic, 1).expression().subs(g[1], 0) - theta[0]) == 0
    with pytest.raises(ValueError, match="m != 0"):
        get("two_state", m=0, at_rest=True)


def test_qhoptim_tso_map_returns_qhm_written_in_its_own_coordinates():
    from derive.claims.literature import _from_two_state_optimizer, _tso_of_qhm
    for alpha, beta, nu in ((sp.Rational(1, 2), sp.Rational(1, 2), sp.Rational(1, 3)),
                            (sp.Rational(3, 10), sp.Rational(9, 10), sp.Rational(7, 10))):
        mapped = _from_two_state_optimizer(**_tso_of_qhm(alpha, beta, nu, 0, 3))
        assert mapped == {"lr": alpha, "momentum": beta, "nu": nu}


def test_qhoptim_tso_map_gets_nu_wrong_in_mixed_coordinates_and_the_solver_refutes_it():
    from derive.claims.literature import _from_two_state_optimizer, _tso_of_qhm
    half, third = sp.Rational(1, 2), sp.Rational(1, 3)
    tso = _tso_of_qhm(half, half, third, 1, 2)  # a = theta + 2b: q = 25/24, k = 13/24
    mapped = _from_two_state_optimizer(**tso)
    assert (mapped["lr"], mapped["momentum"]) == (half, half) and mapped["nu"] != third
    wrong = equivalence(get("qhm", **mapped), get("two_state", **tso, at_rest=True), same_params=True,
                        values=WITNESS)
    assert not wrong and wrong.witness is not None
    right = equivalence(get("qhm", lr=half, momentum=half, nu=third), get("two_state", **tso, at_rest=True),
                        same_params=True, values=WITNESS)
    assert right


def test_a_two_state_optimizer_not_started_at_rest_is_not_qhm():
    from derive.claims.literature import _tso_of_qhm
    half, third = sp.Rational(1, 2), sp.Rational(1, 3)
    moving = get("two_state", **_tso_of_qhm(half, half, third, 1, 2))  # a_0 = 0: theta moves at a stationary point
    assert not equivalence(get("qhm", lr=half, momentum=half, nu=third), moving, same_params=True, values=WITNESS)


def test_tso_claim_records_the_condition_q_equals_one():
    from derive.claims import REGISTRY
    verdict = REGISTRY["TSO-QHM"].procedure()
    assert verdict.verdict == "holds under a condition" and "q = 1" in str(verdict.condition)


# -- PID control (Recht 2018) and qhoptim's from_pid (QHM-PID, PID-HB, PID-NAG) -------------------
PID = {"k_I": sp.Rational(1, 5), "k_D": sp.Rational(3, 5), "filter": sp.Rational(1, 2)}


def test_pid_control_is_the_blogs_recursion_run_by_hand_in_exact_rationals():
    """Recht's w_{t+1} = w_t + e_t, v_t = beta v_{t-1} + (1-beta)(e_t - e_{t-1}), u_t = k_P e_t + k_I w_t + k_D v_t
    with e_t = -f'(u_t): u_{t+1} must not read e_{t+1} (k_P = -(1-beta) k_D), and equals the entry's parameters."""
    k_i, k_d, b = PID["k_I"], PID["k_D"], PID["filter"]
    k_p, h, q, u = -(1 - b) * k_d, sp.Rational(3, 2), 1, sp.Integer(2)  # f(u) = h u^2/2 - q u from u_0 = 2
    w, v_last, e_last, E = u / k_i, 0, 0, sp.Symbol("E")  # k_I w_0 = u_0; nothing measured before
    by_hand = [u]
    for _ in range(5):
        e = -(h * u - q)
        v_last, w, e_prev = b * v_last + (1 - b) * (e - e_last), w + e, e
        u_next = sp.expand(k_p * E + k_i * w + k_d * (b * v_last + (1 - b) * (E - e_prev)))
        assert u_next.coeff(E) == 0  # C_3 = 0: the method is explicit
        u, e_last = u_next, e
        by_hand.append(u)
    entry = exact_trajectory(get("pid_control", **PID), 5, objective={"h": h, "q": q, "theta0": 2})
    assert [s[theta] for s in entry] == by_hand


def test_pid_control_refuses_a_proportional_gain_that_needs_the_gradient_at_its_own_output():
    assert get("pid_control", k_P=-sp.Rational(3, 10), **PID).hyper["k_D"] == sp.Rational(3, 5)
    with pytest.raises(ValueError, match="proximal step"):
        get("pid_control", k_P=0, **PID)


def test_qhoptim_pid_map_is_refuted_and_the_derived_map_follows_the_pid():
    from derive.catalogue.pid import proportional_gain
    from derive.claims.recoveries import from_pid, pid_as_qhm
    pid = get("pid_control", **PID)
    mapped = from_pid(proportional_gain(PID["k_D"], PID["filter"]), PID["k_I"], PID["k_D"])
    assert mapped["momentum"] == 1 / (2 - PID["filter"])  # not the filter 1/2
    wrong = equivalence(pid, get("qhm", **mapped), same_params=True, symbolic=False, steps=4)
    assert not wrong and wrong.witness is not None
    right = pid_as_qhm(PID["k_I"], PID["k_D"], PID["filter"])
    assert equivalence(pid, get("qhm", **right), same_params=True, symbolic=False, steps=4)


def test_qhoptims_pid_map_is_exact_for_the_late_measured_pid_and_not_for_rechts():
    from derive.claims.recoveries import K_D, _transfer_difference
    k_p, b = sp.Symbol("k_P"), sp.Symbol("beta")
    assert _transfer_difference(k_p, K_D / (K_D - k_p), True) == 0
    assert _transfer_difference(-(1 - b) * K_D, b, False) != 0
    assert _transfer_difference(k_p, b, True) != 0  # the late PID with another filter is not QHM either


def test_pid_heavy_ball_gains_are_not_nesterovs():
    a, b = sp.Rational(1, 10), sp.Rational(1, 2)
    nesterov_gains = get("pid_control", k_I=a / (1 - b), k_D=a * b**2 / (1 - b) ** 3, filter=b)
    heavy_gains = get("pid_control", k_I=a / (1 - b), k_D=a * b / (1 - b) ** 3, filter=b)
    heavy = get("heavy_ball", lr=a, momentum=b)
    assert equivalence(heavy_gains, heavy, same_params=True, symbolic=False, steps=4)
    assert not equivalence(nesterov_gains, heavy, same_params=True, symbolic=False, steps=4)


def test_the_pid_claims_record_their_verdicts():
    from derive.claims import REGISTRY
    found = {c: REGISTRY[c].procedure() for c in ("QHM-PID", "PID-HB", "PID-NAG")}
    assert {c: f.verdict for c, f in found.items()} == {"QHM-PID": "fails", "PID-HB": "holds", "PID-NAG": "holds"}
    assert found["QHM-PID"].witness is not None


# -- AggMo's Nesterov (AggMo-NAG) -----------------------------------------------------------------
def test_aggmo_recovers_nesterov_only_with_the_rates_2gamma_and_2beta_gamma():
    from derive.claims.recoveries import aggmo_separate_lrs
    e, m = sp.Rational(1, 10), sp.Rational(9, 10)
    nesterov = get("sutskever_nesterov", lr=e, momentum=m)
    assert equivalence(aggmo_separate_lrs((0, m), (2 * e, 2 * m * e)), nesterov)
    assert not equivalence(aggmo_separate_lrs((0, m), (2 * m * e, 2 * e)), nesterov)  # rates swapped
    uniform = equivalence(aggmo_separate_lrs((0, m), (2 * e, 2 * e)), nesterov)  # AggMo's own 1/K weights
    assert not uniform and uniform.witness is not None


# -- schedule-free's momentum form and linear decay (SF-momentum-form, SF-linear-decay) -------------
def test_schedule_free_momentum_form_needs_the_papers_averaging_weights():
    from derive.claims.recoveries import schedule_free_momentum_form
    form = schedule_free_momentum_form()
    assert equivalence(get("schedule_free_sgd", averaging=1 / (t + 1)), form, same_params=True, symbolic=False)
    assert not equivalence(get("schedule_free_sgd", averaging=1 / t), form, same_params=True, symbolic=False)


def test_schedule_free_is_linear_decay_only_with_beta_t_read_one_step_ahead():
    stop, lr = sp.Symbol("T_stop", positive=True), sp.Rational(1, 2)
    decay = get("plain_gd", lr=lr * (stop - t) / stop)
    shifted = get("schedule_free_sgd", lr=lr, momentum=(t + 1) / stop, averaging=1 / (t + 1))
    unshifted = get("schedule_free_sgd", lr=lr, momentum=t / stop, averaging=1 / (t + 1))
    assert equivalence(shifted, decay, same_params=True, symbolic=False)
    assert not equivalence(unshifted, decay, same_params=True, symbolic=False)


def test_schedule_free_adds_more_than_one_minus_beta_of_the_new_gradient_to_y():
    """SF-immediate-effect, by hand at step 2: z_2 = z_1 - e_2 g_2, x_2 = (2/3) x_1 + (1/3) z_2, y_2 = (1-b) z_2 + b x_2."""
    from derive.claims import REGISTRY
    b = sp.Symbol("beta", real=True)
    by_hand = -(1 - b) * eps[2] - b * eps[2] / 3
    y2 = closed_form(get("schedule_free_sgd", averaging=1 / (t + 1)), 2).expression()
    assert sp.expand(y2.coeff(g[2]) - by_hand) == 0
    found = REGISTRY["SF-immediate-effect"].procedure()
    assert found.verdict == "fails" and sp.expand(dict(found.rows)[next(
        k for k in dict(found.rows) if str(k).startswith("step 2: coefficient"))] + b * eps[2] / 3) == 0
