"""examples/ run as a user runs them: copied outside the repository, each a subprocess.

Each test copies ``examples/`` to a temporary directory and runs there (cwd = the copy) with this
interpreter, ``PYTHONPATH`` cleared, so the package comes from its installation, as a user's
would.  One exception, said here because it decides which code is tested: when the interpreter's
installed ``derive`` is another checkout's (a development worktree whose venv is editable-installed
from a different clone), the subprocesses get this checkout's root, and only that, on
``PYTHONPATH``; never the examples directory, which the examples must find through the cwd.
In CI (a fresh clone with its own editable install) ``PYTHONPATH`` stays unset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.torch  # the optimizer, the recorder and verify's identify need torch

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
USER_CLAIMS = ("USER-QHM-1", "USER-QHM-2", "USER-QHM-3")


@cache
def _environment() -> tuple[tuple[str, str], ...]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = subprocess.run([sys.executable, "-c", "import derive, verify; print(derive.__file__); print(verify.__file__)"],
                           env=env, cwd="/", capture_output=True, text=True)
    installed = [Path(line).resolve().parent.parent for line in found.stdout.split()]
    if found.returncode != 0 or any(place != ROOT for place in installed):
        env["PYTHONPATH"] = str(ROOT)  # the installed package is another checkout's: test this one
    return tuple(env.items())


def run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python ARGS`` in *cwd*, with the package as installed (or this checkout's root, see above)."""
    return subprocess.run([sys.executable, *args], cwd=cwd, env=dict(_environment()), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """A copy of examples/ outside the repository (no caches carried along)."""
    target = tmp_path / "user_project"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    assert ROOT not in target.resolve().parents
    return target


def lines(text: str) -> dict[str, str]:
    """Output lines by their first word (a claim id, an entry name)."""
    return {line.split()[0]: line for line in text.splitlines() if line.strip()}


def test_the_copy_imports_the_package_under_test(user_dir):
    done = run(["-c", "import derive, verify, qhm_plugin; print(derive.__file__); print(qhm_plugin.__file__)"], user_dir)
    assert done.returncode == 0, done.stderr
    package, plugin = (Path(line).resolve() for line in done.stdout.split())
    assert package == ROOT / "derive" / "__init__.py"
    assert plugin == user_dir.resolve() / "qhm_plugin.py"


def test_derive_claims_judges_the_users_claims(user_dir):
    # the whole command as a user types it: the package's claims and the plugin's, every verdict the recorded one
    done = run(["-m", "derive", "claims", "--plugin", "qhm_plugin", "--quiet"], user_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    out = lines(done.stdout)
    assert "| holds " in out["USER-QHM-1"] and "[plugin qhm_plugin]" in out["USER-QHM-1"]
    assert "| holds under a condition |" in out["USER-QHM-2"]
    # the machine's finding with a momentum schedule: a necessary condition, and the step it breaks
    assert "necessary, not sufficient" in out["USER-QHM-2"] and "at step 2" in out["USER-QHM-2"]
    assert "| fails " in out["USER-QHM-3"] and "at step 1" in out["USER-QHM-3"]


def test_a_wrong_claim_in_the_plugin_makes_derive_claims_exit_1(user_dir):
    plugin = user_dir / "qhm_plugin.py"
    source = plugin.read_text()
    right = "dampening=beta[t], weight_decay=0),"
    assert source.count(right) == 1
    plugin.write_text(source.replace(right, "dampening=0, weight_decay=0),"))  # QHM(nu=1) is not undamped momentum
    done = run(["-m", "derive", "claims", "--plugin", "qhm_plugin", "--quiet", "--only", *USER_CLAIMS], user_dir)
    assert done.returncode == 1, done.stdout + done.stderr
    out = lines(done.stdout)
    assert "| fails " in out["USER-QHM-1"]
    assert "| fails " in out["USER-QHM-3"]  # the others still judged as recorded


def test_derive_list_marks_the_users_entry(user_dir):
    done = run(["-m", "derive", "list", "--plugin", "qhm_plugin"], user_dir)
    assert done.returncode == 0, done.stderr
    out = lines(done.stdout)
    assert "[plugin qhm_plugin]" in out["user_qhm"]
    assert "[plugin" not in out["qhm"]  # the catalogue's own QHM, untouched


def test_the_users_pytest_file_passes(user_dir):
    done = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_qhm_claims.py"], user_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout


def test_the_users_optimizer_implements_the_users_entry(user_dir):
    done = run(["qhm_optimizer.py"], user_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "implements: user_qhm" in done.stdout
    assert "assert_implements(QHM, user_qhm): passed" in done.stdout


def test_verify_identify_cli_names_the_users_entry(user_dir):
    done = run(["-m", "verify", "identify", "qhm_optimizer.py:QHM", "--plugin", "qhm_plugin", "--roles",
                "beta=momentum", "--kwargs", '{"lr": 0.05, "beta": 0.9, "nu": 0.7}'], user_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "implements: qhm, user_qhm" in done.stdout
    assert "user_qhm(): implements it" in done.stdout


def test_the_recorded_training_loop_is_pytorch_sgd(user_dir):
    done = run(["train_linear.py"], user_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    out = lines(done.stdout)
    assert out["pytorch_sgd:"].startswith("pytorch_sgd: within tolerance")
    assert "departs" in out["sutskever_nesterov:"] and "first mismatch at step 1" in out["sutskever_nesterov:"]
