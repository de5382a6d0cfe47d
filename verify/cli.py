"""``python -m verify``: sweep, identify, trajectory.

* ``sweep``: every valid ``torch.optim.SGD`` flag combination × implementations × dtypes ×
  schedules × devices, then the realistic-loop scenarios; a table, and a non-zero exit on any
  unexpected result (a failure, or a known torch defect that no longer shows).
* ``identify MODULE:CLASS``: which catalogue formulations an optimizer implements.
* ``trajectory``: derive's exact trajectory beside torch's (:mod:`verify.trajectory`).

Exit status (each subcommand's ``--help`` says it in its own words): 0 the claim holds, 1 it
was checked and does not hold, 2 it could not be checked (bad input, the optimizer or its
constructor raised, exited or hung, an import failed, nothing ran or nothing moved), 130
interrupted. Every exit-2 case prints exactly one ``verify: error:`` line, never a traceback,
and writes no file. The parser is built without importing torch, so ``--help`` works without it.
Every command takes ``--plugin MODULE`` (repeatable), loaded with the installed plugins before
it runs (:mod:`derive.plugins`): a plugin's formulations are candidates for ``identify`` and
names for ``trajectory``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict

from verify.errors import VerifyError
from verify.output import check_destination, write_json

# the names the runner and schedules define (tests/verify/test_verify_cli.py keeps them equal),
# spelled out here so that building the parser needs no torch
DTYPE_NAMES = ("float64", "float32", "float16", "bfloat16")
IMPL_NAMES = ("for-loop", "foreach", "fused")
SCHEDULE_NAMES = ("constant", "explicit", "explicit_momentum", "step", "multistep", "exponential", "cosine",
                  "lambda", "plateau", "cyclic", "onecycle")
DEFAULT_TIMEOUT = 60.0

EXIT_STATUS = {
    "sweep": "0 every configuration gave the expected result (a known torch defect that shows counts as "
             "expected); 1 some result was unexpected; 2 nothing could be checked (bad input, no such "
             "device, nothing ran)",
    "identify": "0 the optimizer implements at least one catalogue entry; 1 it was checked and implements "
                "none; 2 not checkable (bad input, import failed, the optimizer or its constructor raised, "
                "called sys.exit or hung past --timeout, never evaluated a gradient, or nothing moved)",
    "trajectory": "0 torch's trajectory is within tolerance of derive's; 1 it is not; 2 not checkable (bad "
                  "input, the optimizer or its constructor raised or hung, the objective or its gradient "
                  "became non-finite, never evaluated a gradient, or nothing moved)",
}
TIMEOUT_HELP = (f"seconds one optimizer run may take (default {DEFAULT_TIMEOUT:g}); a hang inside a single "
                "C call (a torch kernel) may not be interruptible")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog.split()[0]}: error: {message}\n")


def _csv(choices):
    def parse(text: str) -> list[str]:
        items = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(bad)}; choose from {', '.join(choices)}")
        if not items:
            raise argparse.ArgumentTypeError(f"empty list {text!r}; choose from {', '.join(choices)}")
        return items
    return parse


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole(text, 1)


def _non_negative_int(text: str) -> int:
    return _whole(text, 0)


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _points(text: str) -> tuple[float, ...]:
    return tuple(_finite(v) for v in text.split(","))


def _subparser(sub, name: str, help_text: str):
    parser = sub.add_parser(name, help=help_text, description=help_text, epilog=f"exit status: {EXIT_STATUS[name]}")
    # derive.plugins.add_argument's option, spelled out: importing derive (SymPy) would cost --help 2 s
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="load a plugin first: a dotted module name importable from sys.path or the "
                             "current directory, or a path to a .py file, that registers formulations "
                             "and claims (repeatable; installed sgd_derive.plugins entry points load anyway)")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The whole CLI; imports nothing heavy, so ``--help`` works without torch."""
    parser = _Parser(prog="verify", description="Cross-check torch optimizers against derive's formulations.",
                     epilog="exit status: 0 the claim holds; 1 checked, and it does not hold; 2 could not be "
                            "checked; 130 interrupted. See each command's --help.")
    from verify import __version__

    parser.add_argument("--version", action="version", version=f"verify (sgd-derive) {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sweep = _subparser(sub, "sweep", "every SGD flag combination x impl x dtype x schedule x device")
    sweep.add_argument("--device", choices=("cpu", "cuda", "all"), default="cpu")
    sweep.add_argument("--dtype", type=_csv(DTYPE_NAMES), default=None,
                       help="comma list (default float64,float32; on CUDA also float16,bfloat16)")
    sweep.add_argument("--impl", type=_csv(IMPL_NAMES), default=list(IMPL_NAMES))
    sweep.add_argument("--schedule", type=_csv(SCHEDULE_NAMES), default=None,
                       help="comma list (default constant,explicit,onecycle)")
    sweep.add_argument("--steps", type=_positive_int, default=200)
    sweep.add_argument("--no-scenarios", action="store_true", help="skip the realistic-loop scenarios")
    sweep.add_argument("--json", metavar="FILE", help="write every configuration's figures here (on Ctrl-C, "
                       "those finished so far, marked partial)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar (there is none unless stderr is a terminal)")
    sweep.add_argument("--workers", type=_non_negative_int, default=1, metavar="N",
                       help="worker processes (default 1; 0: one per core); the table is the same")

    ident = _subparser(sub, "identify", "which catalogue formulations an optimizer implements")
    ident.add_argument("optimizer", metavar="MODULE:CLASS", help="e.g. torch.optim:SGD or path/to/file.py:Class")
    ident.add_argument("--kwargs", default="{}", help='constructor options as JSON, e.g. \'{"momentum": 0.9}\'')
    ident.add_argument("--steps", type=_positive_int, default=30)
    ident.add_argument("--timeout", type=_positive_seconds, default=DEFAULT_TIMEOUT, help=TIMEOUT_HELP)
    ident.add_argument("--json", metavar="FILE")
    ident.add_argument("--quiet", action="store_true", help="no progress bar (there is none unless stderr is a terminal)")

    traj = _subparser(sub, "trajectory", "derive's exact trajectory beside torch's")
    traj.add_argument("formulation", nargs="?", default="pytorch_sgd")
    traj.add_argument("--optimizer", metavar="MODULE:CLASS", help="default: the formulation's own optimizer")
    traj.add_argument("--objective", default="x**2/2", help="phi(x); f = sum phi(theta_i)")
    traj.add_argument("--x0", type=_points, default=(1.0,),
                      help="initial value(s), comma separated (write --x0=-1,2 when the first is negative)")
    traj.add_argument("--lr", type=_finite, default=0.1)
    for name in ("momentum", "dampening", "weight_decay"):
        traj.add_argument(f"--{name.replace('_', '-')}", dest=name, type=_finite, default=None)
    traj.add_argument("--nesterov", action="store_true")
    traj.add_argument("--maximize", action="store_true")
    traj.add_argument("--schedule", choices=SCHEDULE_NAMES, default="constant")
    traj.add_argument("--steps", type=_positive_int, default=10)
    traj.add_argument("--dtype", choices=DTYPE_NAMES, default="float64")
    traj.add_argument("--timeout", type=_positive_seconds, default=DEFAULT_TIMEOUT, help=TIMEOUT_HELP)
    traj.add_argument("--json", metavar="FILE")
    return parser


# -- sweep ------------------------------------------------------------------------------------
class _Progress:
    """A bar on stderr while it is a terminal (derive.progress); silent otherwise or under --quiet."""

    def __init__(self, description: str, quiet: bool):
        self.description, self.quiet, self.bar, self.done = description, quiet, None, 0

    def __call__(self, done: int, total: int, note: str = "") -> None:
        from derive.progress import bar

        if self.bar is None:
            self.bar = bar(total, self.description, quiet=self.quiet, unit="run")
        self.bar.update(done - self.done)
        self.done = done
        if note:
            self.bar.set_description(f"{self.description} ({note})")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_sweep(args) -> int:
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
    bar = _Progress("sweep", args.quiet)

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


# -- identify ---------------------------------------------------------------------------------
def run_identify(args) -> int:
    from verify.options import parse_kwargs

    if args.json:
        check_destination(args.json)
    kwargs = parse_kwargs(args.kwargs)
    from verify.identify import identify, load

    factory = load(args.optimizer)
    bar = _Progress("identify", args.quiet)
    try:
        result = identify(factory, kwargs, steps=args.steps, name=args.optimizer, timeout=args.timeout,
                          progress=bar)
    finally:
        bar.close()
    if result.status == 2:
        raise VerifyError(f"not checkable: {result.not_checkable}")
    print(result.describe())
    if args.json:
        write_json(args.json, {"optimizer": args.optimizer, "kwargs": kwargs, "implements": result.matches,
                               "status": result.status, "notes": result.notes,
                               "closest": None if result.closest is None else result.closest.describe(),
                               "verdicts": {v.formulation: v.describe() for v in result.verdicts}})
    return result.status


def run_trajectory(args) -> int:
    from verify.trajectory import run_trajectory as trajectory

    return trajectory(args)


COMMANDS = {"sweep": run_sweep, "identify": run_identify, "trajectory": run_trajectory}


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from derive.errors import DeriveError
    from derive.plugins import load_plugins

    try:
        load_plugins(args.plugin)
    except DeriveError as exc:  # one line naming the plugin: not found, raised on import, a name taken
        print(f"verify: error: {exc}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("verify: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        missing = exc.name or str(exc)
        print(f"verify: error: {missing} is not installed; `verify {args.command}` needs it", file=sys.stderr)
        return 2
    except (ValueError, KeyError, ImportError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"verify: error: {' '.join(str(message).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
