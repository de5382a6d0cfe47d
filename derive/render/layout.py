r"""Rows to lines of aligned LaTeX, shared by the LaTeX and the Markdown writers.

Each :class:`~derive.render.derivation.Row` becomes ``lhs &= rhs && \text{label}``.
A long :class:`~derive.render.derivation.Combination` puts one input per line, and
a coefficient too long for one line is split between its terms inside
``\Bigl( ... \Bigr)`` (which, unlike ``\left( ... \right)``, may span lines).
Only macros that both LaTeX (amsmath) and KaTeX know are emitted.

The widths are those of a :class:`Measure`: :data:`ONE_COLUMN` (a full text width, the
default, in the rough glyph count of :func:`width`) or :data:`TWO_COLUMN` (one column of a
two-column paper, about half as wide, in points estimated from the fonts'
metrics, :func:`derive.render.metrics.points`, since half the width leaves no room for a rough
count).  In a column, labels become ``\tag*{...}``, which amsmath sets on a line of their own
when they do not fit beside the equation; the left-hand sides of a block share one column, as
wide as the widest; a matrix wider than the line is written as a column of its entries
:math:`[A_t]_{i,j}` (1-based), each broken like any other right-hand side; and a term too wide
for the line is opened where it holds a sum: :math:`\sum_k (a + b) g_k` and :math:`c\,(a + b)\,X`
as ``\Bigl( ... \Bigr)`` broken at the ``+``/``-`` inside (again inside, when a term there is still
too wide).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from derive.render.derivation import Cases, Combination, Row, Text
from derive.render.metrics import points
from derive.render.printer import HousePrinter, _leads_negative

LINE = 48  # visible width of a displayed right-hand side (see width) before a break
ROW = 58  # visible width of a whole row: lhs, rhs and the label in the margin share it


@dataclass(frozen=True)
class Measure:
    """Widths that one displayed row may take, in the units of its *estimate*.

    With ``whole`` a piece is measured as printed (its sign, brackets and input included), the
    left-hand side as wide as the block's widest and a continuation line with its indent; without,
    as the one-column layout always has (its limits leave room for those).
    """

    line: float = LINE  # a right-hand side before a break
    row: float = ROW  # lhs, rhs and (unless tagged) the label
    least: float = 24  # a right-hand side is never squeezed below this
    tags: bool = False  # labels as \tag*{...} (own line when they do not fit), not a margin column
    estimate: Callable[[str], float] | None = None  # LaTeX to its width; None: the glyph count, width()
    whole: bool = False  # measure whole pieces and the shared left column (see above)
    continuation: str = r"\qquad"  # what indents a continuation line
    indent: float = 0  # the width it takes (measured whole; the one-column units ignore it)
    slack: float = 2  # a coefficient's term may pass the line by this before it is expanded

    def of(self, tex: str) -> float:
        return (self.estimate or width)(tex)


ONE_COLUMN = Measure()
# 229.5pt, the column of a 10pt twocolumn article, less 4%: points() under-counts a line by at most 4%
# (test_publishable); after the left column, "= " takes 13.3pt and a continuation's \quad (its sign
# under the first term) no more
TWO_COLUMN = Measure(line=220.0, row=220.0, least=110, tags=True, estimate=points, whole=True,
                     continuation=r"\quad", indent=13.4, slack=0)


def width(tex: str) -> int:
    """Rough visible width of LaTeX: a macro is one glyph, braces and scripts are free."""
    tex = re.sub(r"\\(left|right|Bigl|Bigr|qquad|quad)\b", "", tex)
    tex = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: max(m.group(1), m.group(2), key=len), tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    # subscripts are small: about half a glyph per character
    tex = re.sub(r"_\{([^{}]*)\}", lambda m: "_" * max(1, len(re.sub(r"\\[A-Za-z]+", "x", m.group(1))) // 2), tex)
    return len(re.sub(r"[{}^ ]", "", tex))


# Prose inside math (\text{...}): characters with a meaning escaped, Unicode symbols as math.
# Every replacement exists in both amsmath and KaTeX.
TEXT_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
UNICODE = {"θ": r"$\theta$", "μ": r"$\mu$", "ε": r"$\varepsilon$", "λ": r"$\lambda$", "τ": r"$\tau$",
           "ρ": r"$\rho$", "η": r"$\eta$", "Θ": r"$\Theta$", "Φ": r"$\Phi$", "∇": r"$\nabla$",
           "²": r"$^{2}$", "³": r"$^{3}$", "−": "-", "–": "--", "—": "---", "≤": r"$\leq$", "≥": r"$\geq$",
           "≠": r"$\neq$", "→": r"$\to$", "×": r"$\times$", "·": r"$\cdot$", "‖": r"$\|$", "§": r"\S{}",
           "…": "...", "’": "'", "“": "``", "”": "''", "ĝ": r"$\hat{g}$", "′": "'"}


def text_char(ch: str, special: dict = TEXT_SPECIAL) -> str:
    if ch in special:
        return special[ch]
    if ch in UNICODE:
        return UNICODE[ch]
    if ord(ch) > 127:  # never let pdflatex stop on a glyph it lacks: name it instead
        import unicodedata

        return f"[{unicodedata.name(ch, hex(ord(ch))).lower()}]"
    return ch


def _text(label: str) -> str:
    return rf"\text{{{''.join(text_char(ch) for ch in label)}}}"


def _terms(printer: HousePrinter, expr: sp.Expr) -> list[str]:
    """The signed terms of *expr* in reading order: ``["a", "- b", "+ c"]``."""
    out = []
    for n, term in enumerate(printer.ordered_terms(expr)):
        body = printer.term(term)
        if body.startswith("-"):
            out.append("- " + body[1:].lstrip())
        else:
            out.append(("+ " if n else "") + body)
    return out


def _chunks(pieces: list[str], limit: float, measure: Measure = ONE_COLUMN) -> list[str]:
    lines, current = [], ""
    for piece in pieces:
        if current and measure.of(current) + measure.of(piece) > limit:
            lines.append(current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    return lines + [current] if current else lines


def _unsigned(printer: HousePrinter, coeff: sp.Expr) -> tuple[sp.Expr, bool]:
    """``(|coeff|, negative)``: the sign as the printer shows it in front, taken out."""
    if printer.doprint(coeff).startswith("-"):
        return -coeff, True
    return coeff, False


def _bracketed(printer: HousePrinter, add: sp.Expr, head: str, tail: str, limit: float,
               measure: Measure) -> list[str]:
    r"""``head \Bigl(`` the terms of *add*, broken at ``+``/``-`` ``\Bigr) tail``; measured whole,
    a term still too wide is opened in turn (:func:`_pieces`)."""
    if not measure.whole:
        inner = _chunks(_terms(printer, add), limit, measure)
        lines = [rf"{head}\Bigl({inner[0]}"] + inner[1:]
        lines[-1] += rf"\Bigr){tail}"
        return lines
    pieces = _pieces(printer, add, limit, measure)
    big = "bigg" if any(r"\Bigl(" in p or r"\biggl(" in p for p in pieces) else "Big"  # opened inside: larger
    pieces[0] = rf"{head}\{big}l({pieces[0]}"
    pieces[-1] += rf"\{big}r){tail}"
    return _chunks(pieces, limit, measure)


def _combination(printer: HousePrinter, comb: Combination, limit: float = LINE,
                 measure: Measure = ONE_COLUMN) -> list[str]:
    """One input per piece: ``- \\varepsilon_{1} g_{1}``; long coefficients over several lines."""
    def size(core: str, whole: str) -> float:  # the one-column limits leave room for sign and input
        return measure.of(whole if measure.whole else core)

    pieces: list[list[str]] = []
    for n, (coeff, x) in enumerate(comb.terms):
        c, negative = _unsigned(printer, coeff)
        sign = "- " if negative else ("+ " if n else "")
        tx = printer.doprint(x)
        if c == 1:
            pieces.append([sign + tx])
            continue
        ctex = printer.doprint(c)
        if size(ctex, f"{sign}{ctex} {tx}") > limit and not c.is_Add:
            c, negative = _unsigned(printer, sp.expand(c))  # too long to keep factored
            sign = "- " if negative else ("+ " if n else "")
            ctex = printer.doprint(c)
        if c.is_Add and any(measure.of(term) > limit + measure.slack for term in _terms(printer, c)):
            c, negative = _unsigned(printer, sp.expand(c))  # a term wider than the line: expanded, it breaks
            sign = "- " if negative else ("+ " if n else "")
            ctex = printer.doprint(c)
        if not c.is_Add:
            pieces.append([f"{sign}{ctex} {tx}"])
        elif size(ctex, rf"{sign}\left({ctex}\right) {tx}") <= limit:
            pieces.append([rf"{sign}\left({ctex}\right) {tx}"])
        else:
            pieces.append(_bracketed(printer, c, sign, f" {tx}", limit, measure))
    if not pieces:
        return ["0"]
    flat = [p for group in pieces for p in group]
    if sum(measure.of(p) for p in flat) <= limit:
        return [" ".join(flat)]
    return flat


def _pieces(printer: HousePrinter, expr: sp.Expr, limit: float, measure: Measure) -> list[str]:
    """The signed terms of a sum, each too wide for the line opened where it can be."""
    pieces = []
    for term, piece in zip(printer.ordered_terms(expr), _terms(printer, expr)):
        opened = _open(printer, term, piece, limit, measure) if measure.of(piece) > limit else None
        pieces += opened or [piece]
    return pieces


def _rhs_lines(printer: HousePrinter, rhs, limit: float = LINE, measure: Measure = ONE_COLUMN) -> list[str]:
    if isinstance(rhs, Text):
        return [_text(rhs.text)]
    if isinstance(rhs, Cases):
        body = r" \\ ".join(f"{printer.doprint(value)} & {cond}" for value, cond in rhs.branches)
        return [rf"\begin{{cases}} {body} \end{{cases}}"]
    if isinstance(rhs, Combination):
        return _combination(printer, rhs, limit, measure)
    if isinstance(rhs, str):
        return [rhs]
    expr = sp.sympify(rhs)
    tex = printer.doprint(expr)
    if expr.is_Add and measure.of(tex) > limit:
        return _chunks(_pieces(printer, expr, limit, measure), limit, measure)
    if measure.whole and measure.of(tex) > limit:
        return _open(printer, expr, tex, limit, measure) or [tex]
    return [tex]


def _open(printer: HousePrinter, term: sp.Expr, piece: str, limit: float, measure: Measure) -> list[str] | None:
    """A term too wide for the line, opened as a sum or (measured whole) a product; None if neither."""
    opened = _open_sum(printer, term, piece, limit, measure)
    if opened is None and measure.whole:
        opened = _open_product(printer, term, piece, limit, measure)
    return opened


def _open_sum(printer: HousePrinter, term: sp.Expr, piece: str, limit: float,
              measure: Measure = ONE_COLUMN) -> list[str] | None:
    r"""A term :math:`\pm\sum_k (a + b + \dots) g_k` too wide for a line: the sum's coefficient
    between ``\Bigl( ... \Bigr)``, broken at its ``+``/``-``; None when *term* is not of that shape."""
    first = not piece.startswith(("- ", "+ "))
    coeff, rest = term.as_coeff_Mul()
    if abs(coeff) != 1 or not isinstance(rest, sp.Sum) or len(rest.limits) != 1:
        return None
    adds = [f for f in sp.Mul.make_args(rest.function) if f.is_Add]
    if len(adds) != 1:
        return None
    others = sp.Mul(*[f for f in sp.Mul.make_args(rest.function) if f is not adds[0]])
    add, negative = _unsigned(printer, adds[0])  # the sign in front of the sum, not inside its bracket
    negative = negative != (coeff < 0)
    sign = "- " if negative else ("" if first else "+ ")
    var, lower, upper = rest.limits[0]
    head = rf"{sign}\sum_{{{printer.subscript(var)}={printer.subscript(lower)}}}^{{{printer.subscript(upper)}}} "
    return _bracketed(printer, add, head, f" {printer.doprint(others)}", limit, measure)


def _open_product(printer: HousePrinter, term: sp.Expr, piece: str, limit: float,
                  measure: Measure) -> list[str] | None:
    r"""A term :math:`c\,(a + b + \dots)\,X` too wide for a line: expanded when that is no wider (its
    brackets cancel, or hold little), its terms then broken like a sum's; otherwise its widest
    bracketed sum as ``\Bigl( ... \Bigr)``, broken at its ``+``/``-``, the factors around it as
    printed.  None when no factor is a sum printed in brackets."""
    expanded = sp.expand(term)
    if expanded.is_Add and measure.of(printer.doprint(expanded)) <= measure.of(piece):
        pieces = _pieces(printer, expanded, limit, measure)
        if piece.startswith(("- ", "+ ")) and not pieces[0].startswith("- "):
            pieces[0] = "+ " + pieces[0]  # a later term of its sum: its sign is written
        return _chunks(pieces, limit, measure)
    adds = sorted((f for f in sp.Mul.make_args(term) if f.is_Add),
                  key=lambda f: (-measure.of(printer.doprint(f)), sp.default_sort_key(f)))
    for add in adds:
        for inner in (add, -add):  # a bracket may read negated, -(1 - a) for (a - 1)
            bracket = rf"\left({printer.doprint(inner)}\right)"
            if piece.count(bracket) == 1:
                head, tail = piece.split(bracket)
                return _bracketed(printer, inner, head, tail, limit, measure)
    return None


def _matrix_width(printer: HousePrinter, m: sp.MatrixBase) -> int:
    """Visible width of a matrix: its widest entry per column, side by side, and the brackets."""
    return sum(max(width(printer.doprint(m[i, j])) for i in range(m.rows)) + 1 for j in range(m.cols)) + 1


def _too_wide(printer: HousePrinter, row: Row, measure: Measure) -> bool:
    """Whether a matrix row does not fit the line (measured whole: with its left-hand side and ``=``)."""
    if not measure.whole:
        return _matrix_width(printer, row.rhs) > measure.line
    return measure.of(f"{printer.doprint(row.lhs)} = {printer.doprint(row.rhs)}") > measure.row


def _entries(printer: HousePrinter, row: Row) -> list[_EntryRow]:
    r"""A matrix as a column of its entries, :math:`[A_t]_{i,j}` (1-based; one index for a vector)."""
    name = printer.doprint(row.lhs)
    m = row.rhs
    out = []
    for i in range(m.rows):
        for j in range(m.cols):
            index = f"{i + 1},{j + 1}" if m.rows > 1 and m.cols > 1 else str(max(i, j) + 1)
            lhs = rf"\left[{name}\right]_{{{index}}}"
            out.append(_EntryRow(lhs, m[i, j], row.label if not out else ""))
    return out


@dataclass(frozen=True)
class _EntryRow:
    """A row whose left-hand side is LaTeX already (a matrix entry)."""

    lhs_tex: str
    rhs: object
    label: str
    relation: str = "="


def aligned_lines(rows: tuple[Row, ...], printer: HousePrinter | None = None,
                  measure: Measure = ONE_COLUMN) -> list[str]:
    r"""The body of an ``align*`` / ``aligned`` block, one string per line (no ``\\``)."""
    printer = printer or HousePrinter()
    lines = []
    if measure.tags:  # a matrix too wide for the column: its entries, one per row
        rows = tuple(r for row in rows for r in (
            _entries(printer, row) if isinstance(row.rhs, sp.MatrixBase) and _too_wide(printer, row, measure)
            else [row]))
    # labels share one column, as wide as the longest: it takes room from every right-hand side
    # (text is narrower than math); tagged labels take none
    margin = 0 if measure.tags else max(((7 * len(row.label)) // 10 for row in rows), default=0)
    lefts = [row.lhs_tex if isinstance(row, _EntryRow) else printer.doprint(row.lhs) if row.lhs is not None else ""
             for row in rows]
    column = max((measure.of(lhs) for lhs in lefts), default=0)  # align* sets every lhs this wide
    for row, lhs in zip(rows, lefts):
        room = measure.row - column - measure.indent if measure.whole else measure.row - width(lhs) - margin
        limit = max(measure.least, min(measure.line, room))
        rhs = _rhs_lines(printer, row.rhs, limit, measure)
        rel = row.relation if row.relation in ("=", r"\neq", r"\equiv", r"\approx", ":=", "") else "="
        if not row.label:
            label = ""
        elif measure.tags:
            label = rf" \tag*{{{_text(row.label)}}}"
        else:
            label = f" && {_text(row.label)}"
        tagged = [""] * (len(rhs) - 1) + [label] if measure.tags else [label] + [""] * (len(rhs) - 1)
        # a tag on the row's last line: where amsmath moves one that does not fit, it follows the equation
        lines.append(f"{lhs} &{rel} {rhs[0]}{tagged[0]}" if rel else f"{lhs} & {rhs[0]}{tagged[0]}")
        lines.extend(rf"&{measure.continuation} {more}{tag}" for more, tag in zip(rhs[1:], tagged[1:]))
    return lines
