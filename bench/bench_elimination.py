"""Time the map's exact elimination: ``derive.elimination.eliminate`` (polynomials) against the expression one.

Run: ``python bench/bench_elimination.py [--only NAME,...]``.

Every ordered pair of the selection is classified once (``derive.equivalence_map.classify``,
no cache) while each call to the elimination is recorded; then the recorded calls are
solved again, in process, by :func:`derive.elimination.eliminate` (``QQ[unknowns,
hyperparameters]``, one gcd per substitution) and by
:func:`derive.elimination.eliminate_expressions` (``together``/``cancel`` over SymPy
expressions, the solver before), each timed in CPU seconds.  Both must give the same
solutions (after ``cancel``); printed: calls, equations, CPU seconds of each and their
ratio, and how many residuals differ (the expression form may keep a factor of a
denominator of S, which the polynomial form cancels).  The load average is printed: on a
shared machine CPU time is the figure to read.

Last measured (2 cores shared with four other engineers' jobs and a whole-catalogue map, load average 6-7.5):

    selection (6 entries, 36 pairs)   calls  equations   polynomial   expressions   ratio
    default                             56       1040       2.3 s         5.8 s      2.5x
    (same solutions in 56 of 56 calls; 11 residuals differ by a factor of a denominator of S)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT = "sutskever_momentum,sutskever_nesterov,pytorch_sgd,pytorch_nesterov_implemented,heavy_ball,qhm"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=DEFAULT, help=f"comma-separated catalogue names (default: {DEFAULT})")
    args = parser.parse_args()
    import importlib

    import sympy as sp

    from derive import elimination, equivalence_map

    equivalence = importlib.import_module("derive.equivalence")  # the module (derive.equivalence is the function)

    names = args.only.split(",")
    calls = []

    def recorded(eqs, unknowns):
        eqs = list(eqs)
        calls.append((eqs, set(unknowns)))
        return elimination.eliminate(eqs, unknowns)

    equivalence.eliminate = equivalence_map.eliminate = recorded  # the two modules that call it
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for a in names:
        for b in names:
            equivalence_map.classify_guarded(a, b)
    seconds, results = {}, {}
    for solver in (elimination.eliminate, elimination.eliminate_expressions):
        started = time.process_time()
        results[solver.__name__] = [solver(eqs, unknowns) for eqs, unknowns in calls]
        seconds[solver.__name__] = time.process_time() - started
    new, old = results["eliminate"], results["eliminate_expressions"]
    same = sum({u: sp.cancel(v) for u, v in n[0].items()} == o[0] for n, o in zip(new, old))
    residuals = sum([r for _, r in n[1]] != [r for _, r in o[1]] for n, o in zip(new, old))
    print(f"{len(names) ** 2} pairs, {len(calls)} calls, {sum(len(e) for e, _ in calls)} equations")
    print(f"polynomial {seconds['eliminate']:.2f} s cpu, expressions {seconds['eliminate_expressions']:.2f} s cpu, "
          f"ratio {seconds['eliminate_expressions'] / max(seconds['eliminate'], 1e-9):.1f}x")
    print(f"same solutions: {same}/{len(calls)}; residuals that differ (a cancelled factor): {residuals}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0 if same == len(calls) else 1


if __name__ == "__main__":
    sys.exit(main())
