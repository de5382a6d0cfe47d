r"""The appendix as LaTeX: ``appendix-body.tex`` (for ``\input``) and ``appendix.tex``, which compiles alone.

The body needs exactly the packages of the shipped ``sgdderive.sty``
(``amsmath``, ``amssymb``, ``booktabs``, ``array``, ``graphicx``) and works in one- and
two-column documents: tables are ``tabular`` with column widths in
``\linewidth`` (the column, not the page), and a long table is split into
several tabulars of at most :data:`ROWS_PER_TABULAR` rows, each repeating the
header, so it may run across pages and columns without ``longtable``.  The
standalone wrapper inlines the same package file.  Output is a pure function of
the document tree: no dates, no paths, so two runs give identical bytes.
"""

from __future__ import annotations

from importlib import resources

from derive.render.document import Display, Document, Figure, Math, Paragraph, Part, Section, Table, merged
from derive.render.layout import ONE_COLUMN, TWO_COLUMN, aligned_lines, text_char

STY_NAME = "sgdderive.sty"
ROWS_PER_TABULAR = 18  # a tabular cannot break: keep each piece well under a column's height
# In a two-column paper: cells wrap more, so fewer rows per piece, and a smaller type for the
# narrow columns (a header word such as "writes" must fit its 0.11 of a column, so not bold there either)
COLUMN_TABLE = {1: (ROWS_PER_TABULAR, r"\small", "3pt", r"\textbf"), 2: (8, r"\scriptsize", "1.5pt", "")}


def sty() -> str:
    """The shipped ``sgdderive.sty``: every package the body uses."""
    return resources.files("derive.render").joinpath(STY_NAME).read_text(encoding="utf-8")


def _sty_body() -> str:
    lines = [line for line in sty().splitlines()
             if not line.startswith(("\\NeedsTeXFormat", "\\ProvidesPackage", "\\endinput"))]
    return "\n".join(lines) + "\n"


PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage[a4paper,margin=2.2cm]{geometry}
""" + _sty_body() + r"""\usepackage[hidelinks]{hyperref}
\setcounter{secnumdepth}{2}
"""

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}"}


def escape(text: str) -> str:
    """Prose as LaTeX text: special characters escaped, Unicode symbols as LaTeX."""
    return "".join(text_char(ch, _SPECIAL) for ch in text)


def _breakable(text: str) -> str:
    """Text for a narrow table cell: a long identifier may break after , | = / _."""
    for ch in (",", "|", "=", "/"):
        text = text.replace(ch, ch + r"\allowbreak{}")
    return text.replace(r"\_", r"\_\allowbreak{}")


def _long_words(text: str) -> str:
    """Prose: identifiers (file names, formulation names) may break after _ and /."""
    return text.replace(r"\_", r"\_\allowbreak{}").replace("/", r"/\allowbreak{}")


def _parts(parts: tuple[Part, ...], *, breakable: bool = False) -> str:
    wrap = _breakable if breakable else _long_words
    return "".join(f"${p.tex}$" if isinstance(p, Math) else wrap(escape(p)) for p in merged(parts))


def _display(block: Display, columns: int = 1) -> str:
    lines = aligned_lines(block.rows, measure=TWO_COLUMN if columns == 2 else ONE_COLUMN)
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}\n"


def _spec(block: Table) -> str:
    widths = block.widths or (0.95 / len(block.header),) * len(block.header)
    # \tabcolsep on both sides of each column comes out of the line width
    # \hspace{0pt}: TeX never hyphenates a paragraph's first word, and a cell is one word wide at times
    return "@{}" + "".join(f">{{\\raggedright\\arraybackslash\\hspace{{0pt}}}}"
                           f"p{{\\dimexpr{w:.2f}\\linewidth-2\\tabcolsep\\relax}}" for w in widths) + "@{}"


def _table(block: Table, columns: int = 1) -> str:
    per_tabular, size, sep, bold = COLUMN_TABLE[columns]
    head = ["\\toprule", " & ".join(f"{bold}{{{_breakable(escape(h))}}}" for h in block.header) + r" \\", "\\midrule"]
    out = []
    if block.caption:
        out.append(f"\\par\\noindent{{\\small\\itshape {escape(block.caption)}}}\\par\\nopagebreak")
    rows = block.rows or ((("",),) * len(block.header),)
    for start in range(0, len(rows), per_tabular):
        out += [f"\\par\\noindent{{{size}\\setlength{{\\tabcolsep}}{{{sep}}}", f"\\begin{{tabular}}{{{_spec(block)}}}"] + head
        out += [" & ".join(_parts(cell, breakable=True) for cell in row) + r" \\"
                for row in rows[start:start + per_tabular]]
        out += ["\\bottomrule", "\\end{tabular}}\\par\\smallskip"]
    return "\n".join(out) + "\n"


def _block(block, columns: int = 1) -> str:
    if isinstance(block, Paragraph):
        return _parts(block.parts) + "\n"
    if isinstance(block, Display):
        return _display(block, columns)
    if isinstance(block, Table):
        return _table(block, columns)
    if isinstance(block, Figure):  # the image is written beside the .tex (derive.render.files)
        return (f"\\begin{{center}}\\includegraphics[width=\\linewidth]{{{block.name}}}\\par\\smallskip\n"
                f"{{\\small {escape(block.caption)}}}\\end{{center}}\n")
    raise TypeError(f"no LaTeX writer for {type(block).__name__}")


def _section(section: Section, level: int, columns: int = 1) -> str:
    command = ("section", "subsection", "subsubsection")[min(level, 2)]
    out = [f"\\{command}{{{escape(section.title)}}}\\label{{sec:{section.key}}}\n"]
    out += [_block(b, columns) for b in section.blocks]
    out += [_section(s, level + 1, columns) for s in section.subsections]
    return "\n".join(out)


def body(document: Document) -> str:
    """The part another document can ``\\input`` (after ``\\usepackage{sgdderive}``): sections only.

    The body is one group with a little emergency stretch, so that a line holding a long
    identifier is spaced out rather than run into the margin (the host's settings are untouched).
    Laid out for a column, a display may also break across columns and pages (``\\allowdisplaybreaks``,
    inside the same group): a closed form of twenty lines would otherwise leave half a column empty.
    """
    out = ["% Generated by `python -m derive appendix`; edit derive/, not this file.\n"
           "% Needs \\usepackage{sgdderive} (sgdderive.sty is written beside this file).\n"
           + ("% Laid out for one column of a two-column paper (--columns 2).\n" if document.columns == 2 else "")
           + "\\begingroup\\setlength{\\emergencystretch}{3em}"
           + ("\\allowdisplaybreaks" if document.columns == 2 else "") + "\n"]
    out += [_block(p, document.columns) for p in document.preface]
    out += [_section(s, 0, document.columns) for s in document.sections]
    return "\n".join(out) + "\\endgroup\n"


def standalone(document: Document) -> str:
    """A complete document (preamble with sgdderive.sty inlined, title, the body): compiles on its own;
    two-column when the document is laid out for a column."""
    preamble = PREAMBLE if document.columns == 1 else PREAMBLE.replace("[10pt]", "[10pt,twocolumn]", 1)
    return (preamble + f"\\title{{{escape(document.title)}}}\n\\author{{}}\\date{{}}\n"
            "\\begin{document}\n\\maketitle\n\\appendix\n" + body(document) + "\\end{document}\n")
