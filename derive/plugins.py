"""Plugins: a user's formulations and claims, loaded without editing the package.

A plugin is an ordinary Python module that registers catalogue entries
(:func:`derive.catalogue.entry`) and claims (:func:`derive.claims.claim`) when it
is imported.  It reaches derive in three ways:

* ``--plugin MODULE`` (repeatable) on every ``derive`` and ``verify`` command:
  a dotted name importable from ``sys.path`` or the current directory, or a path
  to a ``.py`` file;
* the entry-point group ``sgd_derive.plugins`` of every installed distribution,
  loaded when either command starts, ordered by distribution and entry-point name.
  An entry point names a module (imported for its registrations) or a function
  of one (called with no arguments after the import);
* :func:`load_plugins` from Python, which does both.

``verify`` is the built-in plugin: it registers the claims that run torch and the
torch notebook.  It is declared in the package's own entry points and loaded here
by name as well, so a checkout that was never installed sees it too.

Every registration remembers its :class:`Origin` (the package, or the plugin), so
the appendix and ``derive list`` can say whose it is.  A plugin that cannot work
here (verify without torch) raises :class:`PluginUnavailable`: it is recorded,
with the claims it would have registered, and ``derive claims`` says so in one line.
Anything else is a :class:`PluginError`, one line naming the plugin: a module that
does not exist, one that raises on import, one that registers a name already taken.
Nothing of a plugin that failed stays registered.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from derive.errors import DeriveError

GROUP = "sgd_derive.plugins"
PACKAGE_DISTRIBUTION = "sgd-derive"
# the built-in plugin, loaded by name too (a checkout that was never installed has no entry points)
BUILTIN = (("verify", "verify.plugin:register"),)
NO_AUTOLOAD = "SGD_DERIVE_DISABLE_PLUGIN_AUTOLOAD"  # set (to anything): skip installed distributions' plugins


@dataclass(frozen=True)
class Origin:
    """Where a formulation or a claim was registered from: the package itself, or a plugin (by its name)."""

    name: str
    kind: str = "plugin"  # "package" | "plugin"

    @property
    def builtin(self) -> bool:
        return self.kind == "package"

    def __str__(self) -> str:
        return self.name if self.builtin else f"plugin {self.name}"


PACKAGE = Origin(PACKAGE_DISTRIBUTION, "package")


@dataclass(frozen=True)
class Plugin:
    """One loaded plugin: its name, what was imported, what it registered (or why it could not)."""

    name: str
    target: str
    origin: Origin
    formulations: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()
    unavailable: str | None = None
    missing_claims: tuple[str, ...] = ()


class PluginError(DeriveError):
    """A plugin that cannot be loaded: not found, raised on import, or registered a name already taken."""


class PluginUnavailable(DeriveError):
    """Raised by a plugin that cannot work in this installation (a missing dependency).

    Args:
      reason: why, in words, with the fix (``"torch is not installed; pip install ..."``).
      claims: the ids of the claims it would have registered.
    """

    def __init__(self, reason: str, *, claims: Iterable[str] = ()):
        super().__init__(reason)
        self.reason = reason
        self.claims = tuple(claims)


class DuplicateName(DeriveError, ValueError):
    """A formulation or claim registered under a name that is already taken."""


LOADED: dict[str, Plugin] = {}  # target -> record, in loading order
_loading: list[Origin] = []  # the plugin being imported now (a stack: a plugin may load another)


def origin_of(module: str) -> Origin:
    """The origin of a registration made now by code of *module*."""
    if module.split(".")[0] in ("derive", "verify"):
        return PACKAGE
    if _loading:
        return _loading[-1]
    return Origin(module)


def taken(kind: str, name: str, origin: Origin) -> DuplicateName:
    """The error for registering *name* again (*origin*: who has it)."""
    return DuplicateName(f"{kind} {name!r} is already registered by {origin}")


def loaded() -> list[Plugin]:
    """Every plugin loaded in this process, in loading order."""
    return list(LOADED.values())


def not_loaded() -> list[str]:
    """One line per plugin that could not work here: how many claims it did not register, and why."""
    return [f"{len(p.missing_claims)} claim{'s' if len(p.missing_claims) != 1 else ''} of plugin {p.name} "
            f"not loaded ({', '.join(p.missing_claims)}): {p.unavailable}"
            for p in LOADED.values() if p.unavailable and p.missing_claims]


def user_plugins() -> bool:
    """Whether anything registered comes from outside the package (a plugin, or a user's module)."""
    from derive.catalogue import ORIGINS
    from derive.claims import REGISTRY

    return any(not o.builtin for o in ORIGINS.values()) or any(not c.origin.builtin for c in REGISTRY.values())


def add_argument(parser) -> None:
    """``--plugin MODULE`` (repeatable), on every subcommand of derive and verify."""
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="load a plugin first: a dotted module name importable from sys.path or the "
                             "current directory, or a path to a .py file, that registers formulations "
                             "and claims (repeatable; installed sgd_derive.plugins entry points load anyway)")


def load_plugins(modules: Iterable[str] = (), *, entry_points: bool = True) -> list[Plugin]:
    """Load the built-in plugin, every installed ``sgd_derive.plugins`` entry point, then *modules*.

    Each is loaded once per process (a second call returns the same records).

    Args:
      modules: dotted module names or paths to ``.py`` files (what ``--plugin`` takes), in order.
      entry_points: also load installed distributions' entry points (unless
        ``$SGD_DERIVE_DISABLE_PLUGIN_AUTOLOAD`` is set).

    Returns:
      The :class:`Plugin` records of this call, in loading order.

    Raises:
      PluginError: a plugin was not found, raised on import or registered a name already taken.
    """
    if isinstance(modules, str):
        modules = [modules]
    import derive.catalogue  # noqa: F401  the package's names first: a plugin cannot take them
    import derive.claims  # noqa: F401

    out = [_builtin(name, target) for name, target in BUILTIN]
    if entry_points and not os.environ.get(NO_AUTOLOAD):
        out += [_entry_point(ep, dist) for dist, ep in installed()]
    out += [load_module(spec) for spec in modules]
    unique = {id(p): p for p in out if p is not None}  # the package's own entry point is the built-in plugin
    return list(unique.values())


def installed() -> list[tuple[str, object]]:
    """``(distribution name, entry point)`` of the group, in (distribution, entry-point name) order."""
    from importlib import metadata

    seen, out = set(), []
    for ep in metadata.entry_points(group=GROUP):
        dist = getattr(ep, "dist", None)
        dist_name = (dist.metadata["Name"] if dist is not None else None) or ep.module
        key = (_normalized(dist_name), ep.name)
        if key not in seen:  # a distribution found twice on sys.path counts once
            seen.add(key)
            out.append((dist_name, ep))
    return sorted(out, key=lambda item: (_normalized(item[0]), item[1].name))


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _builtin(name: str, target: str) -> Plugin | None:
    """The built-in plugin, by name; absent (a derive-only installation) is not an error."""
    if target in LOADED:
        return LOADED[target]
    if importlib.util.find_spec(target.split(".")[0]) is None:
        return None
    return _load(target, name, PACKAGE, lambda: _call(target))


def _entry_point(ep, dist_name: str) -> Plugin | None:
    builtin = _normalized(dist_name) == PACKAGE_DISTRIBUTION
    if ep.value in LOADED or (builtin and any(t == ep.value for _, t in BUILTIN)):
        return LOADED.get(ep.value)
    origin = PACKAGE if builtin else Origin(dist_name)
    what = f"{dist_name} (entry point {ep.name} = {ep.value} in {GROUP})"
    return _load(ep.value, dist_name, origin, lambda: _run(ep.load()), described=what)


def _run(value):
    """An entry point's object: a module is imported already; a function is called."""
    import types

    if isinstance(value, types.ModuleType):
        return
    if not callable(value):
        raise PluginError(f"names neither a module nor a function (got {type(value).__name__})")
    value()


def _call(target: str):
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    if attribute:
        _run(getattr(module, attribute))


def load_module(spec: str) -> Plugin:
    """Load one plugin named by ``--plugin``: a dotted module name or a path to a ``.py`` file.

    Raises:
      PluginError: not found, raised on import, or registered a name already taken.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise PluginError(f"--plugin needs a module name or a path to a .py file, got {spec!r}")
    if spec.endswith(".py") or os.sep in spec or "/" in spec:
        path = Path(spec).expanduser().resolve()
        if not path.is_file():
            raise PluginError(f"plugin {spec}: no such file" + (" (a plugin file ends in .py)"
                                                                 if not spec.endswith(".py") else ""))
        target = str(path)
        if target in LOADED:
            return LOADED[target]
        return _load(target, path.stem, Origin(path.stem), lambda: _import_file(path), described=spec)
    if not all(part.isidentifier() for part in spec.split(".")):
        raise PluginError(f"plugin {spec}: not a module name (a.b.c) nor a path to a .py file")
    if spec in LOADED:
        return LOADED[spec]
    return _load(spec, spec, Origin(spec), lambda: _import_name(spec))


def _import_name(name: str):
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)  # as `python -m` does: a module beside the user is found
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise PluginError(f"plugin {name}: no module named {exc.name!r} (give a dotted name importable "
                              "from sys.path or the current directory, or a path to a .py file)") from None
        raise


def _import_file(path: Path):
    name = path.stem
    if not name.isidentifier():
        raise PluginError(f"plugin {path}: {name!r} is not a module name; rename the file (letters, digits, _)")
    present = sys.modules.get(name)
    if present is not None:
        if Path(getattr(present, "__file__", "") or "").resolve() == path:
            return
        raise PluginError(f"plugin {path}: the module name {name!r} is taken by {present.__name__} "
                          f"({getattr(present, '__file__', 'built in')}); rename the file")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def _load(target: str, name: str, origin: Origin, load, *, described: str | None = None) -> Plugin:
    """Run *load* with *origin* current; record what it registered, or undo it all and raise one line."""
    where = described or name
    try:
        with _registrations() as added, _current(origin):
            load()
            record = Plugin(name, target, origin, tuple(added["formulations"]()), tuple(added["claims"]()))
    except PluginUnavailable as exc:  # what it registered before saying so is undone too
        record = Plugin(name, target, origin, unavailable=exc.reason, missing_claims=exc.claims)
    except PluginError as exc:
        message = str(exc)
        raise PluginError(message if message.startswith("plugin ") else f"plugin {where}: {message}") from None
    except DuplicateName as exc:
        raise PluginError(f"plugin {where}: {exc}") from None
    except (Exception, SystemExit) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise PluginError(f"plugin {where} raised {type(exc).__name__} on import"
                          + (f": {first}" if first else "")) from None
    LOADED[target] = record
    return record


@contextmanager
def _current(origin: Origin):
    _loading.append(origin)
    try:
        yield
    finally:
        _loading.pop()


@contextmanager
def _registrations():
    """Yield functions naming what was registered inside the block; on an exception, unregister it."""
    from derive.catalogue import CATALOGUE, ORIGINS
    from derive.claims import REGISTRY
    from derive.render.notebooks import REGISTERED as NOTEBOOKS

    before = {"formulations": set(CATALOGUE), "claims": set(REGISTRY), "notebooks": set(NOTEBOOKS)}
    registries = {"formulations": (CATALOGUE, ORIGINS), "claims": (REGISTRY,), "notebooks": (NOTEBOOKS,)}

    def new(kind):
        return lambda: [n for n in registries[kind][0] if n not in before[kind]]

    try:
        yield {kind: new(kind) for kind in registries}
    except BaseException:
        for kind, tables in registries.items():
            for name in new(kind)():
                for table in tables:
                    table.pop(name, None)
        raise
