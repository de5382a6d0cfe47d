"""The committed notebooks are the generator's, stored executed with their plots, and re-executing them
gives the same outputs; they call derive's public functions only."""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path

import pytest

from derive.render import notebooks

nbformat = pytest.importorskip("nbformat", reason="the notebooks need nbformat")

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "notebooks"
PLOTTED = ("lr_placement.ipynb", "nesterov.ipynb")  # the notebooks that draw figures
REGENERATE = "run `python -m derive notebooks --out notebooks` and commit the result"


def committed(name: str):
    return nbformat.read(COMMITTED / name, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_the_committed_notebooks_hold_the_generators_cells():
    fresh = notebooks.render(executed=False)
    stored = {p.name for p in COMMITTED.glob("*.ipynb")}
    if importlib.util.find_spec("torch") is None:  # verify's plugin adds the torch notebook where torch is installed
        stored.discard("torch_crosscheck.ipynb")
    assert stored == set(fresh), REGENERATE
    for name, data in fresh.items():
        cells = [(c.id, c.cell_type, c.source) for c in nbformat.reads(data.decode(), as_version=4).cells]
        assert [(c.id, c.cell_type, c.source) for c in committed(name).cells] == cells, f"{name} is stale: {REGENERATE}"


def test_the_unexecuted_generator_is_deterministic():
    assert notebooks.render(executed=False) == notebooks.render(executed=False)


@pytest.mark.parametrize("name", [f"{m}.ipynb" for m in notebooks.names()])
def test_notebooks_are_stored_executed_without_errors_timings_or_kernel_versions(name):
    nb = committed(name)
    code = code_cells(nb)
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert nb.metadata == {"kernelspec": notebooks.KERNEL, "language_info": {"name": "python"}}
    assert all(c.metadata == {} for c in nb.cells)  # no execution timings
    assert any(c.outputs for c in code)


@pytest.mark.parametrize("name", PLOTTED)
def test_the_plotting_notebooks_store_their_figures_as_deterministic_svg(name):
    figures = [o.data["image/svg+xml"] for c in code_cells(committed(name)) for o in c.outputs
               if o.get("data", {}).get("image/svg+xml")]
    assert figures
    assert all("<dc:date>" not in svg for svg in figures)  # no build date in the figure


def test_the_nesterov_notebook_plots_the_difference_in_its_own_panel():
    source = "\n".join(c.source for c in code_cells(committed("nesterov.ipynb")))
    assert "plt.subplots(1, 2" in source and "documented - Sutskever" in source
    printed = "".join(o.get("text", "") for c in code_cells(committed("nesterov.ipynb")) for o in c.outputs)
    before, after = map(float, re.search(r"before the drop: (\S+), after: (\S+)", printed).groups())
    assert before < 1e-12 < 1e-4 < after  # equal while the rate is constant, apart after the drop


def test_notebooks_call_only_the_public_api():
    for name in (f"{m}.ipynb" for m in notebooks.names()):
        source = "\n".join(c.source for c in code_cells(committed(name)))
        assert "derive.render" not in source and not re.search(r"import _|\._[a-z]", source), name


def stable_outputs(nb) -> list:
    """What must not change between runs: texts, Markdown and which outputs are figures."""
    out = []
    for cell in code_cells(nb):
        for o in cell.outputs:
            if o.output_type == "stream":
                out.append((cell.id, o.name, o.text))
            elif o.output_type in ("display_data", "execute_result"):
                data = o.get("data", {})
                out.append((cell.id, data.get("text/markdown"), "image/svg+xml" in data,
                            None if "image/svg+xml" in data else data.get("text/plain")))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", [f"{m}.ipynb" for m in notebooks.names()])
def test_reexecuting_a_notebook_gives_its_stored_outputs(name):
    if name == "torch_crosscheck.ipynb":
        pytest.importorskip("torch", reason="the torch cross-check notebook needs torch")
    pytest.importorskip("nbclient", reason="executing the notebooks needs nbclient")
    stored = committed(name)
    fresh = copy.deepcopy(stored)
    for cell in code_cells(fresh):
        cell.outputs, cell.execution_count = [], None
    notebooks.execute(fresh)  # a failing assert in a cell raises CellExecutionError
    assert stable_outputs(fresh) == stable_outputs(stored)
