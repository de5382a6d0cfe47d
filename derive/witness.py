"""Concrete witnesses: two formulations run in exact rationals on a quadratic, and where they differ.

A refutation is never only a residual: :func:`witness` runs both programs
(:meth:`~derive.formulation.Formulation.step`, nothing retyped) on
:math:`f(\\theta) = h\\theta^2/2 - q\\theta` with small rational hyperparameters and
reports the first step at which the claimed relation is not zero, with both values.
Every input is a SymPy Rational, so each value is an exact Rational as computed:
no ``nsimplify`` (a float search) is needed to recover it.
"""

from __future__ import annotations

import sympy as sp

from derive.formulation import Formulation
from derive.symbols import t

# Exact values used for witnesses: a schedule that is not constant, nothing degenerate.
WITNESS_SCHEDULES = {
    "lr": (sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 8), sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(1, 4)),
    "momentum": (sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 2), sp.Rational(3, 4)),
    "dampening": sp.Rational(1, 2),
    "weight_decay": sp.Rational(1, 4),
}
WITNESS_OBJECTIVE = {"h": sp.Rational(3, 2), "q": sp.Rational(1), "theta0": sp.Rational(2)}
# The target formulation's parameters inside a relation (its bases may share F's names).
TARGET = sp.IndexedBase("target", real=True)


# -- witnesses --------------------------------------------------------------------------------
def hyper_values(f: Formulation, step: int, values: dict | None = None) -> dict:
    """Exact numbers for every hyperparameter symbol of *f* that steps 1..step+1 read."""
    values = {**WITNESS_SCHEDULES, **(values or {})}
    out = {}
    for role, expr in f.hyper.items():
        expr = sp.sympify(expr)
        spec = values.get(role)
        for atom in expr.atoms(sp.Indexed):
            seq = values.get(atom.base, spec)
            for k in range(1, step + 3):
                out[atom.base[k]] = seq[(k - 1) % len(seq)] if isinstance(seq, (tuple, list)) else seq
        for sym in expr.free_symbols:
            labels = {a.base.label for a in expr.atoms(sp.Indexed)}
            if isinstance(sym, sp.Symbol) and sym != t and not sym.is_integer and sym not in labels:
                val = values.get(sym, spec)
                out[sym] = val[0] if isinstance(val, (tuple, list)) else val
    return out


def exact_trajectory(f: Formulation, steps: int, *, values: dict | None = None,
                     objective: dict | None = None) -> list[dict]:
    """Run *f* in exact rationals on ``f(θ) = hθ²/2 - qθ``; state after each step.

    The engine (:func:`derive.numeric.run`) steps *f*'s linear system, read off its
    program, with the witness values bound by entry (``epsilon[3]``); an entry without a value
    (``epsilon[0]``, which only a zero initial state reads) stays a symbol.
    """
    from derive.numeric import run
    from derive.unroll import Quadratic

    obj = dict(WITNESS_OBJECTIVE, **(objective or {}))
    initial = dict(f.initial_state())
    initial[f.params] = obj["theta0"]
    trajectory = run(f, hyper_values(f, steps, values), steps, objective=Quadratic(obj["h"], obj["q"]),
                     initial=initial, exact=True, symbolic=True)
    return [trajectory.state(k) for k in range(steps + 1)]


def witness(F, G, relation, *, steps=5, values=None, objective=None) -> dict | None:
    """The first step at which *relation* (zero if the claim held) is non-zero, with both values."""
    xs = exact_trajectory(F, steps, values=values, objective=objective)
    ys = exact_trajectory(G, steps, values=values, objective=objective)
    for k in range(steps + 1):
        known = {s[k]: xs[k][s] for s in F.state}
        known[TARGET[k]] = ys[k][G.params]
        rel = relation.subs(t, k)
        rel = rel.xreplace(known).xreplace(hyper_values(F, steps, values)).xreplace(hyper_values(G, steps, values))
        if rel.free_symbols:
            continue
        if rel != 0:
            claimed = ys[k][G.params] - rel
            hv = {**hyper_values(F, k, values), **hyper_values(G, k, values)}
            return {
                "source": F.name,
                "target": G.name,
                "step": k,
                "objective": "f(θ) = h θ²/2 − q θ",
                **{key: str(v) for key, v in dict(WITNESS_OBJECTIVE, **(objective or {})).items()},
                "hyperparameters": {str(s): str(v) for s, v in sorted(hv.items(), key=lambda kv: sp.default_sort_key(kv[0]))
                                    if not (isinstance(s, sp.Indexed) and s.indices[0] > k + 1)},
                G.name: str(ys[k][G.params]),
                "claimed": str(claimed),  # what the claim predicts for the target, from the source's run
                "difference": str(rel),
            }
    return None
