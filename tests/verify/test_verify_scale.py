"""verify at the size of a layer: the reference steps groups of tensors that share their step
matrices, a chunk of elements at a time, and the comparison streams those chunks. These tests pin
that the restructuring changed nothing a user can see: the trajectory is derive's, element by
element (checked against derive's own exact step factors, not against verify's code), the bound
is its definition, the first mismatch is found where it was put, a non-finite reference is named,
and the sweep gives the same outcomes in worker processes."""

import multiprocessing
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

pytest.importorskip("torch")

from derive.numeric import step_factors  # noqa: E402
from derive.system import linear_system  # noqa: E402
from verify import compare as compare_module  # noqa: E402
from verify import reference  # noqa: E402
from verify.compare import _shared_bound, compare, propagation_rows, tolerance  # noqa: E402
from verify.objectives import QUADRATIC, Objective  # noqa: E402
from verify.reference import NonFiniteReference, compiled, expected  # noqa: E402
from verify.runner import GroupSpec, RunConfig, TensorSpec, run  # noqa: E402
from verify.sweep import SCENARIOS, check, check_all, formulation_options, sweep_configs  # noqa: E402

BASE = {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}
# three activity patterns in one group (two frozen tensors, one always active), scaler skips
MIXED = RunConfig(options=BASE, dtype="float32", schedule="explicit", steps=14, skip_steps=frozenset({4, 9}),
                  groups=(GroupSpec((TensorSpec((3,), frozen=frozenset({1, 2, 6})),
                                     TensorSpec((2, 2), contiguous=False, frozen=frozenset({5, 6})),
                                     TensorSpec((5,)), TensorSpec((2,), frozen=frozenset({1, 2, 6})))),
                          GroupSpec((TensorSpec((4,)),), {"lr": 0.02, "momentum": 0.5})))


def _systems(observed, name="pytorch_sgd"):
    return [compiled(name, formulation_options(name, h, f)) for h, f in zip(observed.hyper, observed.flags)]


def _derive_exact_theta(system, observed, gi):
    """Each element stepped alone with derive's exact step factors: its own first step, frozen and
    skipped steps leave it alone. Independent of verify.stepping."""
    factors = step_factors(linear_system(system.formulation))
    hyper = {role: [sp.Rational(float(v)) for v in values] for role, values in observed.hyper[gi].items()
             if not np.isnan(values).all()}
    init = system.formulation.initial_state()
    out = []
    for ti, theta in enumerate(observed.theta[gi]):
        flat0 = theta[0].reshape(-1)
        rows = np.empty((observed.steps + 1, flat0.size), dtype=object)
        for k, value in enumerate(flat0):
            x = sp.Matrix([sp.Rational(float(value)) if base == system.formulation.params else init[base]
                           for base in system.formulation.state])
            rows[0, k] = x[system.param_row]
            taken = 0
            for step in range(1, observed.steps + 1):
                if observed.active[gi][ti][step - 1] and not observed.skipped[step - 1]:
                    taken += 1
                    A, B = factors.exact_templates(1 if taken == 1 else 2)
                    sub = dict(zip(factors.args, map(sp.Rational, factors.arguments(hyper, step))))
                    g = sp.Rational(float(observed.grads[gi][ti][step - 1].reshape(-1)[k]))
                    x = A.xreplace(sub) * x + B.xreplace(sub) * g
                rows[step, k] = x[system.param_row]
        out.append(rows)
    return out


def test_grouped_exact_reference_equals_derive_stepping_each_element_alone():
    observed = run(MIXED)
    exact = expected(_systems(observed), observed, mode="exact")
    for gi, trace in enumerate(exact.groups):
        assert len(trace.inputs.segments) == (3 if gi == 0 else 1)  # tensors 0 and 3 share a pattern
        ours = trace.x_exact[:, trace.theta_row]
        start = 0
        for rows in _derive_exact_theta(trace.inputs.system, observed, gi):
            size = rows.shape[1]
            mine = ours[:, start : start + size]
            assert all(Fraction(int(a.p), int(a.q)) == b for a, b in zip(rows.reshape(-1), mine.reshape(-1)))
            start += size


def test_grouped_float64_reference_lies_within_its_own_bound_of_the_exact_one(monkeypatch):
    import dataclasses

    observed = run(MIXED)
    exact = expected(_systems(observed), observed, mode="exact")
    monkeypatch.setattr(reference, "CHUNK_VALUES", 2 * (MIXED.steps + 1))  # 64-element floor: still chunks
    monkeypatch.setattr(compare_module, "EXPLICIT_SUM_SIZE", 0)  # the recursion, as at layer size
    approx = expected(_systems(observed), observed)
    for trace, exact_trace in zip(approx.groups, exact.groups):
        own = tolerance(dataclasses.replace(trace, roundings=0), "float64")
        error = np.abs(trace.x[:, trace.theta_row] - exact_trace.x[:, trace.theta_row])
        assert np.all(error <= own)


def _brute_force_bound(P, delta, row):
    """The definition: sum over s <= t of |Phi(t, s)[row, :]| . delta_s, each Phi multiplied out."""
    steps, m, size = delta.shape
    bound = np.zeros((steps + 1, size))
    for t in range(1, steps + 1):
        for s in range(t):
            phi = np.eye(m)
            for r in range(s + 1, t):
                phi = P[r] @ phi
            bound[t] += np.abs(phi[row]) @ delta[s]
    return bound


@pytest.mark.parametrize("explicit_below", [0, 1 << 16], ids=["recursion-if-signs-allow", "small-explicit"])
@pytest.mark.parametrize("case", ["momentum", "oscillating"])
def test_shared_bound_equals_its_definition_by_recursion_or_by_explicit_sum(case, explicit_below, monkeypatch):
    monkeypatch.setattr(compare_module, "EXPLICIT_SUM_SIZE", explicit_below)
    rng = np.random.default_rng(3)
    steps, size = 12, 7
    if case == "momentum":  # pytorch_sgd's A with lr 0.05, momentum 0.9, decay 0.01: signs stay put
        P = np.array([[[1 - 0.05 * 0.5 * 0.01, -0.05 * 0.9], [0.5 * 0.01, 0.9]]] * steps)
    else:  # a rotation-like step: Phi's entries change sign, so the recursion cannot be used
        P = np.array([[[0.6, -0.8], [0.8, 0.6]]] * steps)
    W = propagation_rows(P, 0)
    mixed = bool((((W > 0).any(axis=1)) & ((W < 0).any(axis=1))).any())
    assert mixed == (case == "oscillating")
    delta = rng.uniform(0, 1, (steps, 2, size))
    np.testing.assert_allclose(_shared_bound(P, delta, 0), _brute_force_bound(P, delta, 0), rtol=1e-13)


def test_streamed_comparison_finds_the_first_mismatch_where_it_was_put(monkeypatch):
    monkeypatch.setattr(reference, "STORE_VALUES", 0)  # stepped lazily inside compare
    monkeypatch.setattr(reference, "CHUNK_VALUES", 64 * (41 + 1))  # tensor 1 spans several chunks
    monkeypatch.setattr(compare_module, "EXPLICIT_SUM_SIZE", 0)  # the recursion, as at layer size
    config = RunConfig(options=BASE, dtype="float32", schedule="explicit", steps=40,
                       groups=(GroupSpec((TensorSpec((30,)), TensorSpec((20, 10)))),))
    observed = run(config)
    ref = expected(_systems(observed), observed)
    assert ref.groups[0].stored is None
    bound = tolerance(ref.groups[0], "float32")
    theta = ref.groups[0].x[:, ref.groups[0].theta_row]
    # three errors of 4x the bound: the earliest step wins; at equal steps, the lower tensor
    for step, tensor, index in [(25, 0, (7,)), (17, 1, (13 // 10 + 11, 13 % 10)), (17, 1, (19, 9))]:
        start = 0 if tensor == 0 else 30
        flat = start + int(np.ravel_multi_index(index, observed.theta[0][tensor].shape[1:]))
        view = observed.theta[0][tensor].reshape(41, -1)
        view[step:, flat - start] = theta[step:, flat] + 4 * bound[step:, flat]
    report = compare(observed, ref)
    assert not report.passed
    assert (report.first.step, report.first.group, report.first.tensor, report.first.index) == (17, 0, 1, (12, 3))
    unchunked = compare(observed, expected(_systems(observed), observed))
    assert (unchunked.first.step, unchunked.first.tensor, unchunked.first.index) == (17, 1, (12, 3))


def test_a_reference_that_overflows_names_its_step():
    config = RunConfig(options={"lr": 1e300}, objective=QUADRATIC, initial=(1.0,), steps=5,
                       groups=(GroupSpec((TensorSpec((1,)),)),))
    observed = run(config)
    with pytest.raises(NonFiniteReference, match="step 2") as caught:
        expected(_systems(observed), observed)
    assert caught.value.step == 2 and not np.isfinite(caught.value.value)
    outcome = check(config)  # check reports it as a reference error, never raises
    assert not outcome.report.passed and "step 2" in outcome.report.error


@pytest.mark.parametrize("mode", ["float64", "exact"])
def test_an_objective_gradient_undefined_on_the_reference_names_step_and_value(mode):
    root = Objective.parse("x**3/3 - 2*sqrt(x)")  # phi' = x**2 - 1/sqrt(x): undefined for x < 0
    # x_1 = 1/4 + 31/16 = 2.1875, x_2 = 2.1875 - phi'(2.1875) = -1.92...: step 3's gradient is undefined
    config = RunConfig(options={"lr": 1.0}, objective=root, initial=(0.25,), steps=4,
                       groups=(GroupSpec((TensorSpec((1,)),)),))
    observed = run(config)
    with pytest.raises(NonFiniteReference, match=r"at y = -1\.92\d* at step 3 \(tensor 0, flat index 0\)") as caught:
        expected(_systems(observed), observed, mode=mode)
    assert caught.value.step == 3 and np.isnan(float(caught.value.value))
    assert isinstance(caught.value, ValueError)


def test_a_non_finite_injected_gradient_is_named_and_a_lazy_run_raises_in_compare(monkeypatch):
    gradients = np.ones((6, 3))
    gradients[3, 1] = np.inf
    config = RunConfig(options=BASE, groups=(GroupSpec((TensorSpec((3,)),)),), gradients=[[gradients]], steps=6)
    observed = run(config)
    with pytest.raises(NonFiniteReference, match=r"injected gradient is inf at step 4 \(tensor 0, flat index 1\)"):
        expected(_systems(observed), observed)
    monkeypatch.setattr(reference, "STORE_VALUES", 0)
    lazy = expected(_systems(observed), observed)
    with pytest.raises(NonFiniteReference, match="step 4"):
        compare(observed, lazy)


def _figures(outcome):
    r = outcome.report
    first = None if r.first is None else (r.first.step, r.first.group, r.first.tensor, r.first.index)
    return (outcome.config.label(), r.passed, first, r.max_ulps, r.max_allowed_ulps, r.error, outcome.known_defect)


def test_two_workers_give_the_outcomes_of_one_in_the_same_order():
    configs = sweep_configs(steps=10)[::9] + [SCENARIOS[n] for n in
                                              ("two_groups", "frozen_then_unfrozen", "quadratic_objective")]
    seen = []
    serial = check_all(configs)
    parallel = check_all(configs, workers=2, on_result=seen.append)
    assert [_figures(o) for o in parallel] == [_figures(o) for o in serial]
    assert sorted(map(id, seen)) == sorted(map(id, parallel))
    assert not multiprocessing.active_children()


def test_ctrl_c_in_a_parallel_sweep_propagates_and_leaves_no_worker():
    def interrupt(outcome):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_all(sweep_configs(steps=10)[:8], workers=2, on_result=interrupt)
    assert not multiprocessing.active_children()
