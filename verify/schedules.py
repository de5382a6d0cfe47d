"""Learning-rate and momentum schedules, as a training loop applies them to a torch optimizer.

A :class:`Schedule` is either an explicit per-step list (the runner writes ``group['lr']``,
and optionally ``group['momentum']``, before each ``step()``) or a factory for one of torch's
own schedulers, stepped after each ``optimizer.step()`` the way the torch docs prescribe
(``ReduceLROnPlateau`` is fed a metric). Either way the runner records the values that each
``step()`` actually read from ``param_groups``, and the reference is fed exactly those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch.optim import lr_scheduler as lrs


@dataclass(frozen=True)
class Schedule:
    """One schedule: explicit values or a torch scheduler factory (never both)."""

    name: str
    lr: Sequence[float] | Callable[[int], float] | None = None  # explicit, step t = 1..T
    momentum: Sequence[float] | Callable[[int], float] | None = None
    scheduler: Callable[[torch.optim.Optimizer, int], object] | None = None  # (opt, steps)
    metric: Callable[[int], float] | None = None  # ReduceLROnPlateau: metric after step t
    varies_lr: bool = True
    varies_momentum: bool = False

    def explicit(self, key: str, t: int) -> float | None:
        values = self.lr if key == "lr" else self.momentum
        if values is None:
            return None
        value = values(t) if callable(values) else values[t - 1]
        return None if value is None else float(value)

    def build(self, optimizer: torch.optim.Optimizer, steps: int):
        return None if self.scheduler is None else self.scheduler(optimizer, steps)

    def advance(self, scheduler, t: int) -> None:
        """Step a torch scheduler after ``optimizer.step()`` number ``t``."""
        if scheduler is None:
            return
        if self.metric is not None:
            scheduler.step(self.metric(t))
        else:
            scheduler.step()


def set_group_value(group: dict, key: str, value: float) -> None:
    """Write a hyperparameter the way torch's schedulers do: ``fill_`` for a Tensor, else assign."""
    if isinstance(group.get(key), torch.Tensor):
        group[key].fill_(value)
    else:
        group[key] = value


def _has_momentum(optimizer: torch.optim.Optimizer) -> bool:
    # Cycling momentum on a momentum-free SGD would switch its buffer on: a different algorithm.
    return any(g.get("momentum", 0) != 0 for g in optimizer.param_groups)


def _plateau_metric(t: int) -> float:
    # Improves for 5 steps, then stalls: patience 2 makes the lr drop every 3 stalled steps.
    return 1.0 / t if t <= 5 else 0.2


SCHEDULES: dict[str, Schedule] = {
    s.name: s
    for s in (
        Schedule("constant", varies_lr=False),
        Schedule("explicit", lr=lambda t: 0.05 * (1.0 + 0.5 * math.sin(0.7 * t))),
        Schedule(
            "explicit_momentum",
            lr=lambda t: 0.05 * (1.0 + 0.5 * math.cos(0.3 * t)),
            momentum=lambda t: 0.5 + 0.4 * math.sin(0.5 * t) ** 2,
            varies_momentum=True,
        ),
        Schedule("step", scheduler=lambda o, n: lrs.StepLR(o, step_size=max(1, n // 7), gamma=0.5)),
        Schedule("multistep", scheduler=lambda o, n: lrs.MultiStepLR(o, [2, 5, max(6, n // 2)], 0.3)),
        Schedule("exponential", scheduler=lambda o, n: lrs.ExponentialLR(o, gamma=0.98)),
        Schedule("cosine", scheduler=lambda o, n: lrs.CosineAnnealingLR(o, T_max=max(2, n // 3))),
        Schedule("lambda", scheduler=lambda o, n: lrs.LambdaLR(o, lambda e: 1.0 / (1.0 + 0.1 * e))),
        Schedule(
            "plateau",
            scheduler=lambda o, n: lrs.ReduceLROnPlateau(o, factor=0.5, patience=2, min_lr=1e-4),
            metric=_plateau_metric,
        ),
        Schedule(
            "cyclic",
            scheduler=lambda o, n: lrs.CyclicLR(
                o, base_lr=0.01, max_lr=0.1, step_size_up=max(2, n // 8), cycle_momentum=_has_momentum(o),
                base_momentum=0.8, max_momentum=0.9,
            ),
            varies_momentum=True,
        ),
        Schedule(
            "onecycle",
            scheduler=lambda o, n: lrs.OneCycleLR(
                o, max_lr=0.1, total_steps=n, cycle_momentum=_has_momentum(o)
            ),
            varies_momentum=True,
        ),
    )
}


def sequences(*, lr=None, momentum=None, steps: int, offset: int = 0) -> Schedule:
    """An explicit schedule from per-step sequences, read with the schedule-offset convention.

    ``offset=0`` (torch's ``LRScheduler``: step t reads the value set before it): step t uses
    ``values[t - 1]``, the t-th entry.  ``offset=1`` (Keras, optax, MLX, Paddle: step t uses
    ``schedule(t - 1)``, the constructor's value at step 1): step 1 writes nothing, so it uses
    the constructor's value, and step t uses entry t - 1.  The sequences must cover
    ``steps - offset`` entries; a shorter one is a :class:`~verify.errors.VerifyError`.
    """
    from verify.errors import VerifyError

    if offset not in (0, 1):
        raise VerifyError(f"schedule offset must be 0 or 1, got {offset!r}")
    need = steps - offset
    for name, values in (("lr", lr), ("momentum", momentum)):
        if values is not None and len(values) < need:
            raise VerifyError(f"the {name} sequence has {len(values)} value{'s' * (len(values) != 1)}; "
                              f"{steps} steps with schedule "
                              f"offset {offset} need {need} (give more values or fewer steps)")

    def reader(values):
        if values is None:
            return None
        values = tuple(float(v) for v in values)
        return lambda t: None if t - offset < 1 else values[t - offset - 1]

    return Schedule(f"sequence(offset {offset})", lr=reader(lr), momentum=reader(momentum),
                    varies_lr=lr is not None, varies_momentum=momentum is not None)


def get(name) -> Schedule:
    """The schedule named ``name`` (a :class:`Schedule` is returned as it is)."""
    if isinstance(name, Schedule):
        return name
    try:
        return SCHEDULES[name]
    except KeyError:
        known = ", ".join(SCHEDULES)
        raise KeyError(f"unknown schedule {name!r}; known: {known}") from None
