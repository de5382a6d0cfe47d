"""Judge every claim of the sources: id | verdict | one line of evidence.

Claims are judged in worker processes (one per core) and their verdicts cached
on disk under a key naming every source they depend on (``--no-cache`` to
bypass; see the README's section on the cache).  Output order is the registry's.
Exits 1 when a verdict differs from the recorded one (the regression test a new
torch or SymPy release must pass); an unknown id is a one-line error (exit 2).
A plugin's claims are marked ``[plugin NAME]`` (``"origin"`` in the JSON) and are
judged afresh every time (never cached).  Claims a plugin could not register here
(verify's, without torch) are counted on stderr in one line, with the reason.
"""

from __future__ import annotations

import json
import sys

from derive import progress

NAME = "claims"
HELP = "judge the claims registry (exit 1 when a verdict differs from the recorded one)"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    parser.add_argument("--only", nargs="+", metavar="ID", help="judge only these claim ids")
    progress.add_arguments(parser)


def run(args) -> int:
    from derive.claims import agrees, claims, judge_all
    from derive.plaintext import terminal
    from derive.plugins import not_loaded

    selected = claims(args.only)  # bad ids are refused first, in one line
    if not args.only:  # the whole registry: say which claims a plugin could not register here
        for line in not_loaded():
            print(f"derive: {line}", file=sys.stderr)
    bar = progress.bar(len(selected), "judging claims", quiet=args.quiet)
    try:
        judged = judge_all(selected, cache=not args.no_cache, progress=bar).pairs()
    finally:
        bar.close()
    differing = [c.id for c, v in judged if not agrees(c, v)]
    if args.json:
        print(json.dumps([{
            "id": c.id, "source": c.source, "statement": c.statement, "reading": c.reading,
            "assumptions": c.assumptions, "verdict": v.verdict, "expected": c.expected,
            "condition": None if v.condition is None else terminal(v.condition), "evidence": terminal(v.evidence), "witness": v.witness.as_dict() if hasattr(v.witness, "as_dict") else v.witness,
            "torch_version": v.torch_version, "origin": str(c.origin),
        } for c, v in judged], indent=2, ensure_ascii=False))
    else:
        width = max(len(c.id) for c in selected)
        for c, v in judged:
            mark = ("" if agrees(c, v) else f"  [recorded: {c.expected}]") + \
                ("" if c.origin.builtin else f"  [{c.origin}]")
            print(f"{c.id:<{width}} | {v.verdict:<23} | {terminal(v.evidence)}{mark}")
    if differing:
        print(f"derive: {len(differing)} verdict(s) differ from the recorded ones: {', '.join(differing)}",
              file=sys.stderr)
        return 1
    return 0
