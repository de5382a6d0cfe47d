"""Defects of torch itself that verify has found, tied to the torch version that has them.

A configuration that matches a known defect is *expected* to fail; if it passes, the sweep
reports an unexpected pass (strict), so a fix upstream is noticed and the entry retired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch


@dataclass(frozen=True)
class Defect:
    name: str
    versions: tuple[str, ...]  # torch version prefixes known to have it
    applies: Callable[[object], bool]  # (RunConfig) -> bool
    summary: str
    always_shows: Callable[[object], bool] = lambda config: True  # else it may or may not show
    devices: tuple[str, ...] = ("cpu",)  # where it was observed (CUDA unchecked: no GPU here)
    reference: str = ""


def _fused_momentum(config) -> bool:
    return config.impl == "fused" and any(
        float(o.get("momentum", config.options.get("momentum", 0))) != 0
        for o in [g.options for g in config.groups]
    )


def _first_step_skipped(config) -> bool:
    return _fused_momentum(config) and 1 in config.skip_steps


def _late_first_gradient(config) -> bool:
    """Some tensor of a group gets its first gradient after another tensor of the group has a buffer."""
    if not _fused_momentum(config):
        return False
    for group in config.groups:
        firsts = [min(set(range(1, config.steps + 1)) - set(t.frozen), default=None) for t in group.tensors]
        firsts = [f for f in firsts if f is not None]
        if firsts and max(firsts) > min(firsts):
            return True
    return False


def _fused_strides_ignored(config) -> bool:
    if config.impl != "fused" or config.objective is not None:
        return False
    for group in config.groups:
        for t in group.tensors:
            gapped = not t.contiguous and len(t.shape) == 1
            mismatched = t.grad_contiguous is not None and t.grad_contiguous != t.contiguous
            if gapped or mismatched:
                return True
    return False


def _largest(config) -> int:
    return max((int(np.prod(t.shape)) for g in config.groups for t in g.tensors), default=0)


def _fused_half_vectorized(config) -> bool:
    return config.impl == "fused" and config.dtype in ("float16", "bfloat16") and _largest(config) >= 8


DEFECTS = (
    Defect(
        "fused_sgd_skipped_first_step",
        ("2.13",),
        _first_step_skipped,
        "SGD(fused=True, momentum>0): when a GradScaler's found_inf skips the very first step, "
        "_fused_sgd has already allocated the buffers with torch.empty_like and the kernel returns "
        "without writing them; the next step treats that uninitialised memory as the buffer "
        "(is_first_step is False), so the parameters take arbitrary values. With dampening 0 and "
        "memory that happens to be zero the result is accidentally right, so only dampening != 0 "
        "shows it every time.",
        always_shows=lambda config: float(config.options.get("dampening", 0)) != 0,
    ),
    Defect(
        "fused_sgd_late_first_gradient",
        ("2.13",),
        _late_first_gradient,
        "SGD(fused=True, momentum>0): a parameter whose first gradient arrives after other "
        "parameters of its group have momentum buffers (a layer frozen, then unfrozen) makes "
        "torch._fused_sgd_ raise 'expected Tensor as element 1 in argument 2, but got NoneType': "
        "is_first_step is computed for the whole group, and a None buffer is passed to the kernel.",
    ),
    Defect(
        "fused_sgd_ignores_strides",
        ("2.13",),
        _fused_strides_ignored,
        "SGD(fused=True) on CPU walks each tensor's memory as if it were contiguous: a parameter "
        "that is a strided view with gaps (p = base[::2]) gets its update written into the gaps, "
        "outside the view, while its own later elements are never updated; a parameter and a "
        "gradient with different layouts (a transposed parameter, a contiguous grad) are paired "
        "element by element in memory order, i.e. the wrong gradient entries. for-loop and "
        "foreach are correct.",
    ),
    Defect(
        "fused_sgd_cpu_half_vectorized_skipped",
        ("2.13",),
        _fused_half_vectorized,
        "SGD(fused=True) on CPU with float16/bfloat16 parameters updates only the scalar tail: "
        "every full SIMD block (16 elements with AVX512 here) is left unchanged.",
        always_shows=lambda config: _largest(config) >= 64,  # beyond any SIMD width in use
        reference="pytorch/pytorch#191763 (reported against 2.12.1 and 2.13.0)",
    ),
)


def known(config) -> Defect | None:
    """The known defect this configuration triggers on the installed torch, if any."""
    version = torch.__version__
    for defect in DEFECTS:
        if (version.startswith(defect.versions) and config.device in defect.devices
                and defect.applies(config)):
            return defect
    return None
