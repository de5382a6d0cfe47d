"""Judge every ordered pair of catalogue entries: who equals whom, and how (derive.equivalence_map).

Each entry is built with its default, symbolic hyperparameters.  A row says
whether the target follows the source (x'_t = S_t x_t, gradient at the same
point): identical, change of variables (under every schedule), translation
(a hyperparameter of the target replaced by a solved schedule), condition
(a restriction such as a constant lr), or never (the first residual).  Both
directions are judged: the relation is not symmetric.  Verdicts are cached
on disk like the claims' (--no-cache to bypass) and judged in worker
processes, one per core.

JSON (--format json), schema "sgd-derive/map" version 1: {"schema", "version",
"entries": [NAME...], "classes": [CLASS...], "pairs": [{"source", "target",
"class", "params_map", "S", "conditions", "restrictions", "translation",
"residual", "relations", "error"}...]}, pairs row by row in catalogue order.  Expressions
are strings in SymPy's syntax; "params_map" is "theta'[t] = ..." (null for
identical and never), "S" the matrix S_t as rows of strings, "conditions" the
restrictions in words, "restrictions" each as "lhs = rhs", "translation"
{"role", "schedule", "default"} or null, "residual" {"where", "expression"}
(the first residual with every hyperparameter free; null when a change of
variables exists), "relations" the residual's conditions when the solver
states them, "error" null or, when judging the pair raised, the exception in
one line (its "class" is then "error", not one of "classes"; the other pairs are
judged as usual), or, when a search ran past its time budget, the reason (its
"class" is then "undecided": never a guessed class).
"""

from __future__ import annotations

import json
from pathlib import Path

import sympy as sp

from derive import progress
from derive.errors import DeriveError

NAME = "map"
HELP = "classify every pair of catalogue entries (identical, change of variables, translation, condition, never)"
SCHEMA, VERSION = "sgd-derive/map", 1


def add_arguments(parser) -> None:
    parser.add_argument("--only", metavar="NAME,...", help="comma-separated catalogue names (default: all)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="table (text) or JSON")
    parser.add_argument("--out", metavar="FILE", help="write the table or JSON to FILE (atomically) instead of stdout")
    parser.add_argument("--figure", metavar="FILE.png", help="also write the matrix of classes as a PNG")
    progress.add_arguments(parser)


def selection(only: str | None) -> list[str]:
    """The names chosen by ``--only`` in catalogue order; an unknown name is refused in one line."""
    from derive.catalogue import names

    everything = names()
    if only is None:
        return everything
    chosen = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in everything]
    if unknown or not chosen:
        raise DeriveError(f"--only: unknown formulation {', '.join(repr(n) for n in unknown) or '(none given)'}; "
                          "`derive list` shows the catalogue")
    return [n for n in everything if n in chosen]


def _destination(path: str | None, option: str, suffix: str | None = None) -> Path | None:
    from derive.render.output import check_output_dir

    if path is None:
        return None
    target = Path(path)
    if suffix and target.suffix.lower() != suffix:
        raise DeriveError(f"{option} must name a {suffix} file, got {path!r}")
    if target.is_dir():
        raise DeriveError(f"{option} {path} is a directory; name a file")
    check_output_dir(target.parent if str(target.parent) else Path("."), option)
    return target


def _text(expr) -> str | None:
    if expr is None:
        return None
    if isinstance(expr, tuple):
        return " = ".join(sp.sstr(e) for e in expr)
    if isinstance(expr, sp.Equality):
        return f"{sp.sstr(expr.lhs)} = {sp.sstr(expr.rhs)}"
    return sp.sstr(expr)


def record(v) -> dict:
    """One pair as JSON (the schema in this module's text)."""
    return {
        "source": v.source, "target": v.target, "class": v.kind,
        "params_map": _text(v.params_map),
        "S": None if v.S is None else [[sp.sstr(e) for e in row] for row in v.S.tolist()],
        "conditions": list(v.conditions),
        "restrictions": [_text(tuple(r[1:])) for r in v.restrictions],
        "translation": None if v.translation is None else dict(zip(("role", "schedule", "default"),
                                                                   [v.translation[0], *map(sp.sstr, v.translation[1:])])),
        "residual": None if v.residual is None else {"where": v.residual[0], "expression": sp.sstr(v.residual[1])},
        "relations": [_text(r) for r in v.relations],
        "error": v.error,
    }


def document(verdicts: dict, chosen: list[str]) -> dict:
    from derive.equivalence_map import CLASSES

    return {"schema": SCHEMA, "version": VERSION, "entries": chosen, "classes": list(CLASSES),
            "pairs": [record(v) for v in verdicts.values()]}


def table(verdicts: dict) -> str:
    """``source | target | class | detail``, one line per ordered pair."""
    rows = [(v.source, v.target, v.kind, v.detail()) for v in verdicts.values()]
    widths = [max(len(r[n]) for r in rows + [("source", "target", "class", "")]) for n in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(("source", "target", "class"), widths)) + " | detail"]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + f" | {r[3]}" for r in rows]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from derive.equivalence_map import judge_map, pairs
    from derive.render.output import write_atomically

    chosen = selection(args.only)  # every check before any judging
    out = _destination(args.out, "--out")
    figure = _destination(args.figure, "--figure", ".png")
    if figure is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise DeriveError("--figure needs matplotlib (pip install matplotlib)") from None
    bar = progress.bar(len(pairs(chosen)), "judging pairs", quiet=args.quiet, unit="pair")
    try:
        verdicts = judge_map(chosen, cache=not args.no_cache, progress=bar)
    finally:
        bar.close()
    text = (json.dumps(document(verdicts, chosen), indent=2, ensure_ascii=False) + "\n"
            if args.format == "json" else table(verdicts))
    if figure is not None:
        from derive.render.map_figure import png

        write_atomically(figure.parent, {figure.name: png(verdicts, chosen)})
    if out is None:
        print(text, end="")
    else:
        write_atomically(out.parent, {out.name: text.encode("utf-8")})
    return 0
