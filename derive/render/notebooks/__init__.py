"""Notebooks generated with nbformat and stored executed: deterministic, with their plots, cells that assert.

Each module here defines ``NAME`` (the file stem), ``TITLE`` and ``cells()``, a list
of ``("markdown" | "code", source)``; a plugin adds one with :func:`register`
(verify's built-in plugin adds the torch cross-check).  Code cells call derive's public functions
(``from derive import ...``) and ``assert`` what they show, so executing a
notebook is a test.  :func:`render` executes each one (nbclient) and stores the
outputs, byte-deterministically: cell ids are fixed (``<name>-<n>``), figures are
SVG with a fixed hash salt and no date, the kernel runs with
``PYTHONHASHSEED=0``, and timings, kernel versions and execution metadata are
stripped.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from derive.errors import DeriveError
from derive.render.output import write_atomically

MODULES = ("lr_placement", "nesterov", "operation_counts")  # the package's, in reading order
REGISTERED: dict[str, ModuleType] = {}  # NAME -> module, added by plugins after the package's
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
ROOT = Path(__file__).resolve().parents[3]  # the repository (derive and verify import from here)
EXECUTION_TIMEOUT = 600  # seconds per cell

# The first code cell of every notebook: figures that are the same bytes on every run.
SETUP = '''
# Figures as SVG with a fixed hash salt and no date, so that the stored notebook is byte-deterministic.
%config InlineBackend.figure_formats = ["svg"]
%config InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "metadata": {"Date": None}}
import matplotlib
matplotlib.rcParams["svg.hashsalt"] = "sgd-derive"
'''


def notebook(name: str, cells: list[tuple[str, str]]):
    """An nbformat v4 notebook with fixed cell ids and no outputs (the setup cell after the title)."""
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNEL), "language_info": {"name": "python"}}
    cells = cells[:1] + [("code", SETUP)] + cells[1:]
    for n, (kind, source) in enumerate(cells):
        make = v4.new_markdown_cell if kind == "markdown" else v4.new_code_cell
        cell = make(source.strip("\n"))
        cell.id = f"{name.replace('_', '-')}-{n:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def normalized(nb):
    """Strip what changes between runs: kernel versions, timings, execution metadata."""
    nb.metadata = {"kernelspec": dict(KERNEL), "language_info": {"name": "python"}}
    for cell in nb.cells:
        cell.metadata = {}
        for output in cell.get("outputs", ()):
            if "metadata" in output:
                output["metadata"] = {}
    return nb


def execute(nb):
    """Run *nb* in a fresh kernel from the repository root (asserts in cells raise here)."""
    from nbclient import NotebookClient

    env = dict(os.environ, PYTHONHASHSEED="0",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    client = NotebookClient(nb, timeout=EXECUTION_TIMEOUT, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=env)
    return normalized(nb)


def register(module: ModuleType) -> ModuleType:
    """Add a plugin's notebook: *module* defines ``NAME`` (the file stem), ``TITLE`` and ``cells()``.

    Raises:
      DeriveError: the module lacks one of those, or its ``NAME`` is taken.
    """
    missing = [a for a in ("NAME", "TITLE", "cells") if not hasattr(module, a)]
    if missing:
        raise DeriveError(f"notebook module {module.__name__} lacks {', '.join(missing)}")
    if module.NAME in MODULES or module.NAME in REGISTERED:
        if REGISTERED.get(module.NAME) is module:
            return module
        raise DeriveError(f"notebook {module.NAME!r} is already registered")
    REGISTERED[module.NAME] = module
    return module


def modules() -> list[ModuleType]:
    """The notebook modules: the package's, then the plugins' in the order they registered."""
    import importlib

    return [importlib.import_module(f"derive.render.notebooks.{m}") for m in MODULES] + list(REGISTERED.values())


def names() -> list[str]:
    """The notebooks' names (file stems), in the order they are written."""
    return [m.NAME for m in modules()]


def render(*, executed: bool = True) -> dict[str, bytes]:
    """``{file name: bytes}`` for every notebook, executed with its outputs unless *executed* is False."""
    import nbformat

    files = {}
    for module in modules():
        nb = notebook(module.NAME, module.cells())
        if executed:
            nb = execute(nb)
        files[f"{module.NAME}.ipynb"] = (nbformat.writes(nb) + "\n").encode("utf-8")
    return files


def write(out_dir: os.PathLike) -> list[Path]:
    """Execute every notebook, then write them all into *out_dir* atomically."""
    return write_atomically(Path(out_dir), render())
