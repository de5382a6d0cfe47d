"""What a claim's verdict depends on, as source text: the key of its cached verdict.

A procedure is deterministic: the same code run with the same libraries gives the
same verdict.  The code a claim runs through is, exactly:

* its own definition, and the rest of its module (imports, constants and helpers;
  the other claims' definitions are cut out, they are never called unless named);
* every function it names, transitively, in a claims or catalogue module
  (a catalogue entry contributes its definition and the rest of its module);
* every catalogue entry it names, by identifier or by a string constant (``get("pytorch_sgd")``),
  in its code or in the module-level values its code reads;
* the engine: every other module of ``derive`` it can reach (formulation, system,
  unroll, equivalence, witness, ...), taken whole, since their code paths depend on data;
* for claims that run torch (``verify``'s, registered by its built-in plugin), ``verify``
  whole (they read ``verify.reference`` and friends), its claims module aside: that one
  is read like derive's claims modules, definition by definition.

Only the package's claims are keyed and cached (:func:`derive.claims.cacheable`):
a plugin's claim may run through modules of the user's that this reading cannot see.

A name built at run time (``get("pytorch_" + kind)``) would escape the static
reading, so :func:`recording` notes every entry built through the catalogue while
a claim is judged; a verdict whose entries are not all in the static set is never
stored (:func:`derive.claims.judged`).  Changing one catalogue entry therefore
changes exactly the keys of the claims that name it (directly, or through an entry
that calls it), and nothing can be served from a key that was not recomputed.
"""

from __future__ import annotations

import ast
import inspect
import types
import functools
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
# Modules that claims never run through: the command line, the renderers, the cache itself.
NOT_ENGINE = ("derive.cli", "derive.__main__", "derive.cache", "derive.commands", "derive.render")


@dataclass(frozen=True)
class Dependencies:
    """A claim's closure: definitions ``(module, name)``, entries, modules whose remaining text counts."""

    definitions: tuple[tuple[str, str], ...]
    entries: tuple[str, ...]
    modules: tuple[str, ...]


def _codes(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _strings(value, depth: int = 0):
    """String constants inside a module-level value (tuples, lists, dicts, sets of strings)."""
    if isinstance(value, str):
        yield value
    elif depth < 4 and isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            yield from _strings(item, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(item, depth + 1)


def registered() -> dict[str, Callable]:
    """``{module.name: function}`` of every definition whose text is cut from its module's remainder."""
    from derive.catalogue import CATALOGUE
    from derive.claims import REGISTRY

    out = {f"{f.__module__}.{f.__name__}": f for f in CATALOGUE.values()}
    out.update({f"{c.procedure.__module__}.{c.procedure.__name__}": c.procedure for c in REGISTRY.values()})
    return out


def claim_modules() -> set[str]:
    from derive.claims import REGISTRY

    return {c.procedure.__module__ for c in REGISTRY.values()}


def _followed(module: str) -> bool:
    return module.startswith("derive.catalogue.") or module in claim_modules()


def closure(procedure: Callable) -> Dependencies:
    """Every definition, catalogue entry and claims/catalogue module that *procedure* can reach by name."""
    from derive.catalogue import CATALOGUE

    seen: dict[int, Callable] = {}
    entries: set[str] = set()
    stack = [procedure]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        for code in _codes(fn.__code__):
            # string constants, also inside tuples: 3.13 folds f("name", **kw)'s arguments into one ("name",)
            names = [text for c in code.co_consts for text in _strings(c)] + list(code.co_names)
            for name in code.co_names:
                names += list(_strings(fn.__globals__.get(name)))
                value = fn.__globals__.get(name)
                if inspect.isfunction(value) and _followed(value.__module__):
                    stack.append(value)
            for name in names:
                if name in CATALOGUE and name not in entries:
                    entries.add(name)
                    stack.append(CATALOGUE[name])
    functions = sorted(seen.values(), key=lambda f: (f.__module__, f.__qualname__))
    return Dependencies(tuple((f.__module__, f.__qualname__) for f in functions), tuple(sorted(entries)),
                        tuple(sorted({f.__module__ for f in functions})))


def module_path(module: str) -> Path:
    """The file of a module of this checkout (``derive.claims`` is ``derive/claims/__init__.py``)."""
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def module_text(module: str) -> str:
    return module_path(module).read_text(encoding="utf-8")


@lru_cache(maxsize=256)
def _split(text: str, cut: frozenset[str]) -> tuple[dict[str, str], str]:
    return split(text, cut)


def split(text: str, cut: set[str]) -> tuple[dict[str, str], str]:
    """``({name: definition text}, remainder)``: top-level definitions named in *cut*, and the rest."""
    lines = text.splitlines(keepends=True)
    spans, definitions = [], {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in cut:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            definitions[node.name] = "".join(lines[start:node.end_lineno])
            spans.append((start, node.end_lineno))
    keep = [line for n, line in enumerate(lines) if not any(a <= n < b for a, b in spans)]
    return definitions, "".join(keep)


def engine_modules(torch: bool) -> tuple[str, ...]:
    """The modules every claim may run through, taken whole (verify too for claims that run torch)."""
    return _engine_modules(torch, frozenset(claim_modules()))  # a plugin loaded later changes the set


@lru_cache(maxsize=4)
def _engine_modules(torch: bool, followed: frozenset[str]) -> tuple[str, ...]:
    modules = []
    for path in sorted((ROOT / "derive").rglob("*.py")):
        module = module_name(path)
        if module.startswith(NOT_ENGINE) or module in followed:
            continue
        if module.startswith("derive.catalogue."):
            continue  # entries and their modules' remainders enter through the closure
        modules.append(module)
    if torch:
        modules += [module for module in map(module_name, sorted((ROOT / "verify").rglob("*.py")))
                    if module not in followed]
    return tuple(modules)


def source_pieces(procedure: Callable, *, torch: bool, read: Callable[[str], str] = module_text) -> list[tuple[str, str]]:
    """``(label, text)`` for everything *procedure*'s verdict depends on, in a fixed order.

    *read* maps a module name to its text (a test passes an edited text to see which keys move).
    """
    deps = closure(procedure)
    defined = registered().values()
    pieces = []
    for module in deps.modules:
        definitions, remainder = _split(read(module), frozenset(f.__name__ for f in defined if f.__module__ == module))
        pieces.append((f"remainder of {module}", remainder))
        for mod, name in deps.definitions:
            if mod == module and name in definitions:
                pieces.append((f"definition {mod}.{name}", definitions[name]))
    pieces.append(("entries", " ".join(deps.entries)))
    for module in engine_modules(torch):
        pieces.append((f"engine {module}", read(module)))
    return pieces


@contextmanager
def recording():
    """Note the catalogue entries built (through ``get`` or ``CATALOGUE[name]``) inside the block."""
    from derive.catalogue import CATALOGUE

    built: set[str] = set()
    original = dict(CATALOGUE)

    def noting(name, factory):
        @functools.wraps(factory)  # keeps the signature: `get` reads the accepted options from it
        def factory_noted(*args, **kwargs):
            built.add(name)
            return factory(*args, **kwargs)
        return factory_noted

    CATALOGUE.update({name: noting(name, factory) for name, factory in original.items()})
    try:
        yield built
    finally:
        CATALOGUE.update(original)
