r"""Benchmark: ``derive unroll`` as users type it, against SymPy and symengine doing the same work.

The formulation is ``pytorch_sgd`` with every hyperparameter symbolic: momentum
:math:`\mu_t` and learning rate :math:`\varepsilon_t` per step, dampening
:math:`\tau`, weight decay :math:`\lambda` (weight decay couples the state).
Every timed run is a subprocess of this script (same process tree); "beyond
start-up" subtracts the fastest of three ``python -c "import derive.cli; ..."``
runs, which import everything the command imports.  Three tables:

1. **Targets**: ``python -m derive unroll pytorch_sgd --steps T --format json``
   (the factored form): seconds beyond start-up (fastest of three runs) and
   output MB per T, the fitted exponents of time and size in T (least squares on
   log-log over T >= 1024, past the fixed costs),
   and the targets (T = 256: <= 2 s, <= 20 MB; T = 4096: <= 60 s).  With
   ``--baseline DIR`` the same command also runs from another checkout (the
   "before" figures), killed after ``--limit`` seconds.
2. **Expanded vs expanded** (small T): ``--expand --format json`` against naive
   SymPy (iterate the program, ``sympy.expand`` after every step, collect the
   coefficient of each input, print them as JSON).
3. **Factored vs unexpanded** (large T): against the same backward recurrence
   :math:`\Phi(T,k-1) = \Phi(T,k) A_k` iterated without expansion in SymPy and in
   symengine, printed in the same form (shared sub-expressions by ``cse``, then
   the coefficients, as JSON).  Each peer reports its phases: building the step
   matrices (``setup``), the products (``loop``, the inner loop) and ``cse`` +
   printing (``output``); ours reports ``closed_form()`` (setup + loop) in-process.

Run ``python bench/bench_unroll.py`` (several minutes, most of it the peers'
limits) or ``--quick`` (T = 16, 64; a smoke run).  The figures depend on the
machine's load; say so when quoting them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
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
STARTUP = "import derive.cli; derive.cli.build_parser()"

NAIVE_EXPANDED = """
import json, time
import sympy as sp
from derive.catalogue import get
from derive.unroll import iterate
f = get({name!r})
start = time.perf_counter()
state = iterate(f, {steps}, expand=True)
g = sp.IndexedBase("g", real=True)
inputs = [g[k] for k in range(1, {steps} + 1)] + [f.params[0]]
doc = {{str(s): {{str(x): str(c) for x, c in sp.collect(state[s], inputs, evaluate=False).items()}}
       for s in f.state}}
text = json.dumps({{"state": doc}}, indent=2)
print(text)
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""

UNEXPANDED = """
import json, sys, time
sys.setrecursionlimit(10**6)
import sympy as sp
from derive.catalogue import get
from derive.system import linear_system
engine, T = {engine!r}, {steps}
f = get({name!r})
system = linear_system(f)
n = system.size
start = time.perf_counter()
mats = [system.at(k)[:2] for k in range(1, T + 1)]
if engine == "symengine":
    import symengine as se
    def convert(M):  # symengine has no Indexed: epsilon[3] becomes the symbol named "epsilon[3]"
        return se.Matrix(M.xreplace({{a: sp.Symbol(str(a)) for a in M.atoms(sp.Indexed)}}).tolist())
    mats = [(convert(A), convert(B)) for A, B in mats]
    P, cse = se.eye(n), se.cse
else:
    P, cse = sp.eye(n), sp.cse
setup = time.perf_counter()
coefficients = []
for k in range(T, 0, -1):
    A, B = mats[k - 1]
    coefficients.append(P * B)
    P = P * A
loop = time.perf_counter()
exprs = [c[r] for c in coefficients for r in range(n)] + [P[r, 0] for r in range(n)]
replacements, reduced = cse(exprs) if engine == "symengine" else cse(exprs, order="none")
doc = {{"definitions": [[str(a), str(b)] for a, b in replacements],
       "state": [str(e) for e in reduced]}}
text = json.dumps(doc, indent=2)
end = time.perf_counter()
print(json.dumps({{"setup": setup - start, "loop": loop - setup, "output": end - loop, "bytes": len(text)}}))
"""


def run(argv: list[str], limit: float, *, pythonpath: Path = ROOT):
    """(wall seconds, stdout, CPU seconds) of a subprocess, or (None, "", None) past *limit* seconds.

    CPU time (user + system of the child) is what the shared machine's load
    disturbs least; the tables judge the targets on it and print the wall time too.
    """
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=limit,
                              env=env, cwd=pythonpath)
    except subprocess.TimeoutExpired:
        return None, "", None
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"bench: error: {' '.join(argv)} failed: {done.stderr.strip().splitlines()[-1]}")
    return seconds, done.stdout, cpu


def startup(pythonpath: Path = ROOT) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of three start-ups: import what the command imports."""
    runs = [run(["-c", STARTUP], 120, pythonpath=pythonpath) for _ in range(3)]
    return min(r[0] for r in runs), min(r[2] for r in runs)


def command(steps: int, limit: float, *extra: str, pythonpath: Path = ROOT, repeat: int = 1):
    """(wall, stdout, CPU) of the fastest of *repeat* runs of the command as typed."""
    best = (None, "", None)
    for _ in range(repeat):
        wall, out, cpu = run(["-m", "derive", "unroll", NAME, "--steps", str(steps), "--format", "json", *extra],
                             limit, pythonpath=pythonpath)
        if wall is None:
            return best
        if best[0] is None or cpu < best[2]:
            best = (wall, out, cpu)
    return best


def exponent(xs, ys) -> float:
    """The slope of log y against log x (least squares): 1 is linear, 2 quadratic."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def shown(seconds) -> str:
    return "timeout" if seconds is None else f"{seconds:.2f}"


def targets(horizons, limit: float, baseline: Path | None) -> None:
    print(f"\n1. derive unroll {NAME} --steps T --format json (factored); start-up re-measured per row;")
    print("   'beyond' = the command minus start-up, wall and CPU; targets judged on CPU (shared machine)")
    head = f"{'T':>5} {'wall s':>8} {'beyond wall':>11} {'beyond CPU':>10} {'MB':>8}"
    print(head + (f" {'baseline beyond wall/CPU':>25} {'baseline MB':>12}" if baseline else ""))
    rows, baseline_dead = [], False
    for steps in horizons:
        base, base_cpu = startup()  # beside each row: the load on a shared machine drifts
        wall, out, cpu = command(steps, limit, repeat=3 if steps <= 4096 else 1)
        if wall is None:
            print(f"{steps:>5} {'timeout':>8}", flush=True)
            continue
        beyond, beyond_cpu, size = wall - base, max(cpu - base_cpu, 1e-3), len(out.encode()) / 1e6
        line = f"{steps:>5} {wall:>8.2f} {beyond:>11.2f} {beyond_cpu:>10.2f} {size:>8.3f}"
        if baseline:
            if baseline_dead:
                line += f" {'not run':>25} {'-':>12}"
            else:
                bbase, bbase_cpu = startup(baseline)
                bwall, bout, bcpu = command(steps, limit, pythonpath=baseline)
                baseline_dead = bwall is None
                bb = f"timeout>{limit:g}" if bwall is None else f"{bwall - bbase:.2f}/{bcpu - bbase_cpu:.2f}"
                line += f" {bb:>25} {f'{len(bout.encode()) / 1e6:.3f}' if bwall else '-':>12}"
        print(line, flush=True)
        rows.append((steps, beyond_cpu, size))
    fit = [r for r in rows if r[0] >= 1024] or rows  # past the fixed costs (building the system)
    if len(fit) >= 2:
        ts, secs, mbs = zip(*fit)
        print(f"fitted exponent in T (T = {', '.join(map(str, ts))}): CPU time {exponent(ts, secs):.2f}, "
              f"size {exponent(ts, mbs):.2f}")
    for steps, beyond_cpu, size in rows:
        if steps == 256:
            ok = beyond_cpu <= 2 and size <= 20
            print(f"target T=256: {beyond_cpu:.2f} CPU s <= 2 s, {size:.2f} MB <= 20 MB: {'met' if ok else 'MISSED'}")
        if steps == 4096:
            print(f"target T=4096: {beyond_cpu:.2f} CPU s <= 60 s: {'met' if beyond_cpu <= 60 else 'MISSED'}")


def expanded(horizons, limit: float) -> None:
    print("\n2. expanded vs expanded (JSON of per-input coefficients), CPU s beyond start-up")
    print(f"{'T':>5} {'derive --expand':>16} {'naive SymPy':>12} {'naive / derive':>14}")
    peer_dead = False
    for steps in horizons:
        _, base = startup()
        wall, _, cpu = command(steps, limit, "--expand", "--quiet", "--expand-limit", "1000")
        ours = None if wall is None else cpu - base
        peer, text = None, "not run"  # once the peer times out, larger T cost it more
        if not peer_dead:
            pwall, _, pcpu = run(["-c", NAIVE_EXPANDED.format(name=NAME, steps=steps)], limit)
            peer = None if pwall is None else pcpu - base
            peer_dead, text = peer is None, f"timeout>{limit:g}" if pwall is None else f"{peer:.2f}"
        ratio = f"{peer / ours:.1f}x" if ours and peer else (f">{limit / ours:.1f}x" if ours and text[0] == "t"
                                                              else "-")
        print(f"{steps:>5} {shown(ours):>16} {text:>12} {ratio:>14}", flush=True)


def factored(horizons, limit: float) -> None:
    print("\n3. factored vs unexpanded iteration printed through cse (same JSON form); CPU s beyond start-up,")
    print("   the peers' phases in wall s measured inside them; closed_form() in-process wall s")
    print(f"{'T':>5} {'derive cmd':>10} {'closed_form':>11} | {'SymPy setup/loop/output':>24} | "
          f"{'symengine setup/loop/output':>28} | peer / derive cmd: {'SymPy':>6} {'symengine':>10}")
    dead = set()
    for steps in horizons:
        _, base = startup()
        wall, _, cpu = command(steps, limit, "--quiet", repeat=2)
        ours = None if wall is None else cpu - base
        start = time.perf_counter()
        closed_form(get(NAME), steps)
        inner = time.perf_counter() - start
        cells, totals = [], {}
        for engine in ("sympy", "symengine"):
            if engine in dead:
                cells.append("not run")
                continue
            pwall, out, pcpu = run(["-c", UNEXPANDED.format(engine=engine, name=NAME, steps=steps)], limit)
            if pwall is None:
                dead.add(engine)
                cells.append(f"timeout>{limit:g}")
                continue
            phases = json.loads(out)
            totals[engine] = pcpu - base
            cells.append(f"{phases['setup']:.2f}/{phases['loop']:.3f}/{phases['output']:.2f}")
        ratios = [f"{totals[e] / ours:.1f}x" if ours and e in totals else (">" + f"{limit / ours:.1f}x"
                  if ours and e in dead else "-") for e in ("sympy", "symengine")]
        print(f"{steps:>5} {shown(ours):>10} {inner:>11.2f} | {cells[0]:>24} | {cells[1]:>28} | "
              f"{'':>18} {ratios[0]:>6} {ratios[1]:>10}", flush=True)


def evaluation(steps: int) -> None:
    """The float64 evaluation of the closed form (what a user does with it next)."""
    f = get(NAME)
    cf = closed_form(f, steps)
    n = np.arange(steps)
    values = {"lr": 0.1 * (0.5 + 0.5 * np.cos(np.pi * n / steps)) + 1e-3,
              "momentum": 0.9 - 0.4 * np.exp(-n / 50), "dampening": 0.1, "weight_decay": 1e-2}
    inputs = {"g": np.random.default_rng(0).standard_normal(steps), f.params[0]: 1.0}
    start = time.perf_counter()
    result = cf.evaluate(values, inputs)
    print(f"\nfloat64 evaluation of the T={steps} closed form: {time.perf_counter() - start:.3f} s "
          f"(theta = {float(result[f.params]):.6g})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small horizons, 20 s limit: a smoke run")
    parser.add_argument("--limit", type=float, default=None, help="time limit per subprocess in seconds")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout whose `derive unroll` runs beside this one (before figures)")
    args = parser.parse_args(argv)
    limit = args.limit if args.limit is not None else (20.0 if args.quick else 120.0)
    base, base_cpu = startup()
    print(f"{NAME}, every hyperparameter symbolic; limit {limit:g} s (wall) per subprocess; "
          f"start-up (import derive.cli, build the parser) {base:.2f} s wall, {base_cpu:.2f} s CPU")
    targets([16, 64] if args.quick else [8, 64, 256, 1024, 4096, 16384], limit, args.baseline)
    expanded([4, 6] if args.quick else [4, 6, 8, 10], limit)
    factored([64] if args.quick else [256, 1024, 2048], limit)
    evaluation(64 if args.quick else 1024)
    return 0


if __name__ == "__main__":
    sys.exit(main())
