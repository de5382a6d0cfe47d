"""What a run of an optimizer recorded: :class:`Observed`, and :class:`RunRecord` that fills it.

Arrays are NumPy, in the tested tensor's own dtype (:data:`RECORD_DTYPES`: float16 and bfloat16
widen to float32, exactly, since NumPy has no bfloat16). The hyperparameters are every number each
param group held at each ``step()``, under the group's own keys (:func:`hyperparameter_value`);
:mod:`verify.binding` maps them to a formulation's roles.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

# the recorded arrays' dtype: every value of the tested dtype, exactly, in the narrowest NumPy type
RECORD_DTYPES: dict[str, type] = {"float64": np.float64, "float32": np.float32, "float16": np.float32,
                                  "bfloat16": np.float32}
HYPERPARAMETERS = ("lr", "momentum", "dampening", "weight_decay")
FLAGS = ("nesterov", "maximize")


@dataclass
class Observed:
    """What the optimizer did. Arrays are indexed ``[group][tensor]``; step ``t`` is row ``t``."""

    config: object  # verify.runner.RunConfig
    theta: list[list[np.ndarray]]  # (steps + 1, *shape): row 0 is the initial value (RECORD_DTYPES)
    grads: list[list[np.ndarray]]  # (steps, *shape): the unscaled gradient given (NaN: none), same dtype
    active: list[list[np.ndarray]]  # (steps,) bool: the tensor had a gradient at step t
    hyper: list[dict[str, np.ndarray]]  # per group and key, (steps,) values read at each step()
    flags: list[dict[str, bool]]  # per group: nesterov, maximize
    skipped: np.ndarray  # (steps,) bool: the scaler skipped this step
    loss: np.ndarray  # (steps,) objective at the first evaluation of each step (NaN: none)
    error: str | None = None
    failed_step: int | None = None
    seconds: float = 0.0  # wall time of the whole run (torch side)
    step_seconds: float = 0.0  # of which inside optimizer.step()
    closure_calls: np.ndarray | None = None  # (steps,) int: times step() evaluated the closure

    @property
    def steps(self) -> int:
        return self.config.steps


def hyperparameter_value(value) -> float | None:
    """A param-group entry as a number (a Python real or a one-element Tensor), else None (flags too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value.detach())
    return None


@dataclass
class RunRecord:
    """What :func:`verify.runner.run` fills in as the run goes; :meth:`finish` makes it an :class:`Observed`."""

    theta: list
    grads: list
    active: list
    hyper: list
    flags: list
    loss: np.ndarray
    closure_calls: np.ndarray
    error: str | None = None
    failed_step: int | None = None
    step_seconds: float = 0.0
    step: int = 0  # the step in progress (0: building the optimizer)
    own_error: Exception | None = None  # raised by verify's closure, even inside step()
    dtype: type = np.float64  # of theta and grads (RECORD_DTYPES)

    def fail(self, error: str) -> None:
        self.error, self.failed_step = error, self.step

    @classmethod
    def empty(cls, config) -> "RunRecord":
        n, dtype = config.steps, RECORD_DTYPES[config.dtype]
        nan = lambda *shape, dtype=np.float64: np.full(shape, np.nan, dtype)  # noqa: E731
        return cls(
            theta=[[nan(n + 1, *t.shape, dtype=dtype) for t in g.tensors] for g in config.groups],
            grads=[[nan(n, *t.shape, dtype=dtype) for t in g.tensors] for g in config.groups],
            active=[[np.zeros(n, bool) for _ in g.tensors] for g in config.groups],
            hyper=[{k: nan(n) for k in HYPERPARAMETERS} for _ in config.groups],  # others added when seen
            flags=[{} for _ in config.groups],
            loss=nan(n),
            closure_calls=np.zeros(n, int),
            dtype=dtype,
        )

    def read_hyperparameters(self, optimizer, step: int) -> None:
        """Every number each group holds (its own keys too: QHM's ``nu``), and the flags."""
        for gi, group in enumerate(optimizer.param_groups[:len(self.hyper)]):
            for key, value in group.items():
                number = hyperparameter_value(value)
                if number is None or key == "params":
                    continue
                if key not in self.hyper[gi]:
                    self.hyper[gi][key] = np.full(len(self.loss), np.nan)
                self.hyper[gi][key][step - 1] = number
            self.flags[gi] = {k: bool(group.get(k, False)) for k in FLAGS}

    def finish(self, config) -> Observed:
        skipped = np.array([t in config.skip_steps for t in range(1, config.steps + 1)], bool)
        return Observed(config, self.theta, self.grads, self.active, self.hyper, self.flags,
                        skipped, self.loss, self.error, self.failed_step,
                        step_seconds=self.step_seconds, closure_calls=self.closure_calls)
