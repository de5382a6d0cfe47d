r"""Equivalence of two formulations by a per-step change of variables.

Formulation :math:`F` (state :math:`x`) and :math:`G` (state :math:`x'`) are
linear systems :math:`x_t = A_t x_{t-1} + B_t g_t` with the gradient taken at
:math:`C_t x_{t-1}` (:mod:`derive.system`).  :math:`G` follows :math:`F` under
:math:`x'_t = S_t x_t` for every gradient sequence, with both gradients taken
at the same point (so for every objective), exactly when

.. math::
    A'_t S_{t-1} = S_t A_t, \qquad B'_t = S_t B_t, \qquad C'_t S_{t-1} = C_t,
    \qquad x'_0 = S_0 x_0,

each imposed on the states the trajectory can reach (:math:`x_0` at step 1:
``v_0 = 0`` and PyTorch's first-gradient buffer live there).  All conditions are
linear in the entries of the :math:`S_k`; they are solved step by step by exact
elimination over the rational functions of the hyperparameters.  An equation
that reduces to a non-zero expression free of unknowns is the **residual**: no
change of variables of any form exists unless it vanishes.  A concrete
**witness** (exact rationals, a quadratic objective) then shows two differing
values, computed by running both programs.

For a symbolic horizon the solution at a middle step is lifted to a template
in :math:`t` and the conditions are re-proved at :math:`t` and :math:`t-1`
(induction; the base case is the concrete step 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from derive import arguments
from derive.conditions import condition, role_substitution, substitute
from derive.elimination import eliminate
from derive.results import Location, Proof, Residual  # noqa: F401  (the solver's records, imported from here too)
from derive.formulation import Formulation
from derive.system import linear_system
from derive.symbols import constant_of, g, t
from derive.witness import TARGET, witness

def _initial(f: Formulation, params0: sp.Expr) -> sp.Matrix:
    # an initial value may be the parameters' own (heavy ball starts at rest: theta_{-1} = theta_0)
    x0 = {s: sp.sympify(value).xreplace({f.params[0]: params0}) for s, value in f.initial_state().items()}
    x0[f.params] = params0
    return sp.Matrix([x0[s] for s in f.state])


@lru_cache(maxsize=256)  # the same pair is solved at several horizons and by several claims
def reachable(f: Formulation, steps: int, params0: sp.Expr) -> tuple[sp.ImmutableMatrix, ...]:
    """``M_k``: x_k = M_k z with z = (theta_0, g_1..g_k); the states step k+1 can start from.

    By the recursion ``M_k = [A_k M_{k-1} | B_k]`` (entries expanded), which is the
    Jacobian of the expanded ``x_k`` without expanding in the gradients first.
    """
    system = linear_system(f)
    M = _initial(f, params0).jacobian([params0]).applyfunc(sp.expand)
    out = [sp.ImmutableMatrix(M)]
    for k in range(1, steps + 1):
        A, B, _ = system.at(k)
        M = (A * M).row_join(B).applyfunc(sp.expand)
        out.append(sp.ImmutableMatrix(M))
    return tuple(out)


def _unknowns(n: int, steps: int) -> list[sp.Matrix]:
    return [sp.Matrix(n, n, lambda r, c: sp.Symbol(f"s{k}_{r}{c}")) for k in range(steps + 1)]


def conditions(F: Formulation, G: Formulation, steps: int, S: list[sp.Matrix], *,
               same_params: bool = False) -> list[tuple[str, sp.Expr]]:
    """Every condition for ``x'_k = S_k x_k``, k = 0..steps, as (label, expression = 0)."""
    sF, sG = linear_system(F), linear_system(G)
    p0 = F.params[0]
    MF = reachable(F, steps, p0)
    eqs = []

    def add(relation, M, step=0):
        for r in range(M.rows):
            for c in range(M.cols):
                eqs.append((Location.of(relation, step, (r, c)), M[r, c]))

    add("initial", S[0] * _initial(F, p0) - _initial(G, p0))
    for k in range(1, steps + 1):
        AF, BF, CF = sF.at(k)
        AG, BG, CG = sG.at(k)
        M = MF[k - 1]
        add("point", (CG * S[k - 1] - CF) * M, k)
        add("input", S[k] * BF - BG, k)
        add("transition", (AG * S[k - 1] - S[k] * AF) * M, k)
        if same_params:
            add("params", (sG.c * S[k] - sF.c) * MF[k], k)
    return eqs


def _fill(S: list[sp.Matrix], sol: dict) -> list[sp.Matrix]:
    """Apply the solution; leftover free entries default to the identity's (keeps S invertible)."""
    out = []
    for M in S:
        M = M.xreplace(sol)
        free = {s for s in M.free_symbols if s.name.startswith("s") and "_" in s.name and s.name[1].isdigit()}
        default = {}
        for s in free:
            r, c = s.name.split("_")[1]
            default[s] = 1 if r == c else 0
        out.append(M.xreplace(default).applyfunc(sp.cancel))
    return out


def shift(expr, offset: int, base_step: int):
    """Rewrite concrete indices ``k`` as ``t + (k - base_step)``: lift a step to the template."""
    return sp.sympify(expr).replace(
        lambda e: isinstance(e, sp.Indexed) and e.indices[0].is_Integer,
        lambda e: e.base[t + (e.indices[0] - base_step) + offset])


def equivalence(F: Formulation, G: Formulation, *, steps: int = 4, same_params: bool = False,
                under: dict | None = None, substitution: sp.Matrix | None = None, symbolic: bool = True,
                relation: sp.Expr | None = None, values: dict | None = None) -> Proof | Residual:
    r"""Decide whether ``x'_t = S_t x_t`` maps F's trajectory onto G's for every objective.

    Args:
        F, G: the two formulations (:func:`derive.get` builds catalogue entries).
        steps: the concrete horizon solved step by step; from 3 on, the solution is
            lifted to a template in ``t`` and proved for every step by induction.
        same_params: require ``theta'_t = theta_t`` (the parameters themselves agree).
        under: assumptions imposed on both before solving, by role name, symbol or
            schedule base: ``{"lr": epsilon}`` (a constant rate), ``{"dampening": 0}``.
        substitution: a template ``S_t`` (in ``t``) to check instead of solving.
        symbolic: prove the template for every ``t`` (else the concrete steps only).
        relation: the expression (in F's state at ``t`` and ``TARGET[t]``, G's
            parameters) a witness evaluates; by default ``TARGET[t] - F.params[t]``
            or the claimed map.
        values: witness values by role or symbol (the rest from the role table).

    Returns:
        A :class:`Proof` (truthy: ``S`` per step and as a template) or a
        :class:`Residual` (falsy: the residual, its ``conditions`` as SymPy
        relations, ``sufficient``, and a :class:`~derive.witness.Witness`).
    """
    F, G = arguments.formulation(F, "F", "equivalence"), arguments.formulation(G, "G", "equivalence")
    steps = arguments.integer(steps, "steps", "equivalence", minimum=1)
    if under:
        if not isinstance(under, dict):
            raise arguments.InvalidArgument(f"equivalence: under must be a dict of role or symbol -> value, "
                                            f"got {type(under).__name__} {under!r}")
        F, G = substitute(F, role_substitution(F, under)), substitute(G, role_substitution(G, under))
    problem = (F, G, (("steps", steps), ("same_params", same_params), ("symbolic", symbolic),
                      ("substitution", substitution)))
    n, m = len(F.state), len(G.state)
    if substitution is not None:
        S = [substitution.subs(t, k) for k in range(steps + 1)]
    else:
        S = [sp.Matrix(m, n, lambda r, c: sp.Symbol(f"s{k}_{r}{c}")) for k in range(steps + 1)]
    unknowns = set().union(*(M.free_symbols for M in S)) if substitution is None else set()
    unknowns = {u for u in unknowns if u.name.startswith("s")}
    eqs = conditions(F, G, steps, S, same_params=same_params)
    sol, residuals = eliminate(eqs, unknowns)
    if relation is None:
        relation = _default_relation(F, G, substitution, same_params)
    if residuals:
        label, res = min(residuals, key=lambda lr: (sp.count_ops(lr[1]), lr[0]))
        rows = tuple((lab, r) for lab, r in residuals[:6])
        return Residual(F.name, G.name, label, res, rows,
                        witness(F, G, relation, steps=steps + 2, values=values), condition(res)[0], problem)
    S = _fill(S, sol)
    rows = [(f"S_{k}", M) for k, M in enumerate(S)]
    proof_S = {k: M for k, M in enumerate(S)}
    if symbolic and steps >= 3:
        template = substitution if substitution is not None else S[2].applyfunc(lambda e: shift(e, 0, 2))
        failed = template_conditions(F, G, template, same_params=same_params)
        # base case: the template's S_1 (with the solved S_0) satisfies steps 0 and 1
        base = [(label.in_base_case(), sp.factor(sp.cancel(e)))
                for label, e in conditions(F, G, 1, [S[0], template.subs(t, 1)], same_params=same_params)]
        failed = ([b for b in base if b[1] != 0] + failed[0], failed[1])
        rows += failed[1] + [("base case t = 1: conditions - 0", sp.Matrix([e for _, e in base]))]
        if failed[0]:
            label, res = failed[0][0]
            return Residual(F.name, G.name, label, res, tuple(rows),
                            witness(F, G, relation, steps=steps + 2, values=values), condition(res)[0], problem)
        proof_S[t] = template
    return Proof(F.name, G.name, proof_S, tuple(rows))


def _default_relation(F, G, substitution, same_params):
    if substitution is not None:
        return TARGET[t] - (substitution.row(list(G.state).index(G.params)) * sp.Matrix([s[t] for s in F.state]))[0]
    return TARGET[t] - F.params[t]


def template_conditions(F, G, S_t: sp.Matrix, *, same_params=False):
    """The step-t conditions with ``S_t`` and ``S_{t-1}`` from the template, simplified (t >= 2)."""
    sF, sG = linear_system(F), linear_system(G)
    S_prev = S_t.subs(t, t - 1)
    checks = [
        ("A'_t S_{t-1} - S_t A_t", sG.A * S_prev - S_t * sF.A),
        ("S_t B_t - B'_t", S_t * sF.B - sG.B),
        ("C'_t S_{t-1} - C_t", sG.C * S_prev - sF.C),
    ]
    if same_params:
        checks.append(("c' S_t - c", sG.c * S_t - sF.c))
    rows, failed = [("S_t", S_t)], []
    for label, M in checks:
        M = M.applyfunc(lambda e: sp.factor(sp.cancel(e)))
        rows.append((label, M))
        failed += [(f"{label} [{r},{c}]", M[r, c]) for r in range(M.rows) for c in range(M.cols) if M[r, c] != 0]
    return failed, rows


# -- hyperparameter translation ---------------------------------------------------------------
NU = sp.IndexedBase("nu", real=True)  # the schedule being solved for


@dataclass(frozen=True)
class Translation:
    """``role_t = schedule`` under which the target reproduces the source's parameters exactly."""

    source: str
    target: str
    role: str
    schedule: sp.Expr | None  # template in t (None: no schedule of the searched form)
    first: sp.Expr | None  # the value forced at step 1 (None: step 1 leaves it free)
    result: Proof | Residual
    rows: tuple[tuple[str, sp.Basic], ...]

    def __bool__(self) -> bool:
        return self.schedule is not None and bool(self.result)


def translation(F: Formulation, target: str, *, role: str = "momentum", steps: int = 4,
                same_params: bool = True, **options) -> Translation:
    r"""Solve for ``role_t`` (a schedule ``nu_t``) so that *target* reproduces F's parameters
    (or, with ``same_params=False``, F's trajectory under some change of variables).

    The unknowns are ``nu_1..nu_T`` and the entries of every ``S_k``; the
    conditions are bilinear and are eliminated step by step.  The value found at
    a middle step is lifted to a template in ``t`` and then proved for every
    ``t`` by :func:`equivalence` on the target built with that schedule.
    """
    F = arguments.formulation(F, "F", "translation")
    steps = arguments.integer(steps, "steps", "translation", minimum=1)
    from derive.catalogue import get

    G = get(target, **{role: NU[t]}, **options)
    n, m = len(F.state), len(G.state)
    S = [sp.Matrix(m, n, lambda r, c: sp.Symbol(f"s{k}_{r}{c}")) for k in range(steps + 1)]
    nus = [NU[k] for k in range(1, steps + 1)]
    unknowns = {u for M in S for u in M.free_symbols} | set(nus)
    sol, residuals = _eliminate_indexed(conditions(F, G, steps, S, same_params=same_params), unknowns)
    rows = tuple((f"{role}'_{k}", sp.cancel(sol.get(NU[k], NU[k]))) for k in range(1, steps + 1))
    if residuals:
        label, res = residuals[0]
        result = Residual(F.name, G.name, label, res, tuple(residuals[:6]), None, condition(res)[0])
        return Translation(F.name, G.name, role, None, None, result, rows)
    middle = min(3, steps - 1)
    schedule = shift(sp.cancel(sol[NU[middle]]), 0, middle)
    first = sol.get(NU[1])
    first = None if first is None else sp.cancel(first)
    first = None if first is None or NU[1] in sp.sympify(first).atoms(sp.Indexed) else first
    result = equivalence(F, get(target, **{role: schedule}, **options), same_params=same_params, steps=steps)
    return Translation(F.name, G.name, role, schedule if result else None, first, result,
                       rows + ((f"{role}'_t", schedule),) + result.rows)


def _eliminate_indexed(eqs, unknowns):
    """:func:`eliminate` with Indexed unknowns (``nu[k]``) swapped for plain symbols and back."""
    swap = {u: sp.Symbol(f"s_nu{u.indices[0]}") for u in unknowns if isinstance(u, sp.Indexed)}
    back = {v: k for k, v in swap.items()}
    plain = {swap.get(u, u) for u in unknowns}
    sol, residuals = eliminate([(lab, sp.sympify(e).xreplace(swap)) for lab, e in eqs], plain)
    sol = {back.get(k, k): v.xreplace(back) for k, v in sol.items()}
    return sol, [(lab, r.xreplace(back)) for lab, r in residuals]


# -- recovering PyTorch's "actual" parameters ------------------------------------------------
def recovery(*, constant: bool, steps: int = 4):
    r"""The map from torch's stored ``(θ', b)`` to the documented Nesterov iterate ``θ``.

    Solves ``pytorch_nesterov_documented -> pytorch_nesterov_implemented``; the
    inverse of the ``θ'`` row of ``S_t`` is the recovery map.  With constant
    ``ε, μ``: ``θ_t = θ'_t + εμ b_t``, exact at every step.  With schedules the
    solver returns the residual ``ε_{t+1}μ_{t+1} − ε_tμ_t``: the map
    ``θ_t = θ'_t + ε_{t+1}μ_{t+1} b_t`` (forced by the gradient point) is exact
    up to step ``t`` iff ``ε_kμ_k`` is constant for ``k ≤ t+1``.
    """
    from derive.catalogue import get

    options = {"lr": constant_of("lr"), "momentum": constant_of("momentum")} if constant else {}
    F, G = get("pytorch_nesterov_documented", **options), get("pytorch_nesterov_implemented", **options)
    return equivalence(F, G, steps=steps)


def inverse_params_map(proof: Proof, F: Formulation, G: Formulation, step=t) -> sp.Expr:
    """F's parameters in terms of G's state at *step* (``S_t^{-1}``, F's params row)."""
    S_inv = proof.S[step].inv().applyfunc(sp.cancel)
    row = S_inv.row(list(F.state).index(F.params))
    return sp.expand((row * sp.Matrix([s[step] for s in G.state]))[0])
