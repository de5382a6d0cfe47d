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

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import sympy as sp

from derive.symbols import t
from derive.system import linear_system

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


def input_order(text: str) -> tuple:
    """Inputs (as printed) in a fixed order: the gradients by step, then the initial values by name."""
    gradient = re.fullmatch(r"g\[(\d+)\]", text)
    return (0, int(gradient[1]), "") if gradient else (1, 0, text)


def ordered_inputs(coefficients) -> list:
    """The inputs of one state variable in a fixed order (``g[1]``, ``g[2]``, ..., ``theta[0]``)."""
    return sorted(coefficients, key=lambda x: input_order(expression_text(sp.sympify(x))))


def free_names(f, inputs: Iterable[str]) -> list[str]:
    """The names the printed form may read without defining them: hyperparameters and inputs.

    Read off the step matrices and the inputs (the definitions only combine those),
    not off every expression, which would cost as much as printing them.
    """
    names = {str(x.label) if isinstance(x, sp.IndexedBase) else x.name for x in linear_system(f).symbols()}
    for x in inputs:
        names |= set(re.findall(r"[A-Za-z_][A-Za-z_0-9']*", x))
    names.discard("Phi")
    return sorted(names)


@dataclass(frozen=True)
class _Entry:
    """A template entry of ``Phi A_t`` or ``Phi B_t``: a slot, a number, a schedule atom or a text."""

    kind: str  # "slot", "number", "atom" or "text"
    value: object


class _TextStep:
    """One kind of step (regular or first) as text templates over its placeholders."""

    def __init__(self, template, slots):
        PB, PA, u, schedule = template
        self.schedule = schedule
        n = len(slots)
        self.fields = {slots[r][c]: f"s{r}_{c}" for r in range(n) for c in range(n)}
        self.fields.update({d: f"h{i}" for i, d in enumerate(schedule)})
        self.markers = {d: sp.Symbol("{" + name + "}") for d, name in self.fields.items()}
        where = {slots[r][c]: (r, c) for r in range(n) for c in range(n)}
        exprs = [*PB, *[e for row in PA for e in row], u]
        # A template still reading t outside a schedule index (lr = 1/t) has no text form: SymPy path.
        self.fast = not any(t in e.free_symbols for e in exprs)
        self.PB = [self._entry(e, where) for e in PB]
        self.PA = [[self._entry(e, where) for e in row] for row in PA]
        self.u = self._entry(u, where)

    def _entry(self, e, where) -> _Entry:
        if e in where:
            return _Entry("slot", where[e])
        if e.is_Number:
            return _Entry("number", e)
        if e in self.schedule:
            return _Entry("atom", self.schedule[e])
        return _Entry("text", expression_text(e.xreplace(self.markers)))


def factored_texts(f, steps: int, *, progress: Callable[[int], object] | None = None):
    r"""``(definitions, state)`` of :func:`derive.unroll.closed_form` as text, at any horizon.

    The same recurrence (:math:`\Phi(T,k-1) = \Phi(T,k) A_k`, coefficient
    :math:`\Phi(T,k) B_k` of :math:`g_k`, each entry that is more than an atom named
    ``Phi[T, k-1, r, c]``) from the same step templates, but a step whose
    :math:`\Phi(T,k)` entries are all atoms is written by filling one text template
    per kind of step: no SymPy expression is built, so printing costs microseconds
    a step.  Other steps (the first ones, where :math:`\Phi` holds numbers) go
    through SymPy as in ``closed_form``.  ``definitions`` is a list of
    ``(name, expression)`` texts in order; ``state`` maps each state variable's
    name to ``{input: coefficient}`` texts.
    """
    from derive.unroll import Phi, check_steps, step_templates

    T = check_steps(steps)
    system = linear_system(f)
    n = system.size
    slots = [[sp.Dummy(f"P{r}{c}") for c in range(n)] for r in range(n)]
    templates = {"regular": step_templates(system, None, slots, t), "first": step_templates(system, None, slots, 1)}
    texts = {kind: _TextStep(template, slots) for kind, template in templates.items()}
    P: list[list] = [[sp.S.One if r == c else sp.S.Zero for c in range(n)] for r in range(n)]
    definitions: list[tuple[str, str]] = []
    coefficients: list[dict] = [dict() for _ in range(n)]

    def name(k, r, c) -> str:
        return f"Phi[{T}, {k}, {r}, {c}]"

    def sympy_entry(e):
        return Phi[T, e[0], e[1], e[2]] if isinstance(e, tuple) else e

    for k in range(T, 0, -1):
        kind = "first" if k == 1 else "regular"
        step = texts[kind]
        if step.fast and all(isinstance(e, tuple) or (e.is_Atom and not e.is_Number) or isinstance(e, sp.Indexed)
                             for row in P for e in row):
            values = {step.fields[slots[r][c]]: name(*P[r][c]) if isinstance(P[r][c], tuple)
                      else expression_text(P[r][c]) for r in range(n) for c in range(n)}
            # Schedule entries by text: building an Indexed per step would cost more than the whole step.
            values.update({step.fields[d]: f"{base.label}[{k + offset}]" for d, (base, offset) in step.schedule.items()})

            def fill(entry: _Entry, r=None):
                if entry.kind == "slot":
                    return P[entry.value[0]][entry.value[1]]
                if entry.kind == "number":
                    return entry.value
                if entry.kind == "atom":
                    return entry.value[0][k + entry.value[1]]
                return entry.value.format(**values)

            if step.u.kind == "atom":
                key = f"{step.u.value[0].label}[{k + step.u.value[1]}]"
            else:
                key = fill(step.u)
                key = key if isinstance(key, str) else expression_text(sympy_entry(key))
            for r in range(n):
                value = fill(step.PB[r])
                if isinstance(value, str) or value != 0:
                    coefficients[r][key] = value if isinstance(value, str) else expression_text(sympy_entry(value))
            new = [[None] * n for _ in range(n)]
            for r in range(n):
                for c in range(n):
                    value = fill(step.PA[r][c])
                    if isinstance(value, str):
                        definitions.append((name(k - 1, r, c), value))
                        value = (k - 1, r, c)
                    new[r][c] = value
            P = new
        else:
            P = _sympy_step(templates[kind], slots, P, k, T, definitions, coefficients, sympy_entry)
        if progress is not None:
            progress(1)
    x0 = f.initial_state()
    for c, s in enumerate(f.state):
        value = x0[s]
        key, scale = (value, 1) if not value.is_number else (sp.S.One, value)
        for r in range(n):
            term = sympy_entry(P[r][c]) * scale
            if term != 0:
                # two state variables may start at the same input (theta_{-1} = theta_0): add their terms
                text, before = expression_text(term), coefficients[r].get(expression_text(key))
                coefficients[r][expression_text(key)] = text if before is None else f"{before} + {text}"
    state = {str(s): {x: coefficients[r][x] for x in sorted(coefficients[r], key=input_order)}
             for r, s in enumerate(f.state)}
    return definitions, state


def _sympy_step(template, slots, P, k, T, definitions, coefficients, sympy_entry):
    """One step as in ``closed_form``: instantiate the SymPy templates, name the non-atoms."""
    from derive.unroll import Phi

    PB, PA, u, schedule = template
    n = len(slots)
    sub = {slots[r][c]: sympy_entry(P[r][c]) for r in range(n) for c in range(n)}
    sub[t] = sp.Integer(k)
    sub.update({d: base[k + offset] for d, (base, offset) in schedule.items()})
    key = expression_text(u.xreplace(sub))
    for r in range(n):
        value = PB[r].xreplace(sub)
        if value != 0:
            coefficients[r][key] = expression_text(value)
    new = [[None] * n for _ in range(n)]
    for r in range(n):
        for c in range(n):
            entry = PA[r][c].xreplace(sub)
            if entry.is_Atom or entry.is_Indexed:
                new[r][c] = entry
            else:
                definitions.append((expression_text(Phi[T, k - 1, r, c]), expression_text(entry)))
                new[r][c] = (k - 1, r, c)
    return new


def factored_json(f, steps: int, options: dict, *, progress=None) -> dict:
    """The JSON document of the factored closed form (schema in ``derive/commands/unroll.py``)."""
    definitions, state = factored_texts(f, steps, progress=progress)
    inputs = {x for coeffs in state.values() for x in coeffs}
    return {"version": SCHEMA_VERSION, "formulation": f.name,
            "options": {k: str(v) for k, v in options.items()}, "steps": steps, "expanded": False,
            "free": free_names(f, inputs),
            "definitions": [list(d) for d in definitions], "state": state}


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


def _term(coefficient: str, x: str) -> str:
    if coefficient in ("1", "-1"):
        return x if coefficient == "1" else f"-{x}"
    # A product needs no bracket (-epsilon[1]*g[1]); a sum, or anything with a sum inside, does.
    product = "+" not in coefficient and " - " not in coefficient
    return f"{coefficient}*{x}" if product else f"({coefficient})*{x}"


def factored_text(f, steps: int, *, progress=None) -> Iterator[str]:
    """Lines: a comment naming the sub-products, one definition per line, then ``base[T] = ...``."""
    definitions, state = factored_texts(f, steps, progress=progress)
    if definitions:
        yield (f"# Phi[{steps}, k, r, c] is entry (r, c) of A_{steps} ... A_(k+1); "
               "each is defined once, from the one before, and read by name below")
    for name, value in definitions:
        yield f"{name} = {value}"
    for s, coeffs in state.items():
        yield f"{s}[{steps}] = {_join(_term(c, x) for x, c in coeffs.items())}"


def _terms(coeffs) -> Iterator[sp.Expr]:
    for x in ordered_inputs(coeffs):
        yield sp.Mul(coeffs[x], x)


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
