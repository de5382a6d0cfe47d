r"""The reference, its error bound and the comparison in one pass over a large run.

For a group too large to keep (:data:`verify.reference.STORE_VALUES`) with injected gradients and
a float64 reference, :func:`verify.compare.compare` does not step chunks of ``(T, m, C)`` arrays
and then judge them: each tensor is streamed once, a block of elements at a time
(:mod:`verify.kernels`), and per step every element of the block gets

.. math::
    x_t = A_t x_{t-1} + B_t g_t, \qquad
    \delta_t = (n u + n_\mathrm{ref} u_{64})\big(|A_t|_M |x_{t-1}| + |B_t|_M |g_t|\big) + n\,\mathrm{tiny},

    E^{(j)}_t = \tilde A_t E^{(j)}_{t-1} + e_j\,\delta_t[j], \qquad
    \mathrm{bound}_t = \sum_j \sigma_{t,j}\, E^{(j)}_t[\theta],

then :math:`|\hat\theta_t - \theta_t|` is compared with :math:`\mathrm{bound}_t`: the model of
:mod:`verify.compare` (the recursion of :func:`verify.compare._shared_bound`, with the same signs
:math:`\sigma` and the same step matrices, derive's, per segment from
:func:`verify.stepping.segment_matrices`), the same figures and the same first mismatch, with
nothing the size of the tensor allocated. When some :math:`\Phi(t, s)` entry changes sign over
:math:`s` (no :math:`\sigma` exists), the group takes the numpy path, whose explicit sum covers it.

The kernels are compiled by numba when it is installed; :data:`ENABLED` is False without it,
and tests set it to run the numpy path, or the kernels as plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verify import kernels
from verify.compare import MANTISSA_BITS, SMALLEST_NORMAL, UNIT_ROUNDOFF, _weights, ulp
from verify.stepping import NonFiniteReference, segment_matrices, step_chunk

ENABLED = kernels.HAVE_NUMBA


@dataclass
class GroupVerdict:
    """One group's figures: maxima over its elements and steps, and its first mismatch."""

    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulps: float = 0.0
    max_allowed_ulps: float = 0.0
    first: tuple | None = None  # (step, tensor, flat index, (expected, got, abs, rel, ulps, allowed ulps))


def applies(trace) -> bool:
    """Whether ``trace`` is judged by the fused pass: a large run, injected gradients, float64."""
    inputs = trace.inputs
    return ENABLED and trace.stored is None and inputs.objective is None and not inputs.exact


def _column(array: np.ndarray, index: int) -> np.ndarray:
    return np.ascontiguousarray(array[..., index : index + 1])


class _Stream:
    """One segment's matrices and constants, ready for the kernel."""

    def __init__(self, trace, segment, sign, A, B, magA, magB, P, dtype):
        system = trace.inputs.system
        self.segment, self.trace = segment, trace
        self.run = kernels.kernels()[0 if system.size == 2 else 1]
        coefficient = trace.roundings * UNIT_ROUNDOFF[dtype] + trace.reference_roundings * UNIT_ROUNDOFF["float64"]
        tiny_step = trace.roundings * SMALLEST_NORMAL[dtype] * segment.active.astype(np.float64)
        self.x0 = system.initial_state(np.zeros(1), False)[:, 0].astype(np.float64)
        self.matrices = (np.ascontiguousarray(A), np.ascontiguousarray(B[..., 0]), np.ascontiguousarray(magA),
                         np.ascontiguousarray(magB[..., 0]), np.ascontiguousarray(P), np.ascontiguousarray(sign),
                         np.ascontiguousarray(segment.active, dtype=np.bool_), tiny_step, float(coefficient),
                         trace.theta_row, SMALLEST_NORMAL[dtype], 2.0 ** -MANTISSA_BITS[dtype])

    def __call__(self, theta0, grads, got, stop: int, last: int) -> np.ndarray:
        steps = self.trace.steps
        res = np.zeros(kernels.RESULTS)
        res[[kernels.FIRST_STEP, kernels.GRAD_STEP, kernels.STATE_STEP]] = steps + 1
        res[[kernels.FIRST_INDEX, kernels.GRAD_INDEX, kernels.STATE_INDEX]] = -1
        self.run(theta0, self.x0, grads, got, stop, last, *self.matrices, res, kernels.BLOCK)
        return res


def _streams(trace, dtype) -> list[_Stream] | None:
    m = trace.inputs.system.size
    out = []
    for segment in trace.inputs.segments:
        A, B, magA, magB = segment_matrices(trace.inputs.mats, segment)
        P = np.where(segment.active[:, None, None], A, np.eye(m))  # an idle step propagates unchanged
        _, sign = _weights(P, trace.theta_row)
        if sign is None:
            return None
        out.append(_Stream(trace, segment, sign, A, B, magA, magB, P, dtype))
    return out


def _record(array: np.ndarray) -> np.ndarray:
    """A recorded array as the kernels read it: float32 or float64, as it is when it already is."""
    return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)


def judge_group(trace, observed_rows: list[np.ndarray], last: int, dtype: str) -> GroupVerdict | None:
    """Step, bound and compare every element of ``trace``'s group in one pass (None: use the numpy path).

    ``observed_rows[ti]`` is tensor ``ti``'s observed values, ``(T + 1, size)``; rows past ``last``
    are not compared. Raises :class:`NonFiniteReference` as :mod:`verify.stepping` does, naming
    the earliest step (a non-finite injected gradient before a non-finite state).
    """
    streams = _streams(trace, dtype)
    if streams is None:
        return None
    inputs, steps = trace.inputs, trace.steps
    results = {}
    for stream in streams:
        for ti in stream.segment.tensors:
            results[ti] = (stream, stream(_record(inputs.theta0[ti]), _record(inputs.grads[ti]),
                                          _record(observed_rows[ti]), steps, last))
    for step_slot, index_slot in ((kernels.GRAD_STEP, kernels.GRAD_INDEX), (kernels.STATE_STEP, kernels.STATE_INDEX)):
        worst = min(((int(res[step_slot]), ti, int(res[index_slot])) for ti, (_, res) in results.items()),
                    default=(steps + 1, 0, 0))
        if worst[0] <= steps:
            _raise_non_finite(trace, results[worst[1]][0].segment, worst[1], worst[2], worst[0])
    verdict = GroupVerdict()
    for ti in sorted(results):
        stream, res = results[ti]
        verdict.max_abs = max(verdict.max_abs, res[kernels.MAX_ABS])
        verdict.max_rel = max(verdict.max_rel, res[kernels.MAX_REL])
        verdict.max_ulps = max(verdict.max_ulps, res[kernels.MAX_ULPS])
        verdict.max_allowed_ulps = max(verdict.max_allowed_ulps, res[kernels.MAX_ALLOWED])
        step, flat = int(res[kernels.FIRST_STEP]), int(res[kernels.FIRST_INDEX])
        if step <= last and (verdict.first is None or step < verdict.first[0]):
            verdict.first = (step, ti, flat, _figures(stream, observed_rows[ti], ti, flat, step, dtype))
    return verdict


def _figures(stream: _Stream, observed: np.ndarray, ti: int, flat: int, step: int, dtype: str) -> tuple:
    """The first mismatch's figures, from the same kernel run on that element alone up to ``step``."""
    inputs = stream.trace.inputs
    res = stream(_column(_record(inputs.theta0[ti]), flat), _column(_record(inputs.grads[ti]), flat),
                 _column(_record(observed), flat), step, step)
    expected, bound = res[kernels.LAST_EXPECTED], res[kernels.LAST_BOUND]
    unit = float(ulp(np.array([res[kernels.LAST_SCALE]]), dtype)[0])
    got = observed[step, flat]
    error = abs(np.float64(got) - expected)
    rel = error / max(abs(expected), SMALLEST_NORMAL[dtype])
    error = np.inf if np.isnan(error) else error
    rel = np.inf if np.isnan(rel) else rel
    return expected, got, error, rel, error / unit, bound / unit


def _raise_non_finite(trace, segment, ti: int, flat: int, step: int):
    """Raise what the numpy path raises for that element (the same message), stepping it alone."""
    with np.errstate(all="ignore"):
        step_chunk(trace.inputs, segment, ((ti, flat, flat + 1),))
    raise NonFiniteReference(f"the reference is not finite at step {step} (tensor {ti}, flat index {flat})",
                             step=step, value=float("nan"))
