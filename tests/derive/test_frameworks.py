"""The framework entries: which existing entries they equal (by the solver, not by reading), which
they do not, and the float32 hyperparameters their kernels hold (Formulation.hyper_dtype)."""

from __future__ import annotations

import re

import pytest
import sympy as sp

from derive.catalogue import CATALOGUE, get
from derive.claims.evidence import CONSTANT, EPS, MU
from derive.equivalence import equivalence
from derive.formulation import Formulation
from derive.symbols import t

FRAMEWORK_ENTRIES = ["optax_sgd", "paddle_momentum", "chainer_momentum_sgd", "chainer_nesterov_ag",
                     "lasagne_momentum", "lasagne_nesterov_momentum", "optimisers_jl_momentum",
                     "optimisers_jl_nesterov", "mxnet_sgd", "mxnet_nag", "mxnet_nag_1_5", "mxnet_nag_1_4"]
IDENTITY = sp.eye(2)
NEGATED = sp.diag(1, -1)

# (source, its options, target, its options, same parameters, the change of variables S_t)
SAME_UPDATE = [
    ("mlx_sgd", {"dampening": 0}, "optax_sgd", {}, IDENTITY),
    ("pytorch_sgd", {"dampening": 0}, "optax_sgd", {}, IDENTITY),
    ("optax_sgd", {}, "paddle_momentum", {}, IDENTITY),
    ("optax_sgd", {"nesterov": True}, "paddle_momentum", {"nesterov": True}, IDENTITY),
    ("optax_sgd", {"nesterov": True}, "mxnet_nag_1_4", {}, IDENTITY),
    ("tf1_momentum", {}, "optax_sgd", {"weight_decay": 0}, IDENTITY),
    ("caffe_sgd", {}, "mxnet_sgd", {}, NEGATED),
    ("mxnet_sgd", {}, "chainer_momentum_sgd", {}, IDENTITY),
    ("caffe_sgd", {}, "optimisers_jl_momentum", {}, IDENTITY),
    ("sutskever_momentum", {}, "lasagne_momentum", {}, IDENTITY),
    ("lasagne_nesterov_momentum", {}, "optimisers_jl_nesterov", {"weight_decay": 0}, IDENTITY),
    ("keras_sgd", {"nesterov": True, "weight_decay": 0}, "lasagne_nesterov_momentum", {}, IDENTITY),
    ("mxnet_nag_1_4", {"weight_decay": 0}, "mxnet_nag_1_5", {"weight_decay": 0}, IDENTITY),
    ("mxnet_nag_1_5", {"weight_decay": 0, **CONSTANT}, "mxnet_nag", {"weight_decay": 0, **CONSTANT},
     sp.diag(1, -EPS)),
]


def _id(case) -> str:
    source, so, target, to, _ = case
    return f"{source}{sorted(so)}-{target}{sorted(to)}"


@pytest.mark.parametrize("source, source_options, target, target_options, S", SAME_UPDATE, ids=map(_id, SAME_UPDATE))
def test_the_solver_finds_the_framework_entry_equal_to_an_existing_one(source, source_options, target,
                                                                       target_options, S):
    result = equivalence(get(source, **source_options), get(target, **target_options), same_params=True)
    assert result, f"{source} and {target}: {result}"
    assert sp.simplify(result.S[t] - S) == sp.zeros(2, 2), result.S[t]


# (source, options, target, options, a symbol the residual must contain): pairs that differ
DIFFERENT = [
    ("optax_sgd", {}, "optax_sgd", {"nesterov": True}, "mu"),
    ("mxnet_nag_1_4", {}, "mxnet_nag_1_5", {}, "lambda"),  # 1.5 dropped lambda theta from the look-ahead term
    ("mxnet_nag_1_5", {"weight_decay": 0}, "mxnet_nag", {"weight_decay": 0}, "epsilon"),  # the placement, 1.6
    ("mxnet_sgd", {}, "chainer_nesterov_ag", {}, "mu"),
    ("optimisers_jl_nesterov", {}, "mxnet_nag", {}, "lambda"),  # in place: MXNet's decay reads the new weight
    ("sutskever_nesterov", {"momentum": MU}, "chainer_nesterov_ag", {"momentum": MU, "weight_decay": 0}, "mu"),
]


@pytest.mark.parametrize("source, source_options, target, target_options, symbol", DIFFERENT,
                         ids=map(_id, [c[:4] + (None,) for c in DIFFERENT]))
def test_the_solver_tells_these_framework_updates_apart(source, source_options, target, target_options, symbol):
    result = equivalence(get(source, **source_options), get(target, **target_options), same_params=True)
    assert not result, f"{source} and {target} were found equal: {result}"
    assert symbol in {s.name for s in sp.sympify(result.residual).free_symbols} | {
        a.base.label.name for a in sp.sympify(result.residual).atoms(sp.Indexed)}, result.residual


def test_mxnet_nag_agrees_with_optimisers_jl_without_weight_decay():
    """The in-place read is the only difference: with lambda = 0 they are one update."""
    assert equivalence(get("optimisers_jl_nesterov", weight_decay=0), get("mxnet_nag", weight_decay=0),
                       same_params=True)


@pytest.mark.parametrize("name", FRAMEWORK_ENTRIES)
def test_each_framework_entry_is_registered_and_cites_a_file_and_a_version(name):
    f = get(name)
    assert name in CATALOGUE
    assert re.search(r"\w+/[\w./]+\.(py|h|jl)\b", f.citation), f.citation
    assert re.search(r"\b\d+\.\d+(\.\d+)?\b|\b[0-9a-f]{8}\b", f.citation), f.citation


FLOAT32 = {"paddle_momentum": {"momentum": "float32", "weight_decay": "float32", "lr": None},
           "mxnet_sgd": dict.fromkeys(("lr", "momentum", "weight_decay"), "float32"),
           "mxnet_nag": dict.fromkeys(("lr", "momentum", "weight_decay"), "float32"),
           "mxnet_nag_1_5": dict.fromkeys(("lr", "momentum", "weight_decay"), "float32"),
           "mxnet_nag_1_4": dict.fromkeys(("lr", "momentum", "weight_decay"))}


@pytest.mark.parametrize("name, roles", FLOAT32.items())
def test_hyper_dtype_records_the_float32_hyperparameters_the_kernel_reads(name, roles):
    f = get(name)
    assert {role: f.dtype_of(role) for role in roles} == roles


@pytest.mark.parametrize("name", [n for n in CATALOGUE if n not in FLOAT32])
def test_every_other_entry_uses_exact_hyperparameters(name):
    f = get(name)
    assert f.hyper_dtype is None and all(f.dtype_of(role) is None for role in f.hyper)


def test_an_unknown_hyper_dtype_is_refused():
    f = get("mxnet_sgd")
    fields = {k: getattr(f, k) for k in ("name", "title", "citation", "state", "params", "grad_at", "update")}
    with pytest.raises(ValueError, match="hyper_dtype .'float8'. is not one of"):
        Formulation(**fields, hyper_dtype="float8")
    with pytest.raises(ValueError, match="hyper_dtype .'half'. is not one of"):
        Formulation(**fields, hyper_dtype={"lr": "half"})
