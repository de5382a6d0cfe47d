"""Unroll a formulation: its state after T steps as exact combinations of the gradients.

With a concrete T, each state variable is printed as a linear combination of the
initial state and g_1..g_T, coefficients in epsilon_t, mu_t, tau, lambda.
"""

from __future__ import annotations

import json

import sympy as sp

from derive.catalogue import get
from derive.errors import DeriveError
from derive.unroll import closed_form

NAME = "unroll"
HELP = "closed form of a formulation after T steps (concrete or symbolic T)"


def _steps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise DeriveError(f"--steps must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise DeriveError(f"--steps must be a non-negative integer, got {value}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("name", help="catalogue name (see `derive list`)")
    parser.add_argument("--steps", "-T", required=True, help="the horizon T (a non-negative integer)")
    parser.add_argument("--symbolic", action="store_true", help="closed form for a symbolic horizon T")
    parser.add_argument("--format", choices=("text", "latex", "json"), default="text")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="a hyperparameter or flag, e.g. -o momentum=0.9 -o nesterov=true")


def parse_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise DeriveError(f"option {pair!r} is not KEY=VALUE")
        low = value.lower()
        options[key] = True if low == "true" else False if low == "false" else value
    return options


def _build(name: str, options: dict):
    try:
        return get(name, **options)
    except TypeError as exc:
        raise DeriveError(f"{name}: {exc}") from None


def run(args) -> int:
    steps = _steps(args.steps)
    f = _build(args.name, parse_options(args.option))
    cf = closed_form(f, steps)
    if args.format == "json":
        print(json.dumps({"formulation": f.name, "steps": steps, "state": {
            str(s): {str(x): str(cf.inline(c)) for x, c in sorted(cf.coefficients[s].items(), key=lambda kv: sp.default_sort_key(kv[0]))}
            for s in f.state}}, indent=2))
        return 0
    for s in f.state:
        expr = cf.expression(s)
        if args.format == "latex":
            print(f"{sp.latex(s[steps])} = {sp.latex(expr)}")
        else:
            print(f"{s}[{steps}] = {expr}")
    return 0
