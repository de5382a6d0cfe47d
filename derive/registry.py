"""Registering a user's formulation into the catalogue, so ``get``, the CLI and the appendix see it."""

from __future__ import annotations

import inspect
from typing import Callable

from derive.errors import DeriveError, InvalidArgument
from derive.formulation import Formulation


class DuplicateEntry(DeriveError, ValueError):
    """A name that the catalogue already holds."""


def register(factory: Callable[..., Formulation] | Formulation | None = None, *, name: str | None = None):
    r"""Add a formulation to the catalogue (:data:`derive.catalogue.CATALOGUE`).

    Use it as a decorator on a factory (hyperparameters keyword-only, each with a
    default, ``None`` meaning symbolic, as the catalogue's own entries) or on a
    function of no arguments that returns a :class:`~derive.formulation.Formulation`;
    or call it with a Formulation itself.  The factory is built once here, so a
    mistake shows at registration, not at first use.

    Example::

        @derive.register
        def qhm(*, lr=None, momentum=None, nu=None) -> derive.Formulation:
            ...

    Args:
        factory: the factory, or a Formulation (registered as a factory of no options).
        name: the catalogue name (default: the function's name, or the Formulation's).

    Returns:
        The factory, unchanged (so the decorated name still builds the entry).

    Raises:
        DuplicateEntry: *name* is already in the catalogue (a ``ValueError``).
        InvalidArgument: not a Formulation or a function returning one, or the built
            formulation's ``name`` differs from the catalogue name.
    """
    if factory is None:
        return lambda f: register(f, name=name)
    from derive.catalogue import CATALOGUE

    if isinstance(factory, Formulation):
        formulation = factory
        key = name or formulation.name

        def build() -> Formulation:
            return formulation

        build.__name__ = build.__qualname__ = key
        build.__doc__ = formulation.title
        build.__module__ = "derive.registry"
        _add(CATALOGUE, key, build, formulation)
        return factory
    if not callable(factory):
        raise InvalidArgument(f"register: expected a Formulation or a function returning one, got {factory!r}")
    key = name or factory.__name__
    required = [p.name for p in inspect.signature(factory).parameters.values()
                if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if required:
        raise InvalidArgument(f"register: {key}'s options must have defaults (None keeps a hyperparameter "
                              f"symbolic); {', '.join(required)} has none")
    built = factory()
    if not isinstance(built, Formulation):
        raise InvalidArgument(f"register: {key}() must return a Formulation, got {type(built).__name__}")
    _add(CATALOGUE, key, factory, built)
    return factory


def _add(catalogue: dict, key: str, factory, built: Formulation) -> None:
    if not isinstance(key, str) or not key.isidentifier():
        raise InvalidArgument(f"register: a catalogue name is an identifier, got {key!r}")
    if key in catalogue:
        where = f"{catalogue[key].__module__}.{catalogue[key].__qualname__}"
        raise DuplicateEntry(f"register: the catalogue already has {key!r} (from {where}); choose another name "
                             "or unregister it first")
    if built.name != key:
        raise InvalidArgument(f"register: the formulation is named {built.name!r} but would be registered as "
                              f"{key!r}; give Formulation(name={key!r}) or register(name={built.name!r})")
    catalogue[key] = factory


def unregister(name: str) -> None:
    """Remove *name* from the catalogue (a test's own entry, a plugin reloaded); unknown names raise."""
    from derive.catalogue import CATALOGUE, factory

    factory(name)  # the catalogue's own message for an unknown name
    del CATALOGUE[name]
