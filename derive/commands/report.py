"""The main job: write the appendix (tex, md, pdf where pdflatex exists), print the claims table, say where.

Claims are judged once and shared by the appendix and the table.  The exit
status is 1 when a verdict differs from the recorded one (a regression), 0 otherwise.
"""

from __future__ import annotations

from pathlib import Path

NAME = "report"
HELP = "write the appendix, print every claim's verdict, and list the files written"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="build/appendix", help="output directory (default: build/appendix)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the pdf even when pdflatex exists")


def claims_table(pairs) -> list[str]:
    """One line per claim: id, verdict (marked when it differs from the record), condition."""
    from derive.claims import agrees

    width = max((len(c.id) for c, _ in pairs), default=5)
    lines = [f"{'claim':<{width}}  {'verdict':<24}  condition / evidence"]
    for c, v in pairs:
        mark = "" if agrees(c, v) else f"  <-- recorded: {c.expected}"
        lines.append(f"{c.id:<{width}}  {v.verdict:<24}  {v.condition or v.evidence}{mark}")
    return lines


def run(args) -> int:
    from derive.render.appendix import Options
    from derive.render.claims_section import verdict
    from derive.render.files import write
    from derive.render.output import check_output_dir

    out = check_output_dir(args.out)  # before the 40 s of rendering, not after
    written = write(out, Options(), pdf=not args.no_pdf)
    status = 0
    try:
        from derive.claims import agrees, claims
    except ImportError:
        print("report: the claims engine (derive.claims) is not available; no claims table")
    else:
        pairs = [(c, verdict(c.id)) for c in claims()]
        print("\n".join(claims_table(pairs)))
        regressions = [c.id for c, v in pairs if not agrees(c, v)]
        counts = {}
        for _, v in pairs:
            counts[v.verdict] = counts.get(v.verdict, 0) + 1
        print(f"{len(pairs)} claims: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        if regressions:
            print(f"report: verdicts differ from the record for {', '.join(regressions)}")
            status = 1
    print("appendix files:")
    for path in written:
        print(f"  {path.resolve()}")
    if not any(p.suffix == ".pdf" for p in written):
        print("  (no pdf: " + ("--no-pdf given" if args.no_pdf else "pdflatex is not installed") + ")")
    return status
