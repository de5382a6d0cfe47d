"""verify's commands take --plugin: a user's formulation is a candidate for identify and a name for trajectory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from derive.catalogue import CATALOGUE
from verify.cli import main

from plugin_sources import USER_PLUGIN  # tests/: the same user plugin as derive's tests

ROOT = Path(__file__).resolve().parents[2]

HALF_SGD = textwrap.dedent('''
    import torch


    class HalfSGD(torch.optim.Optimizer):
        """theta <- theta - lr * g / 2: what the user's halved_gd says."""

        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @torch.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"] / 2)
            return loss
''')


@pytest.mark.parametrize("argv", [["sweep", "--steps", "1"], ["identify", "torch.optim:SGD"], ["trajectory"]],
                         ids=lambda argv: argv[0])
def test_every_verify_command_loads_plugins_first_and_a_missing_one_is_one_line(argv, capsys):
    before = dict(CATALOGUE)
    assert main(argv + ["--plugin", "no_such_plugin_module"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["verify: error: plugin no_such_plugin_module: no module named "
                                         "'no_such_plugin_module' (give a dotted name importable from sys.path or "
                                         "the current directory, or a path to a .py file)"]
    assert dict(CATALOGUE) == before


def verify(*argv, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "verify", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.torch
def test_identify_and_trajectory_see_a_plugins_formulation(tmp_path):
    (tmp_path / "user_plugin.py").write_text(USER_PLUGIN)
    (tmp_path / "half_sgd.py").write_text(HALF_SGD)
    found = verify("identify", "half_sgd.py:HalfSGD", "--kwargs", '{"lr": 0.1}', "--steps", "5",
                   "--plugin", "user_plugin.py", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert "implements: halved_gd\n" in found.stdout
    without = verify("identify", "half_sgd.py:HalfSGD", "--kwargs", '{"lr": 0.1}', "--steps", "5", cwd=tmp_path)
    assert without.returncode == 1 and "halved_gd" not in without.stdout  # checked, implements nothing
    traced = verify("trajectory", "halved_gd", "--optimizer", "half_sgd.py:HalfSGD", "--lr", "0.2", "--steps", "5",
                    "--plugin", "user_plugin", cwd=tmp_path)
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout.splitlines()[-1].split(": ")[1].startswith("pass")


def test_verifys_plugin_option_is_derives_spelled_out_and_its_parser_imports_no_sympy():
    import argparse

    from derive.plugins import add_argument
    from verify.cli import build_parser

    derive_parser = argparse.ArgumentParser()
    add_argument(derive_parser)
    subcommands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    wanted = next(a for a in derive_parser._actions if a.dest == "plugin")
    for name, parser in subcommands.choices.items():
        option = next(a for a in parser._actions if a.dest == "plugin")
        assert (option.option_strings, option.help, option.default, option.metavar) == \
            (wanted.option_strings, wanted.help, wanted.default, wanted.metavar), name
    code = "import sys\nfrom verify.cli import build_parser\nbuild_parser()\nprint('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
