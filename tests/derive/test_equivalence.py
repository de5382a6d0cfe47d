"""The change-of-variables solver: proofs it finds, residuals it reports, witnesses that differ."""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from derive.catalogue import get
from derive.claims.evidence import CONSTANT, EPS, MU
from derive.witness import THETA, exact_trajectory
from derive.equivalence import (TARGET, equivalence, inverse_params_map, recovery,
                                translation, witness)
from derive.formulation import Assign
from derive.symbols import eps, mu, t, tau, theta
from derive.unroll import Quadratic, iterate

DOC, IMPL = "pytorch_nesterov_documented", "pytorch_nesterov_implemented"


def test_constant_nesterov_substitution_is_found_and_proved_for_every_t():
    proof = equivalence(get(DOC, **CONSTANT), get(IMPL, **CONSTANT))
    assert proof
    S = proof.S[t]
    # the map applied to B2's state at step t-1 is the point where B6 evaluates its gradient
    assert sp.simplify((S.row(0) * sp.Matrix([theta[t - 1], sp.Symbol("v")]))[0]
                       - get(DOC, **CONSTANT).grad_at.subs(sp.IndexedBase("v", real=True)[t - 1], sp.Symbol("v"))) == 0


def test_schedule_leaves_the_residual_eps_mu_mismatch():
    result = equivalence(get(DOC), get(IMPL))
    assert not result
    r = result.residual
    # vanishes exactly when consecutive eps*mu agree, and not otherwise
    assert sp.simplify(r.subs(eps[2], eps[1] * mu[1] / mu[2])) == 0
    assert r.subs({eps[1]: 1, eps[2]: 2, mu[1]: 1, mu[2]: 1}) != 0


def test_witness_values_agree_with_symbolic_iteration():
    F, G = get("sutskever_momentum"), get("pytorch_momentum_documented")
    w = witness(F, G, TARGET[t] - F.params[t], steps=4)
    assert w is not None and w.difference != 0
    k = w.step
    obj = Quadratic(sp.Rational(3, 2), sp.Rational(1))
    assert w.objective == obj.curvature * THETA**2 / 2 - obj.offset * THETA
    symbolic = iterate(G, k, objective=obj)[G.params].xreplace(w.hyperparameters).subs(theta[0], w.theta0)
    assert sp.nsimplify(symbolic) == w.value
    assert w.claimed == exact_trajectory(F, k)[k][F.params]
    assert w.value - w.claimed == w.difference


def test_translation_finds_the_momentum_that_reproduces_the_paper_form():
    found = translation(get("sutskever_momentum"), "pytorch_momentum_documented")
    assert found and found.result
    assert sp.simplify(found.schedule - mu[t]) != 0  # not the identity map under a schedule
    assert sp.simplify(found.schedule.subs(eps[t - 1], eps[t]) - mu[t]) == 0  # identity when lr is constant


def test_recovery_map_inverts_the_stored_iterate():
    proof = recovery(constant=True)
    doc, impl = get(DOC, **CONSTANT), get(IMPL, **CONSTANT)
    back = inverse_params_map(proof, doc, impl)
    state = {s: s[t] for s in impl.state}
    forward = proof.S[t] * sp.Matrix([s[t] for s in doc.state])
    assert sp.expand(back.xreplace({impl.state[0][t]: forward[0], impl.state[1][t]: forward[1]}) - theta[t]) == 0
    assert state  # the map reads torch's stored (theta', b)
    assert not recovery(constant=False)


# -- deliberately false variants: each must be refuted ---------------------------------------
def test_wrong_sign_substitution_is_refuted():
    wrong = sp.Matrix([[1, EPS * MU], [0, 1]])  # theta' = theta + eps mu v
    result = equivalence(get(DOC, **CONSTANT), get(IMPL, **CONSTANT), substitution=wrong)
    assert not result and result.witness is not None


def test_wrong_time_index_in_translation_is_refuted():
    inverted = mu[t] * eps[t] / eps[t - 1]  # the paper's map, used in the wrong direction
    result = equivalence(get("sutskever_momentum"), get("pytorch_momentum_documented", momentum=inverted),
                         same_params=True)
    assert not result and result.witness is not None


def test_wrong_substitution_v_equals_plus_lr_b_is_refuted():
    wrong = sp.Matrix([[1, 0], [0, 1 / EPS]])
    result = equivalence(get("sutskever_momentum", lr=EPS), get("pytorch_momentum_documented", lr=EPS),
                         substitution=wrong)
    assert not result


def test_missing_dampening_factor_is_refuted():
    f = get("pytorch_sgd", weight_decay=0)
    undamped = replace(f, name="no_dampening_factor", update=tuple(
        Assign(a.target, a.value.subs(1 - tau, 1), a.first) for a in f.update))
    result = equivalence(f, undamped, same_params=True, steps=3)
    assert not result and result.witness is not None


def test_stated_substitution_with_same_step_index_fails_under_schedules():
    literal = sp.Matrix([[1, -eps[t] * mu[t]], [0, 1]])
    assert not equivalence(get(DOC), get(IMPL), substitution=literal)


def test_no_momentum_schedule_makes_documented_nesterov_reproduce_torchs_iterates():
    # torch stores the look-ahead point, so no momentum schedule gives the same parameters
    found = translation(get(IMPL), DOC)
    assert not found and found.schedule is None and not found.result


def test_symbolic_proof_checks_the_base_case_and_the_step_template():
    proof = equivalence(get("sutskever_nesterov"), get("bengio_nesterov"))
    labels = [label for label, _ in proof.rows]
    assert "base case t = 1: conditions - 0" in labels and "A'_t S_{t-1} - S_t A_t" in labels
    assert all(sp.Matrix(v).is_zero_matrix for label, v in proof.rows if label.startswith(("A'_t", "base")))
