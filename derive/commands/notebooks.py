"""Write the notebooks, executed with their plots (byte-deterministic): lr placement, Nesterov, op counts,
torch cross-check.

Each notebook computes everything from derive (and verify) and asserts what it
shows, so writing them runs those asserts; `pytest tests/render/test_notebooks.py -m slow`
re-executes them and compares the outputs that must not change.
"""

from __future__ import annotations

from derive.errors import DeriveError

NAME = "notebooks"
HELP = "execute and write the generated notebooks (deterministic, with outputs, cells that assert)"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="notebooks", help="output directory (default: notebooks)")


def run(args) -> int:
    from derive.render.output import check_output_dir

    check_output_dir(args.out)  # before rendering, not after
    try:
        import matplotlib  # noqa: F401
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as exc:
        raise DeriveError(f"{exc.name} is not installed: pip install -e '.[notebooks]'") from None
    from derive.render.notebooks import write

    for path in write(args.out):
        print(path)
    return 0
