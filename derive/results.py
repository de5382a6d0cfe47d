"""The equivalence solver's records: a :class:`Proof`, a :class:`Residual` and the :class:`Location` of a condition.

:mod:`derive.equivalence` builds them; the claims, the renderers and :mod:`derive.testing` read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from derive.conditions import condition, covers, impose, substitute
from derive.symbols import t
from derive.witness import Witness


# Each condition of a change of variables: its plain name and its TeX, at step k (p = k - 1).
RELATIONS = {
    "initial": ("x'_0 = S_0 x_0", r"x'_{{0}} = S_{{0}} x_{{0}}"),
    "point": ("C'_{k} S_{p} = C_{k}", r"C'_{{{k}}} S_{{{p}}} = C_{{{k}}}"),
    "input": ("S_{k} B_{k} = B'_{k}", r"S_{{{k}}} B_{{{k}}} = B'_{{{k}}}"),
    "transition": ("A'_{k} S_{p} = S_{k} A_{k}", r"A'_{{{k}}} S_{{{p}}} = S_{{{k}}} A_{{{k}}}"),
    "params": ("c' S_{k} = c", r"c' S_{{{k}}} = c"),
}


class Location(str):
    """A condition's label (``step 2: A'_2 S_1 = S_2 A_2 [0,1]``) that also keeps what it names:
    ``relation`` (a key of :data:`RELATIONS`), ``step``, ``entry`` ``(row, column)`` and ``base_case``."""

    relation: str
    step: int
    entry: tuple[int, int]
    base_case: bool

    @classmethod
    def of(cls, relation: str, step: int, entry: tuple[int, int], base_case: bool = False) -> "Location":
        name = RELATIONS[relation][0].format(k=step, p=step - 1)
        text = f"{'base case, ' if base_case else ''}step {step}: {name} [{entry[0]},{entry[1]}]"
        obj = super().__new__(cls, text)
        obj.relation, obj.step, obj.entry, obj.base_case = relation, step, entry, base_case
        return obj

    def tex(self) -> str:
        """The condition as LaTeX, at its step."""
        return RELATIONS[self.relation][1].format(k=self.step, p=self.step - 1)

    def in_base_case(self) -> "Location":
        return Location.of(self.relation, self.step, self.entry, base_case=True)

    def __reduce__(self):
        return (Location.of, (self.relation, self.step, self.entry, self.base_case))


@dataclass(frozen=True)
class Proof:
    """A change of variables ``S`` (per step, and as a template in ``t`` when proved for all t)."""

    source: str
    target: str
    S: dict  # step (int) -> Matrix; key ``t`` holds the template
    rows: tuple[tuple[str, sp.Basic], ...]
    hyper: dict = field(default_factory=dict)  # solved hyperparameters (translation)

    holds = True

    def __bool__(self) -> bool:
        return True

    def params_map(self, step=t) -> sp.Expr:
        """The target's parameters as a function of the source's state at *step*."""
        S = self.S.get(step, self.S.get(t))
        return S.row(0) if S is not None else None


@dataclass(frozen=True)
class Residual:
    r"""Why no change of variables exists: the first non-vanishing condition, its solved form, and a witness.

    ``residual`` is the expression (at concrete steps) that must vanish; ``conditions``
    the relations that must then hold at every step, solved (:mod:`derive.conditions`:
    ``Eq(tau, 0)``, ``Eq(epsilon[t]*mu[t], epsilon[t - 1]*mu[t - 1])``);
    ``sufficient`` is True only when imposing them on both formulations and solving
    again gives a :class:`Proof` (computed on first use: it solves again), and
    ``alternatives`` says which solved factor does and which does not.  ``witness``
    is a :class:`~derive.witness.Witness` (two exact runs that differ), or None.
    """

    source: str
    target: str
    label: str
    residual: sp.Expr
    rows: tuple[tuple[str, sp.Basic], ...]
    witness: Witness | None
    conditions: tuple[sp.Basic, ...] = ()
    problem: tuple | None = field(default=None, repr=False, compare=False)  # (F, G, options) to solve again

    holds = False

    def __bool__(self) -> bool:
        return False

    @property
    def alternatives(self) -> tuple[tuple[sp.Basic, bool | None], ...]:
        """``(relation, sufficient alone)`` per solved factor; None when it cannot be imposed by substitution."""
        cached = self.__dict__.get("_alternatives")
        if cached is None:
            cached = tuple((a.relation, self._imposed(a.substitution)) for a in condition(self.residual)[1])
            object.__setattr__(self, "_alternatives", cached)
        return cached

    @property
    def sufficient(self) -> bool:
        """Whether the conditions are also sufficient: every alternative, imposed, gives a Proof, and together
        they are every solution (:func:`derive.conditions.covers`)."""
        if not self.conditions or self.problem is None:
            return False
        alternatives = condition(self.residual)[1]
        return covers(alternatives) and all(ok is True for _, ok in self.alternatives)

    def _imposed(self, substitution) -> bool | None:
        if not substitution or self.problem is None:
            return None
        F, G, options = self.problem
        options = dict(options)
        if options.get("substitution") is not None:  # a claimed S_t reads the same hyperparameters
            options["substitution"] = options["substitution"].applyfunc(lambda e: impose(e, substitution))
        from derive.equivalence import equivalence  # the solver; this module holds only its records
        from derive.errors import DeriveError

        try:
            imposed = substitute(F, substitution), substitute(G, substitution)
            return bool(equivalence(*imposed, **options))
        except (DeriveError, ZeroDivisionError):
            # the condition makes a formulation degenerate (beta = 1 in lr/(1 - beta): a division by
            # zero, no longer a linear system): it cannot be imposed by substitution, proves nothing
            return None

    def necessity(self) -> str:
        """``"necessary and sufficient"`` or ``"necessary, not sufficient: ..."`` in words."""
        if self.sufficient:
            return "necessary and sufficient"
        failing = [relation for relation, ok in self.alternatives if ok is False]
        if failing:
            shown = ", ".join(sp.sstr(r.lhs) + " = " + sp.sstr(r.rhs) for r in failing)
            return f"necessary, not sufficient: {shown} satisfies it and still leaves a residual"
        return "necessary; not shown sufficient"
