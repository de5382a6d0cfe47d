"""The safe expression parser: the grammar it reads, everything else refused, and nothing executed."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.expressions import (
    DEFAULT_FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_POWER_BITS,
    ExpressionError,
    parse_expression,
)

x, y = sp.symbols("x y", real=True)
VARS = {"x": x, "y": y}


def parse(text):
    return parse_expression(text, variables=VARS)


@pytest.mark.parametrize("text,expected", [
    ("0.1", sp.Rational(1, 10)),
    ("1e-3", sp.Rational(1, 1000)),
    ("2.5E+2", sp.Integer(250)),
    ("1_000", sp.Integer(1000)),
    ("0.1_5", sp.Rational(3, 20)),
    (".5", sp.Rational(1, 2)),
    ("3/4", sp.Rational(3, 4)),
    ("-x", -x),
    ("+x", x),
    ("--x", x),
    ("x**2/2 - x", x**2 / 2 - x),
    ("2*x**-1", 2 / x),
    ("-x**2", -(x**2)),
    ("(x + y)*(x - y)", (x + y) * (x - y)),
    ("2**3**2", sp.Integer(512)),
    ("exp(-x) + log(x) + sqrt(x) + abs(y)", sp.exp(-x) + sp.log(x) + sp.sqrt(x) + sp.Abs(y)),
    ("sin(x)*cos(x)*tan(x)*tanh(x)*sinh(x)*cosh(x)",
     sp.sin(x) * sp.cos(x) * sp.tan(x) * sp.tanh(x) * sp.sinh(x) * sp.cosh(x)),
    ("pi*E", sp.pi * sp.E),
    ("2.5j", sp.I * sp.Rational(5, 2)),
    ("x**100000", x**100000),
    ("2**65536", sp.Integer(2) ** 65536),
])
def test_the_grammar_builds_the_exact_sympy_expression(text, expected):
    assert parse(text) == expected


def test_decimals_are_exact_not_float_rounded():
    value = parse("0.1000000000000000000001")
    assert value == sp.Rational(1000000000000000000001, 10**22)
    assert not value.atoms(sp.Float)


# Each payload, if it were executed, would create the marker file.
def _payloads(marker: str) -> list[str]:
    return [
        f"__import__('os').system('touch {marker}')",
        f"__import__('os').system('touch {marker}') or x**2",
        f"exec(\"open('{marker}', 'w')\")",
        f"eval(\"open('{marker}', 'w')\")",
        f"open('{marker}', 'w')",
        f"(lambda: open('{marker}', 'w'))()",
        f"[open('{marker}', 'w') for _ in (1,)]",
        f"{{open('{marker}', 'w') for _ in (1,)}}",
        f"(open('{marker}', 'w') for _ in (1,))",
        f"{{k: open('{marker}', 'w') for k in (1,)}}",
        f"x.__class__.__base__.__subclasses__()",
        f"().__class__.__bases__[0].__subclasses__()",
        f"x.func('{marker}')",
        f"f\"{{open('{marker}', 'w')}}\"",
        f"(m := open('{marker}', 'w'))",
        f"exp(*[open('{marker}', 'w')])",
        f"exp(x=open('{marker}', 'w'))",
        f"exp(open('{marker}', 'w'))",
        f"x if open('{marker}', 'w') else x",
        f"[x][0]",
        f"'{marker}'",
        f"b'{marker}'",
        f"import os",
        f"from os import system",
        f"x; open('{marker}', 'w')",
        f"x\nopen('{marker}', 'w')",
        f"__builtins__",
        f"globals()",
        f"sympify('open(\"{marker}\", \"w\")')",
        f"Symbol('x')",
        f"x < open('{marker}', 'w')",
        f"x and open('{marker}', 'w')",
        f"not x",
        f"~x",
        f"x @ x",
        f"x // 2",
        f"x % 2",
        f"x << 2",
        f"x ^ 2",
        f"x == 2",
        f"...",
        f"None",
        f"True",
        f"yield x",
        f"await x",
        f"x[1:2]",
        f"{{x}}",
        f"(x, y)",
        f"log(x, 2)",
        f"nan",
        f"oo",
        f"zoo",
        f"inf",
        f"z",
        f"exp",
        f"1e99999",
        f"10**10**10",
        f"x**10**10**10",
        f"(2j)**10**15",
        f"sqrt(2)**10**15",
        f"1/0",
        f"0**-1",
        "",
        "   ",
        "(((",
        "x +",
        "-" * 500 + "x",
        "(" * 300 + "x" + ")" * 300,
        "x" + "**x" * 200,
        "x+" * 600 + "x",
    ]


def test_every_injection_attempt_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    for payload in _payloads(str(marker)):
        with pytest.raises(ExpressionError) as caught:
            parse(payload)
            pytest.fail(f"accepted {payload!r}")
        message = str(caught.value)
        assert "\n" not in message and message, payload
        assert not marker.exists(), f"{payload!r} ran"
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("payload,named", [
    ("x.real", "attribute access"),
    ("x[0]", "subscripts"),
    ("(lambda: 1)()", "lambda"),
    ("[i for i in (1,)]", "comprehensions"),
    ("'abc'", "string literals"),
    ("f'{x}'", "f-strings"),
    ("(z := 1)", "assignment (:=)"),
    ("exp(*x)", "starred arguments"),
    ("exp(x=1)", "keyword arguments"),
    ("eval('1')", "the function 'eval'"),
    ("__import__('os')", "the function '__import__'"),
    ("x ^ 2", "write powers as **"),
    ("nan", "the name 'nan'"),
    ("10**10**10", f"at most {MAX_POWER_BITS}"),
    ("1e99999", "exponent beyond"),
    ("import os", "is not an expression"),
    ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}"),
    ("-" * (MAX_DEPTH + 5) + "x", f"deeper than {MAX_DEPTH}"),
])
def test_the_refusal_names_what_was_refused(payload, named):
    with pytest.raises(ExpressionError) as caught:
        parse(payload)
    assert named in str(caught.value)


def test_only_the_given_variables_are_names():
    assert parse_expression("x + 1", variables={"x": x}) == x + 1
    with pytest.raises(ExpressionError, match="the name 'y'"):
        parse_expression("x + y", variables={"x": x})
    with pytest.raises(ExpressionError, match="variables: none"):
        parse_expression("x", variables={})


def test_the_function_whitelist_is_the_one_given():
    with pytest.raises(ExpressionError, match="the function 'exp'"):
        parse_expression("exp(x)", variables=VARS, functions={"sin": sp.sin})
    assert parse_expression("sin(x)", variables=VARS, functions={"sin": sp.sin}) == sp.sin(x)


def test_an_expression_must_be_text():
    with pytest.raises(ExpressionError, match="must be text"):
        parse_expression(b"x", variables=VARS)


# -- property tests ------------------------------------------------------------------------------
NUMBERS = st.fractions(min_value=-1000, max_value=1000, max_denominator=64)
UNARY = sorted(DEFAULT_FUNCTIONS)


def _number(f: Fraction):
    """(text, value) for a fraction, written as a decimal when it has a short one."""
    value = sp.Rational(f.numerator, f.denominator)
    text = f"({f.numerator}/{f.denominator})" if f.denominator != 1 else f"({f.numerator})"
    return text, value


@st.composite
def expressions(draw, depth=0):
    """(text, reference) pairs: the reference is built with SymPy's operators directly."""
    if depth >= 4 or draw(st.booleans()):
        leaf = draw(st.sampled_from(["number", "x", "y", "decimal"]))
        if leaf == "number":
            return _number(draw(NUMBERS))
        if leaf == "decimal":
            whole, frac = draw(st.integers(0, 999)), draw(st.integers(0, 999))
            return f"{whole}.{frac:03d}", sp.Integer(whole) + sp.Rational(frac, 1000)
        return leaf, VARS[leaf]
    kind = draw(st.sampled_from(["+", "-", "*", "/", "**", "neg", "call"]))
    a_text, a = draw(expressions(depth + 1))
    if kind == "neg":
        return f"-({a_text})", -a
    if kind == "call":
        name = draw(st.sampled_from(UNARY))
        return f"{name}({a_text})", DEFAULT_FUNCTIONS[name](a)
    if kind == "**":
        n = draw(st.integers(-3, 4))
        if n < 0 and a == 0:
            n = 2
        return f"({a_text})**({n})", a ** n
    b_text, b = draw(expressions(depth + 1))
    if kind == "/" and b == 0:
        return f"({a_text})*({b_text})", a * b
    ops = {"+": lambda p, q: p + q, "-": lambda p, q: p - q, "*": lambda p, q: p * q, "/": lambda p, q: p / q}
    return f"({a_text}){kind}({b_text})", ops[kind](a, b)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_a_well_formed_expression_reads_as_its_reference_construction(pair):
    text, reference = pair
    assert parse(text) == reference


ALPHABET = st.sampled_from(list("xy0123456789.+-*/()^_ejJ,[]{}:'\"=<>!@#$%&|~;\\ \t\n") +
                           ["exp", "log", "__", "import", "lambda", "os", "nan", "**", "1e400"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_garbage_raises_nothing_but_the_parser_error(text):
    try:
        result = parse(text)
    except ExpressionError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, sp.Expr)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_unicode_raises_nothing_but_the_parser_error(text):
    try:
        parse(text)
    except ExpressionError:
        pass


def test_verify_objective_is_read_by_the_safe_parser(tmp_path):
    from verify.objectives import Objective

    marker = tmp_path / "pwned"
    for payload in _payloads(str(marker))[:20]:
        with pytest.raises(ValueError):
            Objective.parse(payload)
    assert not marker.exists()
    assert Objective.parse("x**2/2 - 0.25*x").expr == x**2 / 2 - x / 4
    for refused, message in [("x*y", "free symbols y"), ("1j*x", "is not real"), ("1e999*x", "beyond float64"),
                             ("x^2", r"write powers as \*\*")]:
        with pytest.raises(ExpressionError, match=message):
            Objective.parse(refused)


def test_a_string_literal_with_a_bad_escape_is_refused_without_a_warning(recwarn):
    from derive.expressions import ExpressionError, parse_expression

    with pytest.raises(ExpressionError):
        parse_expression('"\\i" or x', variables={"x": sp.Symbol("x")})
    assert not [w for w in recwarn if issubclass(w.category, (DeprecationWarning, SyntaxWarning))]
