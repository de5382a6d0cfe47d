"""The numeric engine agrees with the program: ``Formulation.step`` iterated symbolically, then given numbers.

Random rational hyperparameter schedules, gradients and initial values (hypothesis) go through the
engine's exact path (which must equal the program's value exactly) and its float64 path (which must
agree to rounding), with given gradients and on the quadratic; the table covers first-step special
cases (PyTorch's undamped first buffer, MLX's damped one) and look-ahead entries (``mu[t+1]``).
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.catalogue import CATALOGUE, get
from derive.errors import DeriveError
from derive.numeric import compile_step, run
from derive.symbols import eps, g, mu, t
from derive.system import linear_system
from derive.unroll import Quadratic, h, iterate, q

CONFIGURATIONS = [(name, ()) for name in CATALOGUE] + [
    ("pytorch_sgd", (("nesterov", True),)),
    ("pytorch_sgd", (("maximize", True),)),
    ("pytorch_sgd", (("dampening", "0.1"), ("lr", "0.5"), ("momentum", "0.9"), ("weight_decay", "0.01"))),
    ("keras_sgd", (("nesterov", True),)),
    ("caffe_sgd", (("nesterov", True),)),
    ("mlx_sgd", (("nesterov", True),)),
    ("tf1_momentum", (("nesterov", True),)),
]
IDS = [name + "".join(f"[{k}={v}]" for k, v in options) for name, options in CONFIGURATIONS]


@functools.lru_cache(maxsize=None)
def formulation(name, options):
    return get(name, **dict(options))


@functools.lru_cache(maxsize=None)
def iterated(name, options, steps, quadratic):
    """The program stepped symbolically: states in theta[0], g[k] (or h, q) and the hyperparameter entries."""
    f = formulation(name, options)
    return iterate(f, steps, objective=Quadratic() if quadratic else None, symbolic_init=False)


def program_values(f, steps, hyper, grads, theta0, quadratic, objective=(None, None)):
    """The iterated program with every symbol given its number: the engine's reference."""
    state = iterated(f.name_key, f.options_key, steps, quadratic)
    roles = f.formulation.roles()
    sub = {f.formulation.params[0]: theta0}
    if quadratic:
        sub.update({h: objective[0], q: objective[1]})
    else:
        sub.update({g[k]: grads[k - 1] for k in range(1, steps + 1)})
    for expr in state.values():
        for atom in expr.atoms(sp.Indexed):
            if atom.base in roles:
                value = hyper[roles[atom.base]]
                sub[atom] = value[int(atom.indices[0]) - 1] if isinstance(value, list) else value
        for sym in expr.free_symbols:
            if sym in roles:
                value = hyper[roles[sym]]
                sub[sym] = value[0] if isinstance(value, list) else value
    return {s: expr.xreplace(sub) for s, expr in state.items()}


class Case:
    def __init__(self, name, options):
        self.name_key, self.options_key = name, options
        self.formulation = formulation(name, options)


rationals = st.fractions(min_value=Fraction(1, 16), max_value=2, max_denominator=16).map(
    lambda x: sp.Rational(x.numerator, x.denominator))
signed = st.fractions(min_value=-3, max_value=3, max_denominator=8).map(
    lambda x: sp.Rational(x.numerator, x.denominator))


@st.composite
def inputs(draw, f):
    """Steps, per-role values (a constant or one per step, one past the horizon for mu[t+1]), gradients, theta_0."""
    steps = draw(st.integers(min_value=0, max_value=5))
    hyper = {}
    for arg in compile_step(f).signature:
        if arg.role in hyper:
            continue
        schedule = isinstance(arg.symbol, sp.Indexed) and draw(st.booleans())
        hyper[arg.role] = draw(st.lists(rationals, min_size=steps + 1, max_size=steps + 1)) if schedule \
            else draw(rationals)
    grads = draw(st.lists(signed, min_size=steps, max_size=steps))
    return steps, hyper, grads, draw(signed), (draw(rationals), draw(signed))


def _as_float(value):
    return [float(x) for x in value] if isinstance(value, list) else float(value)


def _three_ways(case, data, quadratic) -> tuple[dict, dict, dict]:
    """The state after the last step: the program iterated symbolically, the engine's exact run and
    its float64 run, each a dict over the state variables."""
    f = case.formulation
    steps, hyper, grads, theta0, (curv, off) = data
    expected = program_values(case, steps, hyper, grads, theta0, quadratic, (curv, off))
    source = {"objective": Quadratic(curv, off)} if quadratic else {"gradients": grads}
    exact = run(f, hyper, steps, initial={f.params: theta0}, exact=True, **source).state(steps)
    source = {"objective": Quadratic(float(curv), float(off))} if quadratic else {"gradients": _as_float(grads)}
    floats = run(f, {role: _as_float(v) for role, v in hyper.items()}, steps, initial={f.params: float(theta0)},
                 **source).state(steps)
    return ({s: expected[s] for s in f.state}, {s: exact[s] for s in f.state}, {s: floats[s] for s in f.state})


def _scaled_error(floats: dict, expected: dict) -> float:
    """The float run's largest error, relative to 1 + the largest exact magnitude."""
    scale = 1 + max(abs(float(v)) for v in expected.values())
    return max(abs(floats[s] - float(expected[s])) for s in expected) / scale


@pytest.mark.parametrize("name, options", CONFIGURATIONS, ids=IDS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_exact_and_float_runs_equal_the_program_iterated_with_given_gradients(name, options, data):
    case = Case(name, options)
    expected, exact, floats = _three_ways(case, data.draw(inputs(case.formulation)), quadratic=False)
    assert exact == expected
    assert _scaled_error(floats, expected) <= 1e-12, (floats, expected)


@pytest.mark.parametrize("name, options", CONFIGURATIONS, ids=IDS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_exact_and_float_runs_equal_the_program_iterated_on_the_quadratic(name, options, data):
    case = Case(name, options)
    expected, exact, floats = _three_ways(case, data.draw(inputs(case.formulation)), quadratic=True)
    assert exact == expected
    assert _scaled_error(floats, expected) <= 1e-12, (floats, expected)


def test_the_table_covers_first_step_special_cases_and_look_ahead_entries():
    systems = [linear_system(formulation(name, options)) for name, options in CONFIGURATIONS]
    assert sum(s.first_step_differs for s in systems) >= 3
    offsets = {a.offset for name, options in CONFIGURATIONS for a in compile_step(formulation(name, options)).signature}
    assert 1 in offsets and 0 in offsets


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(signed, signed), min_size=3, max_size=3), signed, signed)
def test_elements_are_independent_copies_of_the_scalar_system(grads, a, b):
    f = get("pytorch_sgd", nesterov=True)
    hyper = {"lr": sp.Rational(1, 4), "momentum": [sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 3)],
             "weight_decay": sp.Rational(1, 8)}
    both = run(f, hyper, 3, gradients=[list(pair) for pair in grads], initial={f.params: [a, b]}, exact=True)
    for e, x0 in enumerate((a, b)):
        alone = run(f, hyper, 3, gradients=[pair[e] for pair in grads], initial={f.params: x0}, exact=True)
        assert list(both.x[..., e].reshape(-1)) == list(alone.x.reshape(-1))


def test_an_irrational_momentum_stays_exact():
    f = get("sutskever_momentum")
    hyper = {"lr": sp.Rational(1, 2), "momentum": sp.sqrt(2) / 2}
    got = run(f, hyper, 3, gradients=[1, -1, 2], initial={f.params: 1}, exact=True).state(3)
    want = program_values(Case("sutskever_momentum", ()), 3, hyper, [1, -1, 2], sp.S.One, False)
    assert all(sp.simplify(got[s] - want[s]) == 0 for s in f.state)
    assert got[f.params].has(sp.sqrt(2))


def test_a_value_per_entry_overrides_the_base_which_overrides_the_role():
    f = get("plain_gd")
    common = dict(gradients=[1, 1], initial={f.params: 0}, exact=True)
    assert run(f, {"lr": 1}, 2, **common).state(2)[f.params] == -2
    assert run(f, {"lr": 1, eps: [2, 3]}, 2, **common).state(2)[f.params] == -5
    assert run(f, {"lr": 1, "epsilon": 4}, 2, **common).state(2)[f.params] == -8
    assert run(f, {eps: 2, eps[2]: 5}, 2, **common).state(2)[f.params] == -7


def test_a_look_ahead_entry_reads_the_next_steps_value_and_a_short_schedule_is_refused_before_running():
    f = get("bengio_nesterov")
    (ahead,) = [a for a in compile_step(f).signature if a.offset == 1]
    assert ahead.symbol == mu[t + 1] and ahead.role == "momentum"
    with pytest.raises(DeriveError, match="momentum has 3 values but step 3 needs its value at step 4"):
        run(f, {"lr": 0.1, "momentum": [0.5, 0.5, 0.5]}, 3, gradients=[1, 1, 1], initial={f.params: 0})


def test_a_missing_role_is_named():
    f = get("pytorch_sgd")
    with pytest.raises(DeriveError, match="no value for dampening"):
        run(f, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0}, 2, gradients=[1, 1], initial={f.params: 0})


def test_run_takes_exactly_one_source_of_gradients():
    f = get("plain_gd")
    with pytest.raises(DeriveError, match="exactly one of gradients"):
        run(f, {"lr": 1}, 1, initial={f.params: 0})
    with pytest.raises(DeriveError, match="exactly one of gradients"):
        run(f, {"lr": 1}, 1, gradients=[1], objective=Quadratic(1, 0), initial={f.params: 0})
    with pytest.raises(DeriveError, match=r"gradients must give g_1..g_3, got 2"):
        run(f, {"lr": 1}, 3, gradients=[1, 1], initial={f.params: 0})


def test_an_unbound_entry_stays_a_symbol_only_when_asked():
    inverted = mu[t] * eps[t] / eps[t - 1]  # reads epsilon[0] at step 1, multiplied by the zero buffer
    f = get("pytorch_momentum_documented", momentum=inverted)
    hyper = {eps[k]: sp.Rational(1, k + 1) for k in range(1, 4)} | {mu[k]: sp.Rational(1, 2) for k in range(1, 4)}
    with pytest.raises(DeriveError, match=r"no value for .* at step 0 \(epsilon\[0\]\)"):
        run(f, hyper, 2, gradients=[1, 1], initial={f.params: 0}, exact=True)
    state = run(f, hyper, 2, gradients=[1, 1], initial={f.params: 0}, exact=True, symbolic=True).state(2)
    assert not any(v.free_symbols for v in state.values())  # epsilon[0] met only the zero buffer


def test_float_matrices_per_step_equal_the_exact_ones():
    f = get("pytorch_sgd", nesterov=True)
    compiled = compile_step(f)
    hyper = {"lr": [0.5, 0.25, 0.125], "momentum": [0.5, 0.75, 0.25], "dampening": 0, "weight_decay": 0.25}
    A, B, C = compiled.matrices(hyper, 3)
    assert A.shape == (3, 2, 2) and B.shape == (3, 2, 1) and C.shape == (3, 1, 2)
    for k in range(1, 4):
        exact = compiled.exact(compiled.arguments(hyper, k), k)
        for got, want in zip((A[k - 1], B[k - 1], C[k - 1]), exact):
            assert np.array_equal(got, np.array(want, dtype=float))
