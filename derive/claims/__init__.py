"""The claims registry: every statement of the sources, judged by machine.

A :class:`Claim` records what the source says (``statement``), the precise
reading judged, its assumptions, the expected (recorded) verdict and a
procedure.  :func:`judge` runs the procedure and returns a :class:`Verdict`
(the record the renderer reads).  A verdict that differs from the recorded one
is a regression: ``python -m derive claims`` exits non-zero.

Procedures derive everything from catalogue entries through
:mod:`derive.equivalence`, :mod:`derive.unroll` and :mod:`derive.opcount`;
claims about torch's interface and behaviour import torch lazily and are
skipped, with the reason, where torch is absent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import sympy as sp

from derive import arguments
from derive.errors import DeriveError

VERDICTS = ("holds", "fails", "holds under a condition")


@dataclass(frozen=True)
class Verdict:
    """One judged claim (the renderer depends on exactly these fields)."""

    claim_id: str
    verdict: str  # "holds" | "fails" | "holds under a condition" | "skipped"
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
    torch: bool = False


class TorchMissing(DeriveError):
    """The claim needs torch and torch is not installed."""


REGISTRY: dict[str, Claim] = {}


def claim(id: str, *, source: str, statement: str, reading: str, assumptions: str = "",
          expected: str, condition: str | None = None, torch: bool = False):
    """Register the decorated procedure as claim *id*."""
    if expected not in VERDICTS:
        raise ValueError(f"claim {id}: expected verdict must be one of {VERDICTS}, got {expected!r}")

    def register(procedure):
        if id in REGISTRY:
            raise ValueError(f"duplicate claim id {id}")
        REGISTRY[id] = Claim(id, source, statement, reading, assumptions, procedure, expected,
                             condition, torch)
        return procedure

    return register


def finding(verdict: str, evidence: str, *, condition: str | None = None, rows=(), witness=None,
            torch_version: str | None = None) -> Verdict:
    """What a procedure returns; :func:`judge` fills in the id and the time."""
    rows = tuple((label, value if isinstance(value, (sp.Basic, str)) else sp.sympify(value))
                 for label, value in rows)
    return Verdict("", verdict, condition, " ".join(evidence.split()), rows, witness, torch_version, 0.0)


def torch_module():
    """Import torch for a claim that needs it, or explain why the claim is skipped."""
    try:
        import torch
    except ImportError:
        raise TorchMissing("torch is not installed; install torch>=2.4 to judge this claim") from None
    return torch


def judge(claim_or_id) -> Verdict:
    """Run one claim's procedure; a missing torch yields a ``skipped`` verdict with its reason."""
    c = claims([claim_or_id])[0] if isinstance(claim_or_id, str) else claim_or_id
    if not isinstance(c, Claim):
        raise arguments.InvalidArgument(f"judge: claim_or_id must be a claim id or a Claim, got {c!r}")
    started = time.perf_counter()
    try:
        result = c.procedure()
    except TorchMissing as exc:
        result = finding("skipped", f"skipped: {exc}")
    return replace(result, claim_id=c.id, seconds=time.perf_counter() - started)


def agrees(c: Claim, v: Verdict) -> bool:
    """Whether the verdict is the recorded one (a skip is not a disagreement)."""
    return v.verdict == "skipped" or v.verdict == c.expected


def claims(ids=None) -> list[Claim]:
    """Registered claims in reading order, or those named (unknown ids raise DeriveError)."""
    ids = arguments.names(ids, "ids", "claims", what="claim id")
    if not ids:
        return list(REGISTRY.values())
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise DeriveError(f"unknown claim id {', '.join(unknown)}; `derive claims` lists them all")
    return [REGISTRY[i] for i in ids]


from derive.claims import placement, nesterov, interface, frameworks  # noqa: E402,F401
