"""Benchmark verify: the full CPU sweep, and one parameter the size of a real layer.

Sweep mode (default): every valid flag combination x {for-loop, foreach, fused} x {float32,
float64} x 200 steps x three schedules (constant, explicit varying lr, OneCycleLR with momentum
cycling). Prints the wall time, the time spent in torch (driving the optimizer and recording),
in the reference (derive's expected trajectory) and in the tolerance model plus comparison,
and any failure. Target: the whole sweep in <= 60 s on 2 cores, the reference no more costly
than torch.

Size mode (``--size 1e6 1e7``): one float32 parameter of that many elements, 100 steps of
``SGD(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.01)`` with injected gradients, for
each implementation, every size in a fresh subprocess whose peak RSS is read with ``wait4``
(one thread for torch and for numpy's BLAS unless ``--threads``: like against like).
It goes through the user's path: ``verify.runner.run(RunConfig(...))``, which records the run
in the tensor's own dtype (float32), then ``expected`` and ``compare``. Targets: verify's own
time (reference + tolerance + comparison) <= 2x torch's ``step()`` time on the for-loop path;
peak RSS <= 1.5 GB at 1e6; 1e7 completes. The pass's effective bandwidth is printed beside a
numpy copy's, the physical limit. A large run is judged by verify.fused's single pass when numba
is installed (its kernels are compiled, or loaded from numba's cache, before the clock starts:
that time is printed as ``jit s``), else by the numpy path of verify.stepping.

    python bench/bench_verify.py [--steps 200] [--workers N]
    python bench/bench_verify.py --size 1e5 1e6 1e7 [--steps 100] [--code DIR] [--before DIR]

``--code DIR`` imports verify and derive from DIR instead (e.g. the code before a change,
``git archive main | tar -x -C DIR``); ``--before DIR`` runs every size and implementation with
DIR's code too, in the same run, and prints its rows beside this tree's (before/after figures).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}
IMPLS = ("for-loop", "foreach", "fused")


def _code_path(argv) -> str:
    if "--code" in argv:
        return str(Path(argv[argv.index("--code") + 1]).resolve())
    return str(ROOT)


sys.path.insert(0, _code_path(sys.argv))

import numpy as np  # noqa: E402
import torch  # noqa: E402


# -- sweep mode ----------------------------------------------------------------------------------
def sweep(args) -> int:
    from verify.reference import compiled
    from verify.sweep import check, flag_combinations, sweep_configs

    configs = sweep_configs(steps=args.steps)
    started = time.perf_counter()
    if args.workers == 1:
        outcomes = [check(c) for c in configs]
    else:
        from verify.sweep import check_all

        outcomes = check_all(configs, workers=args.workers)
    wall = time.perf_counter() - started
    torch_s = sum(o.report.torch_seconds for o in outcomes)
    reference_s = sum(o.report.reference_seconds for o in outcomes)
    verify_s = sum(o.report.verify_seconds for o in outcomes)
    known = sum(o.known_defect is not None for o in outcomes)
    failures = [o.report.describe() for o in outcomes if o.unexpected]

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.workers} worker process(es); "
          f"code from {_code_path(sys.argv)}")
    print(f"configurations     {len(configs)} ({len(flag_combinations())} flag combinations x 3 impls "
          f"x 2 dtypes x 3 schedules), {args.steps} steps each")
    print(f"wall time          {wall:7.2f} s   (target <= 60 s)")
    print(f"  in torch         {torch_s:7.2f} s   (optimizer steps, schedulers, recording; summed over workers)")
    print(f"  in the reference {reference_s:7.2f} s   (derive's A_t, B_t, C_t stepped in float64; "
          f"{compiled.cache_info().currsize} systems compiled here)")
    print(f"  tolerance+compare{verify_s - reference_s:7.2f} s")
    print(f"reference / torch  {reference_s / torch_s:7.2f}   (target <= 1)")
    print(f"failures           {len(failures)} unexpected, {known} known torch defects")
    for line in failures[:20]:
        print("  " + line)
    ok = wall <= 60 and reference_s <= torch_s and not failures
    print("OK" if ok else "MISSED A TARGET")
    return 0 if ok else 1


# -- size mode -----------------------------------------------------------------------------------
def copy_bandwidth(megabytes: int = 256, repeats: int = 5) -> float:
    """A numpy copy's bandwidth, GB/s counting bytes read plus bytes written (best of ``repeats``)."""
    a = np.ones(megabytes * 2**20 // 8)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - started)
    return 2 * a.nbytes / best / 1e9


def one_layer(size: int, impl: str, steps: int) -> dict:
    """One float32 parameter of ``size`` elements through ``steps`` steps, then verify (in this process).

    The user's path: ``verify.runner.run(RunConfig(...))`` drives the optimizer with seeded
    injected gradients and records the run, then ``expected`` and ``compare`` judge it.
    """
    from verify.compare import compare
    from verify.reference import compiled, expected
    from verify.runner import GroupSpec, RunConfig, TensorSpec, run
    from verify.sweep import formulation_options

    try:  # the fused pass's kernels: compiled once per install, then loaded from numba's cache
        from verify import fused, kernels

        jit_s = kernels.warm_up() if fused.ENABLED else None
    except ImportError:  # code from before verify.fused
        jit_s = None
    config = RunConfig(options=OPTIONS, groups=(GroupSpec((TensorSpec((size,)),)),), impl=impl,
                       dtype="float32", steps=steps)
    observed = run(config)
    if observed.error is not None:
        raise RuntimeError(f"the run failed at step {observed.failed_step}: {observed.error}")
    hyper = observed.hyper[0]
    t0 = time.perf_counter()
    system = compiled("pytorch_sgd", formulation_options("pytorch_sgd", hyper, observed.flags[0]))
    compile_s = time.perf_counter() - t0  # once per formulation and options, then cached
    t0, cpu0 = time.perf_counter(), time.process_time()
    reference = expected(system, observed)
    reference_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = compare(observed, reference)
    compare_s = time.perf_counter() - t0
    verify_cpu_s = time.process_time() - cpu0  # this process's CPU time: what the load does not inflate
    stepped_in_compare = report.reference_seconds - reference.seconds  # a large run is stepped there
    record = [a for arrays in (observed.theta, observed.grads) for group in arrays for a in group]
    return {"size": size, "impl": impl, "steps": steps, "m": system.size, "step_s": observed.step_seconds,
            "run_s": observed.seconds, "compile_s": compile_s, "jit_s": jit_s,
            "reference_s": reference_s + stepped_in_compare, "compare_s": compare_s - stepped_in_compare,
            "fused_s": getattr(report, "fused_seconds", 0.0),
            "verify_s": reference_s + compare_s, "verify_cpu_s": verify_cpu_s,
            "passed": report.passed, "verdict": report.describe(),
            "record_gb": sum(a.nbytes for a in record) / 1e9, "item": observed.theta[0][0].itemsize,
            "record_dtype": ",".join(sorted({a.dtype.name for a in record}))}


def _child(size: int, impl: str, steps: int, code: str, threads: int) -> dict:
    """``one_layer`` in a fresh process; its peak RSS from ``wait4`` (this child's own figure)."""
    command = [sys.executable, __file__, "--one", str(size), impl, str(steps), "--code", code,
               "--threads", str(threads)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        return {"size": size, "impl": impl, "error": (err.strip().splitlines() or ["killed"])[-1],
                "peak_rss_gb": usage.ru_maxrss * 1024 / 1e9}
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_gb"] = usage.ru_maxrss * 1024 / 1e9  # Linux reports kilobytes
    return result


def _load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def size_mode(args) -> int:
    code = _code_path(sys.argv)
    codes = ([("before", str(Path(args.before).resolve()))] if args.before else []) + [("after", code)]
    bandwidth = copy_bandwidth()
    print(f"torch {torch.__version__}, {args.threads or 1} thread(s) for torch and numpy alike; "
          f"code: {', '.join(f'{name} {path}' for name, path in codes)}")
    print(f"one float32 parameter, {args.steps} steps, SGD({', '.join(f'{k}={v}' for k, v in OPTIONS.items())})")
    print(f"numpy copy bandwidth {bandwidth:.1f} GB/s (read + write): the physical limit")
    print(f"through verify.runner.run(RunConfig(...)), then expected() and compare(); "
          f"{os.cpu_count()} CPUs on this machine, shared with other work: figures are under load ({_load()})")
    header = (f"{'elements':>9} {'code':6} {'impl':8} {'step() s':>8} {'run s':>7} {'ref s':>6} {'tol+cmp s':>9} "
              f"{'verify s':>8} {'cpu s':>5} {'/step()':>7} {'path':5} {'GB/s':>5} {'jit s':>5} {'RSS GB':>6} {'record':>6}  verdict")
    print(header)
    print("-" * len(header))
    ok = True
    for size in args.size:
        for impl in args.impl:
            for name, tree in codes:
                r = _child(int(float(size)), impl, args.steps, tree, args.threads or 1)
                if "error" in r:
                    ok = False
                    print(f"{r['size']:9.0e} {name:6} {impl:8} FAILED after {r['peak_rss_gb']:.2f} GB peak RSS: "
                          f"{r['error']}")
                    continue
                fused = r.get("fused_s", 0.0) > 0
                if fused:  # one pass reads the gradient and the observed value once; the state stays in cache
                    moved, seconds = r["size"] * r["steps"] * 2 * r.get("item", 4), r["fused_s"]
                else:  # stepping alone: read and write the float64 state, read the gradient
                    moved, seconds = r["size"] * r["steps"] * (2 * 8 * r["m"] + 4), r["reference_s"]
                ratio = r["verify_s"] / r["step_s"]
                jit = "-" if r.get("jit_s") is None else f"{r['jit_s']:.1f}"
                print(f"{r['size']:9.0e} {name:6} {impl:8} {r['step_s']:8.2f} {r['run_s']:7.2f} "
                      f"{r['reference_s']:6.2f} {r['compare_s']:9.2f} {r['verify_s']:8.2f} "
                      f"{r.get('verify_cpu_s', float('nan')):5.2f} {ratio:7.2f} "
                      f"{'fused' if fused else 'numpy':5} {moved / seconds / 1e9:5.2f} {jit:>5} "
                      f"{r['peak_rss_gb']:6.2f} {r['record_gb']:6.2f}  {'pass' if r['passed'] else r['verdict']}")
                if name == "after":
                    if r["size"] == 10**6:
                        ok &= r["peak_rss_gb"] <= 1.5 and (impl != "for-loop" or ratio <= 2)
                    ok &= r["passed"]
        print(f"  ({_load()})")
    print("step() s = the runner's optimizer.step(closure) time (the closure sets .grad and records it); run s = "
          "verify.runner.run, which adds drawing gradients and recording; ref s = the reference alone (expected(), "
          "plus stepping inside compare on the numpy path); tol+cmp s = the rest of compare (on the fused path: "
          "stepping, bound and comparison in one pass); verify s = both; cpu s = verify s's CPU time (under load "
          "the wall time is a multiple of it); /step() = verify s over step() s; "
          "GB/s = bytes the pass must move at least over its time (fused: gradient and observed value read; "
          "numpy: float64 state read and written, gradient read); jit s = compiling or loading the fused "
          "kernels, once per process, not in verify s; record = the trajectory and gradients recorded, GB")
    print("OK" if ok else "MISSED A TARGET")
    return 0 if ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="steps per run (sweep 200, size 100)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--workers", type=int, default=1, help="sweep worker processes")
    parser.add_argument("--size", nargs="+", default=None, help="element counts, e.g. 1e6 1e7: size mode")
    parser.add_argument("--impl", nargs="+", default=list(IMPLS), choices=IMPLS)
    parser.add_argument("--code", default=str(ROOT), help="import verify and derive from this tree")
    parser.add_argument("--before", default=None, metavar="DIR",
                        help="size mode: also run every row with the code in DIR, printed beside this tree's")
    parser.add_argument("--one", nargs=3, metavar=("SIZE", "IMPL", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:
        print(json.dumps(one_layer(int(args.one[0]), args.one[1], int(args.one[2]))))
        return 0
    if args.size:
        args.steps = args.steps or 100
        return size_mode(args)
    args.steps = args.steps or 200
    return sweep(args)


if __name__ == "__main__":
    sys.exit(main())
