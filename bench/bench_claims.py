"""Judge every claim and print per-claim seconds and the total (target: <= 20 s on 2 cores).

Run: ``python bench/bench_claims.py``.  Claims over 2 s explain why in their docstrings.
"""

from __future__ import annotations

import sys
import time


def main() -> int:
    started = time.perf_counter()
    from derive.claims import REGISTRY, agrees, judge

    imported = time.perf_counter() - started
    total, slow = 0.0, []
    print(f"{'claim':<16} {'seconds':>8}  verdict")
    for c in REGISTRY.values():
        v = judge(c)
        total += v.seconds
        flag = "" if agrees(c, v) else "  DIFFERS from recorded " + c.expected
        print(f"{c.id:<16} {v.seconds:8.2f}  {v.verdict}{flag}")
        if v.seconds > 2:
            slow.append(c.id)
    print(f"{'import derive':<16} {imported:8.2f}")
    print(f"{'total':<16} {total + imported:8.2f}  (target 20 s; {len(REGISTRY)} claims)")
    if slow:
        print("over 2 s: " + ", ".join(slow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
