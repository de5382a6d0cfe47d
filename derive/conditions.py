r"""A residual's condition as SymPy relations, and whether it is sufficient, checked by substitution.

The solver's residual :math:`r` (an expression at concrete steps that must vanish
for any change of variables to exist) is first written at the latest step
:math:`t` (``epsilon[2] -> epsilon[t]``), then factored.  Factors that cannot
vanish are dropped: numbers, positive symbols, and a schedule value or constant of
a role whose ``vanishes`` is false in :data:`derive.symbols.ROLES` (a zero learning
rate is not an optimizer).  What remains is the **necessary** condition
:math:`\prod_i r_i = 0` at every step; each factor is *solved* into its simplest form:

* a constant: :math:`\tau - 1 = 0` becomes :math:`\tau = 1`;
* a difference of one expression at two steps: :math:`\varepsilon_{t-1}\mu_{t-1} -
  \varepsilon_t\mu_t = 0` becomes :math:`\varepsilon_t\mu_t = \varepsilon_{t-1}\mu_{t-1}`
  (the product is constant);
* a schedule value: :math:`\mu_t = 0`.

Each solved factor is an *alternative*.  It is substituted back into both
formulations (a constant replaced, a schedule made constant, ``mu[k] -> kappa/epsilon[k]``
for a constant product) and the equivalence is solved again: an alternative is
sufficient when that gives a :class:`~derive.equivalence.Proof`.  The condition is
**necessary and sufficient** only when every alternative is, and the alternatives
cover its solutions: one factor, or factors of constants only (a schedule factor
may vanish at some steps and another at others, which no single substitution
checks).  Otherwise it is only necessary; an alternative that satisfies the
condition and still leaves a residual (:math:`\tau = 1` in ``tau*(tau - 1) = 0`` when a later step
fails there) is the proof of that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from derive.formulation import Assign, Formulation
from derive.symbols import ROLES, t

# The constant a product of schedules is held at, when a condition says it is constant.
KAPPA = sp.Symbol("kappa", positive=True)
_ROLE_OF_NAME = {str(getattr(r.symbol, "label", r.symbol)): r for r in ROLES.values()}


@dataclass(frozen=True)
class Alternative:
    """One solved factor of a condition: the relation and the substitution that imposes it on a formulation."""

    relation: sp.Basic  # a SymPy relation, e.g. Eq(tau, 1)
    substitution: tuple  # ((symbol or IndexedBase, value or template in t), ...); () when it cannot be imposed


def template(expr: sp.Expr) -> sp.Expr:
    """A residual at concrete steps rewritten at the latest step ``t`` (``eps[2] -> eps[t]``)."""
    expr = sp.sympify(expr)
    indices = [a.indices[0] for a in expr.atoms(sp.Indexed) if a.indices[0].is_Integer]
    if not indices:
        return expr
    top = max(indices)
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.indices[0].is_Integer,
                        lambda e: e.base[t + e.indices[0] - top])


def _never_zero(factor: sp.Expr) -> bool:
    """A number, a positive symbol, or one value of a role that may not vanish (and its powers)."""
    if factor.is_number:
        return factor != 0
    base = factor.base if factor.is_Pow and factor.exp.is_positive else factor
    if isinstance(base, sp.Symbol):
        role = _ROLE_OF_NAME.get(base.name)
        return bool(base.is_positive) or (role is not None and not role.vanishes)
    if isinstance(base, sp.Indexed):
        role = _ROLE_OF_NAME.get(str(base.base.label))
        return role is not None and not role.vanishes
    return False


def _positive_lead(expr: sp.Expr) -> sp.Expr:
    """``= 0`` has no sign: read it without a leading minus."""
    return -expr if expr.could_extract_minus_sign() else expr


def factors(residual: sp.Expr) -> list[sp.Expr]:
    """The factors of the residual (written at ``t``) that can vanish, each once, in SymPy's order."""
    _, pairs = sp.factor_list(sp.factor(template(residual)))
    return [_positive_lead(f) for f, _ in pairs if not _never_zero(f)]


def _latest(expr: sp.Expr) -> list[sp.Indexed]:
    return sorted((a for a in expr.atoms(sp.Indexed) if a.indices[0] == t), key=sp.default_sort_key)


def solve_factor(factor: sp.Expr) -> Alternative:
    """``factor = 0`` in its simplest form, with the substitution that imposes it (empty when none does)."""
    indexed = factor.atoms(sp.Indexed)
    if not indexed:
        constants = sorted(factor.free_symbols, key=lambda s: (_order(s.name), s.name))
        for symbol in constants:
            roots = sp.solve(factor, symbol)
            if len(roots) == 1 and not roots[0].has(symbol):
                return Alternative(sp.Eq(symbol, roots[0]), ((symbol, roots[0]),))
        return Alternative(sp.Eq(factor, 0), ())
    if isinstance(factor, sp.Indexed):  # a schedule that vanishes
        return Alternative(sp.Eq(factor, 0), ((factor.base, sp.S.Zero),))
    expanded = sp.expand(factor)
    now = sp.Add(*[term for term in sp.Add.make_args(expanded) if _latest(term)])  # the terms at step t
    change = sp.expand(now - now.subs(t, t - 1))
    if now != 0 and sp.expand(expanded - change) * sp.expand(expanded + change) == 0:  # factor = ±(X_t - X_{t-1})
        now = _positive_lead(now)
        relation = sp.Eq(now, now.subs(t, t - 1))  # "now" is the same at every step: a constant
        atoms = _latest(now)
        if len(atoms) == 1 and now == atoms[0]:
            base = atoms[0].base
            role = _ROLE_OF_NAME.get(str(base.label))
            held = role.constant if role else sp.Symbol(str(base.label), positive=True)
            return Alternative(relation, ((base, held),))
        for atom in reversed(atoms):  # the last role first (momentum before lr): solve now = kappa for it
            roots = sp.solve(sp.Eq(now, KAPPA), atom)
            if len(roots) == 1 and not roots[0].has(atom.base):
                return Alternative(relation, ((atom.base, roots[0].subs(atom.indices[0], t)),))
        return Alternative(relation, ())
    return Alternative(sp.Eq(factor, 0), ())


def _order(name: str) -> int:
    names = list(_ROLE_OF_NAME)
    return names.index(name) if name in names else len(names)


def condition(residual: sp.Expr) -> tuple[tuple[sp.Basic, ...], tuple[Alternative, ...]]:
    """The necessary condition (relations that must hold at every step) and its alternatives.

    Returns ``((relation,), alternatives)``: one relation, ``Eq(product of factors, 0)`` or, for one
    factor, that factor solved; an empty tuple when nothing can vanish (no non-degenerate values help).
    """
    parts = factors(residual)
    if not parts:
        return (), ()
    alternatives = tuple(solve_factor(f) for f in parts)
    if len(alternatives) == 1:
        return (alternatives[0].relation,), alternatives
    return (sp.Eq(sp.Mul(*parts), 0),), alternatives


def covers(alternatives) -> bool:
    """Whether checking each alternative alone checks every solution: one alternative, or constants only."""
    return len(alternatives) == 1 or not any(a.relation.atoms(sp.Indexed) for a in alternatives)


# -- imposing a condition on a formulation ------------------------------------------------------
def impose(expr, substitution):
    """*expr* with the ``(symbol or base, value)`` pairs imposed (a schedule's value a template in ``t``)."""
    expr = sp.sympify(expr)
    for key, value in substitution:
        if isinstance(key, sp.IndexedBase):
            expr = expr.replace(lambda e, key=key: isinstance(e, sp.Indexed) and e.base == key,
                                lambda e, value=value: sp.sympify(value).subs(t, e.indices[0]))
        else:
            expr = expr.xreplace({key: value})
    return expr


def substitute(f: Formulation, substitution) -> Formulation:
    """*f* with ``(symbol, value)`` pairs imposed: a symbol replaced, a schedule ``base[k] -> value(t=k)``."""
    substitution = tuple(substitution.items()) if isinstance(substitution, dict) else tuple(substitution)
    if not substitution:
        return f
    update = tuple(Assign(a.target, impose(a.value, substitution),
                          None if a.first is None else impose(a.first, substitution)) for a in f.update)
    return replace(f, update=update, grad_at=impose(f.grad_at, substitution),
                   init={s: impose(v, substitution) for s, v in f.init.items()},
                   hyper={role: impose(v, substitution) for role, v in f.hyper.items()})


def role_substitution(f: Formulation, under: dict) -> tuple:
    """``under`` (keys: role names, symbols or schedule bases; values: exact numbers or expressions) as the
    pairs :func:`substitute` imposes on *f*; a role *f* does not have is skipped."""
    from derive.hyperparameters import exact

    pairs = []
    for key, value in under.items():
        value = exact(value, str(key)) if not isinstance(value, sp.Basic) else value
        if isinstance(key, str):
            expr = sp.sympify(f.hyper.get(key, 0))
            targets = {a.base for a in expr.atoms(sp.Indexed)} or \
                {s for s in expr.free_symbols if isinstance(s, sp.Symbol) and s != t}
            pairs += [(target, value) for target in sorted(targets, key=sp.default_sort_key)]
        else:
            pairs.append((key, value))
    return tuple(pairs)
