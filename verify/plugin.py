"""verify as derive's built-in plugin: the claims that run torch, and the torch notebook.

derive never imports verify or torch; it loads this plugin like any other
(:mod:`derive.plugins`), through the ``sgd_derive.plugins`` entry point in
``pyproject.toml`` and, for a checkout that was never installed, by name.
:func:`register` imports :mod:`verify.claims` (C1-C4, D1, D2, B6-torch, into
derive's claim registry) and adds :mod:`verify.notebook` to derive's notebooks.
Where torch is not installed it registers nothing and says how many claims that
leaves out (:class:`~derive.plugins.PluginUnavailable`).  This module imports no torch.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

INSTALL = "pip install 'sgd-derive[verify]'"


def register() -> None:
    """Register verify's claims and notebook into derive (torch is imported only when a claim is judged)."""
    from derive.plugins import PluginUnavailable

    if not torch_installed():
        raise PluginUnavailable(f"torch is not installed; {INSTALL}", claims=declared_claims())
    from derive.render.notebooks import register as register_notebook

    import verify.claims  # noqa: F401  registers the claims
    import verify.notebook

    register_notebook(verify.notebook)


def torch_installed() -> bool:
    """Whether torch can be imported here, found without importing it."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a finder that refuses torch; a half-removed torch module
        return False


def declared_claims() -> tuple[str, ...]:
    """The ids :mod:`verify.claims` registers, read from its source (importing it without torch is pointless)."""
    tree = ast.parse(Path(__file__).with_name("claims.py").read_text(encoding="utf-8"))
    return tuple(decorator.args[0].value for node in tree.body if isinstance(node, ast.FunctionDef)
                 for decorator in node.decorator_list
                 if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "claim"
                 and decorator.args and isinstance(decorator.args[0], ast.Constant))
