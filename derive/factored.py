r"""The closed form as printed: shared sub-products defined once, then the state.

A concrete closed form (:func:`derive.unroll.closed_form`) is a DAG: the entries
of :math:`\Phi(T,k) = A_T \cdots A_{k+1}` are named ``Phi[T, k, r, c]`` and each
is defined from :math:`\Phi(T,k+1)` and :math:`A_{k+1}`,

.. math::
    \Phi(T,k)_{rc} = \sum_j \Phi(T,k+1)_{rj}\, (A_{k+1})_{jc},

so printing the definitions in order, then each state variable as
:math:`x_T = \sum_k \Phi(T,k) B_k u_k + \Phi(T,0) x_0` over the names, is linear
in :math:`T`.  Inlining the names instead multiplies the size by about 3.4 per
step (``pytorch_sgd``, every hyperparameter symbolic); that is the expansion
(:mod:`derive.expansion`), printed only on request.

Expressions are written in one small grammar (Python's arithmetic syntax, the
names SymPy's), by :func:`expression_text`, which walks the stored arguments
once instead of sorting them the way SymPy's printer does (100x faster at the
size of a definition; the output is deterministic because SymPy's argument
order is).
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

import sympy as sp

SCHEMA_VERSION = 2


def expression_text(expr: sp.Basic) -> str:
    """*expr* in the grammar of the unroll JSON schema (``a*b**2 - 1/10*c[3, 1]``)."""
    negative, body = _signed(expr)
    return "-" + body if negative else body


def _signed(expr) -> tuple[bool, str]:
    """(is the printed form negated, the text without its sign)."""
    if expr.is_Rational:
        p, q = expr.p, expr.q
        return p < 0, (f"{abs(p)}" if q == 1 else f"{abs(p)}/{q}")
    if expr.is_Add:
        parts = []
        for n, term in enumerate(expr.args):
            negative, body = _signed(term)
            parts.append(("-" if negative else "") + body if n == 0 else (" - " if negative else " + ") + body)
        return False, "".join(parts)
    if expr.is_Mul:
        args = list(expr.args)
        negative = False
        factors = []
        if args[0].is_Rational:
            negative, coeff = _signed(args.pop(0))
            if coeff != "1":
                factors.append(coeff if "/" not in coeff else f"({coeff})")
        factors += [_factor(a) for a in args]
        return negative, "*".join(factors)
    if expr.is_Pow:
        base = _atom_or_bracket(expr.base)
        exp = expr.exp
        power = f"{exp.p}" if exp.is_Integer and exp.p >= 0 else f"({expression_text(exp)})"
        return False, f"{base}**{power}"
    if isinstance(expr, sp.Indexed):
        return False, f"{expr.base.label}[{', '.join(expression_text(i) for i in expr.indices)}]"
    if expr.is_Symbol:
        return False, expr.name
    raise TypeError(f"no unroll-schema text for {type(expr).__name__}: {expr}")


def _factor(expr) -> str:
    """A factor of a product: a sum, a signed or fractional number in brackets."""
    if expr.is_Add or (expr.is_Rational and (expr.p < 0 or expr.q != 1)):
        return f"({expression_text(expr)})"
    return expression_text(expr)


def _atom_or_bracket(expr) -> str:
    if expr.is_Symbol or isinstance(expr, sp.Indexed) or (expr.is_Integer and expr.p >= 0):
        return expression_text(expr)
    return f"({expression_text(expr)})"


def ordered_inputs(coefficients) -> list:
    """The inputs of one state variable in a fixed order (``g[1]``, ``g[2]``, ..., ``theta[0]``)."""
    return sorted(coefficients, key=sp.default_sort_key)


def free_names(cf) -> list[str]:
    """The names the printed form may read without defining them: hyperparameters and inputs.

    Read off the step matrices and the inputs (the definitions only combine those),
    not off every expression, which would cost as much as printing them.
    """
    from derive.system import linear_system

    names = {str(x.label) if isinstance(x, sp.IndexedBase) else x.name
             for x in linear_system(cf.formulation).symbols()}
    for coeffs in cf.coefficients.values():
        # An Indexed's label is a Symbol too: the base's name, as printed.
        for x in coeffs:
            names |= {atom.name for atom in sp.sympify(x).atoms(sp.Symbol)}
        if cf.objective is not None:
            names |= {atom.name for c in coeffs.values() for atom in c.atoms(sp.Symbol)}
    names.discard("Phi")
    return sorted(names)


def factored_json(cf, options: dict, tick: Callable[[int], object] | None = None) -> dict:
    """The JSON document of a concrete closed form, definitions first (see ``derive unroll --help``)."""
    definitions = []
    for name, value in cf.definitions.items():
        definitions.append([expression_text(name), expression_text(value)])
        if tick is not None and name.indices[2] == name.indices[3] == 0:
            tick(1)
    state = {str(s): {expression_text(x): expression_text(coeffs[x]) for x in ordered_inputs(coeffs)}
             for s, coeffs in cf.coefficients.items()}
    return {"version": SCHEMA_VERSION, "formulation": cf.formulation.name,
            "options": {k: str(v) for k, v in options.items()}, "steps": cf.steps, "expanded": False,
            "free": free_names(cf), "definitions": definitions, "state": state}


def _terms(coeffs) -> Iterator[sp.Expr]:
    for x in ordered_inputs(coeffs):
        yield sp.Mul(coeffs[x], x)


def _join(texts: Iterable[str]) -> str:
    out = ""
    for text in texts:
        if not out:
            out = text
        elif text.startswith("-"):
            out += " - " + text[1:]
        else:
            out += " + " + text
    return out or "0"


def factored_text(cf) -> Iterator[str]:
    """Lines: a comment naming the sub-products, one definition per line, then ``base[T] = ...``."""
    T = cf.steps
    if cf.definitions:
        yield (f"# Phi[{T}, k, r, c] is entry (r, c) of A_{T} ... A_(k+1); "
               "each is defined once, from the one before, and read by name below")
    for name, value in cf.definitions.items():
        yield f"{expression_text(name)} = {expression_text(value)}"
    for s, coeffs in cf.coefficients.items():
        yield f"{s}[{T}] = {_join(expression_text(term) for term in _terms(coeffs))}"


def factored_latex(cf) -> Iterator[str]:
    """The same lines in the house notation (:func:`derive.render.printer.house_latex`)."""
    from derive.render.printer import house_latex

    T = cf.steps
    if cf.definitions:
        yield (rf"% \Phi_{{{T},k,r,c}} is entry (r, c) of A_{{{T}}} \cdots A_{{k+1}}; "
               "each is defined once, from the one before")
    for name, value in cf.definitions.items():
        yield f"{house_latex(name)} = {house_latex(value)}"
    for s, coeffs in cf.coefficients.items():
        tex = (house_latex(term) for term in _terms(coeffs))
        yield f"{house_latex(s[T])} = " + _join("-" + t[2:] if t.startswith("- ") else t for t in tex)
