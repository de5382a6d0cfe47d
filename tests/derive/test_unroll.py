"""Concrete closed forms equal the direct iteration of each program, symbolically and in float64."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.catalogue import CATALOGUE, get
from derive.errors import DeriveError
from derive.unroll import Quadratic, closed_form, gradient_points, iterate
from unroll_cases import build, cases, closed_form_expression, exact_value, polynomials

HORIZONS = range(1, 7)


def assert_same_polynomials(cf, direct, label):
    for s in cf.formulation.state:
        ours, theirs = polynomials(closed_form_expression(cf, s), direct[s])
        assert ours == theirs, f"{label}: {s}[{cf.steps}] differs from the direct iteration"


@pytest.mark.parametrize("name,options", cases())
def test_closed_form_equals_direct_iteration_for_T_1_to_6(name, options):
    f = build(name, options)
    for steps in HORIZONS:
        assert_same_polynomials(closed_form(f, steps), iterate(f, steps), f"{name}{options}")


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_closed_form_with_every_initial_value_symbolic_equals_iteration(name):
    f = get(name)
    for steps in (1, 2, 3):
        cf = closed_form(f, steps, symbolic_init=True)
        assert_same_polynomials(cf, iterate(f, steps, symbolic_init=True), name)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_quadratic_objective_closed_form_equals_iteration_for_T_up_to_4(name):
    f = get(name)
    for steps in range(1, 5):
        cf = closed_form(f, steps, objective=Quadratic())
        assert_same_polynomials(cf, iterate(f, steps, objective=Quadratic()), name)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_gradient_points_are_where_the_program_evaluates_the_gradient(name):
    f = get(name)
    state = f.initial_state()
    points = gradient_points(f, 3)
    for step, point in enumerate(points, start=1):
        assert sp.cancel(sp.expand(point - f.gradient_point(state, step))) == 0  # cancel: AccSGD's rational terms
        state = f.step(state, sp.IndexedBase("g", real=True)[step], step)


def _exact_values(f, steps: int, seed: int):
    """Per-role rational schedules (a spare value for ``mu[t+1]``) and their symbol bindings."""
    rng = np.random.default_rng(seed)
    values, binding = {}, {}
    for role, expr in f.hyper.items():
        expr = sp.sympify(expr)
        indexed = expr.atoms(sp.Indexed)
        if indexed:
            seq = [sp.Rational(int(x), 1000) for x in rng.integers(1, 999, size=steps + 1)]
            values[role] = [float(x) for x in seq]
            for atom in indexed:
                binding.update({atom.base[n]: seq[n - 1] for n in range(1, steps + 2)})
        elif expr.free_symbols:
            x = sp.Rational(int(rng.integers(1, 999)), 1000)
            values[role] = float(x)
            binding.update({s: x for s in expr.free_symbols})
    return values, binding


@pytest.mark.parametrize("name,options", cases())
def test_float64_evaluation_matches_exact_evaluation_at_T_5(name, options):
    f, steps = build(name, options), 5
    cf = closed_form(f, steps)
    values, binding = _exact_values(f, steps, seed=1)
    grads = [sp.Rational(n * 37 % 11 - 5, 7) for n in range(1, steps + 1)]
    g = sp.IndexedBase("g", real=True)
    binding.update({g[n]: grads[n - 1] for n in range(1, steps + 1)})
    x0 = {s[0]: sp.Rational(3, 2) for s in f.state if s not in f.init}
    binding.update(x0)
    numeric = cf.evaluate(values, {"g": [float(x) for x in grads], **{k: float(v) for k, v in x0.items()}})
    for s in f.state:
        exact = exact_value(closed_form_expression(cf, s), binding)
        assert numeric[s] == pytest.approx(float(exact), rel=1e-12, abs=1e-300)


def test_float64_evaluation_of_a_quadratic_trajectory_matches_exact():
    f = get("sutskever_nesterov")
    cf = closed_form(f, 4, objective=Quadratic())
    values, binding = _exact_values(f, 4, seed=2)
    h, q = sp.Symbol("h", real=True), sp.Symbol("q", real=True)
    binding.update({h: sp.Rational(1, 2), q: sp.Rational(-3), f.params[0]: sp.Rational(2)})
    numeric = cf.evaluate(values, {"h": 0.5, "q": -3.0, f.params[0]: 2.0})
    exact = exact_value(closed_form_expression(cf, f.params), binding)
    assert numeric[f.params] == pytest.approx(float(exact), rel=1e-12)


def test_closed_form_size_grows_at_most_quadratically():
    f = get("pytorch_sgd")
    small, large = closed_form(f, 16).size(), closed_form(f, 64).size()
    assert large / 64**2 <= small / 16**2


@pytest.mark.parametrize("steps", [-1, 2.5, True, "3"])
def test_a_bad_horizon_is_refused(steps):
    with pytest.raises(DeriveError, match="the horizon must be a non-negative integer"):
        closed_form(get("plain_gd"), steps)


def test_zero_steps_is_the_initial_state():
    f = get("sutskever_momentum")
    assert closed_form(f, 0).expression(f.params) == f.params[0]


@pytest.mark.slow
def test_a_long_horizon_completes_and_evaluates_without_recursion_errors():
    f = get("pytorch_sgd")
    cf = closed_form(f, 1024)
    values = {"lr": np.full(1024, 0.01), "momentum": np.full(1024, 0.9), "dampening": 0.1,
              "weight_decay": 0.01}
    out = cf.evaluate(values, {"g": np.ones(1024), f.params[0]: 1.0})
    assert np.isfinite(out[f.params])


@pytest.mark.slow
def test_the_benchmark_runs_in_quick_mode():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "bench" / "bench_unroll.py"
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "float64 evaluation of the T=64 closed form" in done.stdout
    tables = done.stdout.split("\n\n")
    rows = [[line.split()[0] for line in table.splitlines() if line.split()[0].isdigit()] for table in tables[1:4]]
    assert rows == [["16", "64"], ["4", "6"], ["64"]], done.stdout
    assert "fitted exponent in T" in done.stdout
