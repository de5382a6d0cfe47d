"""The base of verify's torch optimizers transcribed from elsewhere: from a paper or its authors'
code (:mod:`verify.literature`) and from other frameworks' kernels (:mod:`verify.frameworks`).

What they share is plumbing, never an update rule: constructor defaults checked non-negative with
a message naming the value (as ``torch.optim.SGD`` does), per-parameter state created on first
use, a per-group step count (for rules of the step, such as an averaging weight 1/t), and the
closure evaluated with gradients enabled inside a ``no_grad`` step.
"""

from __future__ import annotations

import torch


class TranscribedOptimizer(torch.optim.Optimizer):
    """A torch optimizer written from another code base; subclasses write ``step()``."""

    non_negative: tuple[str, ...] = ("lr",)  # defaults that must be >= 0 (a signed coefficient is not listed)

    def __init__(self, params, defaults: dict):
        for name in self.non_negative:
            if name in defaults and not float(defaults[name]) >= 0:
                raise ValueError(f"Invalid {name}: {name}={defaults[name]}; it must be >= 0")
        super().__init__(params, defaults)

    def _state(self, p: torch.Tensor, **initial) -> dict:
        """``p``'s state, each key of ``initial`` set (a callable: called with ``p``) the first time."""
        state = self.state[p]
        if not state:
            for key, value in initial.items():
                state[key] = value(p) if callable(value) else value
        return state

    @staticmethod
    def _count(group) -> int:
        """This step's number in ``group`` (1 at the first step)."""
        group["step_count"] = group.get("step_count", 0) + 1
        return group["step_count"]

    @staticmethod
    def _closure(closure):
        """The loss the closure returns, evaluated with gradients on (None without a closure)."""
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()


def zeros(p: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(p, memory_format=torch.preserve_format)


def clone(p: torch.Tensor) -> torch.Tensor:
    return p.detach().clone(memory_format=torch.preserve_format)
