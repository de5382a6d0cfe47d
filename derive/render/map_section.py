r"""The map as an appendix section: the matrix of classes (a figure) and every related pair (a table).

Printed from the :class:`~derive.equivalence_map.PairVerdict` objects that
:func:`derive.equivalence_map.judge_map` returns (cached, judged in forked
workers): the parameters map, the translated schedule and the conditions are the
SymPy objects that were proved.  Pairs classed ``never`` are counted, not listed
(``python -m derive map`` prints each with its first residual).
"""

from __future__ import annotations

import sympy as sp

from derive.render.document import Figure, Section, Table, math, text

FIGURE = "map.png"


def detail(v) -> tuple:
    """The table's last cell: the map, the translation or the conditions, as text and mathematics."""
    if v.kind == "identical":
        return ("the same program, state renamed in order",)
    if v.error is not None:
        return (v.detail(),)
    if v.params_map is None:
        mapped = ()
    elif v.same_parameters():
        mapped = ("the same parameters",)
    else:  # the target's parameters in the source's state
        mapped = (math(sp.Eq(*v.params_map, evaluate=False)),)
    if v.kind == "change of variables":
        return mapped + (" under every schedule",)
    if v.kind == "translation":
        role, schedule, default = v.translation
        return (f"{role} ", math(schedule), " instead of ", math(default), "; ") + mapped
    conditions: list = []
    for words, lhs, rhs in v.restrictions:
        conditions += ([", "] if conditions else []) + [math(sp.Eq(lhs, rhs, evaluate=False))]
    return ("if ", *conditions, ": ") + mapped


def sections(formulation_names, chosen, *, cache: bool = True) -> list[Section]:
    """The map over the formulations chosen (every ordered pair), when ``map`` is among *chosen*."""
    if "map" not in chosen or not formulation_names:
        return []
    from derive.equivalence_map import judge_map
    from derive.render.map_figure import png

    names = list(formulation_names)
    verdicts = judge_map(names, cache=cache)
    related = [v for v in verdicts.values() if v.source != v.target and v.kind != "never"]
    never = sum(v.kind == "never" for v in verdicts.values())
    blocks = (
        text("Every ordered pair of the formulations above, each built with its default, symbolic "
             "hyperparameters, judged by the change-of-variables solver (python -m derive map). The target "
             "follows the source when some $x'_t = S_t x_t$ maps the source's trajectory onto the target's, the gradient taken at the same point, for every "
             "objective. Both directions are judged: the relation is not symmetric. The classes, strongest "
             "first: identical programs; a change of variables under every schedule; a translation (one "
             "hyperparameter of the target replaced by a schedule the solver finds); a condition (a restriction "
             "such as a constant learning rate, sufficient and proved); never."),
        Figure(FIGURE, png(verdicts, names), "Row: source; column: target (it follows the source)."),
        Table(("source", "target", "class", "how"),
              tuple(((v.source,), (v.target,), (v.kind,), detail(v)) for v in related),
              f"The related pairs; {never} of the {len(verdicts)} ordered pairs are never related "
              "(python -m derive map prints each first residual).", (0.22, 0.22, 0.14, 0.42)),
    )
    return [Section("Who equals whom: the map", "map", blocks)]
