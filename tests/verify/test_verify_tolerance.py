"""The tolerance model: sound (the float64 reference sits inside its own bound of the exact
one), not vacuous (an error just above the bound is caught at its step and index), and shaped
by what the argument says (momentum amplifies it, steps accumulate it)."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

pytest.importorskip("torch")

from derive.catalogue import CATALOGUE, get  # noqa: E402
from derive.numeric import step_factors  # noqa: E402
from derive.system import linear_system  # noqa: E402
from verify.compare import compare, magnitude_system, tolerance  # noqa: E402
from verify.objectives import QUARTIC  # noqa: E402
from verify.reference import compiled, expected  # noqa: E402
from verify.runner import RunConfig, run  # noqa: E402
from verify.sweep import formulation_options  # noqa: E402

FLAGS = {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}


def _expected(config, mode="float64"):
    observed = run(config)
    options = formulation_options("pytorch_sgd", observed.hyper[0], observed.flags[0])
    return observed, expected(compiled("pytorch_sgd", options), observed, mode=mode)


@pytest.mark.parametrize("objective", [None, QUARTIC], ids=["injected", "quartic"])
def test_float64_reference_lies_within_its_own_bound_of_the_exact_reference(objective):
    config = RunConfig(options=FLAGS, schedule="explicit", steps=25, objective=objective)
    observed, approx = _expected(config)
    _, exact = _expected(config, mode="exact")
    trace = approx.groups[0]
    own = tolerance(dataclasses.replace(trace, roundings=0), "float64")  # the reference's roundings only
    error = np.abs(trace.x[:, trace.theta_row] - exact.groups[0].x[:, trace.theta_row])
    assert np.all(error <= own), float((error / np.maximum(own, 1e-300)).max())


def test_torch_float64_passes_against_the_exact_reference():
    observed, exact = _expected(RunConfig(options=FLAGS, schedule="onecycle", steps=25, objective=QUARTIC),
                                mode="exact")
    report = compare(observed, exact)
    assert report.passed, report.describe()


@pytest.mark.parametrize("factor, caught", [(4.0, True), (0.25, False)])
def test_an_error_is_caught_exactly_when_it_exceeds_the_bound(factor, caught):
    observed, ref = _expected(RunConfig(options=FLAGS, schedule="explicit", steps=40, dtype="float32"))
    bound = tolerance(ref.groups[0], "float32")
    step, element = 17, 2  # tensor 0 has 3 elements
    observed.theta[0][0][step:, element] = ref.groups[0].x[step:, 0, element] + factor * bound[step:, element]
    report = compare(observed, ref)
    assert report.passed is not caught, report.describe()
    if caught:
        assert (report.first.step, report.first.group, report.first.tensor, report.first.index) == (step, 0, 0, (2,))


def test_momentum_amplifies_the_bound_and_steps_accumulate_it():
    def final_bound(momentum):
        _, ref = _expected(RunConfig(options={"lr": 0.05, "momentum": momentum}, steps=200))
        return tolerance(ref.groups[0], "float32")

    plain, heavy = final_bound(0.0), final_bound(0.9)
    assert np.all(plain[200] > plain[20])
    assert np.median(heavy[200] / plain[200]) > 3  # ~1/(1 - 0.9) = 10 for the buffer's share


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_program_magnitudes_dominate_the_composed_matrices(name):
    """|A_t| <= |A|_M entrywise: the rounding magnitudes never undercount what a step combines."""
    f = get(name, **({"nesterov": True} if name == "pytorch_sgd" else {}))
    system, mag = linear_system(f), magnitude_system(f)
    A1, B1 = step_factors(system).lifted  # step 1's matrices, written in the template's symbols
    pairs = ((system.A, mag.A), (system.B, mag.B), (A1, mag.A1), (B1, mag.B1))
    symbols = set().union(*(M.free_symbols | M.atoms(sp.Indexed) for pair in pairs for M in pair))
    symbols = {s for s in symbols if isinstance(s, sp.Indexed) or s.name != "t"}  # every role: nu, beta_i, ...
    rng = np.random.default_rng(0)
    for _ in range(5):
        values = {s: sp.Rational(int(rng.integers(1, 99)), 100) for s in symbols}
        for M, Mag in pairs:
            for a, b in zip(M.xreplace(values), Mag.xreplace(values)):
                assert not (a.free_symbols or b.free_symbols), (name, a, b)
                assert abs(a) <= b, (name, a, b)
