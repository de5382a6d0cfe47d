"""The committed notebooks are exactly what the generator writes, and each one runs with its asserts."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.render import notebooks

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "notebooks"


def test_regenerating_gives_the_committed_notebooks_byte_for_byte():
    fresh = notebooks.render()
    committed = {p.name for p in COMMITTED.glob("*.ipynb")}
    assert committed == set(fresh), "run `python -m derive notebooks --out notebooks` and commit the result"
    for name, data in fresh.items():
        assert (COMMITTED / name).read_bytes() == data, f"{name} is stale: run `python -m derive notebooks`"


def test_the_generator_is_deterministic():
    assert notebooks.render() == notebooks.render()


def test_notebooks_store_no_outputs_and_fixed_cell_ids():
    import nbformat

    for name, data in notebooks.render().items():
        nb = nbformat.reads(data.decode(), as_version=4)
        ids = [c.id for c in nb.cells]
        assert len(set(ids)) == len(ids) and all(i.startswith(name.split(".")[0].replace("_", "-")) for i in ids)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


def test_every_code_cell_that_computes_also_asserts():
    # a notebook is a test: at least one assert per notebook, never a formula checked by eye
    for name, data in notebooks.render().items():
        assert b"assert " in data, name


@pytest.mark.slow
@pytest.mark.parametrize("name", [f"{m}.ipynb" for m in notebooks.MODULES])
def test_notebook_executes_and_its_asserts_hold(name):
    import nbformat
    from nbclient import NotebookClient

    if name == "torch_crosscheck.ipynb":
        pytest.importorskip("torch", reason="the torch cross-check notebook needs torch")
    nb = nbformat.read(COMMITTED / name, as_version=4)
    # Run from the repository root so that derive and verify import even without an install.
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError when a cell's assert fails
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code), "a code cell did not run"
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, errors
