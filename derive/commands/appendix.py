"""Write the derivation appendix: appendix.tex (+ appendix-body.tex), appendix.md, appendix.pdf.

Everything is computed from the catalogue, the closed forms and the claim
verdicts (judged in worker processes while the formulations are built, and
cached on disk; ``--no-cache`` to bypass).  Files are rendered (and the pdf
compiled) before any is replaced, so a failure leaves the previous appendix intact.
"""

from __future__ import annotations

from pathlib import Path

from derive import progress

NAME = "appendix"
HELP = "write the appendix (LaTeX, Markdown, and PDF when pdflatex exists)"


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="output directory (created if missing)")
    parser.add_argument("--only", nargs="+", default=(), metavar="ID",
                        help="formulation names and claim ids to include (default: all)")
    parser.add_argument("--sections", default="formulations,claims,opcount,verify", metavar="LIST",
                        help="comma-separated sections to include, of formulations,claims,opcount,verify,map "
                             "(default: all but map, which judges every ordered pair of entries)")
    parser.add_argument("--horizon", type=int, default=3, help="horizon T of the worked closed forms (1-6)")
    parser.add_argument("--convention", choices=("paper", "pytorch"), default="paper",
                        help="show velocities with the lr inside (paper) or as PyTorch's buffer")
    parser.add_argument("--columns", type=int, choices=(1, 2), default=1,
                        help="lay the LaTeX out for a one-column page or a two-column paper's column (default: 1)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the pdf even when pdflatex exists")
    progress.add_arguments(parser)


def options_from(args):
    from derive.render.appendix import Options

    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    return Options(only=tuple(args.only), horizon=args.horizon, convention=args.convention, sections=sections,
                   columns=args.columns, cache=not args.no_cache)


def run(args) -> int:
    from derive.render.appendix import select
    from derive.render.files import write
    from derive.render.output import check_output_dir

    check_output_dir(args.out)  # before rendering, not after
    options = options_from(args)
    _, claim_ids = select(options)  # an unknown --only id fails here, before any work
    bar = progress.bar(len(claim_ids or ()) + 1, "judging claims, building the appendix", quiet=args.quiet,
                       unit="task")
    judging = None
    try:
        if claim_ids:
            from derive.claims import claims, judge_all

            judging = judge_all(claims(claim_ids), cache=not args.no_cache, progress=bar)
        written = write(Path(args.out), options, pdf=not args.no_pdf)
        bar.update(1)
    finally:
        if judging is not None:
            judging.close()
        bar.close()
    for path in written:
        print(path)
    if not any(p.suffix == ".pdf" for p in written) and not args.no_pdf:
        print("appendix: no pdf (pdflatex is not installed)")
    return 0
