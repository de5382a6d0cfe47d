"""The appendix's files, rendered in memory: tex (standalone and body), md, its figures, and the pdf when possible."""

from __future__ import annotations

from pathlib import Path

from derive.render import latex, markdown
from derive.render.appendix import Options, build
from derive.render.document import Figure
from derive.render.output import check_output_dir, compile_pdf, pdflatex, write_atomically

BODY = "appendix-body.tex"


def render(options: Options = Options(), *, pdf: bool = True) -> dict[str, bytes]:
    """``{file name: bytes}`` for the appendix; the pdf only when pdflatex exists and *pdf*."""
    document = build(options)
    texts = {"appendix.tex": latex.standalone(document), BODY: latex.body(document),
             "appendix.md": markdown.document(document), latex.STY_NAME: latex.sty()}
    files = {name: text.encode("utf-8") for name, text in texts.items()}
    images = figures(document)
    files.update(images)
    if pdf and pdflatex() is not None:
        files["appendix.pdf"], _ = compile_pdf({"appendix.tex": texts["appendix.tex"], **images}, "appendix.tex")
    return files


def figures(document) -> dict[str, bytes]:
    """The images the document shows (:class:`~derive.render.document.Figure` blocks), by file name."""
    def walk(sections):
        for section in sections:
            yield from (b for b in section.blocks if isinstance(b, Figure))
            yield from walk(section.subsections)

    return {figure.name: figure.data for figure in walk(document.sections)}


def write(out_dir: Path, options: Options = Options(), *, pdf: bool = True) -> list[Path]:
    """Check *out_dir*, render everything, then replace the files in *out_dir* (a failure changes nothing)."""
    check_output_dir(out_dir)  # before rendering, which takes a while
    return write_atomically(out_dir, render(options, pdf=pdf))
