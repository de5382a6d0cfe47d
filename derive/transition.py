r"""The transition kernel :math:`\Phi(T,k) = A_T A_{T-1} \cdots A_{k+1}` of a linear system
:math:`x_t = A_t x_{t-1} + B_t g_t`, for a symbolic horizon :math:`T`: what the closed forms of
:mod:`derive.induction` are written with, and what its proof peels.

**The kernel** :math:`\Phi`.  When :math:`A_t` is triangular (up to a
permutation of the state: no weight-decay coupling), its entries are written out,
for any state size (:func:`_upper_kernel`); for
:math:`A_t = \begin{pmatrix} a_t & c_t \\ 0 & d_t\end{pmatrix}`:

.. math::
    \Phi_{00} = \prod_{i=k+1}^{T} a_i, \quad \Phi_{11} = \prod_{i=k+1}^{T} d_i, \quad
    \Phi_{01} = \sum_{j=k+1}^{T} \Bigl(\prod_{i=j+1}^{T} a_i\Bigr)\, c_j
                \Bigl(\prod_{i=k+1}^{j-1} d_i\Bigr), \quad \Phi_{10} = 0,

with products of ``1`` dropped and a product of a number written as its
power (:math:`(9/10)^{T-k}`).  When :math:`A_t` is not triangular (weight
decay couples :math:`\theta` and the buffer), the entries stay *named*,
``Phi[T, k, r, c]`` (the same names :mod:`derive.unroll` gives its concrete
sub-products), defined by the ordered product, i.e. by the recursion
:math:`\Phi(T+1,k) = A_{T+1}\Phi(T,k)`, :math:`\Phi(k,k) = I`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from derive.symbols import T, i, j, k, t
from derive.system import LinearSystem
from derive.unroll import Phi


@dataclass(frozen=True)
class TransitionKernel:
    r""":math:`\Phi(T,k) = A_T \cdots A_{k+1}` as a matrix of expressions in ``T`` and ``k``.

    ``entries`` holds explicit Sum/Product expressions when ``explicit`` (a
    triangular :math:`A_t`), otherwise the names ``Phi[T, k, r, c]``.  ``step`` is
    the template :math:`A_t` (in ``t``) the kernel is the ordered product of.
    """

    step: sp.Matrix
    entries: sp.Matrix
    explicit: bool

    def at(self, upper, lower) -> sp.Matrix:
        """:math:`\\Phi(\\text{upper}, \\text{lower})` (symbolic or integer arguments)."""
        return self.entries.subs({T: upper, k: lower}, simultaneous=True)

    def product(self, upper: int, lower: int) -> sp.Matrix:
        """The ordered product :math:`A_{upper} \\cdots A_{lower+1}` for integers (cached)."""
        return _ordered_product(sp.ImmutableMatrix(self.step), int(upper), int(lower))

    def recursion(self) -> tuple[tuple[str, sp.Expr], ...]:
        """The defining identities, one row per entry, with ``Phi[T, k, r, c]`` names."""
        n = self.step.shape[0]
        A = self.step.subs(t, T + 1)
        rows = []
        for r in range(n):
            for c in range(n):
                rhs = sum((A[r, m] * Phi[T, k, m, c] for m in range(n)), sp.S.Zero)
                rows.append((f"kernel recursion, entry ({r},{c})", sp.Eq(Phi[T + 1, k, r, c], rhs, evaluate=False)))
                rows.append((f"kernel at equal steps, entry ({r},{c})",
                             sp.Eq(Phi[k, k, r, c], sp.S.One if r == c else sp.S.Zero, evaluate=False)))
        return tuple(rows)


@lru_cache(maxsize=4096)
def _ordered_product(step: sp.Matrix, upper: int, lower: int) -> sp.Matrix:
    if upper <= lower:
        return sp.ImmutableMatrix(sp.eye(step.shape[0]))
    return sp.ImmutableMatrix(_ordered_product(step, upper, lower + 1) * step.subs(t, lower + 1))


def _exact_products(step: sp.Matrix, point: dict, upper: int) -> dict:
    """``{lower: A_upper ... A_(lower+1)}`` at the numbers *point*, in exact Fractions (fast)."""
    n = step.shape[0]
    P = [[Fraction(int(r == c)) for c in range(n)] for r in range(n)]
    out = {upper: P}
    for lower in range(upper - 1, -1, -1):
        A = step.subs(t, lower + 1).xreplace(point)
        A = [[Fraction(int(A[r, c].p), int(A[r, c].q)) for c in range(n)] for r in range(n)]
        P = [[sum(P[r][m] * A[m][c] for m in range(n)) for c in range(n)] for r in range(n)]
        out[lower] = P
    return out


def _product(factor: sp.Expr, lo, hi) -> sp.Expr:
    """:math:`\\prod_{i=lo}^{hi}` of the template *factor* (in ``t``); a number's product is a power."""
    if factor.is_Number:  # 1 stays 1; (9/10)**(T-k) reads better than a Product of 9/10
        return factor ** (hi - lo + 1)
    return sp.Product(factor.subs(t, i), (i, lo, hi))


def _triangular_order(A: sp.Matrix) -> tuple[int, ...] | None:
    """A state order that makes *A* upper triangular, else ``None`` (a cycle couples the state).

    Row ``r`` reads column ``c`` when ``A[r, c] != 0``; a variable goes after every variable it
    reads, so the order is built from the end, each time taking the latest-declared variable
    whose readings are all placed (sizes 1 and 2 keep their former orders).
    """
    n = A.shape[0]
    reads = {r: {c for c in range(n) if c != r and A[r, c] != 0} for r in range(n)}
    tail: list[int] = []
    while len(tail) < n:
        ready = [r for r in range(n) if r not in tail and reads[r] <= set(tail)]
        if not ready:
            return None
        tail.insert(0, max(ready))
    return tuple(tail)


def _index(depth: int) -> sp.Symbol:
    """The summation index of a kernel entry ``depth`` steps above the diagonal: j, j_2, j_3, ..."""
    return j if depth == 1 else sp.Symbol(f"j_{depth}", integer=True, positive=True)


def _upper_kernel(P: sp.Matrix) -> sp.Matrix:
    r"""Entries of :math:`\Phi(T,k)` for an upper-triangular step :math:`P_t`, any size.

    .. math:: \Phi_{rr} = \prod_{i=k+1}^{T} P_{rr}(i), \qquad
              \Phi_{rc} = \sum_{j=k+1}^{T} \sum_{m=r}^{c-1} \Phi_{rm}(T, j)\, P_{mc}(j)
                          \prod_{i=k+1}^{j-1} P_{cc}(i) \quad (r < c):

    the mass of variable :math:`c` stays on the diagonal until step :math:`j`, moves to
    :math:`m < c` there and is carried to :math:`T` by the kernel itself.  An entry
    :math:`d = c - r` above the diagonal sums over its own index (:func:`_index`), so nested
    sums never capture each other's.
    """
    n = P.shape[0]
    E = sp.zeros(n, n)
    for r in range(n):
        E[r, r] = _product(P[r, r], k + 1, T)
    for depth in range(1, n):
        for r in range(n - depth):
            col = r + depth
            J = _index(depth)
            body = sum((E[r, m].subs(k, J) * P[m, col].subs(t, J) for m in range(r, col) if P[m, col] != 0), sp.S.Zero)
            if body != 0:
                E[r, col] = sp.Sum(body * _product(P[col, col], k + 1, J - 1), (J, k + 1, T))
    return E


def transition_kernel(system: LinearSystem) -> TransitionKernel:
    """The kernel of *system*: explicit when ``A_t`` is triangular, named otherwise."""
    A, n = sp.ImmutableMatrix(system.A), system.size
    order = _triangular_order(A)
    # a variable nothing reads and that does not read itself (a zero diagonal, schedule-free's y)
    # would need 0**(T-k) terms the induction's rules cannot peel: its kernel stays named
    if order is None or any(A[r, r] == 0 for r in range(n)):
        return TransitionKernel(A, sp.ImmutableMatrix(n, n, lambda r, c: Phi[T, k, r, c]), False)
    E = _upper_kernel(A.extract(list(order), list(order)))
    entries = sp.zeros(n, n)
    for r in range(n):
        for c in range(n):
            entries[order[r], order[c]] = E[r, c]
    return TransitionKernel(A, sp.ImmutableMatrix(entries), True)
