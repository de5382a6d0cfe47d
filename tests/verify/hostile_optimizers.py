"""Hostile optimizers: each one tries to get a verdict it has not earned, or to break verify.

verify must give each a clear verdict (see ``test_hostile_optimizers.py``): a run that cannot
be told apart from doing nothing is *not checkable* (exit 2), an optimizer that raises, hangs or
exits could not be checked (exit 2), and one that runs but computes something else implements
no catalogue entry (exit 1). ``Honest`` is the control: plain ``torch.optim.SGD`` by hand.
"""

from __future__ import annotations

import sys
import time

import torch


class Honest(torch.optim.Optimizer):
    """theta <- theta - lr * g, evaluating the gradient through the closure: the control."""

    def __init__(self, params, lr=0.05):
        super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, group)
        return loss

    def update(self, p, group):
        p.add_(p.grad, alpha=-group["lr"])


class DoesNothing(torch.optim.Optimizer):
    """``step()`` returns at once: no closure call, no update."""

    def __init__(self, params, lr=0.05):
        super().__init__(params, dict(lr=lr))

    def step(self, closure=None):
        return None


class SkipsTheClosure(torch.optim.SGD):
    """Calls ``super().step()`` without the closure: no gradient is ever evaluated."""

    def step(self, closure=None):
        return super().step()


class EvaluatesButNeverUpdates(Honest):
    """Calls the closure (gradients exist) but leaves the parameters where they are."""

    def update(self, p, group):
        pass


class UpdatesOnlyTheFirstTensor(Honest):
    """Updates the first parameter of each group and leaves the others alone."""

    def update(self, p, group):
        if p is group["params"][0]:
            super().update(p, group)


class RaisesAtStepThree(Honest):
    calls = 0

    def step(self, closure=None):
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("boom at the third step")
        return super().step(closure)


class Hangs(Honest):
    """Blocks in the second step (a sleep: interruptible, as a Python-level hang is)."""

    calls = 0

    def step(self, closure=None):
        self.calls += 1
        if self.calls == 2:
            print("hostile: hanging", file=sys.stderr, flush=True)
            while True:
                time.sleep(0.05)
        return super().step(closure)


class WritesNaN(Honest):
    """From the fourth step on, every parameter becomes NaN."""

    calls = 0

    def step(self, closure=None):
        self.calls += 1
        loss = super().step(closure)
        if self.calls >= 4:
            with torch.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.fill_(float("nan"))
        return loss


class ExitsTheProcess(Honest):
    """Calls ``sys.exit(3)`` in the second step."""

    calls = 0

    def step(self, closure=None):
        self.calls += 1
        if self.calls == 2:
            sys.exit(3)
        return super().step(closure)


class IgnoresTheLearningRate(Honest):
    """Steps with a fixed 0.05 whatever ``param_groups`` says."""

    def update(self, p, group):
        p.add_(p.grad, alpha=-0.05)


class AddsNoise(Honest):
    """The right update plus a small seeded perturbation (1e-6 relative)."""

    def __init__(self, params, lr=0.05):
        super().__init__(params, lr)
        self.generator = torch.Generator().manual_seed(0)

    def update(self, p, group):
        super().update(p, group)
        noise = torch.randn(p.shape, generator=self.generator, dtype=torch.float64).to(p.dtype)
        p.add_(noise * 1e-6)


class ConstructorRaises(Honest):
    def __init__(self, params, lr=0.05):
        raise ValueError(f"refusing lr={lr}: this optimizer never constructs")
