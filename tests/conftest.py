"""Skips that say why: tests marked ``torch``, ``cuda``, ``latex`` or ``matplotlib`` need that tool.

Nothing else is skipped silently; ``-m 'not slow'`` selects the fast suite.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest


def _cuda_reason() -> str | None:
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed"
    import torch

    if not torch.cuda.is_available():
        return f"no CUDA device: torch {torch.__version__} sees none (torch.cuda.is_available() is False)"
    return None


def pytest_configure(config):
    """The registries the commands see: the package's, then its built-in plugin (verify's torch claims and
    notebook, where torch is installed). Installed distributions' plugins are left out: the suite tests this
    package, whatever else the environment holds (tests/derive/test_plugins.py loads them on purpose)."""
    from derive.plugins import load_plugins

    load_plugins(entry_points=False)


def pytest_collection_modifyitems(config, items):
    reasons = {
        "torch": None if importlib.util.find_spec("torch") else "torch is not installed",
        "latex": None if shutil.which("pdflatex") else "pdflatex is not installed (apt-get install texlive-latex-base)",
        "matplotlib": None if importlib.util.find_spec("matplotlib") else "matplotlib is not installed (the map's figure)",
    }
    cuda = None
    for item in items:
        if "cuda" in item.keywords:
            if cuda is None:
                cuda = _cuda_reason() or ""
            if cuda:
                item.add_marker(pytest.mark.skip(reason=cuda))
        for marker, reason in reasons.items():
            if reason and marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True, scope="session")
def _verdict_cache_of_this_run(tmp_path_factory):
    """Commands run by the tests cache verdicts in a directory of this run, never in the user's cache."""
    import os

    previous = os.environ.get("SGD_DERIVE_CACHE")
    os.environ["SGD_DERIVE_CACHE"] = str(tmp_path_factory.mktemp("sgd-derive-cache"))
    yield
    if previous is None:
        os.environ.pop("SGD_DERIVE_CACHE", None)
    else:
        os.environ["SGD_DERIVE_CACHE"] = previous
