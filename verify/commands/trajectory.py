"""derive's exact trajectory beside torch's, step by step, on an objective f = sum phi(theta_i).

The run is judged only when it can be (:mod:`verify.checkable`): the optimizer ran every step
and evaluated its gradients, the objective and its gradient stayed finite (a domain error or an
overflow names its step and value), and the expected trajectory can be told apart from doing
nothing.

The lr and momentum come from --lr/--momentum and a named --schedule, or from explicit per-step
sequences (--lr-seq, --momentum-seq: a comma list or a file with one number per line), read with
--schedule-offset (0: torch, step t uses entry t; 1: Keras, optax, MLX, Paddle, step t uses
schedule(t-1), so step 1 uses the constructor's value). An optimizer beyond torch's names is bound
with --roles, --hyper and --hyper-dtype (see `verify identify --help`)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from verify.commands.arguments import DEFAULT_TIMEOUT, DTYPE_NAMES, SCHEDULE_NAMES, TIMEOUT_HELP, \
    add_binding_arguments, finite, points, positive_int, positive_seconds
from verify.errors import VerifyError
from verify.output import check_destination, write_json

NAME = "trajectory"
HELP = "derive's exact trajectory beside torch's"
EPILOG = ("exit status: 0 torch's trajectory is within tolerance of derive's; 1 it is not; 2 not checkable "
          "(bad input, the optimizer or its constructor raised or hung, the objective or its gradient "
          "became non-finite, never evaluated a gradient, or nothing moved)")
OWN_OPTIMIZER = {
    "pytorch_sgd": "torch.optim:SGD",
    "pytorch_momentum_documented": "torch.optim:SGD",
    "pytorch_nesterov_implemented": "torch.optim:SGD",
    "plain_gd": "torch.optim:SGD",
    "sutskever_momentum": "verify.optimizers:SutskeverMomentum",
    "sutskever_nesterov": "verify.optimizers:SutskeverNesterov",
}
ROLES = ("lr", "momentum", "dampening", "weight_decay")


def add_arguments(parser) -> None:
    parser.add_argument("formulation", nargs="?", default="pytorch_sgd")
    parser.add_argument("--optimizer", metavar="MODULE:CLASS", help="default: the formulation's own optimizer")
    parser.add_argument("--objective", default="x**2/2", help="phi(x); f = sum phi(theta_i)")
    parser.add_argument("--x0", type=points, default=(1.0,),
                        help="initial value(s), comma separated (write --x0=-1,2 when the first is negative)")
    parser.add_argument("--lr", type=finite, default=0.1)
    for name in ("momentum", "dampening", "weight_decay"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=finite, default=None)
    parser.add_argument("--nesterov", action="store_true")
    parser.add_argument("--maximize", action="store_true")
    parser.add_argument("--schedule", choices=SCHEDULE_NAMES, default="constant")
    parser.add_argument("--steps", type=positive_int, default=10)
    parser.add_argument("--dtype", choices=DTYPE_NAMES, default="float64")
    parser.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, help=TIMEOUT_HELP)
    parser.add_argument("--json", metavar="FILE")
    add_binding_arguments(parser)


def _options(args, bound) -> dict:
    """Constructor options: torch's names under the keys --roles maps them to, then --hyper."""
    values = {"lr": args.lr, **{r: getattr(args, r) for r in ROLES[1:] if getattr(args, r) is not None}}
    options = {bound.key_of(role): value for role, value in values.items()}
    twice = sorted(set(options) & set(args.hyper))
    if twice:
        raise VerifyError(f"--hyper gives {', '.join(twice)}, which --lr/--momentum/... already give")
    options.update(args.hyper)
    for flag in ("nesterov", "maximize"):
        if getattr(args, flag):
            options[flag] = True
    return options


def run(args) -> int:
    if args.json:
        check_destination(args.json)
    from derive.catalogue import CATALOGUE
    from derive.errors import DeriveError
    from verify import schedules
    from verify.binding import binding
    from verify.checkable import objective_breakdown, run_problem
    from verify.identify import load
    from verify.judge import judge_with_reference
    from verify.objectives import Objective
    from verify.reference import UnsupportedRun
    from verify.runner import GroupSpec, RunConfig, TensorSpec, run as run_config

    if args.formulation not in CATALOGUE:
        raise VerifyError(f"unknown formulation {args.formulation!r}; `python -m derive list` shows them")
    spec = args.optimizer or OWN_OPTIMIZER.get(args.formulation)
    if spec is None:
        raise VerifyError(f"no torch optimizer implements {args.formulation}; pass --optimizer MODULE:CLASS")
    bound = binding(args.roles, args.hyper, args.hyper_dtype)
    schedule = args.schedule
    if args.lr_seq is not None or args.momentum_seq is not None:
        schedule = schedules.sequences(lr=args.lr_seq, momentum=args.momentum_seq, steps=args.steps,
                                       offset=args.schedule_offset)
    objective = Objective.parse(args.objective)
    x0 = tuple(args.x0)
    options = _options(args, bound)
    bound = bound.with_constants(options)
    config = RunConfig(optimizer=load(spec), options=options, groups=(GroupSpec((TensorSpec((len(x0),)),)),),
                       impl=None, dtype=args.dtype, schedule=schedule, objective=objective,
                       steps=args.steps, initial=x0, timeout=args.timeout,
                       keys={r: bound.key_of(r) for r in ("lr", "momentum")})
    observed = bound.observed(run_config(config))  # bound first: the lr rule reads the role
    problem = run_problem(observed, args.formulation)
    if problem is not None:
        raise VerifyError(f"not checkable: {problem}")
    breakdown = objective_breakdown(observed)
    if breakdown is not None:
        raise VerifyError(breakdown)
    try:
        report, unchecked, exact = judge_with_reference(args.formulation, observed, exact=True)
    except (UnsupportedRun, DeriveError) as exc:
        raise VerifyError(f"not checkable: {args.formulation} cannot follow this run: {exc}") from None
    except ArithmeticError as exc:  # NonFiniteReference (a ValueError) reaches main as it is
        raise VerifyError(f"the exact reference cannot follow this run: {type(exc).__name__}: {exc}") from None
    if unchecked is not None:
        raise VerifyError(f"not checkable: {unchecked}")
    rows = _trajectory_rows(observed, exact, objective)
    _print_trajectory(rows, args, spec, report)
    if args.json:
        write_json(args.json, {"formulation": args.formulation, "optimizer": spec, "objective": args.objective,
                               "options": options, "roles": args.roles, "hyper_dtype": args.hyper_dtype,
                               "schedule_offset": args.schedule_offset, "steps": rows,
                               "verdict": report.describe()})
    return 0 if report.passed else 1


def _trajectory_rows(observed, exact, objective) -> list[dict]:
    trace = exact.groups[0]
    rows = []
    for step in range(observed.steps + 1):
        values = trace.x_exact[step, trace.theta_row]
        got = observed.theta[0][0][step].reshape(-1).astype(np.float64)  # a float32 record, widened exactly
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


