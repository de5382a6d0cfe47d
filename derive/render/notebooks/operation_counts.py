"""Notebook 3: arithmetic operations and memory traffic per step, from the update programs."""

NAME = "operation_counts"
TITLE = "Operation counts per step, read from the update programs"


def cells() -> list[tuple[str, str]]:
    return [
        ("markdown", f"""
# {TITLE}

`derive.opcount` counts the operations of each catalogue entry's regular step under stated
conventions (what counts as an operation, whether a fused multiply-add is one), and the memory
traffic of `torch.optim.SGD`'s implementations. The cells check properties the counts must have.
"""),
        ("code", """
from IPython.display import Markdown, display

from derive.catalogue import get, names
from derive.opcount import CONVENTIONS, count, table, traffic_table

rows = table()
assert {(r.formulation, r.convention) for r in rows} == {(n, c) for n in names() for c in CONVENTIONS}
for name, convention in CONVENTIONS.items():
    print(f"{name}: {convention.describe()}")
lines = ["| formulation | " + " | ".join(CONVENTIONS) + " |", "|---|" + "---|" * len(CONVENTIONS)]
by_name = {}
for r in rows:
    by_name.setdefault(r.formulation, {})[r.convention] = r.total
for name, totals in by_name.items():
    lines.append(f"| {name} | " + " | ".join(str(totals[c]) for c in CONVENTIONS) + " |")
display(Markdown("\\n".join(lines)))
"""),
        ("markdown", """
Properties: fusing multiply-adds and hoisting scalar products never add work, and dropping the
look-ahead point's arithmetic never adds work either.
"""),
        ("code", """
for name, totals in by_name.items():
    assert totals["fma"] <= totals["hoisted"] <= totals["as-written"], (name, totals)
    assert totals["no-lookahead"] <= totals["as-written"], (name, totals)
documented = count(get("pytorch_nesterov_documented"))
implemented = count(get("pytorch_nesterov_implemented"))
print("documented Nesterov:", documented)
print("implemented Nesterov:", implemented)
"""),
        ("code", """
traffic = traffic_table()
lines = ["| configuration | implementation | step | reads | writes | kernels |", "|---|---|---|---|---|---|"]
for r in traffic:
    lines.append(f"| {r.config} | {r.impl} | {r.step} | {r.reads} | {r.writes} | {r.kernels} |")
display(Markdown("\\n".join(lines)))
for r in traffic:
    if r.impl == "fused":
        assert r.kernels == 1
        slower = [s for s in traffic if (s.config, s.step) == (r.config, r.step) and s.impl != "fused"]
        assert all(s.reads + s.writes >= r.reads + r.writes for s in slower), r
"""),
    ]
