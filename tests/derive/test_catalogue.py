"""The catalogue: every entry builds, reads as affine, and refuses what torch refuses."""

from __future__ import annotations

import inspect
import math

import pytest
import sympy as sp

from derive.catalogue import CATALOGUE, get, names
from derive.errors import InvalidHyperparameter, UnknownFormulation
from derive.system import linear_system

ENTRIES = list(CATALOGUE)


def _accepts(name: str, option: str) -> bool:
    return option in inspect.signature(CATALOGUE[name]).parameters


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_builds_with_its_name_title_and_citation(name):
    f = get(name)
    assert f.name == name
    assert f.title and f.citation
    assert f.params in f.state


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_is_an_affine_system_with_exact_coefficients(name):
    system = linear_system(get(name))
    n = len(system.formulation.state)
    assert system.A.shape == (n, n) and system.B.shape == (n, 1)
    for M in (system.A, system.B, system.C, system.A1, system.B1):
        assert not M.atoms(sp.Float), f"{name}: a float inside {M}"


def test_names_lists_the_catalogue_in_order():
    assert names() == ENTRIES
    assert len(ENTRIES) >= 8


def test_an_unknown_name_is_refused_with_a_suggestion():
    with pytest.raises(UnknownFormulation, match="did you mean pytorch_sgd"):
        get("pytorch_sdg")


def test_a_number_becomes_an_exact_rational():
    f = get("pytorch_sgd", lr=0.1, momentum=0.9)
    assert f.hyper["lr"] == sp.Rational(1, 10)
    assert f.hyper["momentum"] == sp.Rational(9, 10)


NEGATIVE = [(name, option) for name in ENTRIES for option in ("lr", "momentum", "weight_decay", "dampening")
            if _accepts(name, option)]


@pytest.mark.parametrize("name,option", NEGATIVE, ids=[f"{n}-{o}" for n, o in NEGATIVE])
def test_a_negative_hyperparameter_is_refused_naming_the_value(name, option):
    with pytest.raises(InvalidHyperparameter, match=rf"{option} must be non-negative, got {option}=-1"):
        get(name, **{option: -1})


@pytest.mark.parametrize("option", ["lr", "momentum", "weight_decay"])
def test_nan_and_infinity_are_refused(option):
    with pytest.raises(InvalidHyperparameter, match=rf"{option} must be finite, got {option}=nan"):
        get("pytorch_sgd", **{option: math.nan})
    with pytest.raises(InvalidHyperparameter, match=rf"{option} must be finite, got {option}=inf"):
        get("pytorch_sgd", **{option: math.inf})


@pytest.mark.parametrize("option", ["lr", "momentum", "dampening", "weight_decay"])
def test_a_bool_is_not_a_number(option):
    with pytest.raises(InvalidHyperparameter, match=rf"{option} must be a number, got {option}=True"):
        get("pytorch_sgd", **{option: True})


@pytest.mark.parametrize("name", ["pytorch_sgd", "mlx_sgd"])
def test_nesterov_with_dampening_is_refused(name):
    with pytest.raises(InvalidHyperparameter, match=r"nesterov=True requires dampening=0, got dampening=1/10"):
        get(name, momentum=0.9, dampening=0.1, nesterov=True)


@pytest.mark.parametrize("name", ["pytorch_sgd", "mlx_sgd"])
def test_nesterov_without_momentum_is_refused(name):
    with pytest.raises(InvalidHyperparameter, match=r"nesterov=True requires momentum > 0, got momentum=0"):
        get(name, momentum=0, nesterov=True)


@pytest.mark.parametrize("name", ["pytorch_sgd", "mlx_sgd"])
def test_nesterov_defaults_to_no_dampening(name):
    assert get(name, nesterov=True).hyper.get("dampening", 0) == 0


def test_zero_momentum_removes_the_buffer():
    assert get("pytorch_sgd", momentum=0).state == (get("plain_gd").params,)
