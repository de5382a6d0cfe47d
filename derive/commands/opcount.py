"""Operation counts per element and step (every convention) and torch.optim.SGD's memory traffic.

Conventions: see derive.opcount (as-written: every operation as written, the
look-ahead point included; hoisted: scalar products once per tensor; fma:
a*b+c fused; no-lookahead: the gradient point not counted).
"""

from __future__ import annotations

NAME = "opcount"
HELP = "arithmetic operations per element and step, and SGD's memory traffic"


def add_arguments(parser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="catalogue names (default: all)")
    parser.add_argument("--dtype", default="float32", help="dtype for the bytes column (float64, float32, ...)")


def run(args) -> int:
    from derive.errors import DeriveError
    from derive.opcount import BYTES, CONVENTIONS, table, traffic_table

    if args.dtype not in BYTES:
        raise DeriveError(f"unknown dtype {args.dtype!r}; choose one of {', '.join(BYTES)}")
    rows = table(args.names or None)
    width = max(len(r.formulation) for r in rows)
    print(f"{'formulation':<{width}}  " + "  ".join(f"{c:>12}" for c in CONVENTIONS))
    by_name: dict = {}
    for r in rows:
        by_name.setdefault(r.formulation, {})[r.convention] = r
    for name, convs in by_name.items():
        cells = [f"{c.total:>3} ({c.mul}m {c.add}a {c.neg}n {c.fma}f)" for c in convs.values()]
        print(f"{name:<{width}}  " + "  ".join(f"{cell:>12}" for cell in cells))
    print("\nm: multiplications, a: additions/subtractions, n: negations, f: fused multiply-adds")
    for conv in CONVENTIONS.values():
        print(f"  {conv.name}: {conv.describe()}")
    if args.names:
        return 0
    print(f"\ntorch.optim.SGD memory traffic per element and step ({args.dtype}):")
    print(f"{'configuration':<32} {'implementation':<17} {'step':<8} {'reads':>5} {'writes':>6} {'kernels':>7} {'bytes':>6}")
    for t in traffic_table():
        print(f"{t.config:<32} {t.impl:<17} {t.step:<8} {t.reads:>5} {t.writes:>6} {t.kernels:>7} {t.bytes(args.dtype):>6}")
    return 0
