r"""The house symbols, shared by every formulation, renderer and check.

Time convention (as in ``docs/reference/formulations.md`` §0): step
:math:`t = 1, 2, \dots` turns the state :math:`x_{t-1}` into :math:`x_t`, using
the learning rate :math:`\varepsilon_t`, the momentum :math:`\mu_t` and the
gradient :math:`g_t`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

t = sp.Symbol("t", integer=True, positive=True)
T = sp.Symbol("T", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
i = sp.Symbol("i", integer=True, positive=True)

# Hyperparameters: schedules are IndexedBase (a constant is the special case); see ROLES below.
eps = sp.IndexedBase("epsilon", real=True)
mu = sp.IndexedBase("mu", real=True)
tau = sp.Symbol("tau", real=True)
lam = sp.Symbol("lambda", real=True)

# The raw minibatch gradient used at step t, and the objective's gradient.
g = sp.IndexedBase("g", real=True)
grad_f = sp.Function("nabla_f")

# State and intermediate variables used by the catalogue.
theta = sp.IndexedBase("theta", real=True)
theta_la = sp.IndexedBase("theta'", real=True)  # PyTorch's stored look-ahead iterate
Theta = sp.IndexedBase("Theta", real=True)  # Bengio et al.'s stored look-ahead iterate
v = sp.IndexedBase("v", real=True)  # lr-scaled velocity (paper placement)
b = sp.IndexedBase("b", real=True)  # unscaled buffer (PyTorch placement)
ghat = sp.IndexedBase("ghat", real=True)  # preprocessed gradient
d = sp.IndexedBase("d", real=True)  # search direction
theta_wd = sp.IndexedBase("thetatilde", real=True)  # after decoupled weight decay
Phi = sp.IndexedBase("Phi", real=True)  # the transition kernel Phi(T, k) = A_T ... A_{k+1}, entries named



@dataclass(frozen=True)
class Role:
    r"""One hyperparameter role: its symbol, how it prints, and the values a witness gives it.

    ``symbol`` is an ``IndexedBase`` for a schedule (``epsilon[t]``) or a ``Symbol``
    for a constant (``tau``); ``latex`` is its house name; ``witness`` the exact
    values a witness runs with (a tuple is a schedule, ``witness[0]`` at step 1);
    ``vanishes`` says whether a condition may ask for this role to be zero (a zero
    learning rate or momentum is another optimizer, so a factor of them is never
    a condition); ``constant`` is the positive symbol that stands for the
    schedule made constant.
    """

    name: str
    symbol: sp.Basic
    latex: str
    witness: object
    vanishes: bool

    @property
    def schedule(self) -> bool:
        return isinstance(self.symbol, sp.IndexedBase)

    @property
    def constant(self) -> sp.Symbol:
        """The role held constant: a positive symbol of the same name (so ``1/epsilon`` is defined)."""
        return sp.Symbol(str(self.symbol.label if self.schedule else self.symbol), positive=True)


_R = sp.Rational
# The one table of roles: every name, symbol, LaTeX name and witness value of a hyperparameter is read here.
ROLES: dict[str, Role] = {role.name: role for role in (
    Role("lr", eps, r"\varepsilon", (_R(1, 2), _R(1, 4), _R(1, 8), _R(1, 4), _R(1, 2), _R(1, 4)), vanishes=False),
    Role("momentum", mu, r"\mu", (_R(1, 2), _R(3, 4), _R(1, 2), _R(3, 4), _R(1, 2), _R(3, 4)), vanishes=False),
    Role("dampening", tau, r"\tau", _R(1, 2), vanishes=True),
    Role("weight_decay", lam, r"\lambda", _R(1, 4), vanishes=True),
)}
HYPERPARAMETER_ROLES = tuple(ROLES)
# Bases whose indexed values are schedules (a product prints them before the state): the table's;
# schedule_names() adds those the registered entries read (a plugin's alpha_t, an averaging c_t).
SCHEDULE_NAMES = frozenset(str(r.symbol.label) for r in ROLES.values() if r.schedule)


def schedule_names() -> frozenset[str]:
    """Every schedule base by name: the role table's, and each ``IndexedBase`` that an entry of the
    catalogue (a plugin's included) reads in a hyperparameter, built with its default options.

    So a user's schedule (QHM's :math:`\alpha_t` declared in a plugin) is a schedule wherever the
    table's :math:`\varepsilon_t` is: the house printer puts it before brackets and the state.
    Recomputed only when the catalogue changes.
    """
    from derive.catalogue import CATALOGUE

    return _schedule_names(tuple((name, id(factory)) for name, factory in CATALOGUE.items()))


@lru_cache(maxsize=8)
def _schedule_names(entries: tuple) -> frozenset[str]:
    from derive.catalogue import get
    from derive.errors import DeriveError

    names = set(SCHEDULE_NAMES)
    for name, _ in entries:
        try:
            hyper = get(name).hyper
        except (DeriveError, TypeError, ValueError):  # an entry that needs options has no defaults to read
            continue
        names |= {str(a.base.label) for value in hyper.values() for a in sp.sympify(value).atoms(sp.Indexed)}
    return frozenset(names)

# Values for roles the table does not know (QHM's nu, a momentum called beta), given in this order to
# the extra symbols sorted by name: distinct from each other and from the table's, none 0 or 1.
EXTRA_CONSTANTS = (_R(2, 3), _R(3, 5), _R(5, 7), _R(2, 7), _R(4, 9), _R(5, 11), _R(3, 13), _R(7, 10))
EXTRA_SCHEDULES = tuple((v, v / 2, v, v * 3 / 4) for v in EXTRA_CONSTANTS)


def hyperparameter_symbols(expr) -> list:
    """The schedule bases (``epsilon``) and constant symbols (``tau``) a hyperparameter value reads, sorted."""
    expr = sp.sympify(expr)
    bases = {atom.base for atom in expr.atoms(sp.Indexed)}
    labels = {base.label for base in bases}
    constants = {s for s in expr.free_symbols
                 if isinstance(s, sp.Symbol) and s != t and not s.is_integer and s not in labels}
    return sorted(bases | constants, key=sp.default_sort_key)


def role_symbol(name: str) -> sp.Basic:
    """The house symbol of role *name* (``lr`` -> the ``epsilon`` base)."""
    return ROLES[name].symbol


def constant_of(name: str) -> sp.Symbol:
    """Role *name* held constant: ``constant_of("lr")`` is the positive symbol ``epsilon``."""
    return ROLES[name].constant


def constant(expr: sp.Expr, base: sp.IndexedBase, value: sp.Expr) -> sp.Expr:
    """Replace every ``base[...]`` in *expr* by *value* (a schedule made constant)."""
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == base, lambda e: value)


def at(expr: sp.Expr, step) -> sp.Expr:
    """The step-*t* template *expr* written for the given step."""
    return expr.subs(t, step)
