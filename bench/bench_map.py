"""Time ``derive map`` as a user types it: cold (empty cache) and warm, with pairs per second.

Run: ``python bench/bench_map.py [--only NAME,...] [--workers N]``.

The command runs in a subprocess from the repository root with ``SGD_DERIVE_CACHE``
pointing at a fresh directory (cold: every pair judged, in forked workers) and then at
the same directory again (warm: every verdict read back).  Printed: wall seconds, CPU
seconds of the process tree (user + system, pool workers included: the figure that
load from other users inflates least), ordered pairs judged and pairs per wall second
and per CPU second; the load average before and after (on a shared machine wall time
is only meaningful beside it).  ``--workers N`` runs the command under ``taskset`` on
N cores (one worker per core it may use).

Last measured (2 cores shared with seven other engineers' jobs; load average in brackets):

    selection                    pairs   cold wall / CPU     warm wall / CPU
    before the numeric screen (symbolic cascade for every pair):
    whole catalogue (13)           169   1152 s / 320 s      2.8 s / 1.2 s   (derive map timed by hand, load 8-13)
    whole catalogue (13)           169    841 s / 276 s      -               (/usr/bin/time, load 5-9)
    --only 5 entries                25     63 s /  23 s      1.8 s / 0.9 s
    with the screen (derive/screen.py, derive/screen_schedule.py), same classes:
    whole catalogue (13)           169     42 s /  57 s      0.8 s / 0.9 s   (load 1.7-2.3)
    whole catalogue (13)           169    127 s /  74 s      -               (load 2.2-5.3, the previous commit)
    10 entries (--only below)      100    230 s / 133 s      2.0 s / 1.3 s   (load 2.1-5.5; one pair, mxnet_nag ->
                                                                          qhm, ran its 30 s budget out)
    with the polynomial elimination and the Groebner screen (derive/elimination.py), same selection:
    10 entries                     100    169 s /  60 s      5.6 s / 1.3 s   (load 6.4-7.5, beside a full map)
    selection: sutskever_momentum,sutskever_nesterov,pytorch_sgd,pytorch_nesterov_implemented,
    chainer_momentum_sgd,heavy_ball,qhm,mxnet_nag,aggmo,two_state
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(cache: Path, only: str | None, cores: int | None) -> tuple[float, float]:
    """(wall, cpu) seconds of one ``derive map --quiet`` run with *cache* as the verdict cache."""
    command = [sys.executable, "-m", "derive", "map", "--quiet"] + (["--only", only] if only else [])
    if cores:
        command = ["taskset", "-c", ",".join(str(c) for c in range(cores))] + command
    env = {**os.environ, "SGD_DERIVE_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated catalogue names (default: the whole catalogue)")
    parser.add_argument("--workers", type=int, help="run on this many cores (taskset)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from derive.commands.map import selection

    n = len(selection(args.only)) ** 2
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"{len(os.sched_getaffinity(0))} cores; {n} ordered pairs")
    cache = Path(tempfile.mkdtemp(prefix="bench-map-"))
    try:
        for label in ("cold", "warm"):
            wall, cpu = run_once(cache, args.only, args.workers)
            print(f"{label}: {wall:7.1f} s wall {cpu:7.1f} s cpu   {n / wall:7.1f} pairs/s wall "
                  f"{n / max(cpu, 1e-9):7.1f} pairs/s cpu")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
