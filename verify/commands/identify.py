"""Which catalogue formulations an optimizer implements (:mod:`verify.identify`): three probe runs
(a constant lr, a varying lr, a varying lr and momentum), every entry judged against each; with
--lr-seq/--momentum-seq (read with --schedule-offset, as `verify trajectory` reads them) a fourth
probe under the given sequences, in addition to the three.

An optimizer beyond torch's names is bound with --roles (its param-group keys to the roles, e.g.
beta=momentum), --hyper (extra constructor options, e.g. nu=0.7) and --hyper-dtype (float32 when
it holds its hyperparameters in float32)."""

from __future__ import annotations

from verify.commands.arguments import QUIET_HELP, TIMEOUT_HELP, DEFAULT_TIMEOUT, Progress, add_binding_arguments, \
    positive_int, positive_seconds
from verify.errors import VerifyError
from verify.output import check_destination, write_json

NAME = "identify"
HELP = "which catalogue formulations an optimizer implements"
EPILOG = ("exit status: 0 the optimizer implements at least one catalogue entry; 1 it was checked and "
          "implements none; 2 not checkable (bad input, import failed, the optimizer or its constructor "
          "raised, called sys.exit or hung past --timeout, never evaluated a gradient, or nothing moved)")


def add_arguments(parser) -> None:
    parser.add_argument("optimizer", metavar="MODULE:CLASS", help="e.g. torch.optim:SGD or path/to/file.py:Class")
    parser.add_argument("--kwargs", default="{}", help='constructor options as JSON, e.g. \'{"momentum": 0.9}\'')
    parser.add_argument("--steps", type=positive_int, default=30)
    parser.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, help=TIMEOUT_HELP)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    add_binding_arguments(parser)


def run(args) -> int:
    from verify.options import parse_kwargs

    if args.json:
        check_destination(args.json)
    kwargs = parse_kwargs(args.kwargs)
    twice = sorted(set(kwargs) & set(args.hyper))
    if twice:
        raise VerifyError(f"--hyper and --kwargs both give {', '.join(twice)}; give each option once")
    from verify.identify import identify, load

    factory = load(args.optimizer)
    bar = Progress("identify", args.quiet)
    try:
        result = identify(factory, kwargs, steps=args.steps, name=args.optimizer, timeout=args.timeout,
                          progress=bar, roles=args.roles, hyper=args.hyper,
                          hyper_dtype=args.hyper_dtype, lr_seq=args.lr_seq, momentum_seq=args.momentum_seq,
                          schedule_offset=args.schedule_offset)
    finally:
        bar.close()
    if result.status == 2:
        raise VerifyError(f"not checkable: {result.not_checkable}")
    print(result.describe())
    if args.json:
        write_json(args.json, {"optimizer": args.optimizer, "kwargs": kwargs, "hyper": args.hyper, "roles": args.roles,
                               "hyper_dtype": args.hyper_dtype, "lr_seq": args.lr_seq,
                               "momentum_seq": args.momentum_seq, "schedule_offset": args.schedule_offset,
                               "implements": result.matches,
                               "status": result.status, "notes": result.notes,
                               "closest": None if result.closest is None else result.closest.describe(),
                               "verdicts": {v.formulation: v.describe() for v in result.verdicts}})
    return result.status
