"""The convention change shown in the appendix is the change of variables the equivalence solver proved."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.catalogue import get
from derive.convention import in_convention
from derive.equivalence import equivalence
from derive.render.convention import convert
from derive.symbols import b, eps, g, mu, t, v


def test_the_shown_change_of_variables_is_the_proofs():
    converted = in_convention(get("sutskever_momentum"), "pytorch")
    assert converted.proof and converted.definition() == -v[t] / eps[t]
    assert convert(get("sutskever_momentum"), "pytorch")[0].rhs == converted.definition()


@pytest.mark.parametrize("name, convention", [("sutskever_momentum", "pytorch"), ("pytorch_momentum_documented", "paper")])
def test_a_wrong_scale_is_refuted_by_the_solver(name, convention):
    converted = in_convention(get(name), convention)
    wrong = sp.diag(1, -1)  # the sign flip without the learning rate
    assert not equivalence(converted.original, converted.formulation, substitution=wrong)


def test_the_rewritten_momentum_carries_the_learning_rate_ratio():
    converted = in_convention(get("sutskever_momentum"), "pytorch")
    buffer = next(a for a in converted.formulation.update if a.base == b)
    assert sp.simplify(buffer.value - (mu[t] * eps[t - 1] / eps[t] * b[t - 1] + g[t])) == 0
