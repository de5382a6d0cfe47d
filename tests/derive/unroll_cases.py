"""The shared table of configurations for the unroll and induction tests, and exact comparison.

``CASES`` holds (id, name, options, slow) rows: every catalogue entry with its defaults (everything symbolic) and
the option variants of the framework entries: torch.optim.SGD over
momentum x dampening x weight decay x nesterov x maximize (the combinations torch
accepts), numeric hyperparameters, and the Nesterov flags of Keras, Caffe,
TensorFlow 1 and MLX.

:func:`polynomial` expands an expression in a sparse polynomial ring over QQ
(much faster than ``sympy.expand`` on nested trees); two expressions are equal
exactly when their polynomials are.
"""

from __future__ import annotations

import functools
import itertools

import pytest
import sympy as sp
from sympy.polys.fields import field
from sympy.polys.rings import ring

from derive.catalogue import CATALOGUE, get


def _torch_variants():
    for momentum, dampening, weight_decay, nesterov, maximize in itertools.product(
        (0, None), (None, 0), (0, None), (False, True), (False, True)
    ):
        if momentum == 0 and (dampening == 0 or nesterov):
            continue  # without momentum there is no buffer: dampening and nesterov are moot
        if nesterov and dampening is None:
            continue  # nesterov defaults dampening to 0; listed once
        options = dict(momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                       nesterov=nesterov, maximize=maximize)
        label = ",".join(f"{k}={'sym' if v is None else v}" for k, v in options.items())
        # maximize only flips the gradient's sign; it matters next to weight decay
        slow = maximize and weight_decay == 0
        yield f"pytorch_sgd[{label}]", "pytorch_sgd", options, slow


CASES = [(name, name, {}, False) for name in CATALOGUE]
CASES += list(_torch_variants())
CASES += [
    ("pytorch_sgd[numbers]", "pytorch_sgd",
     dict(lr="0.1", momentum="0.9", dampening="0.1", weight_decay="0.01"), False),
    ("keras_sgd[nesterov]", "keras_sgd", dict(nesterov=True), False),
    ("keras_sgd[numbers]", "keras_sgd", dict(lr="0.1", momentum="0.9", weight_decay="0.01"), False),
    ("keras_sgd[lr=0.1]", "keras_sgd", dict(lr="0.1"), False),
    ("caffe_sgd[nesterov]", "caffe_sgd", dict(nesterov=True), False),
    ("tf1_momentum[nesterov]", "tf1_momentum", dict(nesterov=True), False),
    ("mlx_sgd[nesterov]", "mlx_sgd", dict(nesterov=True), False),
]


def build(name: str, options: dict):
    """The formulation, one object per configuration, so per-formulation caches are shared."""
    return _build(name, tuple(sorted(options.items())))


@functools.lru_cache(maxsize=None)
def _build(name: str, options: tuple):
    return get(name, **dict(options))


def cases(*, coupled: bool | None = None):
    """``pytest.param`` rows; *coupled* selects entries whose ``A_t`` couples the state (or not)."""
    from derive.induction import transition_kernel
    from derive.system import linear_system

    rows = []
    for label, name, options, slow in CASES:
        if coupled is not None:
            explicit = transition_kernel(linear_system(build(name, options))).explicit
            if coupled == explicit:
                continue
        rows.append(pytest.param(name, options, id=label, marks=[pytest.mark.slow] if slow else []))
    return rows


def _generators(exprs) -> list:
    atoms = set()
    for e in exprs:
        indexed = e.atoms(sp.Indexed)
        labels = {a.base.label for a in indexed}
        atoms |= indexed
        atoms |= {s for s in e.free_symbols if isinstance(s, sp.Symbol) and s not in labels}
    return sorted(atoms, key=sp.default_sort_key)


def polynomials(*exprs):
    """The expanded forms of *exprs* as elements of one polynomial ring over QQ (or its fraction field)."""
    gens = _generators(exprs)
    if not gens:
        return [sp.Rational(e) for e in exprs]
    R, *_ = ring(gens, sp.QQ)
    try:
        return [R.from_expr(e) for e in exprs]
    except ValueError:  # rational in the hyperparameters (AccSGD's c^2 xi/kappa): a field of fractions
        F, *_ = field(gens, sp.QQ)
        return [F.from_expr(e) for e in exprs]


def closed_form_expression(cf, base) -> sp.Expr:
    """``base[T]`` of a concrete closed form with its shared sub-products inlined, unexpanded."""
    known: dict = {}
    for name, value in cf.definitions.items():
        known[name] = value.xreplace(known)
    return sp.Add(*[c.xreplace(known) * x for x, c in cf.coefficients[base].items()])


def exact_value(expr: sp.Expr, binding: dict) -> sp.Rational:
    """*expr* expanded (as a polynomial over QQ), then evaluated at the rationals in *binding*."""
    gens = _generators([expr])
    if not gens:
        return sp.Rational(expr)
    R, *_ = ring(gens, sp.QQ)
    try:
        value = R.from_expr(expr).evaluate([(x, binding[gen]) for x, gen in zip(R.gens, gens)])
    except ValueError:  # rational in the hyperparameters: exact substitution, every leaf a Rational
        return sp.Rational(expr.xreplace({gen: binding[gen] for gen in gens}))
    return sp.Rational(value.numerator, value.denominator)
