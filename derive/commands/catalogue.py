"""List the formulation catalogue: each entry's name, title and citation.

An entry registered by a plugin is marked with its origin (``[plugin NAME]``;
``"origin"`` in the JSON, ``"sgd-derive"`` for the package's own).
"""

from __future__ import annotations

import json

from derive.catalogue import CATALOGUE, origin
from derive.errors import DeriveError

NAME = "list"
HELP = "list the catalogue of formulations with their citations"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the catalogue as JSON")


def run(args) -> int:
    entries = [(_built(name, factory), origin(name)) for name, factory in CATALOGUE.items()]
    if args.json:
        print(json.dumps([{"name": f.name, "title": f.title, "citation": f.citation,
                           "state": [str(s) for s in f.state], "params": str(f.params), "origin": str(o)}
                          for f, o in entries], indent=2))
        return 0
    width = max(len(f.name) for f, _ in entries)
    for f, o in entries:
        print(f"{f.name:<{width}}  {f.title}" + ("" if o.builtin else f"  [{o}]"))
        print(f"{'':<{width}}  {f.citation}")
    return 0


def _built(name: str, factory):
    """The entry with its defaults; a plugin's factory that raises is a one-line error naming it."""
    try:
        return factory()
    except Exception as exc:
        if origin(name).builtin:
            raise
        raise DeriveError(f"formulation {name} of {origin(name)} raised {type(exc).__name__} when built with its "
                          f"defaults: {' '.join(str(exc).split())}") from None
