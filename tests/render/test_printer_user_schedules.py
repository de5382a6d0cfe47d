"""A user's schedule base prints like the table's: QHM's alpha_t and beta_t from a plugin entry go
before brackets and the state, as epsilon_t and mu_t do (derive.symbols.schedule_names)."""

from __future__ import annotations

import pytest
import sympy as sp

import derive
from derive import Assign, Formulation
from derive.registry import unregister
from derive.render.derivation import update_rows
from derive.render.document import Display, Document, Section
from derive.render.markdown import document
from derive.render.printer import house_latex
from derive.symbols import g, schedule_names, t, theta

ALPHA = sp.IndexedBase("alpha", positive=True)  # the user's learning-rate schedule
BETA = sp.IndexedBase("beta", real=True)  # the user's momentum schedule
NU = sp.Symbol("nu", real=True)
BUF = sp.IndexedBase("buf", real=True)


def plugin_qhm() -> Formulation:
    return Formulation(
        name="plugin_qhm", title="QHM (a plugin's)", citation="Ma and Yarats 2019",
        state=(theta, BUF), params=theta, grad_at=theta[t - 1],
        update=(Assign(BUF[t], BETA[t] * BUF[t - 1] + (1 - BETA[t]) * g[t]),
                Assign(theta[t], theta[t - 1] - ALPHA[t] * ((1 - NU) * g[t] + NU * BUF[t]))),
        init={BUF: 0}, hyper={"lr": ALPHA[t], "momentum": BETA[t], "nu": NU})


@pytest.fixture
def registered():
    derive.register(plugin_qhm)
    yield derive.get("plugin_qhm")
    unregister("plugin_qhm")


def test_a_base_is_a_schedule_once_an_entry_reads_it_as_a_hyperparameter(registered):
    assert {"alpha", "beta"} <= schedule_names() and "buf" not in schedule_names()


def test_unregistered_the_base_is_an_ordinary_indexed_symbol():
    assert "alpha" not in schedule_names()
    assert house_latex(ALPHA[t] * (1 - NU) * g[t]) == r"\left(1 - \nu\right) \alpha_{t} g_{t}"


@pytest.mark.parametrize("expr, tex", [
    (ALPHA[t] * (1 - NU) * g[t], r"\alpha_{t} \left(1 - \nu\right) g_{t}"),  # before a bracket
    (BETA[t] * BUF[t - 1], r"\beta_{t} buf_{t-1}"),  # before the state
    (ALPHA[t] * BETA[t] * g[t], r"\alpha_{t} \beta_{t} g_{t}"),  # schedules by name among themselves
])
def test_a_plugin_schedule_prints_like_the_table_s(registered, expr, tex):
    assert house_latex(expr) == tex


def test_the_appendix_update_of_a_plugin_entry_puts_its_schedules_first(registered):
    section = Section(registered.title, registered.name, (Display(update_rows(registered)),))
    markdown = document(Document("t", (), (section,)))
    assert r"\alpha_{t} \left(\nu buf_{t} + \left(1 - \nu\right) g_{t}\right)" in markdown, markdown
    assert r"\beta_{t} buf_{t-1}" in markdown and r"\right) \alpha_{t}" not in markdown
