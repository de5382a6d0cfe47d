"""Run ``python -m verify`` in a subprocess, as a user would, and read what it left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = Path(__file__).with_name("hostile_optimizers.py")

# a sitecustomize that makes torch unimportable in the child (put its directory first on PYTHONPATH)
TORCH_BLOCKER = """import sys
class BlockTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"torch is blocked in this test: {name}")
sys.meta_path.insert(0, BlockTorch())
"""


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """stderr without the hostile optimizers' own chatter."""
        return [line for line in self.stderr.splitlines() if not line.startswith("hostile:")]


def env(extra_path: str | None = None) -> dict:
    path = str(ROOT) if extra_path is None else f"{extra_path}{os.pathsep}{ROOT}"
    return dict(os.environ, PYTHONPATH=path)


def verify(*argv: str, cwd, timeout: float = 600, extra_path: str | None = None) -> Done:
    done = subprocess.run([sys.executable, "-m", "verify", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env(extra_path), timeout=timeout)
    return Done(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(done: Done, message: str) -> None:
    """Exit 2, no traceback, exactly one ``verify: error:`` line on stderr naming ``message``."""
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.error_lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("verify: error: ") and message in lines[0], lines[0]


def listing(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))
