"""Plain Unicode text for the terminal and JSON (derive.plaintext): the LaTeX the claims write in
their words, and SymPy expressions with Greek names as letters. One exact-string case per rule."""

import json

import pytest
import sympy as sp

from derive.__main__ import main
from derive.claims.evidence import Prose
from derive.plaintext import expression, latex_text, terminal
from derive.symbols import eps, mu, t, tau


@pytest.mark.parametrize("tex, text", [
    (r"$\mu$", "μ"),  # a Greek letter
    (r"$\varepsilon_t, \mu_t$", "ε_t, μ_t"),  # varepsilon is ε; one-character subscripts stay bare
    (r"$\mu'_t = \mu_t \varepsilon_{t-1}/\varepsilon_t$", "μ'_t = μ_t ε_{t-1}/ε_t"),  # a longer one keeps braces
    (r"$A'_{2} S_{1} = S_{2} A_{2}$", "A'_2 S_1 = S_2 A_2"),  # braces of one character dropped
    (r"$\rho' = \mathrm{lr}\,\rho$", "ρ' = lr ρ"),  # \mathrm's text; a thin space is a space
    (r"$\tau \neq 0$", "τ ≠ 0"),  # relations
    (r"$v \leftarrow \mu v - \varepsilon g$", "v ← μ v - ε g"),  # arrows
    (r"$\rho = 1 - 1/\sqrt\kappa$", "ρ = 1 - 1/√κ"),  # a root of one symbol
    (r"$\sqrt{1 - \beta}$", "√(1 - β)"),  # of a group: bracketed
    (r"$\frac{1}{t+1}$", "1/(t+1)"),  # a fraction
    (r"$v_{t+1} = \mu v_t - \varepsilon\nabla f(\theta_t)$", "v_{t+1} = μ v_t - ε∇f(θ_t)"),  # nabla binds
    (r"$\Theta_t = \theta_t + \mu_{t+1} v_t$", "Θ_t = θ_t + μ_{t+1} v_t"),  # capitals
    (r"$\sum_j \varepsilon_j \prod \mu$", "Σ_j ε_j Π μ"),  # big operators
    (r"$(9/10)^{T-k}$", "(9/10)^{T-k}"),  # superscripts like subscripts
    (r"weights are free of $\varepsilon$; the paper's carry $\varepsilon_k/\varepsilon_T$",
     "weights are free of ε; the paper's carry ε_k/ε_T"),  # words outside dollars kept as written
    ("no mathematics here", "no mathematics here"),
])
def test_latex_in_words_reads_as_unicode_text(tex, text):
    assert latex_text(tex) == text


@pytest.mark.parametrize("expr, text", [
    (eps[t - 1] * mu[t] / eps[t], "ε[t - 1]*μ[t]/ε[t]"),  # indexed Greek names
    (-tau * (tau - 1) * eps[1], "-τ*(τ - 1)*ε[1]"),
    (sp.Symbol("beta_1") + sp.Symbol("theta'"), "β_1 + θ'"),  # the letters before _ or '
    (sp.Symbol("h_TSO") + sp.Symbol("eta") + sp.Symbol("beta"), "β + η + h_TSO"),  # whole names only
    (sp.Matrix([[1, 0], [0, -1 / sp.Symbol("epsilon")]]).tolist(), "[[1, 0], [0, -1/ε]]"),
])
def test_expressions_print_in_sympy_syntax_with_greek_letters(expr, text):
    assert expression(expr) == text


def test_prose_is_plain_text_and_keeps_its_parts_for_the_appendix():
    prose = Prose(r"map $\mu'_t = $", eps[t - 1] * mu[t] / eps[t], r" when $\tau \neq 0$")
    assert str(prose) == "map μ'_t = ε[t - 1]*μ[t]/ε[t] when τ ≠ 0"
    assert prose.parts[0] == r"map $\mu'_t = $" and prose.parts[1] == eps[t - 1] * mu[t] / eps[t]
    assert terminal(prose) == str(prose)  # reading plain text again changes nothing


def test_the_terminal_claims_table_and_its_json_carry_no_latex(capsys):
    assert main(["claims", "--only", "A2", "A3", "B9", "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "$" not in table and "\\" not in table, table
    assert "ρ' = lr ρ" in table and "μ'_t = ε[t - 1]*μ[t]/ε[t]" in table and "τ ≠ 0" in table
    assert main(["claims", "--only", "B9", "--json", "--quiet"]) == 0
    (b9,) = json.loads(capsys.readouterr().out)
    assert "$" not in b9["evidence"] + b9["condition"] and "τ" in b9["evidence"]
