r"""Closed forms for a symbolic horizon :math:`T`, proven by induction.

From the linear-system view :math:`x_t = A_t x_{t-1} + B_t g_t`
(:func:`derive.system.linear_system`) the state after :math:`T` steps is

.. math::
    x_T = \Phi(T,0)\, x_0 + \sum_{k=1}^{T} \Phi(T,k)\, B_k\, g_k,
    \qquad \Phi(T,k) = A_T A_{T-1} \cdots A_{k+1}, \quad \Phi(k,k) = I,

and, when step 1 has its own matrices (PyTorch's buffer starts as the first
gradient: ``LinearSystem.first_step_differs``),

.. math::
    x_T = \Phi(T,1)\,(A_1 x_0 + B_1 g_1) + \sum_{k=2}^{T} \Phi(T,k)\, B_k\, g_k .

**The kernel** :math:`\Phi` (:mod:`derive.transition`): explicit Sum/Product entries when
:math:`A_t` is triangular up to a permutation of the state, named ``Phi[T, k, r, c]`` entries
defined by the recursion :math:`\Phi(T+1,k) = A_{T+1}\Phi(T,k)`, :math:`\Phi(k,k) = I` otherwise.

**The proof** (:func:`prove`): the base case :math:`F(1) = A_1 x_0 + B_1 g_1`,
and the step :math:`F(T+1) - (A_{T+1} F(T) + B_{T+1} g_{T+1}) = 0` for
:math:`T \ge 1`: substitute :math:`T \to T+1`, peel the last term off every
Sum/Product with upper limit :math:`T+1`, apply the kernel recursion (proven
entry by entry for an explicit kernel, the definition for a named one), then sum
linearity (:mod:`derive.summation`) cancels the difference to ``0``.
:func:`check_against_concrete` compares :math:`F(n)` with
:func:`derive.unroll.closed_form` for :math:`n = 1..8`.  Both fail on a wrong
closed form.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import lru_cache

import sympy as sp

from derive import arguments
from derive.errors import DeriveError
from derive.formulation import Formulation
from derive.summation import instantiate, linear_normal_form, peel, same_polynomial
from derive.symbols import T, g, k, t
from derive.system import LinearSystem, linear_system
# the kernel lives in derive.transition; its names stay importable from here, where callers import them
from derive.transition import (TransitionKernel, _exact_products, _ordered_product, _triangular_order,  # noqa: F401
                               transition_kernel)
from derive.unroll import Phi, closed_form


@dataclass(frozen=True)
class SymbolicClosedForm:
    """``base[T]`` for a symbolic ``T``: the structure the renderers and claims read.

    ``state`` maps each state base to its closed form (Sum/Product over indexed
    symbols, ``Phi[T, k, r, c]`` names for a non-triangular kernel); ``kernel``
    is :math:`\\Phi`; ``first_step_split`` says whether step 1 is peeled off as
    :math:`\\Phi(T,1)(A_1 x_0 + B_1 g_1)`; ``proof`` holds the induction as
    ``(label, expression)`` rows; ``verified_up_to`` is the largest ``n`` for
    which the form was compared with the concrete unroll at ``T = 1..n``.
    """

    formulation: Formulation
    state: dict
    kernel: TransitionKernel
    first_step_split: bool
    proof: tuple[tuple[str, sp.Expr], ...] = ()
    verified_up_to: int = 0
    symbolic_init: bool = False

    @property
    def params(self) -> sp.Expr:
        return self.state[self.formulation.params]

    def at(self, steps: int, point: dict | None = None) -> dict:
        """Every state variable at the integer horizon *steps*, sums written out (not expanded).

        With *point* (hyperparameter -> exact number) the hyperparameters are
        bound too, and named kernel entries are multiplied out in numbers.
        """
        products = (None if point is None or self.kernel.explicit
                    else _exact_products(self.kernel.step, point, steps))

        def name(leaf):
            if leaf.base == Phi and all(x.is_Integer for x in leaf.indices):
                upper, lower, r, c = (int(x) for x in leaf.indices)
                if products is not None and upper == steps:
                    return sp.Rational(products[lower][r][c])
                return _ordered_product(sp.ImmutableMatrix(self.kernel.step), upper, lower)[r, c]
            return leaf

        out = {s: instantiate(e.subs(T, steps), name) for s, e in self.state.items()}
        return out if point is None else {s: e.xreplace(point) for s, e in out.items()}


def _build(f: Formulation, symbolic_init: bool) -> SymbolicClosedForm:
    system = linear_system(f)
    kernel = transition_kernel(system)
    x0 = f.initial_state(symbolic=symbolic_init)
    x0 = sp.Matrix([x0[s] for s in f.state])
    split = system.first_step_differs
    if split:
        head, lo = kernel.at(T, 1) * (system.A1 * x0 + system.B1 * g[1]), 2
    else:
        head, lo = kernel.at(T, 0) * x0, 1
    weights = kernel.entries * system.B.subs(t, k)
    state = {}
    for r, s in enumerate(f.state):
        tail = sp.Sum(weights[r] * g[k], (k, lo, T)) if weights[r] != 0 else sp.S.Zero
        state[s] = head[r] + tail
    return SymbolicClosedForm(f, state, kernel, split, symbolic_init=symbolic_init)


@dataclass(frozen=True)
class Proof:
    """The induction as rows; ``obligations`` are the residuals that must be exactly 0."""

    rows: tuple[tuple[str, sp.Expr], ...]
    obligations: tuple[tuple[str, sp.Expr], ...]

    @property
    def holds(self) -> bool:
        return all(residual == 0 for _, residual in self.obligations)

    def failures(self) -> list[str]:
        return [f"{label}: residual {residual}" for label, residual in self.obligations if residual != 0]


def _kernel_rows(kernel: TransitionKernel) -> tuple[list, list]:
    if not kernel.explicit:
        return [(label + " (definition)", eq) for label, eq in kernel.recursion()], []
    rows, obligations = [], []
    n = kernel.step.shape[0]
    A = kernel.step.subs(t, T + 1)
    upper, equal = kernel.at(T + 1, k), kernel.at(k, k)
    stepped = A * kernel.entries
    for r in range(n):
        for c in range(n):
            peeled = peel(upper[r, c], T + 1)
            residual = linear_normal_form(peeled - stepped[r, c])
            diagonal = linear_normal_form(equal[r, c] - (1 if r == c else 0))
            rows += [
                (f"kernel entry ({r},{c})", sp.Eq(Phi[T, k, r, c], kernel.entries[r, c], evaluate=False)),
                (f"kernel entry ({r},{c}) at T+1, last factor peeled", sp.Eq(Phi[T + 1, k, r, c], peeled, evaluate=False)),
                (f"kernel step ({r},{c}): Phi(T+1,k) - A_(T+1) Phi(T,k), by sum linearity", residual),
                (f"kernel at equal steps ({r},{c}): Phi(k,k) - I", diagonal),
            ]
            obligations += [(f"kernel step ({r},{c})", residual),
                            (f"kernel at equal steps ({r},{c})", diagonal)]
    return rows, obligations


def _apply_recursion(expr: sp.Expr, A_next: sp.Matrix) -> sp.Expr:
    """Rewrite named entries: ``Phi[k,k]`` to ``I`` and ``Phi[T+1,k]`` to ``A_(T+1) Phi(T,k)``."""
    n = A_next.shape[0]

    def rewrite(leaf):
        upper, lower, r, c = leaf.indices
        if sp.expand(upper - lower) == 0:
            return sp.S.One if r == c else sp.S.Zero
        if sp.expand(upper - T - 1) == 0:
            return sum((A_next[r, m] * Phi[T, lower, m, c] for m in range(n)), sp.S.Zero)
        return leaf

    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == Phi, rewrite)


def prove(scf: SymbolicClosedForm) -> Proof:
    """Prove *scf* by induction on ``T``: base case ``T = 1``, then ``T -> T+1`` for ``T >= 1``."""
    f, system = scf.formulation, linear_system(scf.formulation)
    rows, obligations = _kernel_rows(scf.kernel)
    x0 = f.initial_state(symbolic=scf.symbolic_init)
    first = system.A1 * sp.Matrix([x0[s] for s in f.state]) + system.B1 * g[1]
    A_next, B_next = system.A.subs(t, T + 1), system.B.subs(t, T + 1)
    F = sp.Matrix([scf.state[s] for s in f.state])
    one_step = A_next * F + B_next * g[T + 1]
    at_one = scf.at(1)
    for r, s in enumerate(f.state):
        base = sp.expand(at_one[s] - first[r])
        upper = F[r].subs(T, T + 1)
        peeled = peel(upper, T + 1)
        if not scf.kernel.explicit:
            peeled = _apply_recursion(peeled, A_next)
        residual = linear_normal_form(peeled - one_step[r])
        rows += [
            (f"closed form of {s}", sp.Eq(s[T], scf.state[s], evaluate=False)),
            (f"base case: {s}[1] - (A_1 x_0 + B_1 g_1)", base),
            (f"{s}[T+1] from the closed form", sp.Eq(s[T + 1], upper, evaluate=False)),
            (f"{s}[T+1], last terms peeled" + ("" if scf.kernel.explicit else ", kernel recursion applied"),
             sp.Eq(s[T + 1], peeled, evaluate=False)),
            (f"one step applied to the closed form: A_(T+1) x_T + B_(T+1) g_(T+1), row {s}",
             sp.Eq(s[T + 1], one_step[r], evaluate=False)),
            (f"induction step for {s}: difference by sum linearity", residual),
        ]
        obligations += [(f"base case for {s}", base), (f"induction step for {s}", residual)]
    return Proof(tuple(rows), tuple(obligations))


@dataclass(frozen=True)
class ConcreteCheck:
    """The symbolic form at ``T = n`` against :func:`derive.unroll.closed_form` for ``n = 1..up_to``."""

    up_to: int
    mismatch: tuple | None = None  # (n, base, difference) at the first disagreement

    @property
    def holds(self) -> bool:
        return self.mismatch is None

    @property
    def verified_up_to(self) -> int:
        return self.up_to if self.mismatch is None else self.mismatch[0] - 1


def _hyperparameter_point(system: LinearSystem, n: int, seed: int) -> dict:
    """Exact random rationals for every hyperparameter a horizon-*n* form can read."""
    rng = random.Random(seed)
    point = {}
    for item in sorted(system.symbols(), key=sp.default_sort_key):
        if isinstance(item, sp.IndexedBase):
            for step in range(0, n + 3):  # templates read mu[t+1]; one spare either side
                point[item[step]] = sp.Rational(rng.randint(1, 10**6), 10**6 + 3)
        else:
            point[item] = sp.Rational(rng.randint(1, 10**6), 10**6 + 3)
    return point


def _concrete_at(concrete, point: dict) -> dict:
    """The concrete closed form with the hyperparameters bound: shared sub-products in order."""
    known = dict(point)
    for name, value in concrete.definitions.items():
        known[name] = value.xreplace(known)
    return {s: sum((c.xreplace(known) * x for x, c in concrete.coefficients[s].items()), sp.S.Zero)
            for s in concrete.formulation.state}


def check_against_concrete(scf: SymbolicClosedForm, up_to: int = 8, *, expanded_up_to: int = 4,
                           points: int = 2) -> ConcreteCheck:
    r"""Compare ``F(n)`` with :func:`derive.unroll.closed_form` for ``n = 1..up_to``.

    For ``n <= expanded_up_to`` both sides are expanded and compared as
    polynomials.  Beyond that (where expansion costs seconds) the hyperparameters
    are bound to *points* sets of exact random rationals (fixed seeds), the
    gradients and initial values stay symbols, and the two linear forms are
    compared exactly: a wrong coefficient polynomial survives a random point only
    with probability ``degree / 10^6`` (Schwartz-Zippel).
    """
    f = scf.formulation
    system = linear_system(f)
    for n in range(1, up_to + 1):
        concrete = closed_form(f, n, symbolic_init=scf.symbolic_init)
        if n <= expanded_up_to:
            ours, theirs = scf.at(n), _concrete_at(concrete, {})
            for s in f.state:
                if not same_polynomial(ours[s], theirs[s]):
                    return ConcreteCheck(up_to, (n, s, sp.expand(ours[s] - theirs[s])))
            continue
        for seed in range(points):
            point = _hyperparameter_point(system, n, seed)
            ours, theirs = scf.at(n, point), _concrete_at(concrete, point)
            for s in f.state:
                difference = sp.expand(ours[s] - theirs[s])
                if difference != 0:
                    return ConcreteCheck(up_to, (n, s, difference))
    return ConcreteCheck(up_to)


@lru_cache(maxsize=None)
def symbolic_closed_form(f: Formulation, *, symbolic_init: bool = False, check_up_to: int = 8) -> SymbolicClosedForm:
    """The closed form of *f* for a symbolic horizon, proven and checked (cached per formulation).

    Args:
        f: the formulation.
        symbolic_init: keep every initial value a symbol (``v[0]`` too).
        check_up_to: compare with the concrete unroll for ``T = 1..check_up_to`` (0: the proof only).

    Returns:
        A :class:`SymbolicClosedForm`: nested ``Sum``/``Product`` over the schedules, with the
        induction's rows (``proof``) and the horizon it was checked to (``verified_up_to``).

    Raises :class:`~derive.errors.DeriveError` if the proof or the check fails
    (a bug in derive, never an expected outcome).
    """
    check_up_to = arguments.integer(check_up_to, "check_up_to", "symbolic_closed_form", minimum=0)  # 0: proof only
    scf = _build(arguments.formulation(f, "f", "symbolic_closed_form"), symbolic_init)
    proof = prove(scf)
    if not proof.holds:
        raise DeriveError(f"{f.name}: induction proof failed: {'; '.join(proof.failures())}")
    check = check_against_concrete(scf, check_up_to)
    if not check.holds:
        n, s, diff = check.mismatch
        raise DeriveError(f"{f.name}: symbolic closed form disagrees with the unroll at T={n} for {s}: {diff}")
    return replace(scf, proof=proof.rows, verified_up_to=check.verified_up_to)
