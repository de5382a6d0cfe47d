r"""The house LaTeX printer: SymPy's :class:`~sympy.printing.latex.LatexPrinter` in our notation.

Rules (each has an exact-string test in ``tests/render/test_printer.py``):

* ``theta[t-1]`` prints :math:`\theta_{t-1}`: an indexed symbol is its base with
  the indices as a compact subscript; the bases have house names
  (``epsilon`` :math:`\varepsilon`, ``ghat`` :math:`\hat g`, ``thetatilde``
  :math:`\tilde\theta`, ``theta'`` :math:`\theta'`, ``Phi`` :math:`\Phi`, ...).
* ``nabla_f(x)`` prints :math:`\nabla f(x)`.
* Numbers are exact: ``Rational(9, 10)`` prints :math:`\frac{9}{10}`; a float
  raises, because derive never puts one in an expression.
* Terms of a sum are in *reading order*: by degree (numbers first, but a step
  reads :math:`k+1`), positive before negative, then by the latest step they
  involve, then SymPy's canonical key; a bracket reads with a positive
  constant, :math:`-(1-\tau)` rather than :math:`(\tau-1)`;
  factors of a product read coefficient, constants, schedules (the role table's and every
  base a registered entry reads as a hyperparameter, a plugin's :math:`\alpha_t` too),
  sub-expressions, matrices (:math:`A_t x_{t-1}`), the state, then sums and products
  (:math:`\varepsilon_t b_t`, not :math:`b_t \varepsilon_t`).  The order is a
  total order, so the output is deterministic.
* Sums and products print with their limits, :math:`\sum_{k=1}^{T}`,
  :math:`\prod_{j=k+1}^{T}`.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.symbols import ROLES, schedule_names

# Indexed bases and symbols by name: the house notation.
HOUSE_NAMES = {
    **{str(getattr(r.symbol, "label", r.symbol)): r.latex for r in ROLES.values()},  # the role table's names
    "theta": r"\theta",
    "theta'": r"\theta'",
    "Theta": r"\Theta",
    "thetatilde": r"\tilde{\theta}",
    "ghat": r"\hat{g}",
    "Phi": r"\Phi",
    "vbar": r"\bar{v}",
    "nabla_f": r"\nabla f",
}

# Matrices acting on the state (linear-system view, change of variables): before the state too.
OPERATORS = frozenset({"A", "B", "C", "S"})


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


def _degree(term: sp.Expr) -> int:
    """Number of factors in a term (powers count their exponent): sums read by degree."""
    if term.is_number:
        return 0
    degree = 0
    for factor in sp.Mul.make_args(term):
        if factor.is_number:
            continue
        exp = factor.exp if factor.is_Pow else sp.S.One
        degree += int(exp) if exp.is_Integer and exp > 0 else 1
    return degree


def _leads_negative(bracket: sp.Add) -> bool:
    """Whether a sum reads better negated: a negative constant, or every term negative."""
    constant, _ = bracket.as_coeff_Add()
    if constant != 0:
        return constant < 0
    return all(term.could_extract_minus_sign() for term in bracket.args)


class HousePrinter(LatexPrinter):
    """LaTeX in the house notation; ``house_latex`` is the entry point."""

    printmethod = "_house_latex"

    def __init__(self, settings=None):
        super().__init__(settings)
        # which bases are hyperparameter schedules (before the state in a product): a plugin's too
        self.schedules = schedule_names()

    # -- what the layout reads (derive.render.layout breaks lines with these) --
    def ordered_terms(self, expr: sp.Expr) -> list[sp.Expr]:
        """The terms of a sum in reading order, as a printed sum shows them."""
        return list(self._as_ordered_terms(expr))

    def term(self, term: sp.Expr) -> str:
        """One term of a sum as a printed sum writes it: bracketed where the sum brackets it."""
        part = self.doprint(term)
        return rf"\left({part}\right)" if self._needs_add_brackets(term) else part

    def subscript(self, index) -> str:
        """An index as a compact subscript: ``t-1``, not ``t - 1``."""
        return self._index(index)

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
            return tex + rf"\left({body}\right)"
        if body.startswith("- ") and symbol == r"\sum":
            return "- " + tex + body[2:]  # the sum of negatives reads as minus a sum
        return tex + body

    def _print_Add(self, expr, order=None):
        # A term's sign is read off its printed form, so -Sum(...) and -(...) join with " - ".
        tex = ""
        for n, term in enumerate(self._as_ordered_terms(expr, order=order)):
            part = self._print(term)
            if self._needs_add_brackets(term):
                part = rf"\left({part}\right)"
            if part.startswith("-"):
                tex += ("- " if n == 0 else " - ") + part[1:].lstrip()
            else:
                tex += part if n == 0 else " + " + part
        return tex

    def _print_Pow(self, expr, *args, **kwargs):
        # (1 - tau)^2, not (tau - 1)^2: an even power reads with a positive constant in its bracket
        base, exp = expr.args
        if base.is_Add and _leads_negative(base) and exp.is_Integer and exp.is_even:
            return super()._print_Pow(sp.Pow(-base, exp, evaluate=False), *args, **kwargs)
        return super()._print_Pow(expr, *args, **kwargs)

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
        return (_degree(term), term.could_extract_minus_sign(), latest_step(term), sp.default_sort_key(term))

    def _factor_key(self, factor):
        base = factor.base if factor.is_Pow else factor
        if isinstance(base, (sp.Sum, sp.Product)):
            rank = 6  # last, so that it needs no brackets
        elif base.is_Symbol:
            rank = 1
        elif isinstance(base, sp.Indexed) and str(base.base.label) in self.schedules:
            rank = 2
            return (rank, str(base.base.label), latest_step(factor), sp.default_sort_key(factor))
        elif base.is_Add:
            rank = 3
        elif isinstance(base, sp.Indexed) and str(base.base.label) in OPERATORS:
            rank = 4
        elif isinstance(base, sp.Indexed):
            rank = 5
        else:
            rank = 4.5
        return (rank, "", latest_step(factor), sp.default_sort_key(factor))

    def _print_Mul(self, expr):
        coeff, factors = expr.as_coeff_mul()
        if not coeff.is_Rational:
            return super()._print_Mul(expr)
        if any(f.is_Pow and f.exp.is_negative for f in factors):
            return self._quotient(coeff, factors)
        # A bracket reads with a positive constant: -(1 + mu), not (-1 - mu); -(1 - tau), not (tau - 1).
        factors = list(factors)
        for n, factor in enumerate(factors):
            if factor.is_Add and _leads_negative(factor):
                factors[n], coeff = -factor, -coeff
        tex = "- " if coeff < 0 else ""
        coeff = abs(coeff)
        parts = [] if coeff == 1 else [self._print(coeff)]
        ordered = sorted(factors, key=self._factor_key)
        sign = tex
        for n, factor in enumerate(ordered):
            part = self._print(factor)
            if part.startswith("- ") and not factor.is_Add:
                part, sign = part[2:], ("" if sign else "- ")
            if self._needs_mul_brackets(factor, first=not parts and n == 0, last=n == len(ordered) - 1):
                part = rf"\left({part}\right)"
            parts.append(part)
        return sign + " ".join(parts)


    def _quotient(self, coeff, factors) -> str:
        """``\\frac{schedules}{schedules}`` times the state: the step's factor, then what it scales."""
        state = [f for f in factors if self._factor_key(f)[0] >= 5 and not (f.is_Pow and f.exp.is_negative)]
        rest = [f for f in factors if f not in state]
        numer, denom = sp.fraction(sp.Mul(abs(coeff), *rest))
        # natural signs: 1/(1 - beta), not -1/(beta - 1); each bracket reads with a positive constant
        negative = coeff < 0
        for part in ("numer", "denom"):
            value = numer if part == "numer" else denom
            flipped = []
            for factor in sp.Mul.make_args(value):
                if factor.is_Add and _leads_negative(factor):
                    factor, negative = -factor, not negative
                flipped.append(factor)
            value = sp.Mul(*flipped, evaluate=False) if len(flipped) > 1 else flipped[0]
            numer, denom = (value, denom) if part == "numer" else (numer, value)
        if numer == 1 and len(state) == 1 and not state[0].is_Add:
            numer, state = state[0], []  # v_t / eps_t, not (1 / eps_t) v_t
        tex = ("- " if negative else "") + rf"\frac{{{self._print(numer)}}}{{{self._print(denom)}}}"
        for factor in sorted(state, key=self._factor_key):
            part = self._print(factor)
            tex += rf" \left({part}\right)" if self._needs_mul_brackets(factor, last=True) else f" {part}"
        return tex


def house_latex(expr, **settings) -> str:
    """*expr* in the house notation (see the module docstring for the rules)."""
    return HousePrinter(settings).doprint(sp.sympify(expr))
