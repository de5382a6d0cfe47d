r"""Mathematics as plain Unicode text, for the terminal and JSON (the appendix typesets it instead).

Two sources reach a terminal line: words that carry inline LaTeX between dollars (names of
conditions, :math:`\mu'_t = \ldots`), and SymPy objects.  :func:`latex_text` reads the small LaTeX
the claims write (Greek letters, relations, arrows, ``\mathrm``, ``\frac``, ``\sqrt``, spacing,
sub- and superscripts) as text; :func:`expression` prints SymPy in its usual syntax with Greek names
as letters::

    $\mu'_t = \mu_t \varepsilon_{t-1}/\varepsilon_t$  ->  μ'_t = μ_t ε_{t-1}/ε_t
    epsilon[t - 1]*mu[t]/epsilon[t]                   ->  ε[t - 1]*μ[t]/ε[t]

A sub- or superscript of one character loses its braces (``S_{1}`` -> ``S_1``); a longer one keeps
them (``\varepsilon_{t-1}`` -> ``ε_{t-1}``), which is how plain-text mathematics writes it.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.str import StrPrinter

_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
          "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")
_LOWER = dict(zip(_GREEK, "αβγδεζηθικλμνξοπρστυφχψω"))
_UPPER = {name.capitalize(): letter.upper() for name, letter in _LOWER.items()}
COMMANDS = {
    **_LOWER, **_UPPER, "varepsilon": "ε", "vartheta": "ϑ", "varphi": "φ", "varrho": "ϱ",
    "neq": "≠", "ne": "≠", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "approx": "≈", "equiv": "≡",
    "leftarrow": "←", "gets": "←", "rightarrow": "→", "to": "→", "Rightarrow": "⇒", "iff": "⇔",
    "cdot": "·", "times": "×", "pm": "±", "infty": "∞", "nabla": "∇", "partial": "∂", "in": "∈",
    "sum": "Σ", "prod": "Π", "ldots": "…", "dots": "…", "cdots": "⋯", "prime": "′",
    "quad": " ", "qquad": " ", "lvert": "|", "rvert": "|", "{": "{", "}": "}",
    "left": "", "right": "",
}
SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "!": ""}
TEXT_COMMANDS = ("mathrm", "text", "operatorname", "mathit", "mathbf", "textrm", "mathsf")


def latex_text(words: str) -> str:
    """``words`` with every ``$...$`` span read as plain text; the words outside are kept as written."""
    return re.sub(r"\$([^$]*)\$", lambda m: _math(m.group(1)), words)


def _math(tex: str) -> str:
    out, pos = [], 0
    while pos < len(tex):
        ch = tex[pos]
        if ch == "\\":
            text, pos = _command(tex, pos + 1)
            out.append(text)
        elif ch in "_^":
            body, pos = _argument(tex, pos + 1)
            out.append(ch + (body if len(body) == 1 else "{" + body + "}"))
        elif ch == "{":
            body, pos = _group(tex, pos)
            out.append(body)
        else:
            out.append(ch)
            pos += 1
    return re.sub(r"  +", " ", "".join(out))


def _command(tex: str, pos: int) -> tuple[str, int]:
    """The text of the command whose name starts at ``pos`` (after the backslash), and where it ends."""
    if pos < len(tex) and not tex[pos].isalpha():
        return SPACES.get(tex[pos], tex[pos]), pos + 1
    end = pos
    while end < len(tex) and tex[end].isalpha():
        end += 1
    name = tex[pos:end]
    if name in TEXT_COMMANDS:
        body, end = _argument(tex, end)
        return body, end
    if name == "frac":
        top, end = _argument(tex, end)
        bottom, end = _argument(tex, end)
        return f"{_wrapped(top)}/{_wrapped(bottom)}", end
    if name == "sqrt":
        body, end = _argument(tex, end)
        return "√" + _wrapped(body), end
    word = COMMANDS.get(name, name)
    if word == "∇":  # an operator: \nabla f reads ∇f
        while end < len(tex) and tex[end] == " ":
            end += 1
    return word, end


def _argument(tex: str, pos: int) -> tuple[str, int]:
    """One argument at ``pos``: a ``{group}``, a command, or a single character."""
    while pos < len(tex) and tex[pos] == " ":
        pos += 1
    if pos >= len(tex):
        return "", pos
    if tex[pos] == "{":
        return _group(tex, pos)
    if tex[pos] == "\\":
        return _command(tex, pos + 1)
    return tex[pos], pos + 1


def _group(tex: str, pos: int) -> tuple[str, int]:
    """The text of the braced group opening at ``pos``, and the position after its closing brace."""
    depth, end = 0, pos
    while end < len(tex):
        depth += {"{": 1, "}": -1}.get(tex[end], 0)
        if depth == 0:
            break
        end += 1
    return _math(tex[pos + 1:end]), end + 1


def _wrapped(text: str) -> str:
    return text if re.fullmatch(r"[\w.′']+", text) else f"({text})"


class _UnicodeStrPrinter(StrPrinter):
    """SymPy's ``str`` syntax, with a Greek name printed as its letter (``epsilon[t]`` -> ``ε[t]``)."""

    def _print_Symbol(self, expr) -> str:
        head = re.match(r"[A-Za-z]*", expr.name).group()  # beta_1, theta': the letters before _ or '
        greek = head in _LOWER or head in _UPPER or head == "varepsilon"
        return (COMMANDS[head] + expr.name[len(head):]) if greek else expr.name


def terminal(value) -> str:
    """Any claim text for a terminal line: a :class:`~derive.claims.evidence.Prose` is already plain
    (reading it again changes nothing); a plain ``str`` may still carry ``$...$`` LaTeX."""
    return latex_text(str(value))


def expression(expr) -> str:
    """``expr`` (a SymPy object) in SymPy's syntax with Greek names as letters."""
    return _UnicodeStrPrinter().doprint(expr)
