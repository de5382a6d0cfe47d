"""Symbolic-horizon closed forms: proven by induction, checked against the unroll, and wrong ones refuted."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from derive.catalogue import CATALOGUE
from derive.induction import (
    Proof,
    TransitionKernel,
    check_against_concrete,
    prove,
    symbolic_closed_form,
    transition_kernel,
)
from derive.summation import instantiate, linear_normal_form, peel
from derive.symbols import T, eps, g, i, k, mu, tau, theta, v
from derive.system import linear_system
from unroll_cases import build, cases


def build_default(name, **options):
    return build(name, options)


EXPLICIT = [name for name in CATALOGUE if transition_kernel(linear_system(build_default(name))).explicit]


@pytest.mark.parametrize("name,options", cases())
def test_symbolic_closed_form_is_proven_and_matches_the_unroll_for_T_1_to_8(name, options):
    scf = symbolic_closed_form(build(name, options))  # raises if the proof or the check fails
    assert scf.verified_up_to == 8
    proof = prove(scf)
    assert proof.holds, proof.failures()
    assert len(proof.obligations) >= 2 * len(scf.state)
    assert set(scf.state) == set(scf.formulation.state)
    assert all(isinstance(label, str) and isinstance(e, sp.Basic) for label, e in scf.proof)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_symbolic_closed_form_with_symbolic_initial_values_is_proven(name):
    scf = symbolic_closed_form(build_default(name), symbolic_init=True)
    assert scf.verified_up_to == 8
    assert all(s[0] in scf.state[s].free_symbols or not scf.first_step_split
               for s in scf.formulation.state if s == scf.formulation.params)


@pytest.mark.parametrize("name", EXPLICIT)
def test_explicit_kernel_entries_are_the_ordered_product_of_step_matrices(name):
    system = linear_system(build_default(name))
    kernel = symbolic_closed_form(system.formulation).kernel
    for upper in range(0, 4):
        for lower in range(0, upper + 1):
            product = sp.eye(system.size)
            for step in range(lower + 1, upper + 1):
                product = system.A.subs(sp.Symbol("t", integer=True, positive=True), step) * product
            written = kernel.at(upper, lower).applyfunc(instantiate)
            assert (written - product).applyfunc(sp.expand) == sp.zeros(system.size), (upper, lower)


def test_the_kernel_is_written_out_unless_weight_decay_couples_the_state():
    assert symbolic_closed_form(build_default("pytorch_sgd", weight_decay=0)).kernel.explicit
    assert symbolic_closed_form(build_default("keras_sgd")).kernel.explicit  # decoupled decay: triangular
    assert not symbolic_closed_form(build_default("pytorch_sgd")).kernel.explicit
    assert not symbolic_closed_form(build_default("caffe_sgd")).kernel.explicit


def test_the_first_step_is_split_off_exactly_where_step_1_differs():
    assert symbolic_closed_form(build_default("pytorch_sgd")).first_step_split
    assert symbolic_closed_form(build_default("pytorch_nesterov_implemented")).first_step_split
    assert not symbolic_closed_form(build_default("mlx_sgd")).first_step_split  # zero buffer: step 1 is regular
    assert not symbolic_closed_form(build_default("sutskever_momentum")).first_step_split


def test_the_result_is_cached_per_formulation():
    f = build_default("sutskever_nesterov")
    assert symbolic_closed_form(f) is symbolic_closed_form(f)


def assert_refuted(scf) -> Proof:
    proof = prove(scf)
    assert not proof.holds, "a wrong closed form was proven"
    check = check_against_concrete(scf, 8)
    assert not check.holds, "a wrong closed form matched the unroll"
    return proof


@pytest.mark.parametrize("options", [dict(weight_decay=0), {}], ids=["explicit", "named-kernel"])
def test_dropping_the_dampening_factor_is_refuted(options):
    scf = symbolic_closed_form(build_default("pytorch_sgd", **options))
    wrong = replace(scf, state={s: e.xreplace({tau: 0}) for s, e in scf.state.items()})
    assert_refuted(wrong)


@pytest.mark.parametrize("name", ["sutskever_momentum", "pytorch_sgd"])
def test_shifting_the_gradient_index_is_refuted(name):
    scf = symbolic_closed_form(build_default(name))
    wrong = replace(scf, state={s: e.xreplace({g[k]: g[k + 1]}) for s, e in scf.state.items()})
    assert_refuted(wrong)


def test_shifting_a_product_limit_is_refuted():
    scf = symbolic_closed_form(build_default("sutskever_momentum"))

    def shifted(e):
        (v, lo, hi), = e.limits
        return sp.Product(e.function, (v, lo - 1, hi))

    wrong = replace(scf, state={s: e.replace(lambda x: isinstance(x, sp.Product), shifted)
                                for s, e in scf.state.items()})
    assert_refuted(wrong)


def test_bumping_the_exponent_of_a_constant_momentum_is_refuted():
    scf = symbolic_closed_form(build_default("sutskever_momentum", momentum="0.9"))
    assert scf.state[v].has(sp.Pow(sp.Rational(9, 10), T - k))
    wrong = replace(scf, state={s: e.replace(lambda x: x.is_Pow and x.exp.has(T), lambda x: x.base ** (x.exp + 1))
                                for s, e in scf.state.items()})
    assert_refuted(wrong)


def test_a_wrong_initial_term_fails_the_base_case_only():
    scf = symbolic_closed_form(build_default("sutskever_momentum"))
    state = dict(scf.state)
    state[theta] = state[theta] + eps[1] * g[1]  # constant in T: the step T -> T+1 still holds
    proof = assert_refuted(replace(scf, state=state))
    failed = [label for label, residual in proof.obligations if residual != 0]
    assert failed == ["base case for theta"]
    assert check_against_concrete(replace(scf, state=state)).verified_up_to == 0


def test_a_wrong_kernel_entry_fails_the_kernel_lemma():
    scf = symbolic_closed_form(build_default("sutskever_momentum"))
    entries = sp.Matrix(scf.kernel.entries)
    entries[1, 1] = sp.Product(mu[i], (i, k + 1, T - 1))
    proof = prove(replace(scf, kernel=TransitionKernel(scf.kernel.step, sp.ImmutableMatrix(entries), True)))
    assert "kernel step (1,1)" in [label for label, r in proof.obligations if r != 0]


def test_peeling_and_sum_linearity_prove_a_textbook_identity():
    # sum_{k=1}^{T+1} k eps_k - (sum_{k=1}^{T} k eps_k + (T+1) eps_{T+1}) = 0
    total = sp.Sum(k * eps[k], (k, 1, T))
    residual = linear_normal_form(peel(total.subs(T, T + 1), T + 1) - total - (T + 1) * eps[T + 1])
    assert residual == 0
    assert linear_normal_form(peel(total.subs(T, T + 1), T + 1) - total) != 0


@pytest.mark.slow
def test_every_row_of_the_table_proves_and_matches_the_unroll_up_to_8():
    # The time this takes is a benchmark, not a test: bench/bench_induction.py prints it.
    for name, options in [(row.values[0], row.values[1]) for row in cases()]:
        f = build(name, options)
        scf = symbolic_closed_form.__wrapped__(f)
        assert scf.verified_up_to == 8
