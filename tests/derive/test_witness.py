"""Witnesses: a frozen record of exact values, one value per symbol for both runs, any role without
special-casing (QHM's nu, a momentum called beta)."""

from __future__ import annotations

import json
import pickle
from dataclasses import FrozenInstanceError, replace

import pytest
import sympy as sp

from derive import Witness, equivalence, get
from derive.symbols import EXTRA_CONSTANTS, ROLES, lam, tau
from derive.witness import TARGET, assign_values, exact_trajectory, witness
from derive.symbols import t
from user_formulations import beta, nu, qhm


def test_qhm_against_plain_gd_gives_a_residual_and_a_witness_not_a_sympify_error():
    result = equivalence(qhm(), get("plain_gd"), same_params=True)
    assert not result
    w = result.witness
    assert isinstance(w, Witness) and w.step == 1 and w.difference != 0
    values = w.hyperparameters
    assert values[nu] in EXTRA_CONSTANTS and values[nu] not in (0, 1)
    assert values[beta] == ROLES["momentum"].witness[0]  # beta fills the momentum role


def test_qhm_witness_values_reproduce_both_runs():
    result = equivalence(qhm(), get("plain_gd"), same_params=True)
    w = result.witness
    # rerun each formulation alone with the witness's own values (independent of the shared assignment)
    given = {s.base if isinstance(s, sp.Indexed) else s: v for s, v in w.hyperparameters.items()}
    assert w.step == 1  # one value per symbol is then the whole schedule the runs read
    plain = exact_trajectory(get("plain_gd"), w.step, values=given)
    assert plain[w.step][get("plain_gd").params] == w.value
    source = exact_trajectory(qhm(), w.step, values=given)
    assert source[w.step][qhm().params] == w.claimed


def test_roles_the_table_lacks_get_distinct_nondegenerate_values_deterministically():
    f = qhm(lr=sp.Rational(1, 2))
    other = qhm(lr=sp.Rational(1, 2), momentum=sp.Symbol("gamma", real=True), name="qhm2")
    other = replace(other, hyper={**other.hyper, "eta": sp.Symbol("eta", real=True)})
    values = assign_values(f, other)
    extra = [values[s] for s in (sp.Symbol("eta", real=True), nu)]
    assert len(set(extra)) == 2 and all(v not in (0, 1) for v in extra)
    assert assign_values(f, other) == assign_values(other, f) == values  # order of the formulations irrelevant


def test_one_symbol_filling_two_roles_gets_one_value_in_both_runs():
    # tau is PyTorch's dampening; here it is also another form's weight decay
    F = get("pytorch_sgd", weight_decay=0)
    G = get("pytorch_sgd", dampening=0, weight_decay=tau)
    assert assign_values(F, G)[tau] == assign_values(G, F)[tau]
    w = equivalence(F, G, same_params=True).witness
    assert w.hyperparameters[tau] == ROLES["dampening"].witness  # the first role in the table's order decides
    own = {"dampening": w.hyperparameters[tau], "weight_decay": w.hyperparameters[tau]}
    runs = [exact_trajectory(f, w.step, values=own)[w.step][f.params] for f in (F, G)]
    assert (runs[1], runs[0]) == (w.value, w.claimed)


def test_a_witness_is_frozen_json_ready_and_survives_pickling():
    w = equivalence(get("sutskever_momentum"), get("pytorch_momentum_documented")).witness
    with pytest.raises(FrozenInstanceError):
        w.step = 3
    data = w.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert sp.Rational(data["difference"]) == w.difference == w.value - w.claimed
    assert pickle.loads(pickle.dumps(w)) == w
    assert all(isinstance(v, sp.Rational) for v in w.hyperparameters.values())


def test_a_witness_is_none_when_the_relation_vanishes_on_every_step():
    f = get("plain_gd")
    assert witness(f, f, TARGET[t] - f.params[t], steps=3) is None
