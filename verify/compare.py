r"""Judge an observed trajectory against the expected one, with an argued tolerance.

The tolerance model
-------------------
Every formulation is, per parameter element, the affine recurrence
:math:`x_t = A_t x_{t-1} + B_t g_t` (:mod:`verify.reference`). A floating-point
implementation computes instead :math:`\hat x_t = A_t \hat x_{t-1} + B_t \hat g_t + \delta_t`,
where :math:`\delta_t` is the rounding committed inside step :math:`t`. Subtracting, the error
:math:`e_t = \hat x_t - x_t` obeys the *same* recurrence, driven by the local errors:

.. math::
    e_t = \tilde A_t e_{t-1} + \delta_t, \qquad
    \tilde A_t = A_t + B_t\, h_t\, C_t, \qquad
    |e_t| \le \sum_{s \le t} |\Phi(t, s)|\, |\delta_s|, \quad \Phi(t,s)=\tilde A_t\cdots\tilde A_{s+1}

where :math:`h_t = \varphi''(y_{t-1})` is how much the gradient moves when the evaluation
point moves (0 for injected gradients, which both sides share exactly). Using the *signed*
products :math:`\Phi` keeps the bound as tight as the dynamics: a contracting recurrence
(weight decay, :math:`|\mu|<1`) forgets old errors, and a momentum :math:`\mu` amplifies a
local error by at most :math:`\sum_k \mu^k \le 1/(1-\mu)` -- the bound shows both without being
told.

The local error (first order in the unit roundoff :math:`u` of the dtype) is the classical
running-error bound of a straight-line program: with :math:`n` roundings on the way from the
inputs to the result,

.. math::
    |\delta_t| \le n\,u\,\big(|A_t|_M\,|x_{t-1}| + |B_t|_M\,|g_t|\big)
              + n_g\,u\,|B_t|\,M(\varphi')(y_{t-1}) + n\,\mathrm{tiny},

* :math:`|A_t|_M, |B_t|_M` are the matrices of the formulation's *program* evaluated in
  absolute values (:func:`magnitude_system`): every sum of the update becomes a sum of
  magnitudes, so cancellation inside the step cannot hide a rounding;
* :math:`n` counts the roundings of one step: every arithmetic operation of the program
  plus one per hyperparameter occurrence (a Python float such as ``lr=0.1`` is rounded to the
  tensor's dtype when it meets a float32 tensor). It is an upper bound on the depth of any
  evaluation order, so the for-loop, foreach and fused (FMA) kernels are all covered;
* :math:`n_g` and :math:`M(\varphi')` are the objective's (:mod:`verify.objectives`);
* ``tiny`` (smallest normal) covers underflow to subnormals.

The expected side is itself computed in float64 with the composed matrices
(:math:`n_\mathrm{ref}` roundings per step, :attr:`GroupTrace.reference_roundings`), so the
bound uses :math:`n\,u + n_\mathrm{ref}\,u_{64}`; against the exact reference
:math:`n_\mathrm{ref}=0`. The model is first order: it is meaningful while
:math:`n\,u\,T \ll 1` (float32 over thousands of steps; not bfloat16 over 200).

Reported figures use ULPs of the *running maximum magnitude* of the expected parameter
element, :math:`\mathrm{ulp}(\max_{s\le t}|\theta_s|)` in the tested dtype: the scale the
iterate has had, so an error is not inflated when the iterate passes near zero.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from derive.formulation import Formulation
from derive.symbols import g, t

UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
MANTISSA_BITS = {"float64": 52, "float32": 23, "float16": 10, "bfloat16": 7}
SMALLEST_NORMAL = {"float64": 2.0**-1022, "float32": 2.0**-126, "float16": 2.0**-14, "bfloat16": 2.0**-126}


# -- the magnitude system ------------------------------------------------------------------
@dataclass(frozen=True)
class MagnitudeSystem:
    """:math:`|A|_M, |B|_M` (regular and first step) and the rounding count of one step."""

    A: sp.Matrix
    B: sp.Matrix
    A1: sp.Matrix
    B1: sp.Matrix
    roundings: int


def magnitude(expr: sp.Expr, leaves: dict) -> sp.Expr:
    r"""``expr`` evaluated in absolute values: :math:`M(a+b)=M(a)+M(b)`, :math:`M(ab)=M(a)M(b)`.

    ``leaves`` maps quantities already known (previous state, earlier targets, the gradient)
    to their magnitudes; any other leaf (a hyperparameter, a number) becomes its ``Abs``.
    """
    if expr in leaves:
        return leaves[expr]
    if expr.is_Add:
        return sp.Add(*(magnitude(a, leaves) for a in expr.args))
    if expr.is_Mul:
        return sp.Mul(*(magnitude(a, leaves) for a in expr.args))
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return magnitude(expr.base, leaves) ** expr.exp
    return sp.Abs(expr)


def _program_magnitude(f: Formulation, first: bool):
    X = [sp.Dummy(f"X{n}", nonnegative=True) for n in range(len(f.state))]
    G = sp.Dummy("G", nonnegative=True)
    leaves = {s[t - 1]: x for s, x in zip(f.state, X)}
    leaves[g[t]] = G
    roundings = 0
    for assign in f.update:
        rhs = assign.first if (first and assign.first is not None) else assign.value
        leaves[assign.base[t]] = magnitude(rhs, leaves)
        hyper = [a for a in rhs.atoms(sp.Indexed) if a.base not in f.state and a.base != g]
        labels = {i.base.label for i in rhs.atoms(sp.Indexed)}
        hyper += [s for s in rhs.atoms(sp.Symbol) if s != t and s not in labels]
        roundings += int(sp.count_ops(rhs)) + len(hyper)
    out = [sp.expand(leaves[s[t]]) for s in f.state]
    A = sp.Matrix([[sp.diff(e, x) for x in X] for e in out])
    B = sp.Matrix([[sp.diff(e, G)] for e in out])
    return A, B, roundings


def magnitude_system(f: Formulation) -> MagnitudeSystem:
    """The program of ``f`` in absolute values, as matrices in the step's hyperparameters."""
    A, B, n = _program_magnitude(f, first=False)
    A1, B1, n1 = _program_magnitude(f, first=True)
    return MagnitudeSystem(A, B, A1, B1, max(n, n1))


# -- the bound -----------------------------------------------------------------------------
def _local_errors(trace, chunk, dtype: str) -> np.ndarray:
    r""":math:`|\delta_t|` of every element of ``chunk``: ``(T, m, C)``."""
    u = UNIT_ROUNDOFF[dtype]
    u_ref = UNIT_ROUNDOFF["float64"]
    coefficient = trace.roundings * u + trace.reference_roundings * u_ref
    delta = coefficient * chunk.program
    delta += (trace.roundings * SMALLEST_NORMAL[dtype]) * chunk.active[:, None, None]
    if chunk.gradient is not None:
        delta += trace.gradient_roundings * (u + (u_ref if trace.reference_roundings else 0.0)) * chunk.gradient
    return delta


def propagation_rows(P: np.ndarray, row: int) -> np.ndarray:
    r"""Row ``row`` of :math:`\Phi(t, s) = \tilde A_t \cdots \tilde A_{s+1}`: ``W[t, s] (T + 1, T, m)``.

    ``P[s]`` is step ``s + 1``'s :math:`\tilde A`; ``W[t, s]`` weighs the local error of step
    ``s + 1`` in the error after step ``t`` (zero for ``s >= t``).
    """
    steps, m, _ = P.shape
    phi = np.zeros((m, steps, m))  # phi[:, s, :] = Phi(t, s): one 2-D product per step updates all
    W = np.zeros((steps + 1, steps, m))
    for s in range(steps):
        if s:
            phi[:, :s, :] = (P[s] @ phi[:, :s, :].reshape(m, s * m)).reshape(m, s, m)
        phi[:, s, :] = np.eye(m)
        W[s + 1, : s + 1] = phi[row, : s + 1, :]
    return W


EXPLICIT_SUM_SIZE = 1 << 16
_WEIGHTS: dict = {}  # the chunks of one segment share P: its weights are computed once


def _weights(P: np.ndarray, row: int):
    """:func:`propagation_rows` and, when each (t, j) keeps one sign over s, those signs (else None)."""
    key = (P.shape, P.tobytes(), row)
    if key not in _WEIGHTS:
        W = propagation_rows(P, row)
        positive, negative = (W > 0).any(axis=1), (W < 0).any(axis=1)  # (T + 1, m)
        sign = None if (positive & negative).any() else np.where(negative, -1.0, 1.0)
        if len(_WEIGHTS) >= 16:
            _WEIGHTS.clear()
        _WEIGHTS[key] = (W, sign)
    return _WEIGHTS[key]


def _shared_bound(P: np.ndarray, delta: np.ndarray, row: int) -> np.ndarray:
    r""":math:`\sum_{s \le t} |\Phi(t,s)|_{row}\,|\delta_s|` when every element shares :math:`\Phi`.

    When, for each step ``t`` and state column ``j``, the weights :math:`\Phi(t,s)_{row,j}`
    keep one sign :math:`\sigma_{t,j}` over ``s`` (momentum and weight decay with real
    eigenvalues: the usual case), the sum is :math:`\sum_j \sigma_{t,j} E^{(j)}_t[row]` with
    :math:`E^{(j)}_t = \tilde A_t E^{(j)}_{t-1} + e_j \delta_t[j]`: a recursion, O(T m^3) per
    element. Otherwise the explicit weighted sum over the history, O(T^2 m) per element.
    """
    steps, m, size = delta.shape
    W, sign = _weights(P, row)
    if sign is None or steps * size <= EXPLICIT_SUM_SIZE:  # a few elements: one product beats T steps
        return np.abs(W).reshape(steps + 1, steps * m) @ delta.reshape(steps * m, size)
    E = np.zeros((m, m, size))  # E[j]: what the local errors of state column j have become
    bound = np.zeros((steps + 1, size))
    for s in range(steps):
        E = _times(P[s], E)
        for j in range(m):
            E[j, j] += delta[s, j]
        np.multiply(E[0, row], sign[s + 1, 0], out=bound[s + 1])
        for j in range(1, m):  # left to right, as verify.kernels sums it
            bound[s + 1] += sign[s + 1, j] * E[j, row]
    return bound


def _times(P: np.ndarray, E: np.ndarray) -> np.ndarray:
    """``P @ E[j]`` for each j, written out term by term, left to right (as :mod:`verify.kernels`;
    numpy's stacked matmul is slow for a 2 x 2 ``P`` and einsum's order is its own)."""
    out = np.empty_like(E)
    for r in range(P.shape[0]):
        np.multiply(E[:, 0], P[r, 0], out=out[:, r])
        for k in range(1, P.shape[1]):
            out[:, r] += P[r, k] * E[:, k]
    return out


def _per_element_bound(P: np.ndarray, delta: np.ndarray, row: int) -> np.ndarray:
    """The same sum when :math:`\\tilde A_t` differs per element (an objective's curvature)."""
    steps, m, size = delta.shape
    phi = np.zeros((size, steps, m, m))
    bound = np.zeros((steps + 1, size))
    for s in range(steps):
        if s:
            phi[:, :s] = P[s][:, None] @ phi[:, :s]
        phi[:, s] = np.eye(m)
        weights = np.abs(phi[:, : s + 1, row, :])  # (C, s + 1, m)
        bound[s + 1] = np.einsum("csj,sjc->c", weights, delta[: s + 1])
    return bound


def chunk_tolerance(trace, chunk, dtype: str) -> np.ndarray:
    """Absolute bound on the parameter error of every element of ``chunk`` at every step: ``(T + 1, C)``."""
    delta = _local_errors(trace, chunk, dtype)
    if chunk.propagate.ndim == 3:
        return _shared_bound(chunk.propagate, delta, trace.theta_row)
    return _per_element_bound(chunk.propagate, delta, trace.theta_row)


def tolerance(trace, dtype: str) -> np.ndarray:
    """Absolute bound on the parameter error of every element of a group at every step: ``(T + 1, N)``."""
    offsets = trace.offsets
    bound = np.empty((trace.steps + 1, sum(int(np.prod(s)) for s in trace.shapes)))
    for chunk in trace.chunks():
        values, column = chunk_tolerance(trace, chunk, dtype), 0
        for ti, a, b in chunk.pieces:
            bound[:, offsets[ti] + a : offsets[ti] + b] = values[:, column : column + b - a]
            column += b - a
    return bound


def ulp(scale: np.ndarray, dtype: str) -> np.ndarray:
    r"""The ULP of ``scale`` in ``dtype`` (normal numbers; floored at the smallest normal).

    :math:`2^{\lfloor \log_2 s \rfloor - p}`, read off the float64 exponent bits (exact, no logarithm).
    """
    scale = np.maximum(np.abs(scale), SMALLEST_NORMAL[dtype])
    power = (scale.view(np.int64) & np.int64(0x7FF0000000000000)).view(np.float64)  # 2**floor(log2)
    return power * 2.0 ** -MANTISSA_BITS[dtype]


# -- the report ----------------------------------------------------------------------------
@dataclass
class Mismatch:
    """Where observed and expected part: the coordinates and both values."""

    step: int
    group: int
    tensor: int
    index: tuple[int, ...]
    expected: float
    got: float
    abs_error: float
    rel_error: float
    ulps: float
    allowed_ulps: float

    def describe(self) -> str:
        return (f"step {self.step}, group {self.group}, tensor {self.tensor}, index {self.index}: "
                f"expected {self.expected!r}, got {self.got!r} (abs {self.abs_error:.3g}, "
                f"rel {self.rel_error:.3g}, {self.ulps:.3g} ULP > {self.allowed_ulps:.3g} allowed)")


@dataclass
class Report:
    """The verdict on one configuration, with the figures that back it."""

    label: str
    passed: bool
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulps: float = 0.0
    max_allowed_ulps: float = 0.0
    first: Mismatch | None = None
    error: str | None = None
    torch_seconds: float = 0.0
    reference_seconds: float = 0.0  # computing the expected trajectory
    verify_seconds: float = 0.0  # reference + tolerance + comparison
    fused_seconds: float = 0.0  # of which in verify.fused's single pass (reference, bound and comparison at once)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.error:
            return f"{self.label}: ERROR {self.error}"
        verdict = "pass" if self.passed else "FAIL"
        text = (f"{self.label}: {verdict} (max {self.max_ulps:.3g} ULP of {self.max_allowed_ulps:.3g} "
                f"allowed, abs {self.max_abs:.3g}, rel {self.max_rel:.3g})")
        return text + ("" if self.first is None else f"; first mismatch at {self.first.describe()}")


def compare(observed, expected, *, label: str | None = None) -> Report:
    """Compare every parameter element at every step; the first mismatch in step order.

    Runs chunk by chunk (:meth:`verify.reference.GroupTrace.chunks`): the expected values,
    their bound and the observed values of a few thousand elements at a time.
    """
    with np.errstate(all="ignore"):  # inf/NaN in a diverging run are mismatches, not warnings
        return _compare(observed, expected, label)


def _compare(observed, expected, label) -> Report:
    from verify import fused  # imports the kernels' module; only a large run needs them

    dtype = observed.config.dtype
    report = Report(label or observed.config.label(), True, torch_seconds=observed.seconds,
                    reference_seconds=expected.seconds)
    last = observed.steps if observed.failed_step is None else observed.failed_step - 1
    first = None  # (step, group, tensor, flat index, figures)
    stepped = sum(trace.stepping_seconds for trace in expected.groups)
    for gi, trace in enumerate(expected.groups):
        observed_rows = [a.reshape(a.shape[0], -1) for a in observed.theta[gi]]
        verdict = None
        if fused.applies(trace):
            started = time.perf_counter()
            verdict = fused.judge_group(trace, observed_rows, last, dtype)
            report.fused_seconds += 0.0 if verdict is None else time.perf_counter() - started
        if verdict is None:
            verdict = _judge_chunks(trace, observed_rows, last, dtype)
        report.max_abs = max(report.max_abs, verdict.max_abs)
        report.max_rel = max(report.max_rel, verdict.max_rel)
        report.max_ulps = max(report.max_ulps, verdict.max_ulps)
        report.max_allowed_ulps = max(report.max_allowed_ulps, verdict.max_allowed_ulps)
        if verdict.first is not None:
            step, ti, flat, figures = verdict.first
            if first is None or (step, gi, ti, flat) < first[:4]:
                first = (step, gi, ti, flat, figures)
    # a run too large to keep is stepped here: that time is the reference's too
    report.reference_seconds += sum(trace.stepping_seconds for trace in expected.groups) - stepped
    if first is not None:
        step, gi, ti, flat, figures = first
        shape = observed.theta[gi][ti].shape[1:]
        index = tuple(int(i) for i in np.unravel_index(flat, shape))
        report.passed = False
        report.first = Mismatch(step, gi, ti, index, *(float(v) for v in figures))
    if observed.error is not None:
        report.passed = False
        report.error = f"step {observed.failed_step}: {observed.error}"
    return report


def _judge_chunks(trace, observed_rows, last: int, dtype: str):
    """The numpy path: each chunk of :mod:`verify.stepping` bounded, then compared, whole arrays at a time."""
    from verify.fused import GroupVerdict

    verdict = GroupVerdict()
    for chunk in trace.chunks():
        tol = chunk_tolerance(trace, chunk, dtype)[: last + 1]
        exp = chunk.x[: last + 1, trace.theta_row]
        got = np.concatenate([observed_rows[ti][: last + 1, a:b] for ti, a, b in chunk.pieces], axis=1)
        got = got.astype(np.float64, copy=False)
        err = np.subtract(got, exp, out=got)
        np.abs(err, out=err)
        magnitude = np.abs(exp)
        scale = magnitude.copy()
        for row in range(1, len(scale)):  # the running maximum, a row at a time (cache-friendly)
            np.maximum(scale[row - 1], scale[row], out=scale[row])
        unit = ulp(scale, dtype)
        rel = err / np.maximum(magnitude, SMALLEST_NORMAL[dtype], out=magnitude)
        verdict.max_abs = _nan_max(verdict.max_abs, err)
        verdict.max_rel = _nan_max(verdict.max_rel, rel)
        verdict.max_ulps = _nan_max(verdict.max_ulps, err / unit)
        verdict.max_allowed_ulps = max(verdict.max_allowed_ulps, float((tol / unit).max(initial=0)))
        bad = ~(err <= tol)  # NaN (a diverged run) is a mismatch
        rows = np.flatnonzero(bad.any(axis=1))
        if not len(rows) or (verdict.first is not None and verdict.first[0] < rows[0]):
            continue
        step = int(rows[0])
        column = int(np.flatnonzero(bad[step])[0])  # chunk columns run in tensor, then index, order
        ti, flat = _locate(chunk.pieces, column)
        if verdict.first is None or (step, ti, flat) < verdict.first[:3]:
            error = np.inf if np.isnan(err[step, column]) else err[step, column]
            figures = (exp[step, column], observed_rows[ti][step, flat], error,
                       np.inf if np.isnan(rel[step, column]) else rel[step, column],
                       error / unit[step, column], tol[step, column] / unit[step, column])
            verdict.first = (step, ti, flat, figures)
    return verdict


def _nan_max(current: float, values: np.ndarray) -> float:
    """The running maximum of a figure; NaN (a diverged element) counts as infinite."""
    top = float(values.max(initial=0))
    return np.inf if np.isnan(top) else max(current, top)


def _locate(pieces, column: int) -> tuple[int, int]:
    """The (tensor, flat index) of a chunk's column."""
    for ti, a, b in pieces:
        if column < b - a:
            return ti, a + column
        column -= b - a
    raise IndexError(column)
