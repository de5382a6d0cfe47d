"""The formulation catalogue: one small factory per paper or framework form.

Every factory takes its hyperparameters keyword-only (``None`` keeps them
symbolic: ``epsilon[t]``, ``mu[t]``, ``tau``, ``lambda``) and returns a
:class:`~derive.formulation.Formulation`.  ``CATALOGUE`` maps each name to its
factory; :func:`get` builds one by name.
"""

from __future__ import annotations

from typing import Callable

from derive.errors import UnknownFormulation
from derive.formulation import Formulation

CATALOGUE: dict[str, Callable[..., Formulation]] = {}


def entry(factory: Callable[..., Formulation]) -> Callable[..., Formulation]:
    """Register *factory* under its function name."""
    if factory.__name__ in CATALOGUE:
        raise ValueError(f"duplicate catalogue entry {factory.__name__}")
    CATALOGUE[factory.__name__] = factory
    return factory


def get(name: str, **options) -> Formulation:
    """Build the catalogue entry *name* with *options* (hyperparameters, flags)."""
    try:
        factory = CATALOGUE[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, CATALOGUE, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `derive list` shows them all"
        raise UnknownFormulation(f"unknown formulation {name!r}{hint}") from None
    return factory(**options)


def names() -> list[str]:
    return list(CATALOGUE)


# Registration order is the catalogue's reading order.
from derive.catalogue import papers, pytorch, frameworks  # noqa: E402,F401
