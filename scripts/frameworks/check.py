"""Compare the runs ``drive.py`` wrote with derive's reference, through verify's tolerance model.

``python scripts/frameworks/check.py RUNS.json ...`` (the project's environment). Each run
is judged against the catalogue entry it names, with the recorded hyperparameters rounded
as the entry's ``hyper_dtype`` says (``verify.frameworks.with_hyper_dtype``), and against
the other entries in ``--also`` (MXNet's three NAG entries by default, so each release's
NAG is seen to implement exactly one). Prints one line per (run, entry); exits 0 when every
run is within tolerance of its own entry, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from verify.compare import compare
from verify.frameworks import with_hyper_dtype
from verify.reference import compiled, expected
from verify.runner import GroupSpec, Observed, RunConfig, TensorSpec
from verify.sweep import formulation_options

NAG = ("mxnet_nag_1_4", "mxnet_nag_1_5", "mxnet_nag")


def observed_of(run: dict) -> Observed:
    theta = np.asarray(run["theta"], dtype=np.float64)
    grads = np.asarray(run["grads"], dtype=np.float64)
    steps, n = grads.shape
    config = RunConfig(optimizer=None, options={}, groups=(GroupSpec((TensorSpec((n,)),)),), impl=None,
                       dtype=run["dtype"], steps=steps, name=f"{run['framework']} {run['version']}")
    hyper = {k: np.asarray(v, dtype=np.float64) for k, v in run["hyper"].items()}
    hyper.setdefault("dampening", np.zeros(steps))
    return Observed(config, [[theta]], [[grads]], [[np.ones(steps, bool)]], [hyper],
                    [{"nesterov": False, "maximize": False, **run["flags"]}], np.zeros(steps, bool),
                    np.full(steps, np.nan))


def judge(run: dict, entry: str):
    observed = with_hyper_dtype(observed_of(run), entry)
    system = compiled(entry, formulation_options(entry, observed.hyper[0], observed.flags[0]))
    return compare(observed, expected([system], observed))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--also", nargs="*", default=None, help="other entries to judge each run against")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.runs:
        with open(path) as f:
            runs = json.load(f)
        for run in runs:
            others = args.also if args.also is not None else (NAG if run["entry"] in NAG else ())
            for entry in dict.fromkeys((run["entry"], *others)):
                report = judge(run, entry)
                own = entry == run["entry"]
                failed += own and not report.passed
                flags = ",".join(k for k, v in run["flags"].items() if v) or "-"
                print(f"{run['framework']:8} {run['version']:22} {run['dtype']:8} {flags:9} "
                      f"{'entry' if own else 'other':5} {entry:22} {'pass' if report.passed else 'FAIL'}  "
                      f"{report.describe().splitlines()[0][:110]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
