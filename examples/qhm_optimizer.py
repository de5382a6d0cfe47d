"""A user's hand-written quasi-hyperbolic momentum optimizer, checked against the user's ``user_qhm``.

Its param groups say ``lr``, ``beta`` and ``nu`` (not torch's names), so the check maps
``beta`` to the formulation's ``momentum`` role; ``nu`` fills the role of its own name.

Run it from this directory:

    python qhm_optimizer.py

or with the CLI:

    python -m verify identify qhm_optimizer.py:QHM --plugin qhm_plugin --roles beta=momentum \
        --kwargs '{"lr": 0.05, "beta": 0.9, "nu": 0.7}'
"""

import sys

import torch


class QHM(torch.optim.Optimizer):
    """QHM: ``b = beta b + (1 - beta) g`` from ``b = 0``, then ``p -= lr ((1 - nu) g + nu b)``."""

    def __init__(self, params, lr=0.05, beta=0.9, nu=0.7):
        super().__init__(params, {"lr": lr, "beta": beta, "nu": nu})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "buffer" not in state:
                    state["buffer"] = torch.zeros_like(p)
                buffer = state["buffer"]
                buffer.mul_(group["beta"]).add_(p.grad, alpha=1 - group["beta"])
                p.add_((1 - group["nu"]) * p.grad + group["nu"] * buffer, alpha=-group["lr"])
        return loss


def main() -> int:
    """Identify QHM among the user's entry and two of the catalogue's; exit 0 when it implements ``user_qhm``."""
    import verify
    from verify.testing import assert_implements

    import qhm_plugin  # registers user_qhm

    kwargs = {"lr": 0.05, "beta": 0.9, "nu": 0.7}
    result = verify.identify(QHM, kwargs, candidates=["user_qhm", "pytorch_sgd", "mlx_sgd"],
                             roles={"beta": "momentum"}, steps=20)
    print(result.describe())
    # the pytest form: raises AssertionError with the first mismatch when it does not hold
    assert_implements(QHM, qhm_plugin.user_qhm(), kwargs, roles={"beta": "momentum"}, steps=20)
    print("assert_implements(QHM, user_qhm): passed")
    return 0 if "user_qhm" in result.matches else 1


if __name__ == "__main__":
    sys.exit(main())
