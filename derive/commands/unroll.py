"""Unroll a formulation: its state after T steps as exact combinations of the gradients.

Concrete horizon (``derive unroll NAME -T 3``): each state variable at step T as a
linear combination of the initial state and g_1..g_T, coefficients in epsilon_t,
mu_t, tau, lambda (expanded).

Symbolic horizon (``derive unroll NAME --symbolic``): the closed form for a
symbolic T as Sum/Product over indexed symbols (named kernel entries
Phi[T, k, r, c] where weight decay couples the state), proven by induction and
checked against the concrete unroll for T = 1..--steps (default 8).

JSON (``--format json``), concrete::

    {"formulation": NAME, "options": {flag: value}, "steps": T,
     "state": {BASE: {INPUT: COEFFICIENT, ...}, ...}}

with INPUT an initial value ("theta[0]"), a gradient ("g[3]") or "1", and
COEFFICIENT a SymPy string (sympy.sympify reads it back).  Symbolic::

    {"formulation": NAME, "options": {...}, "steps": "T", "symbolic": true,
     "first_step_split": bool,
     "state": {BASE: EXPRESSION, ...},
     "kernel": {"explicit": bool, "entries": {"r,c": EXPRESSION, ...},
                "step": [[A_t entries], ...]},
     "proof": [{"label": LABEL, "expression": EXPRESSION}, ...],
     "proved": true, "verified_up_to": N}

EXPRESSION is a SymPy string (``Sum(..., (k, 1, T))``, ``Product(...)``).
"""

from __future__ import annotations

import inspect
import json

import sympy as sp

from derive.catalogue import CATALOGUE, get
from derive.errors import DeriveError
from derive.options import parse_options
from derive.symbols import T
from derive.unroll import closed_form

NAME = "unroll"
HELP = "closed form of a formulation after T steps (concrete or symbolic T)"
MAX_CHECK = 16  # checking the symbolic form at larger horizons costs minutes, proves nothing more


def _steps(text: str | None, *, symbolic: bool) -> int:
    if text is None:
        if symbolic:
            return 8
        raise DeriveError("--steps is required (or pass --symbolic for a symbolic horizon)")
    try:
        value = int(text)
    except ValueError:
        raise DeriveError(f"--steps must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise DeriveError(f"--steps must be a non-negative integer, got {value}")
    if symbolic and not 1 <= value <= MAX_CHECK:
        raise DeriveError(f"with --symbolic, --steps is the check horizon; from 1 to {MAX_CHECK}, got {value}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("name", help="catalogue name (see `derive list`)")
    parser.add_argument("--steps", "-T", default=None,
                        help="the horizon T (a non-negative integer); with --symbolic, the "
                        "horizons 1..T the symbolic form is checked against (default 8)")
    parser.add_argument("--symbolic", action="store_true",
                        help="closed form for a symbolic horizon T, proven by induction")
    parser.add_argument("--format", choices=("text", "latex", "json"), default="text")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="a hyperparameter or flag, e.g. -o momentum=0.9 -o nesterov=true")


def _build(name: str, options: dict):
    factory = CATALOGUE.get(name)
    if factory is not None:
        accepted = list(inspect.signature(factory).parameters)
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise DeriveError(f"{name} has no option {', '.join(unknown)}; "
                              f"it accepts {', '.join(accepted) or 'none'}")
    return get(name, **options)


def latex(expr) -> str:
    """The one place this command turns an expression into LaTeX."""
    return sp.latex(expr)


def _key(item):
    return sp.default_sort_key(item[0])


def run(args) -> int:
    steps = _steps(args.steps, symbolic=args.symbolic)
    options = parse_options(args.option, args.name)
    f = _build(args.name, options)
    if args.symbolic:
        return _symbolic(f, options, steps, args.format)
    cf = closed_form(f, steps)
    if args.format == "json":
        print(json.dumps({"formulation": f.name, "options": {k: str(v) for k, v in options.items()},
                          "steps": steps, "state": {
            str(s): {str(x): str(cf.inline(c)) for x, c in sorted(cf.coefficients[s].items(), key=_key)}
            for s in f.state}}, indent=2))
        return 0
    for s in f.state:
        expr = cf.expression(s)
        if args.format == "latex":
            print(f"{latex(s[steps])} = {latex(expr)}")
        else:
            print(f"{s}[{steps}] = {expr}")
    return 0


def _symbolic(f, options: dict, check_up_to: int, fmt: str) -> int:
    from derive.induction import symbolic_closed_form

    scf = symbolic_closed_form(f, check_up_to=check_up_to)
    kernel = scf.kernel
    n = kernel.step.shape[0]
    entries = {(r, c): kernel.entries[r, c] for r in range(n) for c in range(n)}
    if fmt == "json":
        print(json.dumps({
            "formulation": f.name, "options": {k: str(v) for k, v in options.items()},
            "steps": "T", "symbolic": True, "first_step_split": scf.first_step_split,
            "state": {str(s): str(e) for s, e in scf.state.items()},
            "kernel": {"explicit": kernel.explicit,
                       "entries": {f"{r},{c}": str(e) for (r, c), e in entries.items()},
                       "step": [[str(x) for x in kernel.step.row(r)] for r in range(n)]},
            "proof": [{"label": label, "expression": str(e)} for label, e in scf.proof],
            "proved": True, "verified_up_to": scf.verified_up_to,
        }, indent=2))
        return 0
    tex = fmt == "latex"
    for s, e in scf.state.items():
        print(f"{latex(s[T])} = {latex(e)}" if tex else f"{s}[T] = {e}")
    what = "entries" if kernel.explicit else "named entries Phi[T, k, r, c], defined by the recursion"
    print(("% " if tex else "") + f"kernel Phi(T, k) = A_T ... A_(k+1), {what}:")
    rows = entries.items() if kernel.explicit else kernel.recursion()
    for key, e in rows:
        if tex:
            print(latex(sp.Eq(sp.Symbol(f"Phi_{{{key[0]}{key[1]}}}(T,k)"), e, evaluate=False))
                  if kernel.explicit else latex(e))
        else:
            print(f"  Phi[T, k, {key[0]}, {key[1]}] = {e}" if kernel.explicit else f"  {e}")
    split = ", step 1 split off" if scf.first_step_split else ""
    print(("% " if tex else "") + f"proven by induction on T{split}; matches the concrete unroll "
          f"for T = 1..{scf.verified_up_to}")
    return 0
