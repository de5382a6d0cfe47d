"""Compare the runs ``drive.py`` wrote with derive's reference, through verify's tolerance model.

``python scripts/frameworks/check.py RUNS.json ...`` (the project's environment). Each run
is judged against the catalogue entry it names, with the recorded hyperparameters rounded
as the entry's ``hyper_dtype`` says (``verify.frameworks.replay``; ``--exact-hyper`` skips that), and against
the other entries in ``--also`` (MXNet's three NAG entries by default, so each release's
NAG is seen to implement exactly one). Prints one line per (run, entry); exits 0 when every
run is within tolerance of its own entry, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys

from verify.frameworks import replay

NAG = ("mxnet_nag_1_4", "mxnet_nag_1_5", "mxnet_nag")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--also", nargs="*", default=None, help="other entries to judge each run against")
    parser.add_argument("--exact-hyper", action="store_true",
                        help="do not round the recorded hyperparameters to the entry's hyper_dtype")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.runs:
        with open(path) as f:
            runs = json.load(f)
        for run in runs:
            others = args.also if args.also is not None else (NAG if run["entry"] in NAG else ())
            for entry in dict.fromkeys((run["entry"], *others)):
                report = replay(run, entry, hyper_dtype=not args.exact_hyper)
                own = entry == run["entry"]
                failed += own and not report.passed
                flags = ",".join(k for k, v in run["flags"].items() if v) or "-"
                print(f"{run['framework']:8} {run['version']:22} {run['dtype']:8} {flags:9} "
                      f"{'entry' if own else 'other':5} {entry:22} {'pass' if report.passed else 'FAIL'}  "
                      f"{report.describe().splitlines()[0][:110]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
