"""Judged verdicts (and rendered appendices) kept on disk, under a key that names everything they depend on.

The directory is ``$SGD_DERIVE_CACHE`` when set, else ``$XDG_CACHE_HOME/sgd-derive``,
else ``~/.cache/sgd-derive``: outside the checkout, so a cache never changes what
is written there (a hit returns the object a fresh run would build, byte for byte).

A verdict's key (:func:`verdict_key`) is a SHA-256 of: the claim id, the source
text its procedure can run through (:mod:`derive.claims.dependencies`), the
Python, SymPy and mpmath versions, and for claims that run torch the torch and
NumPy versions, read with :mod:`importlib.metadata` (derive never imports torch).
An entry that cannot be read (truncated, foreign, from another Python) is a miss
and is rewritten; a directory that cannot be written is used read-only.  Entries
are pickles: the cache trusts its directory as it trusts the checkout's code.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ENV = "SGD_DERIVE_CACHE"
FORMAT = "1"  # bumped when what is stored or how a key is made changes


def directory() -> Path:
    """Where entries live: ``$SGD_DERIVE_CACHE``, ``$XDG_CACHE_HOME/sgd-derive`` or ``~/.cache/sgd-derive``."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sgd-derive"


def version(distribution: str) -> str:
    """The installed version of *distribution* (``absent`` when it is not installed), without importing it."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def environment(*, torch: bool) -> list[tuple[str, str]]:
    """The interpreter and library versions a result depends on (torch and NumPy only for torch claims)."""
    env = [("format", FORMAT), ("python", platform.python_version()), ("implementation", sys.implementation.name),
           ("sympy", version("sympy")), ("mpmath", version("mpmath"))]
    if torch:
        env += [("torch", version("torch")), ("numpy", version("numpy"))]
    return env


def digest(pieces) -> str:
    """SHA-256 of ``(label, text)`` pieces, each length-prefixed so no two sequences collide."""
    h = hashlib.sha256()
    for label, text in pieces:
        for part in (label, text):
            data = part.encode("utf-8")
            h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def verdict_key(claim, *, read=None) -> str:
    """The key of *claim*'s verdict (*read*: module name to text, for a test that edits a source)."""
    from derive.claims.dependencies import module_text, source_pieces

    pieces = source_pieces(claim.procedure, torch=claim.torch, read=read or module_text)
    return digest([("claim", claim.id), *environment(torch=claim.torch), *pieces])


class Store:
    """Pickled objects under ``<directory>/<kind>/<key>``; every failure is a miss, never an error."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else directory()
        self.unwritable = False

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.pickle"

    def load(self, kind: str, key: str, expected_type: type | None = None):
        """The stored object, or ``None`` when absent, unreadable or not of *expected_type*."""
        try:
            with open(self.path(kind, key), "rb") as handle:
                value = pickle.load(handle)
        except Exception:  # absent, truncated, written by another version: recompute
            return None
        if expected_type is not None and not isinstance(value, expected_type):
            return None
        return value

    def save(self, kind: str, key: str, value) -> bool:
        """Write atomically (a reader sees the old entry or the new one); ``False`` when it cannot."""
        if self.unwritable:
            return False
        target = self.path(kind, key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, target)
            finally:
                Path(temporary).unlink(missing_ok=True)
        except OSError:  # read-only or full: keep serving hits, stop trying to write
            self.unwritable = True
            return False
        except (pickle.PicklingError, TypeError, AttributeError):  # an object pickle cannot hold: judge it again
            return False
        return True
