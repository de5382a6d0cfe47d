"""The printed closed forms: the factored JSON read back by a script equals the iteration.

The evaluator below is written from the schema in ``derive unroll --help``
(``derive/commands/unroll.py``'s docstring), not from the code that writes it: a
recursive-descent parser of the documented grammar, generic over the arithmetic
(floats for the float64 check, SymPy for the exact one).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from derive import symbols
from derive.catalogue import CATALOGUE, get
from derive.cli import main
from derive.numeric import step_factors
from derive.system import linear_system
from derive.unroll import closed_form, iterate
from unroll_cases import polynomials

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z_0-9']*)|(\*\*|[-+*/()\[\],]))")


def tokens(text: str) -> list:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        assert m, f"unexpected text at {text[pos:pos + 20]!r}"
        out.append(("int", int(m[1])) if m[1] else ("name", m[2]) if m[2] else ("op", m[3]))
        pos = m.end()
    return out


class Evaluator:
    """expr := term (+|- term)*; term := unary (*|/ unary)*; unary := - unary | power;
    power := atom (** unary)?; atom := INT | NAME | NAME [ expr, ... ] | ( expr )."""

    def __init__(self, lookup, number):
        self.lookup, self.number = lookup, number  # lookup(name, indices) -> value

    def __call__(self, text: str):
        self.toks, self.pos = tokens(text), 0
        value = self.expr()
        assert self.pos == len(self.toks), f"trailing text in {text!r}"
        return value

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else ("end", None)

    def take(self, op=None):
        tok = self.peek()
        assert op is None or tok == ("op", op), f"expected {op!r}, got {tok}"
        self.pos += 1
        return tok

    def expr(self):
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            value = value + self.term() if op == "+" else value - self.term()
        return value

    def term(self):
        value = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            value = value * self.unary() if op == "*" else value / self.unary()
        return value

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return -self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == ("op", "**"):
            self.take()
            return base ** self.unary()
        return base

    def atom(self):
        kind, value = self.take()
        if kind == "int":
            return self.number(value)
        if kind == "name":
            indices = ()
            if self.peek() == ("op", "["):
                self.take("[")
                indices = [self.expr()]
                while self.peek() == ("op", ","):
                    self.take(",")
                    indices.append(self.expr())
                self.take("]")
            return self.lookup(value, tuple(int(i) for i in indices))
        assert value == "(", f"unexpected {value!r}"
        inner = self.expr()
        self.take(")")
        return inner


def evaluate_document(doc: dict, free, number) -> dict:
    """``{base: value at T}`` from a version-2 document, in one pass over its definitions."""
    assert doc["version"] == 2 and list(doc)[-2:] == ["definitions", "state"]
    defined: dict = {}

    def lookup(name, indices):
        return defined[(name, indices)] if (name, indices) in defined else free(name, indices)

    ev = Evaluator(lookup, number)
    for name, text in doc["definitions"]:
        key = Evaluator(lambda n, i: (n, i), number)(name)
        assert key not in defined, f"{name} defined twice"
        defined[key] = ev(text)
    return {base: sum((ev(c) * ev(x) for x, c in coeffs.items()), number(0))
            for base, coeffs in doc["state"].items()}


def unroll_json(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "derive", "unroll", *args, "--format", "json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def sympy_free(f):
    """Free names as the formulation's own SymPy objects (exact evaluation)."""
    bases = {str(s.label): s for s in f.state}
    bases.update({"epsilon": symbols.eps, "mu": symbols.mu, "g": symbols.g})
    scalars = {"tau": symbols.tau, "lambda": symbols.lam}
    for expr in f.hyper.values():  # the roles beyond the house symbols (nu, beta_i, c_t, ...)
        expr = sp.sympify(expr)
        bases.update({str(a.base.label): a.base for a in expr.atoms(sp.Indexed)})
        scalars.update({x.name: x for x in expr.free_symbols if isinstance(x, sp.Symbol) and x.name != "t"})

    def free(name, indices):
        return bases[name][indices] if indices else scalars[name]
    return free


def test_factored_json_at_T_256_evaluates_to_the_float64_iteration_of_the_system():
    f, T = get("pytorch_sgd"), 256
    doc = unroll_json("pytorch_sgd", "--steps", str(T))
    assert doc["expanded"] is False and doc["steps"] == T and len(doc["definitions"]) > T
    rng = np.random.default_rng(7)
    eps, mu = rng.uniform(0.001, 0.1, T + 1), rng.uniform(0.5, 0.99, T + 1)
    tau, lam, grads, theta0 = 0.1, 0.01, rng.standard_normal(T), 1.5
    values = {"epsilon": eps, "mu": mu, "g": grads, "theta": [theta0]}

    def free(name, indices):
        if name == "tau":
            return tau
        if name == "lambda":
            return lam
        return values[name][indices[0] if name == "theta" else indices[0] - 1]

    ours = evaluate_document(doc, free, float)
    # The reference: x_t = A_t x_{t-1} + B_t g_t in float64, the matrices compiled from the program.
    factors = step_factors(linear_system(f))
    x = np.array([theta0, 0.0])
    for k in range(1, T + 1):
        A, B, _ = factors.at({"lr": eps[:T], "momentum": mu[:T], "dampening": tau, "weight_decay": lam}, k)
        x = A @ x + B.reshape(-1) * grads[k - 1]
    assert ours["theta"] == pytest.approx(x[0], rel=1e-9)
    assert ours["b"] == pytest.approx(x[1], rel=1e-9)


def test_factored_json_at_T_6_equals_the_exact_expansion():
    f = get("pytorch_sgd")
    doc = unroll_json("pytorch_sgd", "--steps", "6")
    ours = evaluate_document(doc, sympy_free(f), sp.Integer)
    direct = iterate(f, 6)
    for s in f.state:
        assert polynomials(ours[str(s.label)], direct[s])[0] == polynomials(direct[s])[0], s


@pytest.mark.parametrize("name", [n for n in CATALOGUE if n != "pytorch_sgd"])
def test_every_catalogue_entry_prints_a_factored_json_equal_to_its_iteration(name, capsys):
    f = get(name)
    assert main(["unroll", name, "-T", "4", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ours = evaluate_document(doc, sympy_free(f), sp.Integer)
    direct = iterate(f, 4)
    for s in f.state:
        got, want = polynomials(ours[str(s.label)], direct[s])
        assert got == want, s


def test_expanded_json_equals_the_iteration_and_has_no_definitions(capsys):
    f = get("pytorch_sgd")
    assert main(["unroll", "pytorch_sgd", "-T", "4", "--expand", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["expanded"] is True and doc["definitions"] == []
    ours = evaluate_document(doc, sympy_free(f), sp.Integer)
    direct = iterate(f, 4)
    for s in f.state:
        got, want = polynomials(ours[str(s.label)], direct[s])
        assert got == want, s


def test_concrete_values_stay_exact_rationals_without_definitions(capsys):
    options = ["-o", "lr=0.1", "-o", "momentum=0.9", "-o", "dampening=0.1", "-o", "weight_decay=0.01"]
    assert main(["unroll", "pytorch_sgd", "-T", "5", "--format", "json", *options]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["definitions"] == []
    f = get("pytorch_sgd", lr="0.1", momentum="0.9", dampening="0.1", weight_decay="0.01")
    direct = sp.expand(iterate(f, 5)[f.params])
    g = sp.IndexedBase("g", real=True)
    for x, text in doc["state"]["theta"].items():
        assert re.fullmatch(r"-?\d+(/\d+)?", text), text  # an exact rational, no float
        key = g[int(x[2:-1])] if x.startswith("g[") else f.params[0]
        assert sp.Rational(text) == direct.coeff(key), x


def test_factored_output_grows_linearly_with_the_horizon(capsys):
    sizes = []
    for T in (64, 128):
        assert main(["unroll", "pytorch_sgd", "-T", str(T), "--format", "json"]) == 0
        sizes.append(len(capsys.readouterr().out))
    assert sizes[1] / sizes[0] < 2.2  # linear (indices gain a digit), far from 3.4^64


def test_expand_is_refused_up_front_with_an_estimate(monkeypatch, capsys):
    from derive.commands import unroll as command

    def no_long_unroll(f, steps, **kw):  # the refusal must come from the small probes alone
        assert steps <= 7, f"the unroll at T = {steps} was started before refusing"
        return closed_form(f, steps, **kw)

    monkeypatch.setattr(command, "closed_form", no_long_unroll)
    assert main(["unroll", "pytorch_sgd", "-T", "4096", "--expand"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert re.fullmatch(r"derive: error: the expanded closed form of pytorch_sgd at T = 4096 would be "
                        r"(about|more than) .* MB \(over the 10 MB limit.*--expand-limit\n", out.err), out.err


def test_the_expand_limit_can_be_raised_and_is_checked_before_work(capsys):
    assert main(["unroll", "pytorch_sgd", "-T", "9", "--expand", "--expand-limit", "0.01"]) == 2
    assert "over the 0.01 MB limit" in capsys.readouterr().err
    assert main(["unroll", "pytorch_sgd", "-T", "3", "--expand", "--expand-limit", "-1"]) == 2
    assert "--expand-limit must be a positive number of MB, got '-1'" in capsys.readouterr().err


def test_latex_uses_the_house_printer(capsys):
    assert main(["unroll", "pytorch_sgd", "-T", "2", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert r"\varepsilon_{1}" in out and r"g_{1}" in out and r"\Phi_{2,1,0,0} = " in out
    assert r"{\epsilon}" not in out


def test_progress_bar_only_on_a_terminal_and_not_when_quiet(monkeypatch):
    from derive.commands import unroll as command

    class Terminal:
        def isatty(self):
            return True

        def write(self, text):
            return len(text)

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stderr", Terminal())
    with command.progress(10, "unroll", quiet=False) as bar:
        assert bar is not None and bar.total == 10
    with command.progress(10, "unroll", quiet=True) as bar:
        assert bar is None
    monkeypatch.setattr(sys, "stderr", open("/dev/null", "w"))
    with command.progress(10, "unroll", quiet=False) as bar:
        assert bar is None


def test_a_long_unroll_is_silent_on_stderr_when_it_is_not_a_terminal():
    done = subprocess.run([sys.executable, "-m", "derive", "unroll", "pytorch_sgd", "-T", "300"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0 and done.stderr == ""


def test_every_unroll_example_in_the_readme_runs():
    readme = (ROOT / "README.md").read_text()
    examples = re.findall(r"^python -m derive (unroll [^#\n]*)", readme, flags=re.M)
    assert examples
    for line in examples:
        assert main(line.split()) == 0, line


@pytest.mark.parametrize("expr", ["-1/3*x", "x**(-2)", "2*(1 + x)**3", "1/2 - x", "-3", "-x*(z - 1)**2",
                                  "(-2/5)*y[3, 1]*x - y[2, 1]**2/7"])
def test_expression_text_reads_back_to_the_same_value(expr):
    from derive.factored import expression_text

    y = sp.IndexedBase("y")
    value = sp.sympify(expr, locals={"y": y})
    text = expression_text(value)
    env = {"x": Fraction(3, 7), "z": Fraction(-5, 2)}
    back = Evaluator(lambda n, i: env[n] if not i else Fraction(i[0] + 2, i[1] + 5), Fraction)(text)
    exact = value.subs({sp.Symbol("x"): sp.Rational(3, 7), sp.Symbol("z"): sp.Rational(-5, 2), y[3, 1]: sp.Rational(5, 6), y[2, 1]: sp.Rational(4, 6)})
    assert back == Fraction(int(sp.numer(exact)), int(sp.denom(exact))), text


@pytest.mark.parametrize("name", ["pytorch_sgd", "sutskever_momentum", "caffe_sgd"])
def test_factored_text_lines_evaluate_to_the_iteration(name, capsys):
    f, T = get(name), 5
    assert main(["unroll", name, "-T", str(T)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    free = sympy_free(f)
    defined: dict = {}
    ev = Evaluator(lambda n, i: defined.get((n, i)) if (n, i) in defined else free(n, i), sp.Integer)
    direct = iterate(f, T)
    for line in lines:
        left, right = line.split(" = ")
        key = Evaluator(lambda n, i: (n, i), sp.Integer)(left)
        defined[key] = ev(right)
    for s in f.state:
        got, want = polynomials(defined[(str(s.label), (T,))], direct[s])
        assert got == want, s
