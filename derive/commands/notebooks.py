"""Write the notebooks (nbformat, unexecuted, fixed cell ids): lr placement, Nesterov, op counts, torch cross-check.

Each notebook computes everything from derive (and verify) and asserts what it
shows; `pytest tests/render/test_notebooks.py -m slow` executes them.
"""

from __future__ import annotations

from derive.errors import DeriveError

NAME = "notebooks"
HELP = "write the generated notebooks (deterministic, cells that assert)"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="notebooks", help="output directory (default: notebooks)")


def run(args) -> int:
    from derive.render.output import check_output_dir

    check_output_dir(args.out)  # before rendering, not after
    try:
        import nbformat  # noqa: F401
    except ImportError:
        raise DeriveError("nbformat is not installed: pip install -e '.[notebooks]'") from None
    from derive.render.notebooks import write

    for path in write(args.out):
        print(path)
    return 0
