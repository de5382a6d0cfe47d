"""The house printer: one exact-string case per rule (latexify_py style)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sympy as sp

from derive.render.printer import house_latex
from derive.symbols import Theta, b, d, eps, g, ghat, grad_f, j, k, lam, mu, t, tau, T, theta, theta_la, theta_wd, v
from derive.unroll import Phi


@pytest.mark.parametrize("expr, tex", [
    (theta[t - 1], r"\theta_{t-1}"),
    (theta[t + 1], r"\theta_{t+1}"),
    (theta[0], r"\theta_{0}"),
    (eps[t], r"\varepsilon_{t}"),
    (mu[t], r"\mu_{t}"),
    (v[t], r"v_{t}"),
    (b[t], r"b_{t}"),
    (ghat[t], r"\hat{g}_{t}"),
    (d[t], r"d_{t}"),
    (theta_wd[t], r"\tilde{\theta}_{t}"),
    (theta_la[t], r"\theta'_{t}"),
    (Theta[t - 1], r"\Theta_{t-1}"),
    (Phi[T, k, 0, 1], r"\Phi_{T,k,0,1}"),
    (tau, r"\tau"),
    (lam, r"\lambda"),
])
def test_house_names_and_compact_subscripts(expr, tex):
    assert house_latex(expr) == tex


def test_gradient_of_the_objective_prints_as_nabla_f():
    assert house_latex(grad_f(theta[t - 1] + mu[t] * v[t - 1])) == r"\nabla f\left(\theta_{t-1} + \mu_{t} v_{t-1}\right)"


def test_rationals_are_exact_fractions():
    assert house_latex(sp.Rational(9, 10) * eps[t]) == r"\frac{9}{10} \varepsilon_{t}"


def test_a_float_is_refused_with_the_fix():
    with pytest.raises(TypeError, match="Rational"):
        house_latex(sp.Float(0.9) * eps[t])


def test_terms_read_previous_state_first_then_negative_terms():
    assert house_latex(-eps[t] * g[t] + mu[t] * v[t - 1]) == r"\mu_{t} v_{t-1} - \varepsilon_{t} g_{t}"
    assert house_latex(theta[t - 1] - eps[t] * b[t]) == r"\theta_{t-1} - \varepsilon_{t} b_{t}"


def test_numbers_lead_a_sum_but_a_step_reads_k_plus_one():
    assert house_latex(1 + mu[t + 1]) == r"1 + \mu_{t+1}"
    assert house_latex(1 - tau) == r"1 - \tau"


def test_factors_read_constants_schedules_brackets_then_state():
    assert house_latex(b[t] * eps[t]) == r"\varepsilon_{t} b_{t}"
    assert house_latex((1 - tau) * ghat[t]) == r"\left(1 - \tau\right) \hat{g}_{t}"
    assert house_latex(-(1 + mu[t + 1]) * eps[t] * g[t]) == r"- \varepsilon_{t} \left(1 + \mu_{t+1}\right) g_{t}"
    assert house_latex(lam * theta[t - 1]) == r"\lambda \theta_{t-1}"


def test_powers_of_schedules():
    assert house_latex(mu[t] ** 2 * v[t - 1]) == r"\mu_{t}^{2} v_{t-1}"


def test_sums_and_products_typeset_with_limits_and_no_brackets():
    expr = sp.Sum(sp.Product(mu[j], (j, k + 1, T)) * eps[k] * g[k], (k, 1, T))
    assert house_latex(expr) == r"\sum_{k=1}^{T} \varepsilon_{k} g_{k} \prod_{j=k+1}^{T} \mu_{j}"


def test_a_sum_of_a_sum_is_bracketed():
    assert house_latex(sp.Sum(g[k] + theta[k], (k, 1, T))) == r"\sum_{k=1}^{T} \left(g_{k} + \theta_{k}\right)"


def test_quotients_use_frac():
    assert house_latex(eps[t] * mu[t] / eps[t - 1]) == r"\frac{\varepsilon_{t} \mu_{t}}{\varepsilon_{t-1}}"


def test_order_does_not_depend_on_construction_order():
    a = theta[t - 1] + mu[t] * v[t - 1] - eps[t] * g[t]
    z = -eps[t] * g[t] + v[t - 1] * mu[t] + theta[t - 1]
    assert house_latex(a) == house_latex(z) == r"\theta_{t-1} + \mu_{t} v_{t-1} - \varepsilon_{t} g_{t}"


def test_a_quotient_prints_the_step_factor_then_the_state():
    assert house_latex(eps[t] * mu[t] / eps[t - 1] * v[t - 1]) == r"\frac{\varepsilon_{t} \mu_{t}}{\varepsilon_{t-1}} v_{t-1}"
    assert house_latex(-v[t] / eps[t]) == r"- \frac{v_{t}}{\varepsilon_{t}}"


def test_matrices_act_on_the_state_from_the_left():
    A, x = sp.IndexedBase("A"), sp.IndexedBase("x")
    assert house_latex(A[t] * x[t - 1]) == r"A_{t} x_{t-1}"


def test_a_denominator_reads_with_a_positive_constant():
    beta = sp.Symbol("beta")
    assert house_latex(-1 / (beta - 1)) == house_latex(1 / (1 - beta)) == r"\frac{1}{1 - \beta}"
    assert house_latex(-eps[t] / (mu[t] - 1)) == r"\frac{\varepsilon_{t}}{1 - \mu_{t}}"
    assert house_latex(1 / (beta - 1)) == r"- \frac{1}{1 - \beta}"  # the sign moves out, it does not vanish


def test_an_even_power_of_a_bracket_reads_with_a_positive_constant():
    tau = sp.Symbol("tau")
    assert house_latex((tau - 1) ** 2) == r"\left(1 - \tau\right)^{2}"
    assert house_latex((tau - 1) ** 3) == r"\left(\tau - 1\right)^{3}"  # odd: the sign is part of the value


def test_a_coefficient_reads_in_its_shortest_equal_form():
    from derive.render.derivation import readable

    lam = sp.Symbol("lambda")
    expanded = sp.expand((1 - lam * eps[1]) * (1 - lam * eps[2]))
    assert readable(expanded) == sp.factor(expanded)
    long = sp.expand(1 - lam * (eps[1] + eps[2] + eps[3] * mu[3]) + lam**2 * (eps[1] * eps[2] + mu[2] * eps[3]))
    chosen = readable(long)
    assert sp.expand(chosen - long) == 0 and len(house_latex(chosen)) < len(house_latex(long))


# Attributes of a SymPy printer that are private to it: SymPy may rename them in any release.
PRIVATE_PRINTER = re.compile(r"_print\w*|_as_ordered_terms|_needs_\w*brackets|_term_key|_factor_key")


def test_no_module_outside_the_printer_calls_a_private_printer_method():
    """Only ``derive/render/printer.py`` may reach into SymPy's printer; the layout reads its public methods."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in sorted([*root.glob("derive/**/*.py"), *root.glob("verify/**/*.py"), *root.glob("bench/*.py")]):
        if path == root / "derive/render/printer.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and PRIVATE_PRINTER.fullmatch(node.attr):
                offenders.append(f"{path.relative_to(root)}:{node.lineno} .{node.attr}")
    assert not offenders, offenders


def test_the_public_term_pieces_print_as_the_sum_does():
    from derive.render.printer import HousePrinter

    printer, expr = HousePrinter(), -(1 - tau) * b[t - 1] + eps[t] * (mu[t] + 1) * g[t] - theta[t - 1]
    pieces = [printer.term(term) for term in printer.ordered_terms(expr)]
    joined = pieces[0] + "".join(f" - {p[1:].lstrip()}" if p.startswith("-") else f" + {p}" for p in pieces[1:])
    assert joined == house_latex(expr)
    assert printer.subscript(t - 1) == "t-1"
