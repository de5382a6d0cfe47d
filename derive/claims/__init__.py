"""The claims registry: every statement of the sources, judged by machine.

A :class:`Claim` records what the source says (``statement``), the precise
reading judged, its assumptions, the expected (recorded) verdict and a
procedure.  :func:`judge` runs the procedure and returns a :class:`Verdict`
(the record the renderer reads).  A verdict that differs from the recorded one
is a regression: ``python -m derive claims`` exits non-zero.

Procedures derive everything from catalogue entries through
:mod:`derive.equivalence`, :mod:`derive.unroll` and :mod:`derive.opcount`.
Claims come from this package and from plugins (:mod:`derive.plugins`); the
claims that run torch are ``verify``'s, registered by its built-in plugin
(``verify/claims.py``), so nothing here imports torch or verify.  Each claim
remembers its :class:`~derive.plugins.Origin`.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from typing import Callable, Iterable

import sympy as sp

from derive import arguments
from derive.errors import DeriveError
from derive.plugins import PACKAGE, Origin, origin_of, taken

VERDICTS = ("holds", "fails", "holds under a condition")


@dataclass(frozen=True)
class Verdict:
    """One judged claim (the renderer depends on exactly these fields)."""

    claim_id: str
    verdict: str  # "holds" | "fails" | "holds under a condition"
    condition: str | None
    evidence: str  # one line
    rows: tuple[tuple[str, sp.Basic | str], ...]
    witness: dict | None
    torch_version: str | None
    seconds: float


@dataclass(frozen=True)
class Claim:
    """A statement of a source, the reading judged, and how it is judged."""

    id: str
    source: str
    statement: str
    reading: str
    assumptions: str
    procedure: Callable[[], Verdict]
    expected: str
    condition: str | None = None
    torch: bool = False  # runs torch: its cache key holds the torch and NumPy versions and verify's code
    origin: Origin = PACKAGE  # the package, or the plugin that registered it


REGISTRY: dict[str, Claim] = {}


def claim(id: str, *, source: str, statement: str, reading: str, assumptions: str = "",
          expected: str, condition: str | None = None, torch: bool = False):
    """Register the decorated procedure as claim *id* (from the package or from a plugin).

    Args:
      id: the claim's id, unique in the registry.
      source: who states it; statement: what they state; reading: the precise reading judged.
      assumptions: what the reading assumes.
      expected: the recorded verdict, one of :data:`VERDICTS`.
      condition: the recorded condition, for ``"holds under a condition"``.
      torch: the procedure runs torch (its cached verdict is keyed by torch's version).

    Returns:
      A decorator; the procedure takes no arguments and returns :func:`finding`'s record.

    Raises:
      DuplicateName: the id is taken (a ``ValueError``; the message names who has it).
    """
    if expected not in VERDICTS:
        raise ValueError(f"claim {id}: expected verdict must be one of {VERDICTS}, got {expected!r}")

    def register(procedure):
        if id in REGISTRY:
            raise taken("claim", id, REGISTRY[id].origin)
        REGISTRY[id] = Claim(id, source, statement, reading, assumptions, procedure, expected,
                             condition, torch, origin_of(procedure.__module__))
        return procedure

    return register


def finding(verdict: str, evidence: str, *, condition: str | None = None, rows=(), witness=None,
            torch_version: str | None = None) -> Verdict:
    """What a procedure returns; :func:`judge` fills in the id and the time."""
    rows = tuple((label, value if isinstance(value, (sp.Basic, str)) else sp.sympify(value))
                 for label, value in rows)
    return Verdict("", verdict, condition, " ".join(evidence.split()), rows, witness, torch_version, 0.0)


def judge(claim_or_id) -> Verdict:
    """Run one claim's procedure: its verdict, with the claim's id and the seconds it took."""
    c = claims([claim_or_id])[0] if isinstance(claim_or_id, str) else claim_or_id
    if not isinstance(c, Claim):
        raise arguments.InvalidArgument(f"judge: claim_or_id must be a claim id or a Claim, got {c!r}")
    started = time.perf_counter()
    result = c.procedure()
    return replace(result, claim_id=c.id, seconds=time.perf_counter() - started)


def agrees(c: Claim, v: Verdict) -> bool:
    """Whether the verdict is the recorded one."""
    return v.verdict == c.expected


def claims(ids=None) -> list[Claim]:
    """Registered claims in reading order, or those named (unknown ids raise DeriveError)."""
    ids = arguments.names(ids, "ids", "claims", what="claim id")
    if not ids:
        return list(REGISTRY.values())
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        from derive.plugins import loaded

        for plugin in loaded():  # a claim of a plugin that could not work here: say why, not "unknown"
            if unknown[0] in plugin.missing_claims:
                raise DeriveError(f"claim {unknown[0]} is plugin {plugin.name}'s, not loaded here: {plugin.unavailable}")
        raise DeriveError(f"unknown claim id {', '.join(unknown)}; `derive claims` lists them all")
    return [REGISTRY[i] for i in ids]


# -- judging many: cached verdicts, the misses in parallel -----------------------------------
def cacheable(c: Claim) -> bool:
    """Only the package's registered claims are cached.

    A test's stand-in procedure is always judged, and so is a plugin's claim: its
    key could not name the user's helper modules, so a stale verdict could be served.
    """
    return REGISTRY.get(c.id) is c and c.origin.builtin and c.procedure.__module__.startswith(("derive.", "verify."))


def _judge_recorded(claim_id: str):
    """Judge a registered claim, noting the catalogue entries it built (runs in a worker process)."""
    from derive.claims.dependencies import recording

    with recording() as built:
        v = judge(REGISTRY[claim_id])
    if v.torch_version is not None:  # torch's TorchVersion, a str subclass: unpickling it would import torch
        v = replace(v, torch_version=str(v.torch_version))
    return v, frozenset(built)


def _judge_batch(claim_ids: tuple[str, ...]) -> dict:
    """Several claims in one worker: the torch claims share one import of torch."""
    return {claim_id: _judge_recorded(claim_id) for claim_id in claim_ids}


class Judging:
    """Verdicts of *selected* claims: cache hits at once, misses judged in worker processes.

    :meth:`verdict` blocks until that claim is judged, so a caller can build
    something else (the appendix's formulations) while the workers run.
    """

    def __init__(self, selected: Iterable[Claim], *, cache: bool = True, workers: int | None = None,
                 progress=None):
        from functools import lru_cache

        from derive.cache import Store, verdict_key
        from derive.claims.dependencies import module_text

        read = lru_cache(maxsize=None)(module_text)  # each module is read once for all the keys
        self.claims = list(selected)
        self.store = Store() if cache else None
        self.progress = progress
        self.hits = 0
        self._done: dict[str, Verdict] = {}
        self._pending: dict[str, object] = {}
        self._keys: dict[str, str] = {}
        misses = []
        for c in self.claims:
            if self.store is not None and cacheable(c):
                self._keys[c.id] = verdict_key(c, read=read)
                hit = self.store.load("verdicts", self._keys[c.id], Verdict)
                if hit is not None and hit.claim_id == c.id:
                    self._done[c.id] = hit
                    self.hits += 1
                    self._advance()
                    continue
            misses.append(c)
        self._pool = None
        torch_ids = tuple(c.id for c in misses if c.torch)
        batches = ([torch_ids] if torch_ids else []) + [(c.id,) for c in misses if not c.torch]
        if len(misses) > 1 and all(REGISTRY.get(c.id) is c for c in misses):
            self._pool = forked_pool(len(batches), workers)
        if self._pool is not None:
            for batch in batches:  # the torch batch first: it is the longest
                result = self._pool.apply_async(_judge_batch, (batch,), callback=lambda r: self._advance(len(r)))
                self._pending.update(dict.fromkeys(batch, result))
            self._pool.close()

    def _advance(self, n: int = 1):
        if self.progress is not None:
            self.progress.update(n)

    def _finish(self, c: Claim, v: Verdict, built: frozenset) -> Verdict:
        from derive.claims.dependencies import closure

        self._done[c.id] = v
        # a verdict is stored only if every entry it built is one its key names (see dependencies)
        if c.id in self._keys and built <= set(closure(c.procedure).entries):
            self.store.save("verdicts", self._keys[c.id], v)
        return v

    def verdict(self, claim_id: str) -> Verdict:
        """The verdict of one selected claim, waiting for its worker if it is still being judged."""
        if claim_id in self._done:
            return self._done[claim_id]
        c = next(c for c in self.claims if c.id == claim_id)
        if claim_id in self._pending:
            v, built = self._pending.pop(claim_id).get()[claim_id]
        elif cacheable(c):
            v, built = _judge_recorded(claim_id)
            self._advance()
        else:
            v, built = judge(c), frozenset()
            self._advance()
        return self._finish(c, v, built)

    def pairs(self) -> list[tuple[Claim, Verdict]]:
        """``(claim, verdict)`` in the order the claims were given, whatever order they finished in."""
        try:
            return [(c, self.verdict(c.id)) for c in self.claims]
        finally:
            self.close()

    def close(self):
        if self._pool is not None:
            if self._pending:  # stopped early (an error, ^C): what was not collected is judged here if asked
                self._pool.terminate()
                self._pending.clear()
            self._pool.join()
            self._pool = None


_CURRENT: list[Judging] = []


def judge_all(selected: Iterable[Claim], *, cache: bool = True, workers: int | None = None,
              progress=None) -> Judging:
    """Start judging *selected* (see :class:`Judging`); :func:`verdict` answers from it meanwhile."""
    judging = Judging(selected, cache=cache, workers=workers, progress=progress)
    _CURRENT[:] = [judging]
    return judging


def verdict(claim_id: str) -> Verdict:
    """The verdict of a claim: from the current :func:`judge_all` when it holds that claim, else judged now."""
    for judging in _CURRENT:
        if any(c.id == claim_id and REGISTRY.get(claim_id) is c for c in judging.claims):
            return judging.verdict(claim_id)
    return judge(claim_id)


def forked_pool(tasks: int, workers: int | None = None):
    """Forked workers (one per core, at most *tasks*), or ``None`` when this process must do the work.

    ``None`` on one core or where fork is unavailable or unsafe.  Fork: the workers inherit the
    imported engine and the registries as they are now (the claims, and :mod:`derive.equivalence_map`).
    """
    workers = workers or _cores()
    if workers <= 1 or not _can_fork():
        return None
    import multiprocessing

    return multiprocessing.get_context("fork").Pool(min(workers, tasks))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    """Fork is cheap (the workers inherit the imported engine) and safe only while this process has one thread."""
    import multiprocessing
    import threading

    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


# the claims that run torch are verify's (its built-in plugin), never imported from here
from derive.claims import placement, nesterov, frameworks, literature, recoveries  # noqa: E402,F401
