r"""The loops of the fused pass (:mod:`verify.fused`), in the subset of Python numba compiles.

Each kernel takes one tensor's record -- initial values ``theta0 (n,)``, injected gradients
``grads (T, n)``, observed values ``got (T + 1, n)``, float32 or float64 -- and its segment's
per-step matrices, and walks the elements a block at a time: per step, for the block, the
state update, the local rounding bound, the error recursion, the bound on the parameter and
the comparison. Per element it keeps only running figures (maxima, the first step that
breaks the bound, the first non-finite gradient or state); ``res`` receives their fold over
the tensor (slots :data:`MAX_ABS` ... :data:`LAST_SCALE`). The arithmetic is written in the
order of :mod:`verify.stepping` and :func:`verify.compare._shared_bound`, and numba compiles
it without fast-math, so every rounding is the one written.

``_stream_2`` is the two-state case (the momentum family) with the state and the 2 x 2 error
matrix of an element in registers; ``_stream_m`` handles any state size with block arrays.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from importlib.util import find_spec

import numpy as np

HAVE_NUMBA = find_spec("numba") is not None  # imported on first use: the sweep's small runs never need it

BLOCK = 512  # elements stepped together: their state (a few KB per array) stays in L1
EXPONENT = np.int64(0x7FF0000000000000)
# res[] slots written by the kernels
(MAX_ABS, MAX_REL, MAX_ULPS, MAX_ALLOWED, FIRST_STEP, FIRST_INDEX, GRAD_STEP, GRAD_INDEX, STATE_STEP,
 STATE_INDEX, LAST_EXPECTED, LAST_BOUND, LAST_SCALE) = range(13)
RESULTS = 13


# -- the kernels (numba's subset of Python: loops over a block, no allocation inside) -------------
def _judge(t, nb, xr, bound, scale, unit, unit_bits, got, tiny, ulp_of_one, fa, fr, fu, fl, first_bad):
    """Step ``t``'s comparison for a block: running maxima per element, NaN kept (a mismatch)."""
    for i in range(nb):
        a = abs(xr[i])
        v = scale[i]
        v = a if a > v else v
        scale[i] = v
        unit[i] = v if v > tiny else tiny
    for i in range(nb):  # 2**floor(log2(scale)) from the exponent bits, as verify.compare.ulp
        unit_bits[i] = unit_bits[i] & EXPONENT
    for i in range(nb):
        e = xr[i]
        ulp = unit[i] * ulp_of_one
        err = abs(np.float64(got[i]) - e)
        bd = bound[i]
        w = fa[i]
        fa[i] = err if not (err <= w) else w
        a = abs(e)
        v = err / (a if a > tiny else tiny)
        w = fr[i]
        fr[i] = v if not (v <= w) else w
        v = err / ulp
        w = fu[i]
        fu[i] = v if not (v <= w) else w
        v = bd / ulp
        w = fl[i]
        fl[i] = v if not (v <= w) else w
        fb = first_bad[i]
        first_bad[i] = t if (not (err <= bd) and fb > t) else fb


def _first(step, index, best_step, best_index):
    """The earlier of two (step, index) pairs."""
    if step < best_step:
        return step, index
    return best_step, best_index


def _finish_block(i0, nb, fa, fr, fu, fl, first_bad, grad_bad, state_bad, res):
    """Fold a block's per-element figures into ``res`` (NaN counts as infinite, as in compare)."""
    for i in range(nb):
        res[FIRST_STEP], res[FIRST_INDEX] = _first(first_bad[i], i0 + i, res[FIRST_STEP], res[FIRST_INDEX])
        res[GRAD_STEP], res[GRAD_INDEX] = _first(grad_bad[i], i0 + i, res[GRAD_STEP], res[GRAD_INDEX])
        res[STATE_STEP], res[STATE_INDEX] = _first(state_bad[i], i0 + i, res[STATE_STEP], res[STATE_INDEX])
        res[MAX_ABS] = max(res[MAX_ABS], fa[i] if fa[i] == fa[i] else math.inf)
        res[MAX_REL] = max(res[MAX_REL], fr[i] if fr[i] == fr[i] else math.inf)
        res[MAX_ULPS] = max(res[MAX_ULPS], fu[i] if fu[i] == fu[i] else math.inf)
        res[MAX_ALLOWED] = max(res[MAX_ALLOWED], fl[i])


def _stream_2(theta0, x0, grads, got, stop, last, A, B, magA, magB, P, sign, active, tiny_step, coefficient,
              row, tiny, ulp_of_one, res, block):
    """Two state variables (the momentum family): the state and the 2 x 2 error matrix in registers."""
    steps = A.shape[0]
    n = theta0.shape[0]
    X = np.empty((2, block))
    E = np.empty((4, block))  # E[2j + k] = E^{(j)}[k]
    bound, scale, unit = np.zeros(block), np.empty(block), np.empty(block)
    unit_bits = unit.view(np.int64)
    fa, fr, fu, fl = np.empty(block), np.empty(block), np.empty(block), np.empty(block)
    first_bad, grad_bad, state_bad = (np.empty(block, np.int64), np.empty(block, np.int64),
                                      np.empty(block, np.int64))
    x0r, x1r, e00, e01, e10, e11 = X[0], X[1], E[0], E[1], E[2], E[3]
    xr = X[row]
    for i0 in range(0, n, block):
        nb = min(block, n - i0)
        for i in range(nb):
            x0r[i] = x0[0]
            x1r[i] = x0[1]
            e00[i] = 0.0
            e01[i] = 0.0
            e10[i] = 0.0
            e11[i] = 0.0
            bound[i] = 0.0
            fa[i] = 0.0
            fr[i] = 0.0
            fu[i] = 0.0
            fl[i] = 0.0
            first_bad[i] = steps + 1
            grad_bad[i] = steps + 1
            state_bad[i] = steps + 1
        for i in range(nb):
            xr[i] = np.float64(theta0[i0 + i])
            scale[i] = 0.0
        for t in range(stop + 1):
            if t > 0 and active[t - 1]:
                s = t - 1
                a00, a01, a10, a11 = A[s, 0, 0], A[s, 0, 1], A[s, 1, 0], A[s, 1, 1]
                m00, m01, m10, m11 = magA[s, 0, 0], magA[s, 0, 1], magA[s, 1, 0], magA[s, 1, 1]
                p00, p01, p10, p11 = P[s, 0, 0], P[s, 0, 1], P[s, 1, 0], P[s, 1, 1]
                b0, b1, mb0, mb1 = B[s, 0], B[s, 1], magB[s, 0], magB[s, 1]
                ts = tiny_step[s]
                g = grads[s, i0 : i0 + nb]
                for i in range(nb):
                    gv = np.float64(g[i])
                    ag = abs(gv)
                    u0 = x0r[i]
                    u1 = x1r[i]
                    d0 = coefficient * (m00 * abs(u0) + m01 * abs(u1) + mb0 * ag) + ts
                    d1 = coefficient * (m10 * abs(u0) + m11 * abs(u1) + mb1 * ag) + ts
                    v0 = a00 * u0 + a01 * u1 + b0 * gv
                    v1 = a10 * u0 + a11 * u1 + b1 * gv
                    x0r[i] = v0
                    x1r[i] = v1
                    f00, f01, f10, f11 = e00[i], e01[i], e10[i], e11[i]
                    e00[i] = f00 * p00 + p01 * f01 + d0
                    e01[i] = f00 * p10 + p11 * f01
                    e10[i] = f10 * p00 + p01 * f11
                    e11[i] = f10 * p10 + p11 * f11 + d1
                    k = grad_bad[i]
                    grad_bad[i] = t if (not (gv - gv == 0.0) and k > t) else k
                    k = state_bad[i]
                    state_bad[i] = t if (not (v0 - v0 == 0.0 and v1 - v1 == 0.0) and k > t) else k
            if t > 0:
                s0, s1 = sign[t, 0], sign[t, 1]
                er0, er1 = E[row], E[2 + row]
                for i in range(nb):
                    bound[i] = s0 * er0[i] + s1 * er1[i]
            if t <= last:
                _judge(t, nb, xr, bound, scale, unit, unit_bits, got[t, i0 : i0 + nb], tiny, ulp_of_one,
                       fa, fr, fu, fl, first_bad)
        _finish_block(i0, nb, fa, fr, fu, fl, first_bad, grad_bad, state_bad, res)
        res[LAST_EXPECTED], res[LAST_BOUND], res[LAST_SCALE] = xr[nb - 1], bound[nb - 1], scale[nb - 1]


def _stream_m(theta0, x0, grads, got, stop, last, A, B, magA, magB, P, sign, active, tiny_step, coefficient,
              row, tiny, ulp_of_one, res, block):
    """Any number ``m`` of state variables: the same pass with ``(m, block)`` and ``(m, m, block)`` arrays."""
    steps, m = A.shape[0], A.shape[1]
    n = theta0.shape[0]
    X, XN, D = np.empty((m, block)), np.empty((m, block)), np.empty((m, block))
    E, EN = np.empty((m, m, block)), np.empty((m, block))
    G = np.empty(block)
    bound, scale, unit = np.zeros(block), np.empty(block), np.empty(block)
    unit_bits = unit.view(np.int64)
    fa, fr, fu, fl = np.empty(block), np.empty(block), np.empty(block), np.empty(block)
    first_bad, grad_bad, state_bad = (np.empty(block, np.int64), np.empty(block, np.int64),
                                      np.empty(block, np.int64))
    xr = X[row]
    for i0 in range(0, n, block):
        nb = min(block, n - i0)
        for j in range(m):
            xj, value = X[j], x0[j]
            for i in range(nb):
                xj[i] = value
            for k in range(m):
                ejk = E[j, k]
                for i in range(nb):
                    ejk[i] = 0.0
        for i in range(nb):
            bound[i] = 0.0
            fa[i] = 0.0
            fr[i] = 0.0
            fu[i] = 0.0
            fl[i] = 0.0
            first_bad[i] = steps + 1
            grad_bad[i] = steps + 1
            state_bad[i] = steps + 1
        for i in range(nb):
            xr[i] = np.float64(theta0[i0 + i])
            scale[i] = 0.0
        for t in range(stop + 1):
            if t > 0 and active[t - 1]:
                s = t - 1
                g = grads[s, i0 : i0 + nb]
                for i in range(nb):
                    G[i] = np.float64(g[i])
                    k = grad_bad[i]
                    grad_bad[i] = t if (not (G[i] - G[i] == 0.0) and k > t) else k
                ts = tiny_step[s]
                for j in range(m):  # x_t[j] and delta_t[j] from x_{t-1}, in the order of verify.stepping
                    xn, d, x_ = XN[j], D[j], X[0]
                    a_, m_ = A[s, j, 0], magA[s, j, 0]
                    for i in range(nb):
                        xn[i] = a_ * x_[i]
                        d[i] = m_ * abs(x_[i])
                    for k in range(1, m):
                        x_, a_, m_ = X[k], A[s, j, k], magA[s, j, k]
                        for i in range(nb):
                            xn[i] += a_ * x_[i]
                            d[i] += m_ * abs(x_[i])
                    b_, mb = B[s, j], magB[s, j]
                    for i in range(nb):
                        xn[i] += b_ * G[i]
                        d[i] = coefficient * (d[i] + mb * abs(G[i])) + ts
                for j in range(m):
                    xj, xn = X[j], XN[j]
                    for i in range(nb):
                        xj[i] = xn[i]
                        k = state_bad[i]
                        state_bad[i] = t if (not (xn[i] - xn[i] == 0.0) and k > t) else k
                for j in range(m):  # E^{(j)} <- P E^{(j)} + e_j delta[j]
                    for r in range(m):
                        en, e_, p_ = EN[r], E[j, 0], P[s, r, 0]
                        for i in range(nb):
                            en[i] = e_[i] * p_
                        for k in range(1, m):
                            e_, p_ = E[j, k], P[s, r, k]
                            for i in range(nb):
                                en[i] += p_ * e_[i]
                    for r in range(m):
                        ejr, en = E[j, r], EN[r]
                        for i in range(nb):
                            ejr[i] = en[i]
                    ejj, d = E[j, j], D[j]
                    for i in range(nb):
                        ejj[i] += d[i]
            if t > 0:
                e_, s_ = E[0, row], sign[t, 0]
                for i in range(nb):
                    bound[i] = s_ * e_[i]
                for j in range(1, m):
                    e_, s_ = E[j, row], sign[t, j]
                    for i in range(nb):
                        bound[i] += s_ * e_[i]
            if t <= last:
                _judge(t, nb, xr, bound, scale, unit, unit_bits, got[t, i0 : i0 + nb], tiny, ulp_of_one,
                       fa, fr, fu, fl, first_bad)
        _finish_block(i0, nb, fa, fr, fu, fl, first_bad, grad_bad, state_bad, res)
        res[LAST_EXPECTED], res[LAST_BOUND], res[LAST_SCALE] = xr[nb - 1], bound[nb - 1], scale[nb - 1]


@lru_cache(maxsize=None)
def kernels():
    """``(two_state, any_state)``: compiled by numba when it is installed (cached on disk), else Python."""
    if not HAVE_NUMBA:
        return _stream_2, _stream_m
    import numba

    # error_model="numpy": x / 0 is IEEE (no Python ZeroDivisionError branch, so loops vectorize);
    # fastmath stays off, so every rounding is the one written (no contraction, no reassociation)
    jit = numba.njit(cache=True, nogil=True, error_model="numpy")
    for helper in (_judge, _first, _finish_block):  # the streams call them by global name: compiled first
        globals()[helper.__name__] = jit(helper)
    return jit(_stream_2), jit(_stream_m)


def warm_up() -> float:
    """Compile (or load from numba's cache) both kernels for float32 and float64 records; seconds taken."""
    started = time.perf_counter()
    for dtype in (np.float32, np.float64):
        for m in (1, 2):
            run = kernels()[0 if m == 2 else 1]
            A = np.eye(m)[None]
            run(np.zeros(1, dtype), np.zeros(m), np.zeros((1, 1), dtype), np.zeros((2, 1), dtype), 1, 1, A,
                np.zeros((1, m)), A, np.zeros((1, m)), A, np.ones((2, m)), np.ones(1, np.bool_), np.zeros(1),
                0.0, 0, 1e-300, 1e-16, np.zeros(RESULTS), BLOCK)
    return time.perf_counter() - started
