"""An optimizer that is torch's SGD except where a schedule goes high: what only a user's own
sequence shows (tests/verify/test_verify_identify_sequences.py)."""

import torch


class ClampedLR(torch.optim.SGD):
    """torch's SGD with a "safety" clamp: an lr above 0.1 is applied as 0.1. identify's own probes
    stay below 0.08, so only a sequence that goes higher can show it."""

    @torch.no_grad()
    def step(self, closure=None):
        asked = [g["lr"] for g in self.param_groups]
        for g in self.param_groups:
            g["lr"] = min(g["lr"], 0.1)
        try:
            return super().step(closure)
        finally:  # the recording reads the group after step(): leave what the schedule wrote
            for g, lr in zip(self.param_groups, asked):
                g["lr"] = lr
