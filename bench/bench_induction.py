"""Prove the symbolic closed form of every row of the unroll table; print seconds per row and the total.

This was a unit test asserting "under 120 s" (it took 114 s on a loaded machine);
a time is a figure to read, not a fact to assert.  The correctness part stays a
test: ``tests/derive/test_induction.py::test_every_row_of_the_table_proves_and_matches_the_unroll_up_to_8``.

Run: ``python bench/bench_induction.py`` (target: the whole table in under 120 s on 2 cores).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "derive"))

TARGET_SECONDS = 120


def main() -> int:
    from derive.induction import symbolic_closed_form
    from unroll_cases import build, cases

    rows = [(row.id, row.values[0], row.values[1]) for row in cases()]
    print(f"{'row':<36} {'seconds':>8}  verified up to")
    total = 0.0
    for label, name, options in rows:
        f = build(name, options)
        started = time.perf_counter()
        scf = symbolic_closed_form.__wrapped__(f)
        seconds = time.perf_counter() - started
        total += seconds
        print(f"{label:<36} {seconds:8.2f}  {scf.verified_up_to}")
    print(f"{'total':<36} {total:8.2f}  (target {TARGET_SECONDS} s; {len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
