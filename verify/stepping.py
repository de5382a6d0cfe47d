r"""The reference's inner loop: a chunk of elements stepped through the whole run.

Every parameter element is an independent copy of the scalar system
:math:`x_t = A_t x_{t-1} + B_t g_t` (:mod:`verify.reference`). Elements whose steps use the same
matrices form a :class:`Segment`: the tensors of a group with the same activity pattern (the
same frozen steps, hence the same first step; a step skipped by a ``GradScaler`` is skipped by
all). A segment's matrices are one ``(T, m, m)`` array, so a step is a few vector operations
over its elements, never a matrix per element.

A segment is cut into chunks of a bounded number of elements, each stepped through all
:math:`T` steps at once (:func:`step_chunk`): memory is :math:`O(T \cdot \text{chunk})`, never
:math:`O(T N)`, and a chunk's working set stays in cache while it is stepped. Everything the
tolerance model of :mod:`verify.compare` needs comes out of the same pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np


class NonFiniteReference(ValueError):
    """The reference trajectory (or the objective's gradient on it) is not a finite number.

    ``step`` is the 1-based step, ``value`` the offending value; the message names both and where.
    """

    def __init__(self, message: str, *, step: int, value):
        super().__init__(message)
        self.step = step
        self.value = value


@dataclass(frozen=True)
class Segment:
    """The tensors of one group that share every step matrix (same activity pattern)."""

    tensors: tuple[int, ...]
    active: np.ndarray  # (T,) bool: the step is taken (the tensor has a gradient, no scaler skip)
    first: np.ndarray  # (T,) bool: the step that uses A_1, B_1 (the tensors' own first step)


@dataclass
class Chunk:
    """Up to a few thousand elements of one segment, through every step.

    ``pieces`` lists ``(tensor, start, stop)``: flat ranges of the group's tensors, in the order
    the chunk's columns hold them. ``propagate`` is :math:`\tilde A_t` of the tolerance model:
    shared by the chunk ``(T, m, m)`` under injected gradients, per element ``(T, C, m, m)``
    when an objective's curvature enters it. Idle steps have identity propagation and zero
    magnitudes.
    """

    pieces: tuple[tuple[int, int, int], ...]
    active: np.ndarray  # (T,) bool
    x: np.ndarray  # (T + 1, m, C) float64
    x_exact: np.ndarray | None  # (T + 1, m, C) Fractions, exact mode only
    program: np.ndarray  # (T, m, C): |A_t|_M |x_{t-1}| + |B_t|_M |g_t|
    gradient: np.ndarray | None  # (T, m, C): |B_t| M(phi')(y_{t-1}); objective runs only
    propagate: np.ndarray

    @property
    def size(self) -> int:
        return self.x.shape[-1]


@dataclass
class GroupInputs:
    """What stepping one group needs: its compiled system, per-step values and matrices, data."""

    system: object  # verify.reference.CompiledSystem
    values: list[np.ndarray]  # per template argument, (T,)
    mats: dict[str, np.ndarray]  # per template, (T, rows, cols)
    theta0: list[np.ndarray]  # per tensor, flat float64
    grads: list[np.ndarray] | None  # per tensor, (T, size): injected gradients
    objective: object  # verify.objectives.Objective or None
    exact: bool
    segments: list[Segment]

    @property
    def steps(self) -> int:
        return len(self.values[0]) if self.values else self.mats["A"].shape[0]


def segments(active: list[np.ndarray], skipped: np.ndarray) -> list[Segment]:
    """Group the tensors by activity pattern, in order of their first tensor."""
    by_pattern: dict[bytes, list[int]] = {}
    patterns = {}
    for ti, act in enumerate(active):
        taken = np.asarray(act, bool) & ~skipped
        by_pattern.setdefault(taken.tobytes(), []).append(ti)
        patterns[taken.tobytes()] = taken
    out = []
    for key, tensors in by_pattern.items():
        taken = patterns[key]
        first = taken & (np.cumsum(taken) == 1)
        out.append(Segment(tuple(tensors), taken, first))
    return out


def plan(inputs: GroupInputs, chunk: int) -> list[tuple[Segment, tuple]]:
    """Cut each segment into chunks of at most ``chunk`` elements: (segment, pieces) pairs."""
    sizes = [len(t) for t in inputs.theta0]
    out = []
    for seg in inputs.segments:
        pieces, filled = [], 0
        for ti in seg.tensors:
            start = 0
            while start < sizes[ti]:
                stop = min(sizes[ti], start + chunk - filled)
                pieces.append((ti, start, stop))
                filled += stop - start
                start = stop
                if filled == chunk:
                    out.append((seg, tuple(pieces)))
                    pieces, filled = [], 0
        if pieces:
            out.append((seg, tuple(pieces)))
    return out


def _gather(arrays: list[np.ndarray], pieces, axis_rows: bool) -> np.ndarray:
    """The chunk's columns of per-tensor flat arrays (``axis_rows``: arrays are (T, size))."""
    parts = [arrays[ti][:, a:b] if axis_rows else arrays[ti][a:b] for ti, a, b in pieces]
    return np.concatenate(parts, axis=-1).astype(np.float64, copy=False)


def _where(pieces, column: int) -> str:
    for ti, a, b in pieces:
        if column < b - a:
            return f"tensor {ti}, flat index {a + column}"
        column -= b - a
    return "?"


def _require_finite(values: np.ndarray, step: int, what: str, pieces, at=None) -> None:
    if np.isfinite(values).all():
        return
    flat = values.reshape(-1, values.shape[-1])
    bad = ~np.isfinite(flat)
    column = int(np.flatnonzero(bad.any(axis=0))[0])
    value = float(flat[:, column][bad[:, column]][0])
    point = "" if at is None else f" at y = {float(at[column])!r}"
    raise NonFiniteReference(f"{what} is {value!r}{point} at step {step} ({_where(pieces, column)}); "
                             "the run diverges or leaves the objective's domain", step=step, value=value)


def _exact_gradient(objective, y, step, pieces):
    out = []
    for column, v in enumerate(y):
        try:
            value = objective.gradient_exact(v)
            bad = not isinstance(value, Fraction)
        except (ArithmeticError, ValueError, TypeError, AttributeError):
            value, bad = float("nan"), True
        if bad:
            raise NonFiniteReference(f"the objective's gradient is undefined ({value!r}) at y = {float(v)!r} at "
                                     f"step {step} ({_where(pieces, column)})", step=step, value=value)
        out.append(value)
    return np.array(out, dtype=object)


def _first_non_finite(values: np.ndarray, what: str, pieces, offset: int = 1) -> None:
    """Raise for the earliest row (step ``row + offset``) of ``values (T, ..., C)`` that is not finite."""
    finite = np.isfinite(values).reshape(len(values), -1).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        _require_finite(values[row], row + offset, what, pieces)


def segment_matrices(mats: dict, segment: Segment):
    r"""``A, B, |A|_M, |B|_M`` at each step of ``segment``: :math:`A_1, B_1` at its own first step,
    zero magnitudes on its idle steps (nothing is computed there, so nothing rounds)."""
    first, active = segment.first[:, None, None], segment.active[:, None, None]
    A = np.where(first, mats["A1"], mats["A"])
    B = np.where(first, mats["B1"], mats["B"])
    # where, not a product: a step never reached (a run that failed) has NaN hyperparameters
    magA = np.where(active, np.where(first, mats["magA1"], mats["magA"]), 0.0)
    magB = np.where(active, np.where(first, mats["magB1"], mats["magB"]), 0.0)
    return A, B, magA, magB


def step_chunk(inputs: GroupInputs, segment: Segment, pieces) -> Chunk:
    """Step the elements ``pieces`` of ``segment`` through every step (float64, or exact)."""
    system, mats, objective, exact = inputs.system, inputs.mats, inputs.objective, inputs.exact
    steps, m = inputs.steps, system.size
    active = segment.active
    A, B, magA, magB = segment_matrices(mats, segment)
    theta0 = _gather(inputs.theta0, pieces, False)
    size = len(theta0)
    grads = None
    if objective is None:
        grads = _gather(inputs.grads, pieces, True)
        grads[~active] = 0.0  # a tensor without a gradient, or a skipped step: not read
        _first_non_finite(grads, "the injected gradient", pieces)
    x = system.initial_state(theta0, exact)
    xs = np.empty((steps + 1, m, size))
    xs[0] = x.astype(np.float64)
    if exact or objective is not None:
        xs_exact, g_used, propagate, gradient = _step_with_evaluations(inputs, segment, pieces, x, xs, grads, A, B)
    else:
        xs_exact, g_used, gradient = None, grads, None
        propagate = np.where(active[:, None, None], A, np.eye(m))
        for s in range(steps):
            if active[s]:
                _affine(A[s], xs[s], B[s], grads[s], out=xs[s + 1])
            else:  # an idle step leaves the state as it was
                xs[s + 1] = xs[s]
        _first_non_finite(xs[1:], "the reference state", pieces)
    # |A_t|_M |x_{t-1}| + |B_t|_M |g_t|, every step at once
    program = _combine(magA, np.abs(xs[:-1])) + magB * np.abs(g_used)[:, None, :]
    return Chunk(pieces, active, xs, xs_exact, program, gradient, propagate)


def _step_with_evaluations(inputs, segment, pieces, x, xs, grads, A, B):
    """The step loop for exact mode or an objective: the gradient is evaluated on the way."""
    system, mats, objective, exact = inputs.system, inputs.mats, inputs.objective, inputs.exact
    steps, m, size = inputs.steps, system.size, xs.shape[-1]
    xs_exact = None
    if exact:
        xs_exact = np.empty((steps + 1, m, size), dtype=object)
        xs_exact[0] = x
    g_used = np.zeros((steps, size))
    gradient = np.zeros((steps, m, size)) if objective is not None else None
    if objective is None:
        propagate = np.where(segment.active[:, None, None], A, np.eye(m))
    else:
        propagate = np.broadcast_to(np.eye(m), (steps, size, m, m)).copy()
    for s in range(steps):
        if not segment.active[s]:
            xs[s + 1] = xs[s]
            if exact:
                xs_exact[s + 1] = x
            continue
        x_float = xs[s]
        if objective is not None:
            y = (mats["C"][s] @ x_float)[0]
            h = objective.curvature(y)
            propagate[s] = A[s] + B[s] * (h[:, None, None] * mats["C"][s][None])
            gradient[s] = np.abs(B[s]) * objective.gradient_magnitude(y)
        if exact:
            M = system.exact_matrices(inputs.values, s + 1)
            A_e, B_e = (M["A1"], M["B1"]) if segment.first[s] else (M["A"], M["B"])
            if objective is None:
                grad = np.array([Fraction(float(v)) for v in grads[s]], dtype=object)
            else:
                grad = _exact_gradient(objective, (M["C"] @ x)[0], s + 1, pieces)
            g_used[s] = grad.astype(np.float64)
            x = A_e @ x + B_e * grad
            xs[s + 1] = x.astype(np.float64)
            xs_exact[s + 1] = x
        else:
            g_used[s] = objective.gradient(y)
            _require_finite(g_used[s], s + 1, "the objective's gradient", pieces, at=y)
            xs[s + 1] = A[s] @ x_float + B[s] * g_used[s]
        _require_finite(xs[s + 1], s + 1, "the reference state", pieces)
    return xs_exact, g_used, propagate, gradient


def _affine(A: np.ndarray, x: np.ndarray, B: np.ndarray, g: np.ndarray, out: np.ndarray) -> None:
    """``out = A x + B g`` summed left to right, term by term, as :mod:`verify.kernels` does.

    Not BLAS: whether its product fuses multiply-adds depends on the machine, and the reference
    must be the same number everywhere (and on both of compare's paths).
    """
    np.multiply(A[:, 0, None], x[0], out=out)
    for k in range(1, A.shape[1]):
        out += A[:, k, None] * x[k]
    out += B * g


def _combine(M: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``M[t] @ X[t]`` for every step, ``(T, m, m) x (T, m, C)``, as m * m broadcast products.

    numpy's stacked matmul with a 2 x 2 inner matrix is a slow path; whole-array products are not.
    """
    out = np.empty_like(X)
    for i in range(M.shape[1]):
        np.multiply(M[:, i, 0, None], X[:, 0], out=out[:, i])
        for k in range(1, M.shape[2]):
            out[:, i] += M[:, i, k, None] * X[:, k]
    return out
