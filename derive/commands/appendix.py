"""Write the derivation appendix: appendix.tex (+ appendix-body.tex), appendix.md, appendix.pdf.

Everything is computed from the catalogue, the closed forms and the claim
verdicts.  Files are rendered (and the pdf compiled) before any is replaced, so
a failure leaves the previous appendix intact.
"""

from __future__ import annotations

from pathlib import Path

NAME = "appendix"
HELP = "write the appendix (LaTeX, Markdown, and PDF when pdflatex exists)"


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="output directory (created if missing)")
    parser.add_argument("--only", nargs="+", default=(), metavar="ID",
                        help="formulation names and claim ids to include (default: all)")
    parser.add_argument("--sections", default="formulations,claims,opcount,verify", metavar="LIST",
                        help="comma-separated sections to include, of formulations,claims,opcount,verify "
                             "(default: all)")
    parser.add_argument("--horizon", type=int, default=3, help="horizon T of the worked closed forms (1-6)")
    parser.add_argument("--convention", choices=("paper", "pytorch"), default="paper",
                        help="show velocities with the lr inside (paper) or as PyTorch's buffer")
    parser.add_argument("--no-pdf", action="store_true", help="skip the pdf even when pdflatex exists")


def options_from(args):
    from derive.render.appendix import Options

    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    return Options(only=tuple(args.only), horizon=args.horizon, convention=args.convention, sections=sections)


def run(args) -> int:
    from derive.render.files import write

    written = write(Path(args.out), options_from(args), pdf=not args.no_pdf)
    for path in written:
        print(path)
    if not any(p.suffix == ".pdf" for p in written) and not args.no_pdf:
        print("appendix: no pdf (pdflatex is not installed)")
    return 0

