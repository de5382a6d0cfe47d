r"""Concrete witnesses: two formulations run in exact rationals on a quadratic, and where they differ.

A refutation is never only a residual: :func:`witness` runs both programs
(:meth:`~derive.formulation.Formulation.step`, nothing retyped) on
:math:`f(\theta) = h\theta^2/2 - q\theta` with small rational hyperparameters and
reports the first step at which the claimed relation is not zero, with both values.
Every input is a SymPy Rational, so each value is an exact Rational as computed:
no ``nsimplify`` (a float search) is needed to recover it.

The hyperparameter values are bound **per symbol**, once for both runs: a symbol
that fills two roles, or appears in both formulations, gets one value.  A role of
the table (:data:`derive.symbols.ROLES`) gets the table's witness value; any other
(QHM's :math:`\nu`, a momentum called :math:`\beta`) gets a value from
:data:`derive.symbols.EXTRA_CONSTANTS` (a schedule: :data:`~derive.symbols.EXTRA_SCHEDULES`),
in the order of the symbols' names, so the choice is deterministic and no two extra
symbols share a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from derive.formulation import Formulation
from derive.symbols import EXTRA_CONSTANTS, EXTRA_SCHEDULES, ROLES, hyperparameter_symbols, t

WITNESS_OBJECTIVE = {"h": sp.Rational(3, 2), "q": sp.Rational(1), "theta0": sp.Rational(2)}
# The target formulation's parameters inside a relation (its bases may share F's names).
TARGET = sp.IndexedBase("target", real=True)
# The coordinate the witness objective is written in.
THETA = sp.Symbol("theta", real=True)


@dataclass(frozen=True)
class Witness:
    r"""Two runs that differ: *target*'s parameters at *step* and what the claim predicts from *source*'s run.

    Args (fields):
        source, target: the two formulations' names.
        step: the first step at which the relation is not zero.
        objective: :math:`h\theta^2/2 - q\theta` as an expression in ``theta``; ``theta0`` the start.
        hyperparameters: every hyperparameter symbol (``tau``) or schedule value
            (``epsilon[2]``) both runs read up to *step*, each an exact Rational.
        value: the target's parameters at *step*; ``claimed``: the value the claim
            predicts from the source's run; ``difference``: ``value - claimed``.
    """

    source: str
    target: str
    step: int
    objective: sp.Expr
    theta0: sp.Rational
    hyperparameters: dict = field(hash=False)
    value: sp.Rational
    claimed: sp.Rational
    difference: sp.Rational

    def as_dict(self) -> dict:
        """Plain JSON types (every number an exact fraction as text): for ``claims --json`` and reports."""
        return {
            "source": self.source,
            "target": self.target,
            "step": self.step,
            "objective": f"f(theta) = {sp.sstr(self.objective)}",
            "theta0": str(self.theta0),
            "hyperparameters": {sp.sstr(s): str(v) for s, v in self.hyperparameters.items()},
            "value": str(self.value),
            "claimed": str(self.claimed),
            "difference": str(self.difference),
        }

    to_json = as_dict


# -- hyperparameter values --------------------------------------------------------------------
def _exact(value):
    """A value as an exact SymPy number (a float through its shortest repr, as everywhere in derive)."""
    if isinstance(value, sp.Basic):
        return value
    return sp.Rational(repr(value)) if isinstance(value, float) else sp.Rational(value)


def _role_order(role: str) -> tuple:
    """Table roles first, in the table's order, then the others by name: which role a shared symbol reads."""
    names = list(ROLES)
    return (names.index(role), "") if role in ROLES else (len(names), role)


def assign_values(*formulations: Formulation, values: dict | None = None) -> dict:
    """One exact value (or schedule tuple) per hyperparameter symbol of all *formulations* together.

    *values* overrides by role name or by symbol/base.  A symbol keeps one value however many roles or
    formulations it appears in (the first of its roles in the table's order decides), whatever the order
    of *formulations*; symbols of roles the table lacks get the extra values in name order.
    """
    values = values or {}
    roles: dict = {}
    for f in formulations:
        for role, expr in f.hyper.items():
            for symbol in hyperparameter_symbols(expr):
                roles.setdefault(symbol, set()).add(role)
    out, extra = {}, []
    for symbol in sorted(roles, key=sp.default_sort_key):
        ordered = sorted(roles[symbol], key=_role_order)
        given = next((values[k] for k in (symbol, *ordered) if k in values), None)
        table = next((ROLES[r].witness for r in ordered if r in ROLES), None)
        value = given if given is not None else table
        if value is None:
            extra.append(symbol)
        else:
            out[symbol] = tuple(map(_exact, value)) if isinstance(value, (tuple, list)) else _exact(value)
    for n, symbol in enumerate(sorted(extra, key=lambda s: str(getattr(s, "label", s)))):
        pool = EXTRA_SCHEDULES if isinstance(symbol, sp.IndexedBase) else EXTRA_CONSTANTS
        out[symbol] = pool[n % len(pool)]
    return out


def hyper_values(f: Formulation, step: int, values: dict | None = None, *, among=()) -> dict:
    """Exact numbers for every hyperparameter symbol of *f* that steps 1..step+2 read.

    *among*: other formulations whose symbols share the assignment (a witness passes both runs).
    """
    assigned = assign_values(f, *among, values=values)
    out = {}
    for symbol in {s for expr in f.hyper.values() for s in hyperparameter_symbols(expr)}:
        value = assigned[symbol]
        if isinstance(symbol, sp.IndexedBase):
            seq = value if isinstance(value, tuple) else (value,)
            for k in range(1, step + 3):
                out[symbol[k]] = seq[(k - 1) % len(seq)]
        else:
            out[symbol] = value[0] if isinstance(value, tuple) else value
    return out


def exact_trajectory(f: Formulation, steps: int, *, values: dict | None = None,
                     objective: dict | None = None, among=()) -> list[dict]:
    """Run *f* in exact rationals on ``f(θ) = hθ²/2 - qθ``; state after each step.

    The engine (:func:`derive.numeric.run`) steps *f*'s linear system, read off its
    program, with the witness values bound by entry (``epsilon[3]``; a symbol shared with the
    formulations in *among* gets one value in all of them); an entry without a value
    (``epsilon[0]``, which only a zero initial state reads) stays a symbol.
    """
    from derive.numeric import run
    from derive.unroll import Quadratic

    obj = dict(WITNESS_OBJECTIVE, **(objective or {}))
    # an initial value may be the parameters' own (theta_{-1} = theta_0): bind it too
    initial = {s: sp.sympify(value).xreplace({f.params[0]: obj["theta0"]}) for s, value in f.initial_state().items()}
    initial[f.params] = obj["theta0"]
    trajectory = run(f, hyper_values(f, steps, values, among=among), steps, objective=Quadratic(obj["h"], obj["q"]),
                     initial=initial, exact=True, symbolic=True)
    return [trajectory.state(k) for k in range(steps + 1)]


def witness(F, G, relation, *, steps=5, values=None, objective=None) -> Witness | None:
    """The first step at which *relation* (zero if the claim held) is non-zero, with both values."""
    xs = exact_trajectory(F, steps, values=values, objective=objective, among=(G,))
    ys = exact_trajectory(G, steps, values=values, objective=objective, among=(F,))
    numbers = {**hyper_values(F, steps, values, among=(G,)), **hyper_values(G, steps, values, among=(F,))}
    obj = dict(WITNESS_OBJECTIVE, **(objective or {}))
    for k in range(steps + 1):
        known = {s[k]: xs[k][s] for s in F.state}
        known[TARGET[k]] = ys[k][G.params]
        rel = relation.subs(t, k).xreplace(known).xreplace(numbers)
        if rel.free_symbols:
            continue
        if rel != 0:
            used = (relation.subs(t, k).atoms(sp.Indexed, sp.Symbol) | _read_up_to(F, k) | _read_up_to(G, k))
            hv = {s: v for s, v in numbers.items() if s in used}
            return Witness(F.name, G.name, k, obj["h"] * THETA**2 / 2 - obj["q"] * THETA, obj["theta0"],
                           dict(sorted(hv.items(), key=lambda kv: sp.default_sort_key(kv[0]))),
                           ys[k][G.params], ys[k][G.params] - rel, rel)
    return None


def _read_up_to(f: Formulation, step: int) -> set:
    """The hyperparameter symbols and schedule values *f*'s steps 1..step read (gradient point included)."""
    read = set()
    for k in range(1, step + 1):
        for assign in f.update:
            read |= assign.value_at(k).atoms(sp.Indexed, sp.Symbol)
        read |= f.grad_at.subs(t, k).atoms(sp.Indexed, sp.Symbol)
    return read
