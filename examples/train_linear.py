"""A real training loop, recorded and checked: nn.Linear, two param groups, StepLR, Nesterov, weight decay.

``verify.record`` hooks the optimizer's ``step()`` and records every parameter, gradient and
param-group number as the loop runs; ``recording.check(entry)`` then judges the recording
against derive's exact reference with verify's tolerance model.  Exits 0 when the loop is
``pytorch_sgd`` within tolerance, 1 when it is not.  Run it from this directory:

    python train_linear.py
"""

import sys

import torch

import verify


def train(steps: int = 20) -> "verify.recorder.Recording":
    """Twenty steps of a least-squares fit, recorded."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2).double()
    optimizer = torch.optim.SGD([
        {"params": [model.weight], "weight_decay": 1e-2},           # decayed
        {"params": [model.bias], "lr": 0.05, "weight_decay": 0.0},  # its own lr, no decay
    ], lr=0.1, momentum=0.9, nesterov=True)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    x, y = torch.randn(64, 4, dtype=torch.float64), torch.randn(64, 2, dtype=torch.float64)
    with verify.record(optimizer) as recording:
        for _ in range(steps):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
            scheduler.step()
    return recording


def main() -> int:
    recording = train()
    verdict = recording.check("pytorch_sgd")
    print(verdict.describe())
    # the paper's Nesterov is another update rule: the same recording departs from it
    wrong = recording.check("sutskever_nesterov")
    print(wrong.describe())
    return 0 if verdict.passed and wrong.status == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
