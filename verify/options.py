"""Constructor options as a user gives them (``--kwargs`` JSON, or ``identify(kwargs=...)``),
checked before any optimizer is built. Torch-free, so the CLI checks them before importing torch.

The hyperparameter roles must be finite real numbers (``{"lr": "a"}``, ``{"momentum": [1]}``,
``NaN`` and ``1e999`` are refused, naming the option); the flags must be booleans
(``nesterov=0`` must not pass for ``False``); any other option is the optimizer's own business
and passes through untouched.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping

from derive.symbols import HYPERPARAMETER_ROLES as ROLE_OPTIONS  # derive's role table
from verify.errors import VerifyError

FLAG_OPTIONS = ("nesterov", "maximize", "foreach", "fused", "differentiable", "capturable")


def check_options(options, where: str = "kwargs", roles=None) -> dict:
    """``options`` as a dict, or :class:`VerifyError`/``TypeError`` naming ``where`` and the option.

    A key that ``roles`` maps to a role (``{"beta": "momentum"}``) is checked like the role.
    """
    numeric = set(ROLE_OPTIONS) | set(roles or ())
    if not isinstance(options, Mapping):
        raise TypeError(f"{where} must be a mapping of constructor options, got {type(options).__name__}")
    out = {}
    for key, value in options.items():
        if not isinstance(key, str):
            raise TypeError(f"{where}: option names must be strings, got {key!r}")
        if key in numeric and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                                    or not math.isfinite(value)):
            raise VerifyError(f"{where}: {key} must be a finite number, got {value!r}")
        if key in FLAG_OPTIONS and not isinstance(value, bool):
            raise VerifyError(f"{where}: {key} must be true or false, got {value!r}")
        out[key] = value
    return out


def _no_repeats(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise VerifyError(f"--kwargs gives {key!r} twice; give each option once")
        seen[key] = value
    return seen


def parse_kwargs(text: str) -> dict:
    """The ``--kwargs`` JSON object, checked by :func:`check_options`."""
    try:
        value = json.loads(text, object_pairs_hook=_no_repeats)
    except json.JSONDecodeError as exc:
        raise VerifyError(f"--kwargs is not JSON ({exc.msg}); write it like '{{\"momentum\": 0.9}}'") from None
    except RecursionError:
        raise VerifyError("--kwargs is nested too deeply") from None
    if not isinstance(value, dict):
        raise VerifyError("--kwargs must be a JSON object of constructor options, e.g. '{\"momentum\": 0.9}'")
    return check_options(value, where="--kwargs")
