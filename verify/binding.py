r"""From what an optimizer's param groups hold to a formulation's hyperparameter roles.

torch's ``SGD`` names its hyperparameters after derive's roles (``lr``, ``momentum``,
``dampening``, ``weight_decay``); other optimizers do not (QHM's ``beta`` and ``nu``).  The
runner and the recorder keep every number a param group holds, under its own key, at every
``step()``; a :class:`Binding` says which role each key fills and how the framework holds the
values, and :meth:`Binding.bind` turns the recording into the per-role series the reference reads
(:meth:`verify.reference.CompiledSystem.values`).

``roles``
    param-group key -> role (``{"beta": "momentum"}``); a key not named fills the role of its own
    name, and a key that another key's mapping displaces (a ``momentum`` entry beside
    ``beta=momentum``) is dropped.
``hyper``
    extra options given to the optimizer (``{"nu": 0.7}``); when the param groups do not hold a
    key, its value is the role's constant for every step.
``hyper_dtype``
    the precision the framework *holds* its hyperparameters in.  ``"float32"`` rounds every
    recorded value to the nearest float32 before the reference reads it: several frameworks
    (Keras on TF, TF1 with Python floats, optax schedules, MLX, Paddle, MXNet) store lr, momentum
    and weight decay as float32 scalars even for float64 parameters.

An entry may also *declare* the precision its framework holds each role in
(``Formulation.hyper_dtype``: MXNet keeps lr, momentum and weight decay in float32, Paddle
momentum and weight decay only); :func:`declared_precision` applies that declaration whenever
the entry is judged, role by role, whatever ``hyper_dtype`` the caller gave (rounding to float32
twice is rounding once, so an explicit ``"float32"`` and a declaration compose).

Why round the reference rather than widen the bound: the rounded value *is* the hyperparameter
the framework applies, the same at every step and in every element, so modelling it exactly
keeps the tolerance model's argument intact (:mod:`verify.compare` already counts one rounding
per hyperparameter use, in the parameters' dtype).  Widening the bound instead would add a
relative error of :math:`2^{-24}` per hyperparameter use to a float64 run's
:math:`2^{-53}`: a bound :math:`2^{29}` times looser, which lets a float64 run pass with an
error of about :math:`10^{-7}` relative, enough to hide a wrong first step or a missing
dampening factor on a short run.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from verify.errors import VerifyError

HYPER_DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass(frozen=True)
class Binding:
    """Which role each param-group key fills, extra options, and the hyperparameters' precision."""

    roles: Mapping[str, str] = field(default_factory=dict)
    hyper: Mapping[str, float] = field(default_factory=dict)
    hyper_dtype: str = "float64"

    def key_of(self, role: str) -> str:
        """The param-group key that fills ``role`` (the role's own name unless mapped)."""
        return next((key for key, r in self.roles.items() if r == role), role)

    def with_constants(self, options: Mapping) -> "Binding":
        """This binding with ``hyper`` extended by the numeric ``options`` that ``roles`` names: a
        constructor option mapped to a role is that role's constant where the groups do not hold it."""
        named = {k: float(v) for k, v in options.items() if k in self.roles and isinstance(v, numbers.Real)
                 and not isinstance(v, bool)}
        return Binding(self.roles, {**named, **self.hyper}, self.hyper_dtype)

    def bind(self, recorded: Mapping[str, np.ndarray], steps: int) -> dict[str, np.ndarray]:
        """One group's recording (key -> per-step values) as role -> per-step float64 values."""
        displaced = {r for k, r in self.roles.items() if k != r}
        out: dict[str, np.ndarray] = {}
        for key, values in recorded.items():
            if key in displaced and key not in self.roles:
                continue
            out[self.roles.get(key, key)] = np.asarray(values, dtype=np.float64)
        for key, value in self.hyper.items():
            role = self.roles.get(key, key)
            if role not in out or np.isnan(out[role]).all():
                out[role] = np.full(steps, float(value))
        if self.hyper_dtype != "float64":
            narrow = HYPER_DTYPES[self.hyper_dtype]
            with np.errstate(over="ignore"):
                out = {r: v.astype(narrow).astype(np.float64) for r, v in out.items()}
        return out

    def observed(self, observed):
        """``observed`` (a :class:`verify.runner.Observed`) with its hyperparameters bound to roles."""
        from verify.runner import Observed

        hyper = [self.bind(h, observed.steps) for h in observed.hyper]
        return Observed(**{**observed.__dict__, "hyper": hyper})


def binding(roles=None, hyper=None, hyper_dtype: str = "float64", *, where: str = "") -> Binding:
    """A checked :class:`Binding`; a wrong argument is a ``TypeError`` or :class:`VerifyError` naming it."""
    prefix = f"{where}: " if where else ""
    roles = {} if roles is None else roles
    hyper = {} if hyper is None else hyper
    if not isinstance(roles, Mapping):
        raise TypeError(f"{prefix}roles must map param-group keys to roles, e.g. {{'beta': 'momentum'}}, "
                        f"got {type(roles).__name__}")
    for key, role in roles.items():
        if not (isinstance(key, str) and key.isidentifier() and isinstance(role, str) and role.isidentifier()):
            raise TypeError(f"{prefix}roles must map names to names, got {key!r}: {role!r}")
    if len(set(roles.values())) != len(roles):
        raise VerifyError(f"{prefix}roles maps two keys to one role ({dict(roles)}); map one key per role")
    if not isinstance(hyper, Mapping):
        raise TypeError(f"{prefix}hyper must map option names to numbers, got {type(hyper).__name__}")
    for key, value in hyper.items():
        if not isinstance(key, str):
            raise TypeError(f"{prefix}hyper: option names must be strings, got {key!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise VerifyError(f"{prefix}hyper: {key} must be a finite number, got {value!r}")
    if hyper_dtype not in HYPER_DTYPES:
        raise VerifyError(f"{prefix}hyper_dtype must be one of {', '.join(HYPER_DTYPES)}, got {hyper_dtype!r}")
    return Binding(dict(roles), {k: float(v) for k, v in hyper.items()}, hyper_dtype)


def declared_precision(formulation, observed):
    """*observed* with each role that *formulation* declares narrower (``Formulation.dtype_of``)
    rounded to that dtype, as the framework's kernel holds it; unchanged when nothing is declared."""
    if getattr(formulation, "hyper_dtype", None) is None:
        return observed
    hyper = []
    for group in observed.hyper:
        rounded = dict(group)
        for role, values in group.items():
            dtype = formulation.dtype_of(role)
            if dtype is not None and dtype != "float64":
                with np.errstate(over="ignore"):
                    rounded[role] = np.asarray(values, dtype=np.float64).astype(dtype).astype(np.float64)
        hyper.append(rounded)
    return type(observed)(**{**observed.__dict__, "hyper": hyper})
