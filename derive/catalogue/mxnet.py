"""MXNet 1.x: ``SGD`` and the three ``NAG`` updates its releases ran.

``NAG`` was a Python update on NDArrays up to 1.4 (PyTorch placement, weight
decay in both gradient terms), became the fused ``nag_mom_update`` kernel in
1.5.0 (apache/mxnet#14568: still PyTorch placement, but the look-ahead term
``lr (mu mom + g)`` lost the ``wd w`` part) and was rewritten in 1.6.0
(apache/mxnet#16053, "Fixes NAG optimizer #15543") with the learning rate inside
the momentum.  The kernels read ``float lr, momentum, wd`` from their parameter
structs and cast them to the weights' dtype: in float64 the hyperparameters are
float32 values.  The 1.4 Python update passes them as scalars of NDArray
arithmetic, parsed as doubles: exact.
"""

from __future__ import annotations

from derive.catalogue import entry
from derive.formulation import Assign, Formulation
from derive.hyperparameters import resolve
from derive.symbols import b, eps, g, ghat, lam, mu, t, theta, v

KERNELS = "src/operator/optimizer_op-inl.h"
FLOAT32_NOTE = "The kernel reads lr, momentum and wd as C floats: in a float64 run they are float32 values."
OPTIMIZER = "python/mxnet/optimizer/optimizer.py"


def _hyper(lr, momentum, weight_decay):
    return (resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum"),
            resolve(weight_decay, lam, "weight_decay"))


@entry
def mxnet_sgd(*, lr=None, momentum=None, weight_decay=None) -> Formulation:
    """MXNet ``SGD`` (``sgd_mom_update``): ``mom = mu mom - lr wd w - lr g``, ``w = w + mom``."""
    lr, m, wd = _hyper(lr, momentum, weight_decay)
    return Formulation(
        name="mxnet_sgd",
        title="MXNet SGD",
        citation=f"apache/mxnet 1.9.1 (3f8f3be9), the same at 1.4.0 and 1.5.0: {KERNELS} SGDMomKernel; "
                 f"{OPTIMIZER} SGD._update_impl",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(Assign(v[t], m * v[t - 1] - lr * wd * theta[t - 1] - lr * g[t]),
                Assign(theta[t], theta[t - 1] + v[t])),
        init={v: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
        hyper_dtype="float32",
        note=FLOAT32_NOTE,
    )


@entry
def mxnet_nag(*, lr=None, momentum=None, weight_decay=None) -> Formulation:
    """MXNet ``NAG`` from 1.6.0, as ``NAG.update`` runs it: ``nag_mom_update(..., out=weight)``.

    ``NAGMomKernel`` writes ``w - mu mom + (mu + 1)(mu mom - lr (g + wd w))`` into
    ``out`` and then sets ``mom = mu mom - lr (g + wd w)`` reading ``w`` again; the
    optimizer passes ``out=weight``, so that second read sees the *new* weight.
    """
    lr, m, wd = _hyper(lr, momentum, weight_decay)
    return Formulation(
        name="mxnet_nag",
        title="MXNet NAG (1.6 and later)",
        citation=f"apache/mxnet 1.9.1 (3f8f3be9): {KERNELS} NAGMomKernel; {OPTIMIZER} NAG._update_impl "
                 "(out=weight); kernel since 85fe0b43 (apache/mxnet#16053), first released in 1.6.0",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(theta[t], theta[t - 1] - m * v[t - 1] + (1 + m) * (m * v[t - 1] - lr * (g[t] + wd * theta[t - 1]))),
            Assign(v[t], m * v[t - 1] - lr * (g[t] + wd * theta[t])),
        ),
        init={v: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
        hyper_dtype="float32",
        note=r"The momentum's decay term reads the weight the kernel has just written ($\theta_t$): "
             "nag_mom_update runs in place. " + FLOAT32_NOTE,
    )


@entry
def mxnet_nag_1_5(*, lr=None, momentum=None, weight_decay=None) -> Formulation:
    """MXNet 1.5's ``NAGMomKernel``: ``mom = mu mom + g + wd w``, ``w = w - lr (mu mom + g)``."""
    lr, m, wd = _hyper(lr, momentum, weight_decay)
    return Formulation(
        name="mxnet_nag_1_5",
        title="MXNet NAG 1.5",
        citation=f"apache/mxnet 1.5.0 (75a9e187): {KERNELS} NAGMomKernel (50495d7b, apache/mxnet#14568); "
                 f"{OPTIMIZER} NAG._update_impl",
        state=(theta, b),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(b[t], m * b[t - 1] + g[t] + wd * theta[t - 1]),
            Assign(theta[t], theta[t - 1] - lr * (m * b[t] + g[t])),
        ),
        init={b: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
        hyper_dtype="float32",
        note=FLOAT32_NOTE,
    )


@entry
def mxnet_nag_1_4(*, lr=None, momentum=None, weight_decay=None) -> Formulation:
    """MXNet 1.4's Python ``NAG.update``: ``grad += wd w; mom = mu mom + grad; w -= lr (grad + mu mom)``."""
    lr, m, wd = _hyper(lr, momentum, weight_decay)
    return Formulation(
        name="mxnet_nag_1_4",
        title="MXNet NAG 1.4",
        citation=f"apache/mxnet 1.4.0 (a03d59ed): {OPTIMIZER} NAG.update",
        state=(theta, b),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(ghat[t], g[t] + wd * theta[t - 1]),
            Assign(b[t], m * b[t - 1] + ghat[t]),
            Assign(theta[t], theta[t - 1] - lr * (ghat[t] + m * b[t])),
        ),
        init={b: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
    )


__all__ = ["mxnet_sgd", "mxnet_nag", "mxnet_nag_1_5", "mxnet_nag_1_4"]
