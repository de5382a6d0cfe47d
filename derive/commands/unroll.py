"""Unroll a formulation: its state after T steps as exact combinations of the gradients.

Concrete horizon (``derive unroll NAME -T 3``): each state variable at step T as a
linear combination of the initial state and g_1..g_T, coefficients in epsilon_t,
mu_t, tau, lambda.  The form is factored: the entries of the transition matrix
Phi(T, k) = A_T ... A_(k+1) are named Phi[T, k, r, c], each defined once from
Phi(T, k+1) and A_(k+1), and the coefficients read them by name, so the output
grows linearly in T.  ``--expand`` inlines and expands everything (small T only:
the size grows about 3.4x per step with every hyperparameter symbolic); it is
refused, with an estimate, once the output would pass ``--expand-limit`` MB.

Symbolic horizon (``derive unroll NAME --symbolic``): the closed form for a
symbolic T as Sum/Product over indexed symbols (named kernel entries
Phi[T, k, r, c] where weight decay couples the state), proven by induction and
checked against the concrete unroll for T = 1..--steps (default 8).

JSON (``--format json``), concrete, schema version 2::

    {"version": 2, "formulation": NAME, "options": {flag: value}, "steps": T,
     "expanded": bool, "free": [NAME, ...],
     "definitions": [[DEFINED, EXPRESSION], ...],
     "state": {BASE: {INPUT: EXPRESSION, ...}, ...}}

Evaluate in one pass: bind the free names (hyperparameters, inputs), then each
definition in order (an EXPRESSION reads only free names and earlier DEFINED
names), then BASE[T] = sum over INPUT of EXPRESSION * INPUT.  DEFINED is
``Phi[T, k, r, c]``, and is referenced by exactly that text.  INPUT is an initial
value ("theta[0]"), a gradient ("g[3]") or "1".  ``"definitions"`` is empty when
expanded or when every hyperparameter is a number (the coefficients are then
exact rationals).  EXPRESSION grammar (Python's arithmetic syntax; ``lambda`` is
a name here, not a keyword)::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := "-" unary | power
    power  := atom ("**" unary)?
    atom   := INTEGER | NAME | NAME "[" expr ("," expr)* "]" | "(" expr ")"

with "/" exact division, INTEGER a run of digits and NAME letters, digits, "_"
and "'" (``theta'``).  Symbolic::

    {"formulation": NAME, "options": {...}, "steps": "T", "symbolic": true,
     "first_step_split": bool,
     "state": {BASE: EXPRESSION, ...},
     "kernel": {"explicit": bool, "entries": {"r,c": EXPRESSION, ...},
                "step": [[A_t entries], ...]},
     "proof": [{"label": LABEL, "expression": EXPRESSION}, ...],
     "proved": true, "verified_up_to": N}

where EXPRESSION is a SymPy string (``Sum(..., (k, 1, T))``, ``Product(...)``).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import sys

import sympy as sp

from derive.catalogue import CATALOGUE, get
from derive.errors import DeriveError
from derive.options import parse_options
from derive.symbols import T
from derive.unroll import closed_form
from derive import expansion, factored

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
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the schema's layout in --help
    parser.add_argument("name", help="catalogue name (see `derive list`)")
    parser.add_argument("--steps", "-T", default=None,
                        help="the horizon T (a non-negative integer); with --symbolic, the "
                        "horizons 1..T the symbolic form is checked against (default 8)")
    parser.add_argument("--symbolic", action="store_true",
                        help="closed form for a symbolic horizon T, proven by induction")
    parser.add_argument("--format", choices=("text", "latex", "json"), default="text")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="a hyperparameter or flag, e.g. -o momentum=0.9 -o nesterov=true")
    parser.add_argument("--expand", action="store_true",
                        help="inline the named sub-products and expand (concrete T; grows geometrically in T)")
    parser.add_argument("--expand-limit", default="10", metavar="MB",
                        help="refuse --expand when the output would pass this many MB (default 10)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar on stderr")


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
    """The one place this command turns an expression into LaTeX (the house printer)."""
    from derive.render.printer import house_latex

    return house_latex(expr)


def _limit(text: str) -> int:
    """--expand-limit in bytes, checked before any work."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise DeriveError(f"--expand-limit must be a positive number of MB, got {text!r}")
    return int(value * 1e6)


def progress(total: int, what: str, *, quiet: bool):
    """A progress bar on stderr when it is a terminal and the work lasts over a second; else nothing."""
    if quiet or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, desc=what, unit="step", file=sys.stderr, delay=1.0, leave=False)


def run(args) -> int:
    steps = _steps(args.steps, symbolic=args.symbolic)
    limit = _limit(args.expand_limit)
    if args.expand and args.symbolic:
        raise DeriveError("--expand applies to a concrete horizon; the symbolic form is a Sum/Product")
    options = parse_options(args.option, args.name)
    f = _build(args.name, options)
    if args.symbolic:
        return _symbolic(f, options, steps, args.format)
    if args.expand:
        expansion.refuse_if_too_large(f, steps, limit)  # from small horizons, before the unroll itself
    if args.expand or args.format == "latex":
        with progress(steps, f"unroll {f.name}", quiet=args.quiet) as bar:
            cf = closed_form(f, steps, progress=bar.update if bar else None)
    if args.expand:
        with progress(steps, "expand", quiet=args.quiet) as bar:
            coefficients = expansion.expanded(cf, limit_bytes=limit, tick=bar.update if bar else None)
        text = _expanded(cf, coefficients, options, args.format)
    elif args.format == "latex":
        text = "\n".join(factored.factored_latex(cf))
    else:
        with progress(steps, f"unroll {f.name}", quiet=args.quiet) as bar:
            tick = bar.update if bar else None
            if args.format == "json":
                text = json.dumps(factored.factored_json(f, steps, options, progress=tick), indent=2)
            else:
                text = "\n".join(factored.factored_text(f, steps, progress=tick))
    sys.stdout.write(text + "\n")
    return 0


def _expanded(cf, coefficients: dict, options: dict, fmt: str) -> str:
    """The expanded form: per-input coefficients (JSON) or one polynomial per state variable."""
    T = cf.steps
    if fmt == "json":
        state = {str(s): {factored.expression_text(x): expansion.ring_text(coeffs[x])
                          for x in factored.ordered_inputs(coeffs)} for s, coeffs in coefficients.items()}
        return json.dumps({"version": factored.SCHEMA_VERSION, "formulation": cf.formulation.name,
                           "options": {k: str(v) for k, v in options.items()}, "steps": T,
                           "expanded": True,
                           "free": factored.free_names(cf.formulation, [x for c in state.values() for x in c]),
                           "definitions": [],
                           "state": state}, indent=2)
    lines = []
    for s, coeffs in coefficients.items():
        R = next(iter(coeffs.values())).ring if coeffs else None
        total = sum((c * _ring_input(R, x) for x, c in coeffs.items()), R.zero) if R else 0
        if fmt == "latex":
            lines.append(f"{latex(s[T])} = {latex(expansion.expression(total) if R else 0)}")
        else:
            lines.append(f"{s}[{T}] = {expansion.ring_text(total) if R else 0}")
    return "\n".join(lines)


def _ring_input(R, x):
    """The input *x* (``g[k]``, ``theta[0]`` or ``1``) as an element of the expansion's ring."""
    return R.one if x == 1 else R.from_expr(x)


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
