"""``python -m verify``: sweep, identify, trajectory.

* ``sweep``: every valid ``torch.optim.SGD`` flag combination × implementations × dtypes ×
  schedules × devices, then the realistic-loop scenarios; a table, and a non-zero exit on any
  unexpected result (a failure, or a known torch defect that no longer shows).
* ``identify MODULE:CLASS``: which catalogue formulations an optimizer implements.
* ``trajectory``: derive's exact trajectory beside torch's, step by step.

Expected failures (bad arguments, an unknown name) print one ``verify: error:`` line, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from fractions import Fraction


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _csv(choices):
    def parse(text: str) -> list[str]:
        items = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(bad)}; choose from {', '.join(choices)}")
        return items
    return parse


def build_parser() -> argparse.ArgumentParser:
    from verify.runner import DTYPES, IMPLS
    from verify.schedules import SCHEDULES

    parser = _Parser(prog="verify", description="Cross-check torch optimizers against derive's formulations.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sweep = sub.add_parser("sweep", help="every SGD flag combination x impl x dtype x schedule x device")
    sweep.add_argument("--device", choices=("cpu", "cuda", "all"), default="cpu")
    sweep.add_argument("--dtype", type=_csv(list(DTYPES)), default=None,
                       help="comma list (default float64,float32; on CUDA also float16,bfloat16)")
    sweep.add_argument("--impl", type=_csv(list(IMPLS)), default=list(IMPLS))
    sweep.add_argument("--schedule", type=_csv(list(SCHEDULES)), default=None,
                       help="comma list (default constant,explicit,onecycle)")
    sweep.add_argument("--steps", type=int, default=200)
    sweep.add_argument("--no-scenarios", action="store_true", help="skip the realistic-loop scenarios")
    sweep.add_argument("--json", metavar="FILE", help="write every configuration's figures here")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--workers", type=int, default=1, metavar="N",
                       help="worker processes (default 1; 0: one per core); the table is the same")

    ident = sub.add_parser("identify", help="which catalogue formulations an optimizer implements")
    ident.add_argument("optimizer", metavar="MODULE:CLASS", help="e.g. torch.optim:SGD or path/to/file.py:Class")
    ident.add_argument("--kwargs", default="{}", help='constructor options as JSON, e.g. \'{"momentum": 0.9}\'')
    ident.add_argument("--steps", type=int, default=30)
    ident.add_argument("--json", metavar="FILE")

    traj = sub.add_parser("trajectory", help="derive's exact trajectory beside torch's")
    traj.add_argument("formulation", nargs="?", default="pytorch_sgd")
    traj.add_argument("--optimizer", metavar="MODULE:CLASS", help="default: the formulation's own optimizer")
    traj.add_argument("--objective", default="x**2/2", help="phi(x) in SymPy syntax; f = sum phi(theta_i)")
    traj.add_argument("--x0", default="1.0", help="initial value(s), comma separated")
    traj.add_argument("--lr", type=float, default=0.1)
    for name in ("momentum", "dampening", "weight_decay"):
        traj.add_argument(f"--{name.replace('_', '-')}", dest=name, type=float, default=None)
    traj.add_argument("--nesterov", action="store_true")
    traj.add_argument("--maximize", action="store_true")
    traj.add_argument("--schedule", choices=list(SCHEDULES), default="constant")
    traj.add_argument("--steps", type=int, default=10)
    traj.add_argument("--dtype", choices=list(DTYPES), default="float64")
    traj.add_argument("--json", metavar="FILE")
    return parser


def write_json(path: str, payload) -> None:
    """Atomically: a reader never sees half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".verify-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
    os.replace(tmp, path)


# -- sweep ------------------------------------------------------------------------------------
def _progress(done: int, total: int, failures: int, quiet: bool) -> None:
    if quiet:
        return
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  unexpected: {failures}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_sweep(args) -> int:
    import torch

    from verify.sweep import SCENARIOS, SWEEP_SCHEDULES, check_all, default_workers, sweep_configs

    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not torch.cuda.is_available():
        print(f"cuda: skipped, torch {torch.__version__} sees no CUDA device")
        devices.remove("cuda")
        if not devices:
            return 0
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
    if args.workers < 0:
        raise ValueError(f"--workers must be 0 (one per core) or more, got {args.workers}")
    done = [0, 0]  # finished, unexpected

    def progress(outcome) -> None:
        done[0] += 1
        done[1] += outcome.unexpected
        _progress(done[0], len(configs), done[1], args.quiet)

    outcomes = check_all(configs, workers=args.workers or default_workers(), on_result=progress)
    unexpected = done[1]
    _print_table(outcomes)
    if args.json:
        write_json(args.json, [_outcome_json(o) for o in outcomes])
    return 1 if unexpected else 0


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
    from verify.identify import identify, load

    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--kwargs is not JSON ({exc.msg}); write it like '{{\"momentum\": 0.9}}'") from None
    if not isinstance(kwargs, dict):
        raise ValueError("--kwargs must be a JSON object of constructor options")
    factory = load(args.optimizer)
    result = identify(factory, kwargs, steps=args.steps, name=args.optimizer)
    print(result.describe())
    if args.json:
        write_json(args.json, {"optimizer": args.optimizer, "kwargs": kwargs, "implements": result.matches,
                               "closest": None if result.closest is None else result.closest.describe(),
                               "verdicts": {v.formulation: v.describe() for v in result.verdicts}})
    return 0


# -- trajectory -------------------------------------------------------------------------------
OWN_OPTIMIZER = {
    "pytorch_sgd": "torch.optim:SGD",
    "pytorch_momentum_documented": "torch.optim:SGD",
    "pytorch_nesterov_implemented": "torch.optim:SGD",
    "plain_gd": "torch.optim:SGD",
    "sutskever_momentum": "verify.optimizers:SutskeverMomentum",
    "sutskever_nesterov": "verify.optimizers:SutskeverNesterov",
}


def run_trajectory(args) -> int:
    from derive.catalogue import CATALOGUE
    from verify.identify import load
    from verify.objectives import Objective
    from verify.reference import compiled, expected
    from verify.runner import GroupSpec, RunConfig, TensorSpec, run
    from verify.sweep import formulation_options
    from verify.compare import compare

    if args.formulation not in CATALOGUE:
        raise ValueError(f"unknown formulation {args.formulation!r}; `python -m derive list` shows them")
    spec = args.optimizer or OWN_OPTIMIZER.get(args.formulation)
    if spec is None:
        raise ValueError(f"no torch optimizer implements {args.formulation}; pass --optimizer MODULE:CLASS")
    objective = Objective.parse(args.objective)
    x0 = tuple(float(v) for v in args.x0.split(","))
    options = {"lr": args.lr}
    for name in ("momentum", "dampening", "weight_decay"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    for flag in ("nesterov", "maximize"):
        if getattr(args, flag):
            options[flag] = True
    config = RunConfig(optimizer=load(spec), options=options, groups=(GroupSpec((TensorSpec((len(x0),)),)),),
                       impl=None, dtype=args.dtype, schedule=args.schedule, objective=objective,
                       steps=args.steps, initial=x0)
    observed = run(config)
    system = compiled(args.formulation, formulation_options(args.formulation, observed.hyper[0], observed.flags[0]))
    exact = expected(system, observed, mode="exact")
    report = compare(observed, exact)
    rows = _trajectory_rows(observed, exact, objective)
    _print_trajectory(rows, args, spec, report)
    if args.json:
        write_json(args.json, {"formulation": args.formulation, "optimizer": spec, "objective": args.objective,
                               "options": options, "steps": rows, "verdict": report.describe()})
    return 0 if report.passed else 1


def _trajectory_rows(observed, exact, objective) -> list[dict]:
    trace = exact.groups[0]
    rows = []
    for step in range(observed.steps + 1):
        values = trace.x_exact[step, trace.theta_row]
        got = observed.theta[0][0][step].reshape(-1)
        loss_exact = sum((objective.value_exact(v) for v in values), Fraction(0))
        rows.append({
            "step": step,
            "lr": None if step == 0 else float(observed.hyper[0]["lr"][step - 1]),
            "theta_exact": [_decimal(v) for v in values],
            "theta_torch": [float(v) for v in got],
            "difference": [float(Fraction(float(g)) - v) for g, v in zip(got, values)],  # torch - exact
            "loss_exact": _decimal(loss_exact),
            "loss_torch": float(objective.value(got).sum()),
        })
    return rows


def _decimal(value: Fraction, digits: int = 20) -> str:
    import sympy as sp

    return str(sp.Rational(value.numerator, value.denominator).evalf(digits))


def _print_trajectory(rows, args, spec, report) -> None:
    print(f"{args.formulation} (exact, derive) beside {spec} ({args.dtype}); objective sum phi, phi = {args.objective}")
    print(f"{'step':>4} {'lr':>10} {'theta exact':>26} {'theta torch':>24} {'difference':>11} {'loss exact':>24} {'loss torch':>24}")
    for row in rows:
        lr = "" if row["lr"] is None else f"{row['lr']:.6g}"
        for i, (e, g, d) in enumerate(zip(row["theta_exact"], row["theta_torch"], row["difference"])):
            loss_e = row["loss_exact"] if i == 0 else ""
            loss_g = f"{row['loss_torch']:.17g}" if i == 0 else ""
            print(f"{row['step'] if i == 0 else '':>4} {lr if i == 0 else '':>10} {e:>26} {g:>24.17g} {d:>11.3g} "
                  f"{loss_e:>24} {loss_g:>24}")
    print(report.describe())


COMMANDS = {"sweep": run_sweep, "identify": run_identify, "trajectory": run_trajectory}


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, KeyError, ImportError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"verify: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
