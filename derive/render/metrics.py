r"""How wide a line of display mathematics comes out in pdflatex, estimated without running it.

:func:`points` reads the LaTeX the house printer writes and adds up the glyph widths of Computer
Modern at 10 pt (``cmmi10``, ``cmr10``, ``cmsy10``, ``cmex10``, as TeX's font metrics give them),
with TeX's spacing around binary operators (:math:`2 \times 2.22` pt) and relations
(:math:`2 \times 2.78` pt); scripts at 0.82 of the size (0.68 for second-level scripts) plus
``\scriptspace``, a subscript and a superscript on one base counted once (the wider); a fraction
as its wider part; a ``matrix`` as its widest entry per column plus the column separation;
``\left( ... \right)`` grown around a fraction, matrix or sum; ``\text`` in roman.

It is an estimate that leans wide: the sign that starts a piece counts as a binary operator (the
piece may follow an operand on its line), and capitals as wide ones.  The layout keeps a margin
for what it misses: ``tests/render/test_publishable.py`` has pdflatex measure every line of the
sections that once overflowed a column and checks that the estimate is never short by more.
"""

from __future__ import annotations

import re

# Widths in pt of Computer Modern at 10 pt (display and text style).
ITALIC = dict(zip("abcdefghijklmnopqrstuvwxyz",
                  (5.29, 4.29, 4.33, 5.20, 4.66, 5.97, 5.13, 5.76, 3.45, 4.69, 5.52, 3.18, 8.78, 6.00, 4.85,
                   5.03, 4.82, 4.79, 4.69, 3.61, 5.72, 5.21, 7.43, 5.72, 5.26, 5.09)))
CAPITAL = 7.7  # italic capitals: 5.2 (I) to 10.8 (W); most are 7.2 to 8.1
DIGIT = 5.0
MACROS = {"theta": 4.97, "mu": 6.03, "varepsilon": 4.66, "epsilon": 4.66, "lambda": 5.83, "Phi": 7.22,
          "rho": 5.17, "eta": 5.32, "tau": 5.50, "nu": 5.58, "alpha": 6.43, "beta": 6.18, "gamma": 5.73,
          "delta": 4.82, "sigma": 6.07, "Theta": 7.78, "nabla": 8.33, "infty": 10.0, "ldots": 11.67,
          "dots": 13.33, "cdots": 13.33, "|": 5.0, "{": 5.0, "}": 5.0, "prime": 2.75, "partial": 5.68}
SPACES = {"qquad": 20.0, "quad": 10.0, ",": 1.67, ";": 2.78, ":": 2.22, "!": -1.67, " ": 3.33}
BINARY = {"cdot": 2.78, "times": 7.78, "pm": 7.78, "mp": 7.78}  # glyph; 4.44 pt of spacing added
RELATION = {"neq": 7.78, "leq": 7.78, "geq": 7.78, "equiv": 7.78, "approx": 7.78, "to": 10.0,
            "mapsto": 10.0, "in": 6.67, "coloneqq": 10.6}  # glyph; 5.56 pt of spacing added
BIN_SPACE, REL_SPACE = 4.44, 5.56
LARGE = {"sum": 14.44, "prod": 12.78}  # display-style operators; limits may be wider
DELIMITER = {"left": 4.2, "right": 4.2, "bigl": 4.6, "bigr": 4.6, "Bigl": 6.0, "Bigr": 6.0,
             "biggl": 7.4, "biggr": 7.4}  # ( ) [ ]
# \left( ... \right) grows around tall content: a fraction, a matrix, a sum or a product with limits
TALL = {"frac": 6.0, "begin": 6.7, "sum": 8.8, "prod": 8.8}
ACCENTS = ("hat", "tilde", "bar", "check", "breve", "acute", "grave", "ddot", "widehat", "widetilde",
           "overline", "mathbf", "mathrm", "mathit", "boldsymbol", "vec", "dot")
TEXT_CHAR = 5.0  # roman text, an average letter with its share of the spaces
SCRIPT = (1.0, 0.82, 0.68)  # size of text, script and scriptscript relative to the 10 pt base
SCRIPT_SPACE = 0.5  # \scriptspace, after every script

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|.", re.S)


def points(tex: str) -> float:
    """Estimated width in pt of *tex* typeset as display mathematics at 10 pt."""
    return _Reader(tex, leading_binary=True).width(0)


class _Reader:
    """A recursive reader over the tokens of one formula."""

    def __init__(self, tex: str, leading_binary: bool = False):
        self.tokens = _TOKEN.findall(tex)
        self.at = 0
        self.delimiters: list[float] = []  # the size of each open \left, for its \right
        # a sign is binary (spaced) after an operand, unary after "(", an operator or at a group's start;
        # a whole piece may follow an operand on its line, so its leading sign counts as binary
        self.operand = leading_binary

    def next(self) -> str:
        token = self.tokens[self.at] if self.at < len(self.tokens) else ""
        self.at += 1
        return token

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def group(self) -> list[str]:
        """The tokens of the next argument: a ``{...}`` group or one token."""
        token = self.next()
        if token != "{":
            return [token]
        depth, out = 1, []
        while self.at < len(self.tokens):
            token = self.next()
            depth += {"{": 1, "}": -1}.get(token, 0)
            if depth == 0:
                break
            out.append(token)
        return out

    def argument(self, level: int) -> float:
        return _Reader("".join(self.group())).width(level)

    def scripts(self, level: int) -> float:
        """A subscript and a superscript on one base take the width of the wider."""
        widest = 0.0
        while self.peek() in ("_", "^"):
            self.next()
            widest = max(widest, self.argument(min(level + 1, 2)))
        return widest + SCRIPT_SPACE if widest else 0.0

    def width(self, level: int) -> float:
        total = 0.0
        while self.at < len(self.tokens):
            token = self.next()
            if token.isspace():
                continue
            operand = self.operand
            self.operand = token not in ("(", "[", "+", "-", "=", ",", "<", ">", "&") and token[1:] not in RELATION
            if token in "+-" and not operand and level == 0:
                total += 7.78  # unary: no spacing
            elif token in ("_", "^"):
                self.at -= 1
                total += self.scripts(level)
            elif token == "{":
                self.at -= 1
                total += self.argument(level)
            elif token.startswith("\\"):
                total += self.macro(token[1:], level)
            else:
                total += self.char(token, level)
        return total

    def char(self, ch: str, level: int) -> float:
        scale = SCRIPT[level]
        if ch.islower() and ch in ITALIC:
            return ITALIC[ch] * scale
        if ch.isupper():
            return CAPITAL * scale
        if ch.isdigit():
            return DIGIT * scale
        if ch in "+-*":
            return 7.78 * scale + (BIN_SPACE if level == 0 else 0)
        if ch in "=<>":
            return 7.78 * scale + (REL_SPACE if level == 0 else 0)
        if ch in "()":
            return 3.89 * scale
        if ch in "[]|,;'":
            return 2.78 * scale + (1.67 if ch in ",;" and level == 0 else 0)
        if ch == "/":
            return 5.0 * scale
        return 0.0  # spaces, & and what TeX ignores

    def macro(self, name: str, level: int) -> float:
        scale = SCRIPT[level]
        if name in SPACES:
            return SPACES[name] * (1 if name.endswith("quad") else scale)
        if name == "left":
            size = max([DELIMITER[name]] + [TALL[t[1:]] for t in self.enclosed() if t[1:] in TALL])
            self.delimiters.append(size)
            self.next()  # the delimiter itself: ( ) [ ] . or \{
            self.operand = False
            return size * scale
        if name == "right":
            self.next()
            return (self.delimiters.pop() if self.delimiters else DELIMITER[name]) * scale
        if name in DELIMITER:
            self.next()
            self.operand = name.endswith("r")  # after an opening bracket a sign is unary
            return DELIMITER[name] * scale
        if name in LARGE:
            limits = self.scripts(level)
            # display: limits above and below, a thin space on each side; in a script, limits beside
            return max(LARGE[name], limits) + 2 * 1.67 if level == 0 else LARGE[name] * 0.6 * scale + limits
        if name == "frac":
            return max(self.argument(min(level + 1, 2) if level else 0),
                       self.argument(min(level + 1, 2) if level else 0)) + 2.4 * scale
        if name in ("text", "operatorname", "mathrm") and self.peek() == "{":
            letters = re.sub(r"\\[A-Za-z]+\{?\}?|[{}$]", "x", "".join(self.group()))
            return len(letters) * TEXT_CHAR * scale + (3.33 if name == "operatorname" else 0)
        if name in ACCENTS:
            return self.argument(level)
        if name == "begin":
            return self.matrix(level)
        if name in BINARY:
            return BINARY[name] * scale + (BIN_SPACE if level == 0 else 0)
        if name in RELATION:
            return RELATION[name] * scale + (REL_SPACE if level == 0 else 0)
        if name in ("tag", "label", "allowbreak", "displaystyle", "nonumber", "notag", "end"):
            if name in ("tag", "label", "end"):
                self.group()
            return 0.0
        return MACROS.get(name, 7.0) * scale  # a symbol: unknown ones as a wide letter

    def enclosed(self) -> list[str]:
        """The tokens between this ``\\left`` and its ``\\right``."""
        depth, end = 0, self.at
        while end < len(self.tokens):
            depth += {"\\left": 1, "\\right": -1}.get(self.tokens[end], 0)
            if depth < 0:
                break
            end += 1
        return self.tokens[self.at:end]

    def matrix(self, level: int) -> float:
        r"""``\begin{matrix} a & b \\ c & d \end{matrix}``: the widest entry per column, 10 pt between columns."""
        environment = "".join(self.group())
        cells, depth, row, current = [], 0, [], []
        while self.at < len(self.tokens):
            token = self.next()
            if token == "\\begin":
                depth += 1
            elif token == "\\end" and depth == 0:
                self.group()
                break
            elif token == "\\end":
                depth -= 1
            if depth == 0 and token in ("&", "\\\\"):
                row.append(current)
                current = []
                if token == "\\\\":
                    cells.append(row)
                    row = []
                continue
            current.append(token)
        cells.append(row + [current])
        columns = max(len(r) for r in cells)
        widths = [max((_Reader("".join(r[j])).width(level) for r in cells if j < len(r)), default=0.0)
                  for j in range(columns)]
        # cases: a brace in front; each column of a matrix or cases is 10 pt from the next
        return sum(widths) + 10.0 * (columns - 1) + (9.25 if environment == "cases" else 0.0)
