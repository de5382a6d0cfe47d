r"""The map: every ordered pair of catalogue entries, classified by :mod:`derive.equivalence`.

A cell ``(F, G)`` says whether :math:`G` *follows* :math:`F`: whether some
change of variables :math:`x'_t = S_t x_t` maps F's trajectory onto G's with the
gradient taken at the same point, for every objective (both entries built with
their default, symbolic hyperparameters: schedules :math:`\varepsilon_t, \mu_t`,
constants :math:`\tau, \lambda`).  The relation is not symmetric: G follows F
through :math:`S_t`, and F follows G only where :math:`S_t` is invertible (a
singular :math:`S_t` reads G off F without the converse), and a translation or a
condition found in one direction need not be the one the other needs.  So both
directions are judged, each on its own, and the matrix is read row (source) to
column (target).  The classes, strongest first (a pair takes the first that holds):

``identical``
    the same program, state variables renamed in order (every entry with itself);
``change of variables``
    an :math:`S_t` exists under every schedule (``params_map`` gives :math:`\theta'_t`);
``translation``
    G with one hyperparameter replaced by a schedule solved for
    (:func:`derive.equivalence.translation`, role momentum then lr) follows F under
    every schedule of F;
``condition``
    an :math:`S_t` exists once the hyperparameters are restricted.  The restrictions
    come from a fixed menu: a constant lr :math:`\varepsilon_t = \varepsilon`, a constant
    :math:`\varepsilon_t\mu_t = \kappa`, a constant momentum, a constant of the residual
    such as :math:`\lambda` or :math:`\tau` set to 0 (never the lr or the momentum).
    The smallest set that makes the residual vanish is applied to both entries and
    the pair judged again, until it holds or no set does;
``never``
    none of the above: the first residual (the solver's first non-vanishing condition).

A translation ranks above a condition: it keeps every schedule of F, a condition
restricts them.  A condition is *sufficient* (the restricted pair is proved, for
every :math:`t` by induction); it is drawn from a residual that must vanish for any
:math:`S_t` to exist, but other, special schedules may make that residual vanish too.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, replace

import sympy as sp

from derive.catalogue import CATALOGUE, get, options_of
from derive import screen, screen_schedule
from derive.conditions import condition
from derive.equivalence import NU, Proof, Residual, conditions, eliminate, equivalence, translation
from derive.formulation import Assign, Formulation
from derive.symbols import eps, mu, t

CLASSES = ("identical", "change of variables", "translation", "condition", "never")
ERROR = "error"  # not a class: the pair's judging raised (the message in ``error``), the map goes on
UNDECIDED = "undecided"  # not a class: a search ran past its budget (the reason in ``error``), never a guess
EPS = sp.Symbol("epsilon", positive=True)  # a constant learning rate
MU = sp.Symbol("mu", positive=True)  # a constant momentum
KAPPA = sp.Symbol("kappa", positive=True)  # a constant product epsilon_t mu_t
MAX_RESTRICTIONS = 4
TRANSLATED_ROLES = ("momentum", "lr")
ZEROED_NEVER = ("lr", "momentum")


@dataclass(frozen=True)
class PairVerdict:
    """How ``target`` relates to ``source`` (``kind`` is one of :data:`CLASSES`).

    ``params_map``: :math:`(\theta'_t, \text{value})`, the target's parameters in the source's state (or None);
    ``conditions``: the restrictions, in words, with ``restrictions`` the substitutions ``(words, lhs, rhs)``;
    ``translation``: ``(role, schedule, default)`` of the target; ``residual``: ``(where, expression)``,
    the first residual with every hyperparameter free (None when a change of variables exists).
    """

    source: str
    target: str
    kind: str
    params_map: tuple[sp.Basic, sp.Basic] | None = None  # (theta'_t, its value): an Eq would evaluate on unpickling
    S: sp.Basic | None = None
    conditions: tuple[str, ...] = ()
    restrictions: tuple[tuple[str, sp.Basic, sp.Basic], ...] = ()  # (words, lhs, rhs)
    translation: tuple[str, sp.Basic, sp.Basic] | None = None
    residual: tuple[str, sp.Basic] | None = None
    relations: tuple[sp.Basic, ...] = ()  # the residual's conditions, when the solver states them
    seconds: float = 0.0
    error: str | None = None  # kind ERROR: the exception, in one line; kind UNDECIDED: the reason

    def same_parameters(self) -> bool:
        """Whether the target's parameters are the source's at every step (its map is the identity)."""
        return self.params_map is not None and sp.expand(self.params_map[1] - self.params_map[0]) == 0

    def parameters(self) -> str:
        """The parameters map in words: ``same parameters`` or ``target's = (source's state)``."""
        return "same parameters" if self.same_parameters() else _plain(self.params_map)

    def detail(self) -> str:
        """One line: the map, the condition, the translation or the residual."""
        if self.kind == ERROR:
            return f"error: {self.error}"
        if self.kind == UNDECIDED:
            return self.error
        if self.kind == "identical":
            return "the same program" + ("" if self.source == self.target else " (state renamed in order)")
        if self.kind == "change of variables":
            return f"{self.parameters()} under every schedule"
        if self.kind == "translation":
            role, schedule, default = self.translation
            return f"{role} := {_plain(schedule)} (default {_plain(default)}); {self.parameters()}"
        if self.kind == "condition":
            return f"under {', '.join(self.conditions)}: {self.parameters()}"
        where, expr = self.residual
        return f"residual {_plain(expr)} at {where}"


def _plain(expr) -> str:
    if isinstance(expr, tuple):
        return " = ".join(sp.sstr(e) for e in expr)
    return sp.sstr(expr)


# -- the classes ---------------------------------------------------------------------------
def program(f: Formulation) -> tuple:
    """F's program with its state variables renamed ``x0, x1, ...`` in order (the identity of a program)."""
    rename = {s: sp.IndexedBase(f"x{n}", real=True) for n, s in enumerate(f.state)}

    def r(expr):
        return None if expr is None else sp.sympify(expr).xreplace(rename)

    return (f.state.index(f.params), r(f.grad_at), tuple((r(a.target), r(a.value), r(a.first)) for a in f.update),
            tuple(sorted((str(rename[s]), r(value)) for s, value in f.init.items())))


def restricted(f: Formulation, rule) -> Formulation:
    """*f* with *rule* (an expression -> expression function) applied to every right-hand side."""
    update = tuple(Assign(a.target, rule(a.value), None if a.first is None else rule(a.first)) for a in f.update)
    return replace(f, update=update, grad_at=rule(f.grad_at), init={s: rule(sp.sympify(v)) for s, v in f.init.items()},
                   hyper={role: rule(sp.sympify(v)) for role, v in f.hyper.items()})


def _schedule(base, value):
    """The rule replacing every ``base[i]`` by ``value(i)``."""
    return lambda e: sp.sympify(e).replace(lambda a: isinstance(a, sp.Indexed) and a.base == base,
                                           lambda a: value(a.indices[0]))


def candidates(residual: sp.Expr, F: Formulation, G: Formulation):
    """``(words, rule, substitution)`` that a residual may force, in a fixed order."""
    yield "a constant lr", _schedule(eps, lambda i: EPS), (eps[t], EPS)
    yield "a constant lr*momentum", _schedule(mu, lambda i: KAPPA / eps[i]), (eps[t] * mu[t], KAPPA)
    yield "a constant momentum", _schedule(mu, lambda i: MU), (mu[t], MU)
    roles = {**G.roles(), **F.roles()}
    divisors = _divisors(F) | _divisors(G)
    for symbol in sorted(residual.free_symbols, key=sp.default_sort_key):
        # lr = 0 or momentum = 0 would make the forms trivially or differently degenerate: not offered;
        # nor a constant that divides (accsgd's kappa = 0 leaves no program to judge)
        if isinstance(symbol, sp.Symbol) and roles.get(symbol, "lr") not in ZEROED_NEVER and symbol not in divisors:
            yield f"{roles[symbol]} = 0", (lambda s: lambda e: sp.sympify(e).xreplace({s: 0}))(symbol), (symbol, sp.S.Zero)


def _divisors(f: Formulation) -> set:
    """The symbols that, set to 0, make a denominator of *f*'s program vanish (accsgd's kappa; not its c
    or xi, which only appear in kappa + c*xi)."""
    out = set()
    for expr in (f.grad_at, *(e for a in f.update for e in (a.value, a.first) if e is not None),
                 *f.init.values()):
        denominator = sp.denom(sp.together(sp.sympify(expr)))
        out |= {s for s in denominator.free_symbols if sp.expand(denominator.xreplace({s: 0})) == 0}
    return out


def removing(residual: sp.Expr, F: Formulation, G: Formulation, taken=()):
    """The first smallest set of :func:`candidates` (at most 3, none in *taken*) under which *residual* is 0."""
    from itertools import combinations

    menu = [c for c in candidates(residual, F, G) if c[0] not in taken]
    for size in range(1, 4):
        for chosen in combinations(menu, size):
            expr = residual
            for _, rule, _ in chosen:
                expr = rule(expr)
            if sp.expand(expr) == 0:
                return chosen
    return None


def params_map(proof: Proof, F: Formulation, G: Formulation) -> tuple[sp.Basic, sp.Basic]:
    r""":math:`\theta'_t` (the target's parameters) in terms of the source's state at ``t``."""
    S = proof.S.get(t, proof.S[max(k for k in proof.S if k != t)])
    row = S.row(list(G.state).index(G.params))
    value = sp.expand((row * sp.Matrix([s[t] for s in F.state]))[0])
    return G.params[t], value


def first_residual(F: Formulation, G: Formulation, steps: int) -> tuple[tuple[str, sp.Expr], tuple]:
    """``((where, residual), relations)``: what :func:`derive.equivalence.equivalence` reports for a pair
    whose concrete conditions fail by step *steps*, solved only up to that step and without a witness.

    The conditions are linear in the ``S_k``, so elimination never defers an equation and stops
    at the first step that leaves a residual: up to that step it is the same elimination.
    """
    S = [sp.Matrix(len(G.state), len(F.state), lambda r, c: sp.Symbol(f"s{k}_{r}{c}")) for k in range(steps + 1)]
    unknowns = {u for M in S for u in M.free_symbols}
    _, residuals = eliminate(conditions(F, G, steps, S), unknowns)
    if not residuals:  # the screen refuted at a root of a denominator: solve as the cascade does
        free = equivalence(F, G)
        return (free.label, free.residual), tuple(free.conditions)
    label, res = min(residuals, key=lambda lr: (sp.count_ops(lr[1]), lr[0]))
    return (label, res), condition(res)[0]


def _judged(F: Formulation, G: Formulation, screened: bool = True):
    """``(proof, None)`` or ``(None, ((where, residual), relations))``: the numeric screen first, the
    symbolic solver only when the screen cannot refute (:mod:`derive.screen`)."""
    refuted = screen.equivalence_refuted(F, G) if screened else None
    if refuted is not None:
        return None, first_residual(F, G, refuted.step)
    result = equivalence(F, G)
    if result:
        return result, None
    return None, ((result.label, result.residual), tuple(getattr(result, "conditions", None) or ()))


def classify(source: str, target: str, *, screened: bool = True) -> PairVerdict:
    """The class of the ordered pair: does *target* follow *source* (see the module's text).

    Every refutation is first tried at exact numeric points (:mod:`derive.screen`, sound: a
    symbolic solution would specialise to them); only what survives is solved symbolically,
    so the class, the map and the first residual are the symbolic cascade's.  ``screened=False``
    runs the symbolic cascade alone (what the tests compare the screened one with).
    """
    started = time.perf_counter()
    F, G = get(source), get(target)

    def done(kind, **fields):
        return PairVerdict(source, target, kind, seconds=time.perf_counter() - started, **fields)

    if program(F) == program(G):
        return done("identical")
    free, failed = _judged(F, G, screened)
    if free:
        return done("change of variables", params_map=params_map(free, F, G), S=free.S.get(t))
    first, relations = failed
    for role in TRANSLATED_ROLES:
        if role not in options_of(target) or role not in G.hyper:
            continue
        if screened and screen_schedule.translation_refuted(F, get(target, **{role: NU[t]})):
            continue
        with budget(TRANSLATION_SECONDS, f"the translation search for {target}'s {role}"):
            found = translation(F, target, role=role, same_params=False)
        if found:
            G2 = get(target, **{role: found.schedule})
            return done("translation", params_map=params_map(found.result, F, G2), S=found.result.S.get(t),
                        translation=(role, found.schedule, G.hyper[role]), residual=first, relations=relations)
    words, substitutions, residual = [], [], first[1]
    for _ in range(MAX_RESTRICTIONS):
        chosen = removing(residual, F, G, words)
        if chosen is None:
            break
        for w, rule, eq in chosen:
            words.append(w)
            substitutions.append((w, *eq))
            F, G = restricted(F, rule), restricted(G, rule)
        result, failed = _judged(F, G, screened)
        if result:
            return done("condition", params_map=params_map(result, F, G), S=result.S.get(t),
                        conditions=tuple(words), restrictions=tuple(substitutions), residual=first,
                        relations=relations)
        residual = failed[0][1]
    return done("never", residual=first, relations=relations)


# A symbolic translation search can blow up (a schedule solved through a symbolic weight decay);
# past this many seconds the pair is reported undecided (kind ``undecided``, the reason in ``error``) rather than hang.
TRANSLATION_SECONDS = 30


class Undecided(BaseException):
    """A search ran past its time budget (a BaseException: SymPy's own ``except Exception`` lets it through)."""


@contextmanager
def budget(seconds: float, what: str):
    """Raise :class:`Undecided` naming *what* after *seconds* (SIGALRM; no limit off the main thread)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise Undecided(f"undecided: {what} ran past {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def classify_guarded(source: str, target: str) -> PairVerdict:
    """:func:`classify`, with an exception reported as the pair's verdict (kind ``error``), in one line, and a
    search past its budget as kind ``undecided`` with the reason."""
    started = time.perf_counter()
    try:
        return classify(source, target)
    except Undecided as exc:
        return PairVerdict(source, target, UNDECIDED, error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # one pair's failure must not stop the map of the others
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        return PairVerdict(source, target, ERROR, error=message, seconds=time.perf_counter() - started)


# -- judging every pair: cached on disk, the misses in forked workers ------------------------
def pairs(selected: list[str]) -> list[tuple[str, str]]:
    """Every ordered pair of *selected* (diagonal included), row by row."""
    return [(a, b) for a in selected for b in selected]


def _judge_recorded(pair: tuple[str, str]):
    """Classify one pair, noting the entries built (runs in a worker process)."""
    from derive.claims.dependencies import recording

    with recording() as built:
        verdict = classify_guarded(*pair)
    return pair, verdict, frozenset(built)


class Keys:
    """Cache keys of pairs: each entry's source (and what it calls, and the engine), and the versions.

    An entry's pieces (:func:`derive.claims.dependencies.source_pieces` of its factory) are
    hashed once; a pair's key hashes the pair, the versions and the two entries' digests.
    """

    def __init__(self):
        from functools import lru_cache

        from derive.cache import environment
        from derive.claims.dependencies import module_text

        self._read = lru_cache(maxsize=None)(module_text)
        self._environment = environment(torch=False)
        self._digests: dict[str, str] = {}

    def entry(self, name: str) -> str:
        """The digest of everything entry *name*'s program can run through."""
        if name not in self._digests:
            from derive.cache import digest
            from derive.claims.dependencies import source_pieces

            self._digests[name] = digest(source_pieces(CATALOGUE[name], torch=False, read=self._read))
        return self._digests[name]

    @staticmethod
    def entries(name: str) -> frozenset:
        """The entries a key names: *name* and every entry its factory calls."""
        from derive.claims.dependencies import closure

        return frozenset(closure(CATALOGUE[name]).entries) | {name}

    def key(self, source: str, target: str) -> str:
        from derive.cache import digest

        return digest([("map pair", f"{source} -> {target}"), *self._environment,
                       ("source", self.entry(source)), ("target", self.entry(target))])


def judge_map(selected: list[str], *, cache: bool = True, workers: int | None = None, progress=None) -> dict:
    """``{(source, target): PairVerdict}`` for every ordered pair of *selected*, in row order.

    Hits come from the verdict cache (``derive.cache``, kind ``map``); misses are
    classified in forked workers (:func:`derive.claims.forked_pool`), one per core.
    """
    from derive.cache import Store
    from derive.claims import forked_pool

    store = Store() if cache else None
    keys = Keys() if cache else None
    out: dict = {}
    misses = []
    for pair in pairs(selected):
        if store is not None:
            hit = store.load("map", keys.key(*pair), PairVerdict)
            if hit is not None and (hit.source, hit.target) == pair:
                out[pair] = hit
                if progress is not None:
                    progress.update(1)
                continue
        misses.append(pair)

    def finish(pair, verdict, built):
        out[pair] = verdict
        # stored only if every entry it built is one its key names (see derive.claims.dependencies)
        # an error (a pair whose judging raised, or ran past its budget) is stored too: for the same sources
        # and versions it recurs, and an undecided pair re-judged on every run costs its whole budget each
        # time; --no-cache judges it again
        if store is not None and built <= keys.entries(pair[0]) | keys.entries(pair[1]):
            store.save("map", keys.key(*pair), verdict)
        if progress is not None:
            progress.update(1)

    pool = forked_pool(len(misses), workers) if len(misses) > 1 else None
    if pool is None:
        for pair in misses:
            finish(*_judge_recorded(pair))
    else:
        try:
            for result in pool.imap_unordered(_judge_recorded, misses):
                finish(*result)
            pool.close()
        finally:
            pool.terminate()
            pool.join()
    return {pair: out[pair] for pair in pairs(selected)}
