"""The appendix as a small document tree that both writers (LaTeX, Markdown) walk.

Prose is a tuple of parts: a ``str`` is text (each writer escapes it), a
:class:`Math` is inline mathematics (already in the house notation).  In text
given to :func:`text` or :func:`prose`, ``$...$`` is LaTeX mathematics (the
claims' statements are written so): it becomes a :class:`Math` part.  Display
mathematics is a :class:`Display` of derivation rows; tables hold cells of
parts.  The tree is plain data, so the writers stay free of derive's logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import sympy as sp

from derive.render.derivation import Row
from derive.render.printer import house_latex


@dataclass(frozen=True)
class Math:
    """Inline mathematics, LaTeX in the house notation."""

    tex: str


Part = Union[str, Math]


def math(expr) -> Math:
    """Inline math for a SymPy expression, through the house printer."""
    return Math(house_latex(expr))


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Part, ...]


def merged(parts: tuple[Part, ...]) -> tuple[Part, ...]:
    """Adjacent :class:`Math` parts as one (``$a = $`` then ``$b$`` is one formula, not ``$a = $$b$``)."""
    out: list[Part] = []
    for p in parts:
        if isinstance(p, Math) and out and isinstance(out[-1], Math):
            out[-1] = Math(f"{out[-1].tex} {p.tex}")
        elif p != "":
            out.append(p)
    return tuple(out)


@dataclass(frozen=True)
class Display:
    """Aligned display mathematics: one derivation row per line."""

    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Table:
    """Cells of parts; ``widths`` (fractions of the text width) make wrapping columns in LaTeX."""

    header: tuple[str, ...]
    rows: tuple[tuple[tuple[Part, ...], ...], ...]
    caption: str = ""
    widths: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Figure:
    """An image written beside the document (``name``, its bytes ``data``), with a caption."""

    name: str
    data: bytes
    caption: str = ""


Block = Union[Paragraph, Display, Table, Figure]


@dataclass(frozen=True)
class Section:
    title: str
    key: str  # a stable anchor (formulation name, claim id)
    blocks: tuple[Block, ...] = ()
    subsections: tuple["Section", ...] = ()


@dataclass(frozen=True)
class Document:
    title: str
    preface: tuple[Paragraph, ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)
    columns: int = 1  # the LaTeX page it is laid out for: 1 (full text width) or 2 (one column of two)


def prose(words: str) -> tuple[Part, ...]:
    """Text with ``$...$`` LaTeX segments as text and :class:`Math` parts (an unpaired ``$`` stays text)."""
    pieces = words.split("$")
    if len(pieces) % 2 == 0:  # unpaired: not mathematics
        return (words,) if words else ()
    out: list[Part] = []
    for n, piece in enumerate(pieces):
        if n % 2:
            out.append(Math(piece.strip()))
        elif piece:
            out.append(piece)
    return tuple(out)


def text(*parts) -> Paragraph:
    """A paragraph from text (``$...$`` is mathematics), :class:`Math` parts and SymPy objects (inline math)."""
    out: list[Part] = []
    for p in parts:
        if isinstance(p, Math):
            out.append(p)
        elif isinstance(p, str):
            out += prose(p)
        else:
            out.append(math(sp.sympify(p)))
    return Paragraph(tuple(out))
