"""Packaging invariants: derive imports without torch; the two commands are wired up."""

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter: a meta-path finder makes torch unimportable,
# then every module of the derive package tree is imported.
_IMPORT_DERIVE_WITHOUT_TORCH = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    class BlockTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError(f"torch is blocked in this test: {name}")
            return None

    sys.meta_path.insert(0, BlockTorch())
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    else:
        sys.exit("the torch blocker does not work")

    import derive, derive.catalogue, derive.unroll

    failed = []
    def onerror(name):
        failed.append(f"{name}: {sys.exc_info()[1]!r}")

    names = []
    for info in pkgutil.walk_packages(derive.__path__, "derive.", onerror=onerror):
        names.append(info.name)
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed.append(f"{info.name}: {exc!r}")
    if failed:
        sys.exit("modules of derive that fail to import without torch:\\n  " + "\\n  ".join(failed))
    loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
    if loaded:
        sys.exit(f"torch modules were loaded: {loaded}")
    print(len(names), "modules imported without torch")
    """
)


def test_derive_imports_without_torch():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_DERIVE_WITHOUT_TORCH],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, (
        f"derive must import without torch (exit {result.returncode}):\n"
        f"{result.stdout}\n{result.stderr}"
    )
    assert "modules imported without torch" in result.stdout


def test_core_dependencies_exclude_torch():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = [d.lower().replace(" ", "") for d in project["dependencies"]]
    assert not [d for d in core if d.startswith("torch")], core
    assert any(d.startswith("torch") for d in project["optional-dependencies"]["verify"])


@pytest.mark.parametrize("path", ["scripts/setup.sh", "scripts/test.sh", "scripts/main.sh", "scripts/test-pythons.sh",
                                  ".ci/run"])
def test_command_scripts_are_executable(path):
    script = ROOT / path
    assert script.is_file(), f"{path} is missing"
    assert script.stat().st_mode & stat.S_IXUSR, f"{path} is not executable"
    assert script.read_text().startswith("#!/usr/bin/env bash\n"), f"{path} lacks the bash shebang"
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, f"{path} has a bash syntax error:\n{syntax.stderr}"


def test_ci_runs_the_test_command():
    code_lines = [
        line.strip()
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert "set -euo pipefail" in code_lines
    assert any(
        line.startswith("bash scripts/test.sh") for line in code_lines
    ), f".ci/run does not run scripts/test.sh:\n{code_lines}"
    # requires-python is proven after the main suite, on the oldest and newest Python the machine has
    assert any(
        line.startswith("bash scripts/test-pythons.sh") for line in code_lines
    ), f".ci/run does not run scripts/test-pythons.sh:\n{code_lines}"


@pytest.mark.parametrize("package", ["derive", "verify"])
def test_version_is_the_installed_distributions_and_the_cli_prints_it(package):
    import importlib
    from importlib.metadata import version

    module = importlib.import_module(package)
    assert module.__version__ == version("sgd-derive")
    out = subprocess.run([sys.executable, "-m", package, "--version"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{package} (sgd-derive) {module.__version__}"


def test_both_commands_are_console_scripts_and_both_packages_are_typed():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["derive"] == "derive.cli:main"
    assert project["scripts"]["verify"] == "verify.cli:main"
    for package in ("derive", "verify"):
        assert (ROOT / package / "py.typed").is_file()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
