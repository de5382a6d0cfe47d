"""Every valid ``torch.optim.SGD`` flag combination x implementations x dtypes x schedules x
devices, then the realistic-loop scenarios (:mod:`verify.sweep`): a table, and a non-zero exit on
any unexpected result (a failure, or a known torch defect that no longer shows)."""

from __future__ import annotations

from collections import defaultdict

from verify.commands.arguments import DTYPE_NAMES, IMPL_NAMES, QUIET_HELP, SCHEDULE_NAMES, Progress, csv, \
    non_negative_int, positive_int
from verify.errors import VerifyError
from verify.output import check_destination, write_json

NAME = "sweep"
HELP = "every SGD flag combination x impl x dtype x schedule x device"
EPILOG = ("exit status: 0 every configuration gave the expected result (a known torch defect that shows "
          "counts as expected); 1 some result was unexpected; 2 nothing could be checked (bad input, no "
          "such device, nothing ran)")


def add_arguments(parser) -> None:
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="cpu")
    parser.add_argument("--dtype", type=csv(DTYPE_NAMES), default=None,
                        help="comma list (default float64,float32; on CUDA also float16,bfloat16)")
    parser.add_argument("--impl", type=csv(IMPL_NAMES), default=list(IMPL_NAMES))
    parser.add_argument("--schedule", type=csv(SCHEDULE_NAMES), default=None,
                        help="comma list (default constant,explicit,onecycle)")
    parser.add_argument("--steps", type=positive_int, default=200)
    parser.add_argument("--no-scenarios", action="store_true", help="skip the realistic-loop scenarios")
    parser.add_argument("--json", metavar="FILE", help="write every configuration's figures here (on Ctrl-C, "
                        "those finished so far, marked partial)")
    parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    parser.add_argument("--workers", type=non_negative_int, default=1, metavar="N",
                        help="worker processes (default 1; 0: one per core); the table is the same")


def run(args) -> int:
    if args.json:
        check_destination(args.json)
    import torch

    from verify.sweep import SCENARIOS, SWEEP_SCHEDULES, check_all, default_workers, sweep_configs

    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not torch.cuda.is_available():
        print(f"cuda: skipped, torch {torch.__version__} sees no CUDA device")
        devices.remove("cuda")
        if not devices:
            raise VerifyError(f"nothing ran: torch {torch.__version__} sees no CUDA device")
    configs = []
    for device in devices:
        dtypes = args.dtype or (["float64", "float32"] + (["float16", "bfloat16"] if device == "cuda" else []))
        for dtype in dtypes:
            # the first-order tolerance model needs n*u*T << 1: half precision runs 10 steps
            steps = args.steps if dtype in ("float64", "float32") else min(args.steps, 10)
            configs += sweep_configs(impls=tuple(args.impl), dtypes=(dtype,), devices=(device,),
                                     schedules=tuple(args.schedule or SWEEP_SCHEDULES), steps=steps)
    if not args.no_scenarios:
        configs += [c.with_(device=d) for d in devices for c in SCENARIOS.values()]
    finished, unexpected = [], 0
    bar = Progress("sweep", args.quiet)

    def progress(outcome) -> None:
        nonlocal unexpected
        finished.append(outcome)
        unexpected += outcome.unexpected
        bar(len(finished), len(configs), f"unexpected: {unexpected}" if unexpected else "")

    try:
        outcomes = check_all(configs, workers=args.workers or default_workers(), on_result=progress)
    except KeyboardInterrupt:  # keep what finished: the caller sees "verify: interrupted", exit 130
        if args.json:
            write_json(args.json, _sweep_json(finished, partial=True))
        raise
    finally:
        bar.close()
    _print_table(outcomes)
    if args.json:
        write_json(args.json, _sweep_json(outcomes, partial=False))
    return 1 if unexpected else 0


def _sweep_json(outcomes, *, partial: bool) -> dict:
    return {"partial": partial, "configurations": [_outcome_json(o) for o in outcomes]}


def _print_table(outcomes) -> None:
    rows = defaultdict(list)
    for o in outcomes:
        c = o.config
        key = (c.device, c.dtype, c.impl or "-", c.name and "scenario" or c.schedule)
        rows[key].append(o)
    header = f"{'device':6} {'dtype':8} {'impl':8} {'schedule':10} {'configs':>7} {'pass':>5} {'fail':>5} " \
             f"{'known':>5} {'max ULP':>9} {'allowed':>9} {'torch s':>8} {'verify s':>8}"
    print(header)
    print("-" * len(header))
    totals = defaultdict(float)
    for key, group in sorted(rows.items()):
        reports = [o.report for o in group]
        passed = sum(r.passed for r in reports)
        known = sum(o.known_defect is not None for o in group)
        clean = [r for r, o in zip(reports, group) if o.known_defect is None and r.passed]
        max_ulp = max((r.max_ulps for r in clean), default=0.0)
        allowed = max((r.max_allowed_ulps for r in clean), default=0.0)
        torch_s, verify_s = sum(r.torch_seconds for r in reports), sum(r.verify_seconds for r in reports)
        totals["configs"] += len(group)
        totals["torch"] += torch_s
        totals["verify"] += verify_s
        totals["reference"] += sum(r.reference_seconds for r in reports)
        print(f"{key[0]:6} {key[1]:8} {key[2]:8} {key[3]:10} {len(group):7d} {passed:5d} "
              f"{len(group) - passed:5d} {known:5d} {max_ulp:9.3g} {allowed:9.3g} {torch_s:8.2f} {verify_s:8.2f}")
    print(f"{int(totals['configs'])} configurations; time in torch {totals['torch']:.2f} s, "
          f"in the reference {totals['reference']:.2f} s (with tolerance and comparison {totals['verify']:.2f} s)")
    for o in outcomes:
        if o.known_defect:
            if not o.report.passed:
                state = "still present"
            elif o.strict:
                state = "NO LONGER SHOWS (torch fixed it? retire the entry in verify/defects.py)"
            else:
                state = "did not show this time (it depends on uninitialised memory here)"
            print(f"known torch defect {o.known_defect} (torch {torch_version()}): {state}: {o.report.describe()}")
    for o in outcomes:
        if o.unexpected and not o.known_defect:
            print(f"UNEXPECTED {o.report.describe()}")


def torch_version() -> str:
    import torch

    return torch.__version__


def _outcome_json(o) -> dict:
    r = o.report
    first = None if r.first is None else {k: v for k, v in r.first.__dict__.items()}
    return {"label": r.label, "device": o.config.device, "dtype": o.config.dtype, "impl": o.config.impl,
            "schedule": o.config.schedule, "lr_tensor": o.config.lr_tensor, "steps": o.config.steps,
            "options": dict(o.config.options), "passed": r.passed, "unexpected": o.unexpected,
            "known_defect": o.known_defect, "max_abs": r.max_abs, "max_rel": r.max_rel, "max_ulps": r.max_ulps,
            "max_allowed_ulps": r.max_allowed_ulps, "first_mismatch": first, "error": r.error,
            "torch_seconds": r.torch_seconds, "reference_seconds": r.reference_seconds,
            "verify_seconds": r.verify_seconds}
