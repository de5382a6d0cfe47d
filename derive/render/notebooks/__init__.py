"""Notebooks generated with nbformat: deterministic, unexecuted, cells that assert.

Each module here defines ``NAME`` (the file stem), ``TITLE`` and ``cells()``, a list
of ``("markdown" | "code", source)``.  Code cells compute everything from derive
(and verify, for the live torch cross-check) and ``assert`` what they show, so
executing a notebook is a test; no output is stored.  Cell ids are fixed
(``<name>-<n>``) so regenerating gives identical bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from derive.render.output import write_atomically

MODULES = ("lr_placement", "nesterov", "operation_counts", "torch_crosscheck")
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def notebook(name: str, cells: list[tuple[str, str]]):
    """An nbformat v4 notebook with fixed cell ids and no outputs."""
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNEL), "language_info": {"name": "python"}}
    for n, (kind, source) in enumerate(cells):
        make = v4.new_markdown_cell if kind == "markdown" else v4.new_code_cell
        cell = make(source.strip("\n"))
        cell.id = f"{name.replace('_', '-')}-{n:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render() -> dict[str, bytes]:
    """``{file name: bytes}`` for every notebook."""
    import importlib

    import nbformat

    files = {}
    for module_name in MODULES:
        module = importlib.import_module(f"derive.render.notebooks.{module_name}")
        nb = notebook(module.NAME, module.cells())
        files[f"{module.NAME}.ipynb"] = (nbformat.writes(nb) + "\n").encode("utf-8")
    return files


def write(out_dir: os.PathLike) -> list[Path]:
    """Write every notebook into *out_dir* atomically."""
    return write_atomically(Path(out_dir), render())
