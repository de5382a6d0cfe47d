r"""The velocity convention a formulation is shown in: the paper's or PyTorch's.

The mathematics is :mod:`derive.convention`: the program rewritten under
:math:`v_t = -\varepsilon_t b_t` and proved equivalent by the solver of
:mod:`derive.equivalence`.  Here it becomes rows: the change of variables (the
proof's :math:`S_t`, new velocity's row), the gradient point, then each
assignment of the rewritten program (the first step as a case).
"""

from __future__ import annotations

from derive.convention import CONVENTIONS, describe, in_convention, placement  # noqa: F401  (re-exported)
from derive.formulation import Formulation
from derive.render.derivation import Cases, Row
from derive.symbols import g, grad_f, t


def convert(f: Formulation, convention: str):
    """The update rows of *f* in *convention*, or None when *f* is already in it (or has no velocity)."""
    converted = in_convention(f, convention)
    if converted is None:
        return None
    h, w = converted.formulation, converted.new
    rows = [Row(w[t], converted.definition(), "change of variables"),
            Row(g[t], grad_f(h.grad_at), "gradient point")]
    for assign in h.update:
        if assign.first is not None:
            rhs = Cases(((assign.first, "t = 1"), (assign.value, r"t \geq 2")))
        else:
            rhs = assign.value
        label = "state" if assign.base in h.state else "intermediate"
        rows.append(Row(assign.target, rhs, label))
    return tuple(rows)
