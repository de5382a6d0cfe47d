"""The formulation catalogue: one small factory per paper or framework form.

Every factory takes its hyperparameters keyword-only (``None`` keeps them
symbolic: ``epsilon[t]``, ``mu[t]``, ``tau``, ``lambda``) and returns a
:class:`~derive.formulation.Formulation`.  ``CATALOGUE`` maps each name to its
factory; :func:`get` builds one by name.  :func:`entry` registers a factory, from
the package or from a plugin (:mod:`derive.plugins`); :func:`origin` says which.
"""

from __future__ import annotations

import inspect
from typing import Callable

from derive.errors import InvalidArgument, InvalidHyperparameter, UnknownFormulation
from derive.formulation import Formulation
from derive.hyperparameters import flag
from derive.plugins import Origin, origin_of, taken

CATALOGUE: dict[str, Callable[..., Formulation]] = {}
ORIGINS: dict[str, Origin] = {}  # name -> the package or the plugin that registered it


def entry(factory: Callable[..., Formulation]) -> Callable[..., Formulation]:
    """Register *factory* under its function name (a decorator; from a plugin too).

    Args:
      factory: a function taking the hyperparameters keyword-only and returning a
        :class:`~derive.formulation.Formulation`.

    Returns:
      *factory*, unchanged.

    Raises:
      DuplicateName: the name is taken (a ``ValueError``; the message names who has it).
    """
    name = factory.__name__
    if name in CATALOGUE:
        raise taken("formulation", name, ORIGINS.get(name, origin_of(CATALOGUE[name].__module__)))
    CATALOGUE[name] = factory
    ORIGINS[name] = origin_of(factory.__module__)
    return factory


def origin(name: str) -> Origin:
    """Where entry *name* was registered from: the package, or a plugin."""
    build = factory(name)  # an unknown name is the usual one-line error
    return ORIGINS.get(name) or origin_of(build.__module__)


def factory(name: str) -> Callable[..., Formulation]:
    """The factory registered as *name* (a one-line error naming close matches otherwise)."""
    if not isinstance(name, str):
        raise InvalidArgument(f"name must be a catalogue name (a string), got name={name!r}; "
                              "`derive list` shows them")
    try:
        return CATALOGUE[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, CATALOGUE, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `derive list` shows them all"
        raise UnknownFormulation(f"unknown formulation {name!r}{hint}") from None


def options_of(name: str) -> dict[str, object]:
    """The options entry *name* accepts, each with its default (a ``bool`` default marks a flag)."""
    return {p.name: p.default for p in inspect.signature(factory(name)).parameters.values()}


def get(name: str, **options) -> Formulation:
    """Build the catalogue entry *name* with *options* (hyperparameters, flags).

    Unknown options name the accepted ones; flags must be ``bool``
    (:func:`derive.hyperparameters.flag`).

    Args:
        name: a catalogue name (``derive list``; :func:`derive.register` adds one).
        **options: the entry's keyword options: a hyperparameter ``None`` (symbolic), a number
            (exact: ``0.9 -> 9/10``) or a SymPy expression; flags ``True``/``False``.

    Returns:
        The :class:`~derive.formulation.Formulation`.
    """
    build = factory(name)
    accepted = options_of(name)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InvalidHyperparameter(f"{name} has no option {', '.join(unknown)}; "
                                    f"it accepts {', '.join(accepted) or 'none'}")
    for key, value in options.items():
        if isinstance(accepted[key], bool):
            flag(value, key)
    return build(**options)


def names() -> list[str]:
    return list(CATALOGUE)


# Registration order is the catalogue's reading order.
from derive.catalogue import papers, pytorch, frameworks, mxnet, literature, averaging, two_state, pid  # noqa: E402,F401
