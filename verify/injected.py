"""Injected gradients for :func:`verify.runner.run`, read a step at a time.

A run of ``T`` steps of an ``N``-element tensor reads ``T`` gradient rows of ``N`` values; they
are drawn (or taken from the user's arrays) one row at a time, so the runner holds no
``(T, N)`` float64 array beside the record it keeps in the tensor's own dtype.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from verify.runner import RunConfig


def user_gradients(config: "RunConfig") -> list[list[np.ndarray]]:
    if config.objective is not None:
        raise ValueError("give either an objective or injected gradients, not both")
    out = []
    for gi, (spec, arrays) in enumerate(zip(config.groups, config.gradients, strict=True)):
        row = []
        for ti, (tensor, array) in enumerate(zip(spec.tensors, arrays, strict=True)):
            array = np.asarray(array)  # a float32 array stays one: each step's row is read as it is needed
            if array.shape != (config.steps, *tensor.shape):
                raise ValueError(f"gradients[{gi}][{ti}] has shape {array.shape}; "
                                 f"expected (steps, *shape) = {(config.steps, *tensor.shape)}")
            row.append(array)
        out.append(row)
    return out


class SeededGradients:
    """The seeded injected gradients, ``[group][tensor][step - 1]``, drawn a step at a time.

    The values are those of ``rng.standard_normal((steps, *shape))`` drawn tensor after tensor
    (C order fills a tensor's steps in turn), but no ``(steps, *shape)`` float64 array is held:
    each tensor starts from its own copy of the generator's state, reached by drawing (and
    dropping) the earlier tensors' values a row at a time; the last tensor needs no such pass.
    """

    def __init__(self, rng: np.random.Generator, config: "RunConfig"):
        shapes = [[t.shape for t in g.tensors] for g in config.groups]
        flat = [(gi, ti) for gi, group in enumerate(shapes) for ti in range(len(group))]
        self._rows: dict[tuple[int, int], Any] = {}
        for n, (gi, ti) in enumerate(flat):
            own = copy.deepcopy(rng) if n + 1 < len(flat) else rng
            self._rows[gi, ti] = TensorRows(own, shapes[gi][ti], config.steps)
            if n + 1 < len(flat):
                for _ in range(config.steps):
                    rng.standard_normal(shapes[gi][ti])

    def __getitem__(self, gi: int):
        return GroupRows(self._rows, gi)

    def draw(self, step: int) -> None:
        """Draw every tensor's row for ``step`` now, so that reading it later costs nothing."""
        for rows in self._rows.values():
            rows[step - 1]


@dataclass
class GroupRows:
    rows: dict
    gi: int

    def __getitem__(self, ti: int):
        return self.rows[self.gi, ti]


class TensorRows:
    """One tensor's gradients, read in step order (``rows[step - 1]``); a re-read is served again."""

    def __init__(self, rng: np.random.Generator, shape: tuple[int, ...], steps: int):
        self._rng, self._shape, self._steps = rng, shape, steps
        self._index, self._row = -1, None

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self._steps or index < self._index:
            raise IndexError(f"gradient row {index}: rows are drawn in order, the last one was {self._index}")
        while self._index < index:  # a step with no gradient read still draws its row
            self._row = self._rng.standard_normal(self._shape)
            self._index += 1
        return self._row
