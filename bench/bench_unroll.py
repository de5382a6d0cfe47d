r"""Benchmark: concrete closed forms of torch.optim.SGD against iterate-and-expand.

The formulation is ``pytorch_sgd`` with every hyperparameter symbolic: momentum
:math:`\mu_t` and learning rate :math:`\varepsilon_t` per step, dampening
:math:`\tau`, weight decay :math:`\lambda` (weight decay couples the state, so
nothing is triangular).  For each horizon ``T`` it prints

* the time of :func:`derive.unroll.closed_form` (process start excluded), the
  closed form's size (:meth:`ClosedForm.size`) and ``size / T^2`` (bounded: at
  most quadratic growth);
* the naive peer, :func:`derive.unroll.iterate` with ``expand=True``, run in a
  subprocess that is killed after the time limit ("timeout"); once a horizon
  times out, larger ones are not attempted (they cost more);
* the speed ratio peer / closed form at the largest ``T`` both finished;
* the float64 evaluation of the largest closed form (:meth:`ClosedForm.evaluate`).

Run ``python bench/bench_unroll.py`` (about 5 minutes, most of it the peer's
timeouts) or ``--quick`` (T = 16, 64, limit 10 s) for a smoke run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from derive.catalogue import get  # noqa: E402
from derive.unroll import closed_form  # noqa: E402

NAME = "pytorch_sgd"
PEER = """
import sys, time
sys.path.insert(0, {root!r})
from derive.catalogue import get
from derive.unroll import iterate
f = get({name!r})
start = time.perf_counter()
iterate(f, {steps}, expand=True)
print(time.perf_counter() - start)
"""


def time_closed_form(steps: int):
    """Seconds and size of the concrete closed form at *steps*, or the error's name."""
    f = get(NAME)
    start = time.perf_counter()
    try:
        cf = closed_form(f, steps)
    except RecursionError:
        return None, "RecursionError", None
    return time.perf_counter() - start, cf.size(), cf


def time_peer(steps: int, limit: float) -> float | None:
    """Seconds for iterate-and-expand at *steps* in a subprocess, ``None`` past *limit*."""
    code = PEER.format(root=str(ROOT), name=NAME, steps=steps)
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=limit, check=True)
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.strip().splitlines()[-1])


def schedules(steps: int) -> tuple[dict, dict]:
    """Time-varying lr (cosine) and momentum (warm-up) with dampening and weight decay."""
    n = np.arange(steps)
    values = {
        "lr": 0.1 * (0.5 + 0.5 * np.cos(np.pi * n / steps)) + 1e-3,
        "momentum": 0.9 - 0.4 * np.exp(-n / 50),
        "dampening": 0.1,
        "weight_decay": 1e-2,
    }
    rng = np.random.default_rng(0)
    f = get(NAME)
    inputs = {"g": rng.standard_normal(steps), f.params[0]: 1.0}
    return values, inputs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T = 16, 64 with a 10 s peer limit")
    parser.add_argument("--limit", type=float, default=None, help="peer time limit per T in seconds")
    args = parser.parse_args(argv)
    horizons = [16, 64] if args.quick else [16, 64, 256, 1024]
    limit = args.limit if args.limit is not None else (10.0 if args.quick else 90.0)
    # Small horizons for the peer too, so that a ratio exists where both finish.
    peer_only = [4, 6, 8]
    print(f"{NAME} with symbolic epsilon[t], mu[t], tau, lambda; peer limit {limit:g} s per T")
    print(f"{'T':>5} {'closed form s':>14} {'size':>8} {'size/T^2':>9} {'iterate+expand s':>17} {'ratio':>8}")
    timed_out, largest, last_cf = False, None, None
    for steps in peer_only + horizons:
        seconds, size, cf = time_closed_form(steps)
        if steps in horizons:
            last_cf = cf
        if timed_out:
            peer, peer_text = None, "not run"
        else:
            peer = time_peer(steps, limit)
            timed_out = peer is None
            peer_text = f"timeout>{limit:g}" if peer is None else f"{peer:.2f}"
        ratio = "-"
        if peer is not None and seconds:
            largest = (steps, peer / seconds)
            ratio = f"{peer / seconds:.0f}x"
        closed = f"{seconds:.2f}" if seconds is not None else size
        shown = size if isinstance(size, int) else "-"
        growth = f"{size / steps**2:.3f}" if isinstance(size, int) else "-"
        print(f"{steps:>5} {closed:>14} {shown:>8} {growth:>9} {peer_text:>17} {ratio:>8}", flush=True)
    if largest:
        print(f"speed ratio at the largest T both finished (T={largest[0]}): {largest[1]:.0f}x")
    else:
        print("speed ratio: the peer finished no horizon")
    if last_cf is not None:
        values, inputs = schedules(last_cf.steps)
        start = time.perf_counter()
        result = last_cf.evaluate(values, inputs)
        seconds = time.perf_counter() - start
        print(f"float64 evaluation of the T={last_cf.steps} closed form: {seconds:.3f} s "
              f"(theta = {float(result[last_cf.formulation.params]):.6g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
