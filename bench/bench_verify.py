"""Benchmark: the full CPU sweep of torch.optim.SGD against derive's formulation.

Every valid flag combination x {for-loop, foreach, fused} x {float32, float64} x 200 steps x
three schedules (constant, explicit varying lr, OneCycleLR with momentum cycling). Prints the
wall time, the time spent in torch (driving the optimizer and recording), in the reference
(derive's expected trajectory) and in the tolerance model plus comparison, and any failure.

Target: the whole sweep in <= 60 s on 2 cores, and the reference no more costly than torch.

    python bench/bench_verify.py [--steps 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from verify.reference import compiled  # noqa: E402
from verify.sweep import check, flag_combinations, sweep_configs  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    configs = sweep_configs(steps=args.steps)
    started = time.perf_counter()
    torch_s = reference_s = verify_s = 0.0
    failures, known = [], 0
    for config in configs:
        outcome = check(config)
        report = outcome.report
        torch_s += report.torch_seconds
        reference_s += report.reference_seconds
        verify_s += report.verify_seconds
        known += outcome.known_defect is not None
        if outcome.unexpected:
            failures.append(report.describe())
    wall = time.perf_counter() - started
    compiled_systems = compiled.cache_info().currsize

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"configurations     {len(configs)} ({len(flag_combinations())} flag combinations x 3 impls "
          f"x 2 dtypes x 3 schedules), {args.steps} steps each")
    print(f"wall time          {wall:7.2f} s   (target <= 60 s)")
    print(f"  in torch         {torch_s:7.2f} s   (optimizer steps, schedulers, recording)")
    print(f"  in the reference {reference_s:7.2f} s   (derive's A_t, B_t, C_t stepped in float64; "
          f"{compiled_systems} systems compiled)")
    print(f"  tolerance+compare{verify_s - reference_s:7.2f} s")
    print(f"reference / torch  {reference_s / torch_s:7.2f}   (target <= 1)")
    print(f"failures           {len(failures)} unexpected, {known} known torch defects")
    for line in failures[:20]:
        print("  " + line)
    ok = wall <= 60 and reference_s <= torch_s and not failures
    print("OK" if ok else "MISSED A TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
