"""``verify trajectory``: derive's exact trajectory beside torch's, step by step.

The run is judged only when it can be (:mod:`verify.checkable`): the optimizer ran every step
and evaluated its gradients, the objective and its gradient stayed finite (a domain error or an
overflow names its step and value), and the expected trajectory can be told apart from doing
nothing. Otherwise :class:`~verify.errors.VerifyError` (exit 2); else 0 within tolerance, 1 not.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from verify.errors import VerifyError
from verify.output import check_destination, write_json

OWN_OPTIMIZER = {
    "pytorch_sgd": "torch.optim:SGD",
    "pytorch_momentum_documented": "torch.optim:SGD",
    "pytorch_nesterov_implemented": "torch.optim:SGD",
    "plain_gd": "torch.optim:SGD",
    "sutskever_momentum": "verify.optimizers:SutskeverMomentum",
    "sutskever_nesterov": "verify.optimizers:SutskeverNesterov",
}


def run_trajectory(args) -> int:
    if args.json:
        check_destination(args.json)
    from derive.catalogue import CATALOGUE
    from verify.checkable import indistinguishable_from_null, objective_breakdown, run_problem
    from verify.compare import compare
    from verify.identify import load
    from verify.objectives import Objective
    from verify.reference import compiled, expected
    from verify.runner import GroupSpec, RunConfig, TensorSpec, run
    from verify.sweep import formulation_options

    if args.formulation not in CATALOGUE:
        raise VerifyError(f"unknown formulation {args.formulation!r}; `python -m derive list` shows them")
    spec = args.optimizer or OWN_OPTIMIZER.get(args.formulation)
    if spec is None:
        raise VerifyError(f"no torch optimizer implements {args.formulation}; pass --optimizer MODULE:CLASS")
    objective = Objective.parse(args.objective)
    x0 = tuple(args.x0)
    options = {"lr": args.lr}
    for name in ("momentum", "dampening", "weight_decay"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    for flag in ("nesterov", "maximize"):
        if getattr(args, flag):
            options[flag] = True
    config = RunConfig(optimizer=load(spec), options=options, groups=(GroupSpec((TensorSpec((len(x0),)),)),),
                       impl=None, dtype=args.dtype, schedule=args.schedule, objective=objective,
                       steps=args.steps, initial=x0, timeout=args.timeout)
    observed = run(config)
    problem = run_problem(observed)
    if problem is not None:
        raise VerifyError(f"not checkable: {problem}")
    breakdown = objective_breakdown(observed)
    if breakdown is not None:
        raise VerifyError(breakdown)
    system = compiled(args.formulation, formulation_options(args.formulation, observed.hyper[0], observed.flags[0]))
    try:
        exact = expected(system, observed, mode="exact")
    except ArithmeticError as exc:  # ValueError (a non-finite reference) reaches main as it is
        raise VerifyError(f"the exact reference cannot follow this run: {type(exc).__name__}: {exc}") from None
    report = compare(observed, exact)
    if report.passed:
        why = indistinguishable_from_null(observed, exact)
        if why is not None:
            raise VerifyError(f"not checkable: {why}")
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


