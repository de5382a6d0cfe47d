r"""The house LaTeX printer: SymPy's :class:`~sympy.printing.latex.LatexPrinter` in our notation.

Rules (each has an exact-string test in ``tests/render/test_printer.py``):

* ``theta[t-1]`` prints :math:`\theta_{t-1}`: an indexed symbol is its base with
  the indices as a compact subscript; the bases have house names
  (``epsilon`` :math:`\varepsilon`, ``ghat`` :math:`\hat g`, ``thetatilde``
  :math:`\tilde\theta`, ``theta'`` :math:`\theta'`, ``Phi`` :math:`\Phi`, ...).
* ``nabla_f(x)`` prints :math:`\nabla f(x)`.
* Numbers are exact: ``Rational(9, 10)`` prints :math:`\frac{9}{10}`; a float
  raises, because derive never puts one in an expression.
* Terms of a sum are in *reading order*: positive terms first, numbers before
  symbols (but a step reads
  :math:`k+1`), then by the latest step they involve, then SymPy's canonical key;
  factors of a product read coefficient, constants, schedules,
  sub-expressions, the state, then sums and products
  (:math:`\varepsilon_t b_t`, not :math:`b_t \varepsilon_t`).  The order is a
  total order, so the output is deterministic.
* Sums and products print with their limits, :math:`\sum_{k=1}^{T}`,
  :math:`\prod_{j=k+1}^{T}`.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

# Indexed bases and symbols by name: the house notation.
HOUSE_NAMES = {
    "epsilon": r"\varepsilon",
    "mu": r"\mu",
    "theta": r"\theta",
    "theta'": r"\theta'",
    "Theta": r"\Theta",
    "thetatilde": r"\tilde{\theta}",
    "ghat": r"\hat{g}",
    "Phi": r"\Phi",
    "tau": r"\tau",
    "lambda": r"\lambda",
    "nabla_f": r"\nabla f",
}

# Which bases are hyperparameter schedules (printed before the state in a product).
SCHEDULES = frozenset({"epsilon", "mu"})


def _step_of(index: sp.Expr) -> tuple:
    """A sortable step for an index: ``t-1`` < ``t`` < ``t+1``; numbers by value."""
    index = sp.sympify(index)
    if index.is_Integer:
        return (0, int(index))
    constant, rest = index.as_coeff_Add()
    if rest.is_Symbol and constant.is_Integer:
        return (1, int(constant))
    return (2, 0)


def latest_step(expr: sp.Expr) -> tuple:
    """The latest step an expression involves (first index of its Indexed atoms)."""
    steps = [_step_of(a.indices[0]) for a in expr.atoms(sp.Indexed)]
    return max(steps) if steps else (-1, 0)


class HousePrinter(LatexPrinter):
    """LaTeX in the house notation; ``house_latex`` is the entry point."""

    printmethod = "_house_latex"

    def __init__(self, settings=None):
        super().__init__(settings)

    # -- names ---------------------------------------------------------------
    def _print_Symbol(self, expr, style="plain"):
        if expr.name in HOUSE_NAMES:
            return HOUSE_NAMES[expr.name]
        return super()._print_Symbol(expr, style=style)

    def _print_IndexedBase(self, expr):
        name = str(expr.label)
        return HOUSE_NAMES.get(name) or self._print(expr.label)

    def _print_Indexed(self, expr):
        indices = ",".join(self._index(i) for i in expr.indices)
        return f"{self._print(expr.base)}_{{{indices}}}"

    def _index(self, index) -> str:
        # Subscripts are compact: t-1, not t - 1.
        return self._print(index).replace(" - ", "-").replace(" + ", "+")

    def _print_Function(self, expr, exp=None):
        name = type(expr).__name__
        if name in HOUSE_NAMES:
            args = ", ".join(self._print(a) for a in expr.args)
            tex = rf"{HOUSE_NAMES[name]}\left({args}\right)"
            return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"
        return super()._print_Function(expr, exp=exp)

    def _print_Sum(self, expr):
        return self._big_operator(r"\sum", expr)

    def _print_Product(self, expr):
        return self._big_operator(r"\prod", expr)

    def _big_operator(self, symbol: str, expr) -> str:
        # Nested limits print as nested operators, each with compact limits.
        tex = ""
        for var, lower, upper in reversed(expr.limits):
            tex += rf"{symbol}_{{{self._index(var)}={self._index(lower)}}}^{{{self._index(upper)}}} "
        body = self._print(expr.function)
        if expr.function.is_Add:
            body = rf"\left({body}\right)"
        return tex + body

    # -- numbers -------------------------------------------------------------
    def _print_Float(self, expr):
        raise TypeError(
            f"float {expr} in an expression to print: derive is exact, "
            "build the number with sympy.Rational (derive.hyperparameters.exact)"
        )

    # -- order ---------------------------------------------------------------
    def _as_ordered_terms(self, expr, order=None):
        if (order or self.order) not in (None, "lex"):
            return super()._as_ordered_terms(expr, order=order)
        constant, rest = expr.as_coeff_Add()
        if constant.is_Integer and rest.is_Symbol:
            return [rest, constant]  # a step: k + 1, t - 1
        return sorted(sp.Add.make_args(expr), key=self._term_key)

    @staticmethod
    def _term_key(term):
        return (term.could_extract_minus_sign(), bool(term.free_symbols), latest_step(term),
                sp.default_sort_key(term))

    @staticmethod
    def _factor_key(factor):
        base = factor.base if factor.is_Pow else factor
        if isinstance(base, (sp.Sum, sp.Product)):
            rank = 6  # last, so that it needs no brackets
        elif base.is_Symbol:
            rank = 1
        elif isinstance(base, sp.Indexed) and str(base.base.label) in SCHEDULES:
            rank = 2
        elif base.is_Add:
            rank = 3
        elif isinstance(base, sp.Indexed):
            rank = 5
        else:
            rank = 4
        return (rank, latest_step(factor), sp.default_sort_key(factor))

    def _print_Mul(self, expr):
        coeff, factors = expr.as_coeff_mul()
        if not coeff.is_Rational or any(f.is_Pow and f.exp.is_negative for f in factors):
            return super()._print_Mul(expr)  # a quotient: SymPy's \frac layout
        # SymPy distributes a minus sign into a bracket, -(1 + mu) -> (-1 - mu): take it back out.
        factors = list(factors)
        for n, factor in enumerate(factors):
            if factor.is_Add and all(term.could_extract_minus_sign() for term in factor.args):
                factors[n], coeff = -factor, -coeff
        tex = "- " if coeff < 0 else ""
        coeff = abs(coeff)
        parts = [] if coeff == 1 else [self._print(coeff)]
        ordered = sorted(factors, key=self._factor_key)
        for n, factor in enumerate(ordered):
            part = self._print(factor)
            if self._needs_mul_brackets(factor, first=not parts and n == 0, last=n == len(ordered) - 1):
                part = rf"\left({part}\right)"
            parts.append(part)
        return tex + " ".join(parts)


def house_latex(expr, **settings) -> str:
    """*expr* in the house notation (see the module docstring for the rules)."""
    return HousePrinter(settings).doprint(sp.sympify(expr))
