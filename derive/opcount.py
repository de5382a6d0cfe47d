r"""Arithmetic operations and memory traffic per element and per step, from the update programs.

**Operations.**  Each formulation's regular step (t >= 2) is read from its
program (:class:`~derive.formulation.Assign` values), plus the look-ahead
point :math:`C_t x_{t-1}` for forms that evaluate the gradient elsewhere.  In
a sum of k terms there are k-1 additions/subtractions; a term with a negative
sign is a subtraction, not a negation (a negation counts only when nothing
absorbs it); a product of k factors is k-1 multiplications, ``x**n`` is n-1;
multiplying by 1 never appears (SymPy drops it) and a coefficient -1 is a sign,
not a multiplication.  The conventions differ in

* ``scalars``: whether a sub-expression free of per-element quantities (e.g.
  :math:`\varepsilon\mu`, :math:`1-\tau`) is paid per element ("as written")
  or once per tensor (hoisted, then free per element);
* ``fma``: whether :math:`a b + c` with an element product is one fused
  operation (one rounding) or two;
* ``lookahead``: whether the gradient point's arithmetic is counted.

**Memory traffic** (per element and step, for ``torch.optim.SGD``): the fused
kernel reads each per-element input once and writes each state once
(intermediates stay in registers); the for-loop and foreach paths run one
kernel per tensor operation of ``torch/optim/sgd.py`` (``neg``, ``add(alpha=)``,
``mul_``, ``clone``), each reading its operands and writing its result.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive import arguments
from derive.formulation import Formulation
from derive.symbols import g


@dataclass(frozen=True)
class Convention:
    name: str
    hoist_scalars: bool
    fma: bool
    lookahead: bool

    def describe(self) -> str:
        return (f"{'scalar products once per tensor' if self.hoist_scalars else 'every operation as written, scalar products per element'}; "
                f"{'a*b+c is one fused op' if self.fma else 'a*b+c is two ops'}; "
                f"look-ahead point {'counted' if self.lookahead else 'not counted'}; "
                "a sign absorbed by a subtraction is free, x1 never counts")


CONVENTIONS = {
    "as-written": Convention("as-written", hoist_scalars=False, fma=False, lookahead=True),
    "hoisted": Convention("hoisted", hoist_scalars=True, fma=False, lookahead=True),
    "fma": Convention("fma", hoist_scalars=True, fma=True, lookahead=True),
    "no-lookahead": Convention("no-lookahead", hoist_scalars=False, fma=False, lookahead=False),
}


@dataclass(frozen=True)
class OpCount:
    """Operations per element in one regular step of a formulation."""

    formulation: str
    convention: str
    mul: int
    add: int
    neg: int
    fma: int

    @property
    def total(self) -> int:
        return self.mul + self.add + self.neg + self.fma


def _is_element(e: sp.Expr, elements: set) -> bool:
    return any(isinstance(a, sp.Indexed) and a.base in elements for a in e.atoms(sp.Indexed))


def _ops(e: sp.Expr, elements: set, conv: Convention) -> list[int]:
    """[mul, add, neg, fma] for expression *e*."""
    zero = [0, 0, 0, 0]
    if e.is_Atom or isinstance(e, sp.Indexed):
        return zero
    if conv.hoist_scalars and not _is_element(e, elements):
        return zero
    if e.is_Add:
        terms = list(e.args)
        out = [0, len(terms) - 1, 0, 0]
        negative = [tm.could_extract_minus_sign() for tm in terms]
        if all(negative):
            out[2] += 1
        for tm in terms:
            tm = -tm if tm.could_extract_minus_sign() else tm
            out = [a + b for a, b in zip(out, _ops(tm, elements, conv))]
        if conv.fma:  # each element product term fuses with one addition
            products = sum(1 for tm in terms if (-tm if tm.could_extract_minus_sign() else tm).is_Mul
                           and _is_element(tm, elements))
            fused = min(products, out[1], out[0])
            out[0] -= fused
            out[1] -= fused
            out[3] += fused
        return out
    if e.is_Mul:
        coeff, factors = e.as_coeff_mul()
        factors = list(factors)
        if conv.hoist_scalars:
            scalars = [f for f in factors if not _is_element(f, elements)]
            factors = [f for f in factors if _is_element(f, elements)] + ([sp.Mul(*scalars)] if scalars else [])
        out = [0, 0, 0, 0]
        if abs(coeff) != 1:
            factors.append(abs(coeff))
        if coeff < 0:
            out[2] += 1
        out[0] += len(factors) - 1
        for f in factors:
            out = [a + b for a, b in zip(out, _ops(f, elements, conv))]
        return out
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        inner = _ops(e.base, elements, conv)
        return [inner[0] + int(e.exp) - 1] + inner[1:]
    out = [0, 0, 0, 0]
    for arg in e.args:
        out = [a + b for a, b in zip(out, _ops(arg, elements, conv))]
    return out


def count(f: Formulation, conv: Convention | str = "as-written") -> OpCount:
    """Operations per element of *f*'s regular step (and look-ahead point) under *conv*."""
    f = arguments.formulation(f, "f", "count")
    if isinstance(conv, str) and conv not in CONVENTIONS:
        raise arguments.InvalidArgument(f"count: unknown convention {conv!r}; one of {', '.join(CONVENTIONS)}")
    conv = CONVENTIONS[conv] if isinstance(conv, str) else conv
    elements = {a.base for a in f.update} | {g}
    exprs = [a.value for a in f.update]
    if conv.lookahead and not isinstance(f.grad_at, sp.Indexed):
        exprs.append(f.grad_at)
    total = [0, 0, 0, 0]
    for e in exprs:
        # a sign on a whole right-hand side is a subtraction of the assignment it feeds
        total = [a + b for a, b in zip(total, _ops(e, elements, conv))]
    return OpCount(f.name, conv.name, *total)


def table(names=None, conventions=None) -> list[OpCount]:
    """Rows for every (formulation, convention): the renderer's and the CLI's table."""
    from derive.catalogue import get, names as all_names

    names = arguments.names(names, "names", "table", what="catalogue name")
    conventions = arguments.names(conventions, "conventions", "table", what="convention name")
    rows = []
    for name in names or all_names():
        f = get(name)
        for conv in conventions or CONVENTIONS:
            rows.append(count(f, conv))
    return rows


# -- memory traffic ----------------------------------------------------------------------------
BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}
TORCH_CONFIGS = {
    "plain": {"momentum": 0, "dampening": 0, "weight_decay": 0},
    "weight_decay": {"momentum": 0, "dampening": 0},
    "maximize": {"momentum": 0, "dampening": 0, "weight_decay": 0, "maximize": True},
    "momentum": {"dampening": 0, "weight_decay": 0},
    "momentum+dampening": {"weight_decay": 0},
    "momentum+weight_decay": {"dampening": 0},
    "nesterov": {"weight_decay": 0, "nesterov": True},
    "nesterov+weight_decay": {"nesterov": True},
    "all (maximize, wd, dampening)": {"maximize": True},
}


@dataclass(frozen=True)
class Traffic:
    """Element reads and writes per step for one torch.optim.SGD configuration and implementation."""

    config: str
    impl: str  # "fused" or "for-loop/foreach"
    step: str  # "first" or "regular"
    reads: int
    writes: int
    kernels: int

    def bytes(self, dtype: str = "float32") -> int:
        return (self.reads + self.writes) * BYTES[dtype]


def _terms(value: sp.Expr, elements: set) -> list[sp.Expr]:
    terms = list(value.args) if value.is_Add else [value]
    return [tm for tm in terms if _is_element(tm, elements)]


def traffic(options: dict, config: str = "") -> list[Traffic]:
    """Fused and kernel-by-kernel traffic of ``pytorch_sgd(**options)``, first and regular step."""
    from derive.catalogue import get

    f = get("pytorch_sgd", **options)
    elements = {a.base for a in f.update} | {g}
    rows = []
    for step in (1, 2):
        values = [(a.base, a.value_at(step)) for a in f.update]
        read = {x.base for _, v in values for x in v.atoms(sp.Indexed)
                if x.base in elements and (x.base == g or x.indices[0] == step - 1)}
        written = {base for base, _ in values if base in f.state}
        rows.append(Traffic(config, "fused", "first" if step == 1 else "regular", len(read), len(written), 1))
        reads = writes = kernels = 0
        for base, v in values:
            terms = _terms(v, elements)
            if len(terms) == 1 and isinstance(terms[0], sp.Indexed):  # clone of the first gradient
                reads, writes, kernels = reads + 1, writes + 1, kernels + 1
                continue
            # in place on the assignment's own previous value (buf.mul_, param.add_), else a new tensor
            own = [tm for tm in terms if base[step - 1] in tm.atoms(sp.Indexed)]
            pure = [tm for tm in terms if isinstance(tm, sp.Indexed)]
            first = own[0] if own else (pure[0] if pure else terms[0])
            if first != first.as_coeff_Mul()[1] or not isinstance(first, sp.Indexed):
                reads, writes, kernels = reads + 1, writes + 1, kernels + 1  # neg / mul_
            extra = len(terms) - 1
            reads, writes, kernels = reads + 2 * extra, writes + extra, kernels + extra  # add(alpha=)
        rows.append(Traffic(config, "for-loop/foreach", "first" if step == 1 else "regular", reads, writes, kernels))
    return rows


def traffic_table() -> list[Traffic]:
    return [row for name, options in TORCH_CONFIGS.items() for row in traffic(options, name)]
