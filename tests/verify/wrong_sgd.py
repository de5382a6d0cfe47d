"""Deliberately wrong SGD variants: verify must reject each one, and identify must never call
any of them ``torch.optim.SGD``.

``ControlSGD`` is the unmutated skeleton (torch.optim.SGD's documented algorithm, for-loop
only); each mutant changes exactly one line of it, so a test that passes the control and
fails the mutant has caught precisely that defect. ``MUTANTS`` lists, with each variant, the
flag combinations under which the defect changes the iterates (``shows``): the sweep must
fail there and pass everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch


class ControlSGD(torch.optim.Optimizer):
    """SGD as ``torch.optim.SGD`` documents it; the skeleton every mutant edits."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = self.lr_for(group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                grad = self.preprocess(p, p.grad, group)
                direction = self.direction(p, grad, state, group)
                self.apply(p, direction, lr, group)
        return loss

    # -- the five places a mutant edits ---------------------------------------------------
    def lr_for(self, group):
        return float(group["lr"])

    def preprocess(self, p, grad, group):
        grad = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        return grad

    def first_buffer(self, grad, group):
        return grad.detach().clone()

    def direction(self, p, grad, state, group):
        mu = group["momentum"]
        if mu == 0:
            return grad
        if "momentum_buffer" not in state:
            buf = state["momentum_buffer"] = self.first_buffer(grad, group)
        else:
            buf = state["momentum_buffer"]
            buf.mul_(mu).add_(grad, alpha=1 - group["dampening"])
        return self.nesterov_direction(grad, buf, group) if group["nesterov"] else buf

    def nesterov_direction(self, grad, buf, group):
        return grad.add(buf, alpha=group["momentum"])

    def apply(self, p, direction, lr, group):
        p.add_(direction, alpha=-lr)


class PreviousStepLR(ControlSGD):
    """Uses the learning rate of the previous ``step()`` (an off-by-one in a scheduler hook)."""

    def lr_for(self, group):
        current = float(group["lr"])
        previous = group.get("_previous_lr", current)
        group["_previous_lr"] = current
        return previous


class DampedFirstStep(ControlSGD):
    """Starts the buffer at ``(1 - dampening) * grad`` (MLX's rule, not PyTorch's)."""

    def first_buffer(self, grad, group):
        return grad.detach().clone().mul_(1 - group["dampening"])


class DecayAfterBuffer(ControlSGD):
    """Adds the weight-decay term after the momentum buffer instead of before it."""

    def preprocess(self, p, grad, group):
        return -grad if group["maximize"] else grad

    def direction(self, p, grad, state, group):
        out = super().direction(p, grad, state, group)
        if group["weight_decay"] != 0:
            out = out.add(p, alpha=group["weight_decay"])
        return out


class NesterovWithoutMu(ControlSGD):
    """Nesterov step ``grad + buf``: the momentum factor on the buffer term is missing."""

    def nesterov_direction(self, grad, buf, group):
        return grad.add(buf)


class MaximizeAtEnd(ControlSGD):
    """Applies maximize by flipping the final step (torch before PR #81859)."""

    def preprocess(self, p, grad, group):
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        return grad

    def apply(self, p, direction, lr, group):
        p.add_(direction, alpha=lr if group["maximize"] else -lr)


@dataclass(frozen=True)
class Mutant:
    optimizer: type
    shows: Callable[[dict, bool], bool]  # (flags, lr varies) -> the defect changes the iterates


MUTANTS = {
    "previous_step_lr": Mutant(PreviousStepLR, lambda f, varies: varies),
    "damped_first_step": Mutant(DampedFirstStep, lambda f, v: f["momentum"] != 0 and f["dampening"] != 0),
    "decay_after_buffer": Mutant(DecayAfterBuffer, lambda f, v: f["momentum"] != 0 and f["weight_decay"] != 0),
    "nesterov_without_mu": Mutant(NesterovWithoutMu, lambda f, v: f["nesterov"]),
    "maximize_at_end": Mutant(MaximizeAtEnd, lambda f, v: f["maximize"] and f["weight_decay"] != 0),
}
