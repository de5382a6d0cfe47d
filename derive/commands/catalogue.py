"""List the formulation catalogue: each entry's name, title and citation."""

from __future__ import annotations

import json

from derive.catalogue import CATALOGUE

NAME = "list"
HELP = "list the catalogue of formulations with their citations"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the catalogue as JSON")


def run(args) -> int:
    entries = [factory() for factory in CATALOGUE.values()]
    if args.json:
        print(json.dumps([{"name": f.name, "title": f.title, "citation": f.citation,
                           "state": [str(s) for s in f.state], "params": str(f.params)}
                          for f in entries], indent=2))
        return 0
    width = max(len(f.name) for f in entries)
    for f in entries:
        print(f"{f.name:<{width}}  {f.title}")
        print(f"{'':<{width}}  {f.citation}")
    return 0
