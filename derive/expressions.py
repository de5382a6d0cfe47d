r"""Read an expression a user typed, without running it as Python.

:func:`parse_expression` accepts exactly this grammar (Python's own precedence)::

    expr   := expr ("+" | "-" | "*" | "/") expr | expr "**" expr
            | ("+" | "-") expr | "(" expr ")" | NUMBER | NAME | FUNC "(" expr ")"
    NUMBER := 3 | 0.1 | 1e-3 | 2.5j        (exact: 0.1 -> 1/10, 1e-3 -> 1/1000, 2.5j -> 5*I/2)
    NAME   := a key of ``variables`` | pi | E
    FUNC   := a key of ``functions`` (default :data:`DEFAULT_FUNCTIONS`)

``^`` is refused, not read as a power: Python parses ``2*x^2`` as ``(2*x) xor 2``, so
reading it as a power would silently change the grouping; write ``**``.

The text goes through :func:`ast.parse` (which only parses) and a walker that
builds SymPy objects itself from a whitelist of node types; nothing is passed to
``eval``, ``sympify`` or ``parse_expr``.  Every other node (attributes,
subscripts, strings, lambdas, comprehensions, keyword arguments, ...) is refused
by name.  The input is bounded: at most :data:`MAX_LENGTH` characters, nesting
at most :data:`MAX_DEPTH`, a decimal exponent at most :data:`MAX_DECIMAL_EXPONENT`,
and a power of two numbers at most :data:`MAX_POWER_BITS` bits, so ``10**10**10``
is refused at once instead of computed.
"""

from __future__ import annotations

import ast
import math
import warnings
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Callable, Mapping

import sympy as sp

from derive.errors import DeriveError

MAX_LENGTH = 1000
MAX_DEPTH = 100
MAX_DECIMAL_EXPONENT = 1000  # 1e999 is read (exactly); whoever needs a float64 refuses it
MAX_POWER_BITS = 1 << 17  # 2**65536 is allowed, 10**10**10 is not

DEFAULT_FUNCTIONS: Mapping[str, Callable[[sp.Expr], sp.Expr]] = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
}
CONSTANTS: Mapping[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

# What the refused node kinds are called in the error line.
_REFUSED = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.JoinedStr: "f-strings", ast.NamedExpr: "assignment (:=)",
    ast.Starred: "starred arguments", ast.Compare: "comparisons", ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions", ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts",
    ast.Set: "sets", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}


class ExpressionError(DeriveError, ValueError):
    """The text is not an expression of the grammar; the message names what was refused."""


def parse_expression(text: str, *, variables: Mapping[str, sp.Symbol],
                     functions: Mapping[str, Callable] = DEFAULT_FUNCTIONS) -> sp.Expr:
    """The SymPy expression *text* denotes, built without executing any of it.

    >>> x = sp.Symbol("x")
    >>> parse_expression("0.1*x**2 - exp(-x)", variables={"x": x})
    x**2/10 - exp(-x)
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; at most {MAX_LENGTH} are read")
    if not text.strip():
        raise ExpressionError("expression is empty")
    if "^" in text:
        raise ExpressionError(f"'^' in {_short(text)} is refused; write powers as ** (x**2)")
    try:
        with warnings.catch_warnings():  # a string literal's bad escape warns on stderr; it is refused below
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        reason = getattr(exc, "msg", None) or type(exc).__name__
        raise ExpressionError(f"{_short(text)} is not an expression ({reason})") from None
    return _Builder(text.strip(), variables, functions).build(tree.body, 0)


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


class _Builder:
    def __init__(self, text, variables, functions):
        self.text, self.variables, self.functions = text, variables, functions

    def refuse(self, what: str) -> ExpressionError:
        return ExpressionError(f"{what} refused in {_short(self.text)}")

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.build(node.left, depth + 1), self.build(node.right, depth + 1)
            return _binary(type(node.op), left, right, self)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            op = type(node.op).__name__
            raise self.refuse(f"the operator {op}")
        raise self.refuse(_REFUSED.get(type(node), f"{type(node).__name__} (not arithmetic)"))

    def number(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
            kind = "string literals" if isinstance(value, (str, bytes)) else f"the constant {value!r}"
            raise self.refuse(kind)
        if isinstance(value, int):
            return sp.Integer(value)
        source = (ast.get_source_segment(self.text, node) or repr(value)).replace("_", "")
        imaginary = source[-1:] in ("j", "J")
        exact = _decimal(source[:-1] if imaginary else source, self)
        return sp.I * exact if imaginary else exact

    def name(self, name: str) -> sp.Expr:
        if name in self.variables:
            return self.variables[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.functions:
            raise self.refuse(f"the function {name} without an argument")
        allowed = ", ".join(sorted(self.variables)) or "none"
        raise self.refuse(f"the name {name!r} (variables: {allowed}; constants: pi, E)")

    def call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.refuse(_REFUSED.get(type(node.func), "calling anything but a named function"))
        name = node.func.id
        if name not in self.functions:
            raise self.refuse(f"the function {name!r} (allowed: {', '.join(sorted(self.functions))})")
        if node.keywords:
            raise self.refuse("keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.refuse("starred arguments")
        if len(node.args) != 1:
            raise self.refuse(f"{name} with {len(node.args)} arguments (it takes one)")
        return self.functions[name](self.build(node.args[0], depth + 1))


def _decimal(source: str, builder: _Builder) -> sp.Expr:
    """A decimal literal as an exact rational (``0.1 -> 1/10``), its exponent bounded."""
    try:
        d = Decimal(source)
    except InvalidOperation:
        raise builder.refuse(f"the number {source!r}") from None
    if not d.is_finite() or abs(d.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise builder.refuse(f"the number {source} (exponent beyond {MAX_DECIMAL_EXPONENT})")
    f = Fraction(d)
    return sp.Rational(f.numerator, f.denominator)


def _bits(number: sp.Expr) -> float:
    """Bits of a rational's numerator and denominator together (2 -> 2, 1/2 -> 2)."""
    p, q = abs(int(number.p)) or 1, abs(int(number.q))
    return p.bit_length() + q.bit_length() - 1


def _binary(op, left: sp.Expr, right: sp.Expr, builder: _Builder) -> sp.Expr:
    if op is ast.Add:
        return left + right
    if op is ast.Sub:
        return left - right
    if op is ast.Mult:
        return left * right
    if op is ast.Div:
        if right == 0:
            raise builder.refuse("division by zero")
        return left / right
    # SymPy computes a power of two numbers at once: bound its size first.
    if left.is_number and right.is_number and right.is_Rational:
        if left == 0 and right.is_negative:
            raise builder.refuse("division by zero (0 to a negative power)")
        coefficient = left if left.is_Rational else left.as_coeff_Mul()[0]
        exponent = abs(float(right))
        size = _bits(coefficient) * exponent if exponent > 1 else 0.0
        if not left.is_Rational and exponent > MAX_POWER_BITS:
            size = exponent
        if not math.isfinite(size) or size > MAX_POWER_BITS:
            raise builder.refuse(f"a power of about {size:.3g} bits (at most {MAX_POWER_BITS})")
    return left ** right
