r"""A system's step compiled once: float64 (vectorised over steps) and exact versions.

The templates :math:`A_t, B_t, C_t` of :class:`~derive.system.LinearSystem` and
step 1's :math:`A_1, B_1` (written back in the template's arguments) are
compiled with :func:`sympy.lambdify`.  The float64 version takes one array per
argument (a value per step) and returns every step's matrix at once; the exact
one computes in :class:`fractions.Fraction` when the templates and the values
are rational, in SymPy numbers otherwise (so :math:`\sqrt 2/2` stays exact).
"""

from __future__ import annotations

from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from derive.errors import DeriveError
from derive.formulation import Formulation
from derive.numeric.binding import argument, as_sympy, exact_number, lookup
from derive.system import LinearSystem, linear_system
from derive.symbols import t

# A rational number inside a template, printed as a call so lambdify emits Fraction(p, q), never p/q.
_FRACTION = sp.Function("Fraction")


def _rational(expr: sp.Expr) -> bool:
    """A rational function with rational coefficients (exactly computable in Fractions)."""
    if expr.has(sp.NumberSymbol) or expr.atoms(sp.Function):
        return False
    return all(p.exp.is_Integer for p in expr.atoms(sp.Pow)) and all(n.is_Rational for n in expr.atoms(sp.Number))


def compile_matrices(templates: Mapping[str, sp.Matrix], args: Sequence[sp.Basic], *,
                     exact: bool = False, rational: bool = True) -> dict[str, Callable]:
    """Each template as a function of *args*.

    Float64: the values are arrays over steps, the result has shape
    ``(steps, rows, cols)``.  Exact: the values are numbers, the result a list
    of rows; ``rational=True`` computes in Fractions (every template must be
    rational, see :meth:`CompiledStep.exact`), ``False`` in SymPy numbers.
    """
    dummies = [sp.Dummy(f"a{n}") for n in range(len(args))]
    sub = dict(zip(args, dummies))
    out = {}
    for name, M in templates.items():
        M = sp.Matrix(M).xreplace(sub)
        unbound = {a for a in M.free_symbols | M.atoms(sp.Indexed) if not isinstance(a, sp.Dummy)}
        if unbound:
            raise DeriveError(f"template {name} reads {sorted(map(str, unbound))}, which are not arguments")
        out[name] = (_exact_function if exact else _float_function)(M, dummies, rational)
    return out


def _float_function(M: sp.Matrix, dummies, rational: bool) -> Callable:
    fn, shape = sp.lambdify(dummies, list(M), modules="numpy"), M.shape

    def evaluate(*values, steps: int | None = None):
        steps = np.shape(values[0])[0] if values else (1 if steps is None else steps)
        entries = [np.broadcast_to(np.asarray(e, dtype=np.float64), (steps,)) for e in fn(*values)]
        return np.stack(entries, axis=-1).reshape(steps, *shape)

    return evaluate


def _exact_function(M: sp.Matrix, dummies, rational: bool) -> Callable:
    fractions = M.replace(lambda e: e.is_Rational and not e.is_Integer, lambda e: _FRACTION(e.p, e.q))
    namespace = [{"Fraction": Fraction}] if rational else [{"Fraction": sp.Rational}, "sympy"]
    fn, (rows, cols) = sp.lambdify(dummies, list(fractions), modules=namespace), M.shape

    def evaluate(*values):
        flat = fn(*values)
        return [flat[r * cols : (r + 1) * cols] for r in range(rows)]

    return evaluate


class CompiledStep:
    """A system's step matrices compiled once; bind hyperparameters to get them for any step.

    ``args`` are the template symbols in argument order (schedule entries by
    SymPy's sort key, then constants), ``signature`` the same as
    :class:`Argument` (role, offset), ``lifted`` step 1's ``(A_1, B_1)`` written
    in those arguments, ``templates`` the five matrices in them.
    """

    def __init__(self, system: LinearSystem):
        self.system = system
        self.roles = system.formulation.roles()
        indexed = {a for M in (system.A, system.B, system.C) for a in M.atoms(sp.Indexed)}
        lifted = [M.xreplace({a.subs(t, 1): a for a in indexed}) for M in (system.A1, system.B1)]
        # an entry only step 1 reads (mu[2] where the template reads mu[t]) becomes base[t + offset] too
        only_first = {a: a.base[t + a.indices[0] - 1] for M in lifted for a in M.atoms(sp.Indexed)
                      if a.indices[0].is_Integer}
        lifted = [M.xreplace(only_first) for M in lifted]
        indexed |= set(only_first.values())
        consts = {s for s in system.symbols() if isinstance(s, sp.Symbol)}
        self.args = tuple(sorted(indexed, key=sp.default_sort_key)) + tuple(sorted(consts - {t}, key=sp.default_sort_key))
        # a template may read the step itself (an averaging weight 1/t): t is then the last argument
        hidden = {a: sp.Dummy() for a in indexed}
        if any(t in M.xreplace(hidden).free_symbols for M in (system.A, system.B, system.C)):
            self.args += (t,)
        self.signature = tuple(argument(a, self.roles) for a in self.args)
        self.lifted = tuple(lifted)
        self.templates = {"A": system.A, "B": system.B, "C": system.C, "A1": lifted[0], "B1": lifted[1]}
        # which arguments step 1 and the later steps read: only those must have a value there
        self._reads = {kind: frozenset(i for i, a in enumerate(self.args) if any(M.has(a) for M in mats))
                       for kind, mats in (("first", lifted + [system.C]), ("regular", (system.A, system.B, system.C)))}

    @property
    def size(self) -> int:
        return self.system.size

    @cached_property
    def rational(self) -> bool:
        """Whether the exact step can compute in Fractions (every template entry rational)."""
        return all(_rational(e) for M in self.templates.values() for e in M)

    @cached_property
    def _float(self) -> dict[str, Callable]:
        return compile_matrices(self.templates, self.args)

    def _exact(self, rational: bool) -> dict[str, Callable]:
        cache = self.__dict__.setdefault("_exact_cache", {})
        if rational not in cache:
            cache[rational] = compile_matrices(self.templates, self.args, exact=True, rational=rational)
        return cache[rational]

    # -- binding ---------------------------------------------------------------------------------
    def reads(self, step: int) -> frozenset[int]:
        """The indices of the arguments step *step* reads."""
        return self._reads["first" if step == 1 else "regular"]

    def bind(self, values: Mapping, steps: int, *, symbolic: bool = False) -> list[list]:
        """Each argument's value at steps ``1..steps`` (None where that step does not read it).

        Every lookup happens here, before any step is taken: a missing role or a
        sequence too short for the horizon is refused first.  With *symbolic*
        (exact runs only) a value that is not given stays the symbol the step
        reads (``epsilon[0]``), as substituting into the program would leave it.
        """
        bound = []
        for i, arg in enumerate(self.signature):
            row = [None] * steps
            for k in range(1, steps + 1):
                if i not in self.reads(k):
                    continue
                try:
                    row[k - 1] = lookup(values, arg, k)
                except DeriveError:
                    if not symbolic:
                        raise
                    row[k - 1] = arg.symbol.subs(t, k)
            bound.append(row)
        return bound

    def matrices(self, values: Mapping, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``A_k, B_k, C_k`` for ``k = 1..steps`` in float64: shapes ``(steps, n, n)``, ``(steps, n, 1)``, ``(steps, 1, n)``."""
        bound = self.bind(values, steps)
        arrays = [np.array([np.nan if v is None else float(v) for v in row], dtype=np.float64) for row in bound]
        return self.float_matrices(arrays, steps)

    def float_matrices(self, arrays: Sequence[np.ndarray], steps: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The per-step matrices from per-argument float64 arrays (a value per step; step 1 from ``A_1, B_1``).

        Shapes ``(steps, n, n)``, ``(steps, n, 1)``, ``(steps, 1, n)``; *steps* is needed only without arguments.
        """
        f, n = self._float, self.size
        steps = len(arrays[0]) if arrays else int(steps or 0)
        A, B = np.empty((steps, n, n)), np.empty((steps, n, 1))
        if steps:
            first = [a[:1] for a in arrays]
            A[:1], B[:1] = f["A1"](*first, steps=1), f["B1"](*first, steps=1)
        if steps > 1:
            rest = [a[1:] for a in arrays]
            A[1:], B[1:] = f["A"](*rest, steps=steps - 1), f["B"](*rest, steps=steps - 1)
        return A, B, f["C"](*arrays, steps=steps)

    def exact(self, values: Sequence, step: int) -> tuple[list, list, list]:
        """``(A, B, C)`` of *step* as lists of rows of exact numbers, from the step's argument values.

        Fractions when the templates and *values* are rational (see :func:`exact_number`), SymPy otherwise.
        """
        values = [None if v is None else exact_number(v) for v in values]
        rational = self.rational and all(v is None or isinstance(v, Fraction) for v in values)
        if not rational:
            values = [None if v is None else as_sympy(v) for v in values]
        fns = self._exact(rational)
        values = [0 if v is None else v for v in values]  # an argument this step never reads
        first = step == 1
        return fns["A1" if first else "A"](*values), fns["B1" if first else "B"](*values), fns["C"](*values)

    # -- the interface verify and the older callers read -----------------------------------------
    def arguments(self, values: Mapping, step: int) -> list:
        """Each argument's value at *step*; None only where it has none and the step does not read it."""
        out = []
        for i, arg in enumerate(self.signature):
            try:
                out.append(lookup(values, arg, step))
            except DeriveError:
                if i in self.reads(step):
                    raise
                out.append(None)
        return out

    def at(self, values: Mapping, step: int, *, exact: bool = False):
        """``(A, B, C)`` for *step*: float64 arrays, or exact SymPy matrices."""
        args = self.arguments(values, step)
        if exact:
            return tuple(sp.Matrix(M).applyfunc(as_sympy) for M in self.exact(args, step))
        arrays = [np.array([np.nan if v is None else float(v)]) for v in args]
        first = step == 1
        return tuple(self._float[name](*arrays, steps=1)[0]
                     for name in (("A1", "B1") if first else ("A", "B")) + ("C",))

    def exact_templates(self, step: int) -> tuple[sp.Matrix, sp.Matrix]:
        """The symbolic ``(A, B)`` template *step* uses (step 1's written in the template's arguments)."""
        return (self.lifted[0], self.lifted[1]) if step == 1 else (self.system.A, self.system.B)


@lru_cache(maxsize=None)
def _compiled(f: Formulation) -> CompiledStep:
    return CompiledStep(linear_system(f))


def compile_step(f: Formulation | LinearSystem) -> CompiledStep:
    """The compiled step of *f* (cached per formulation: formulations are immutable)."""
    return _compiled(f.formulation if isinstance(f, LinearSystem) else f)


step_factors = compile_step  # the name verify.reference and older tests use

