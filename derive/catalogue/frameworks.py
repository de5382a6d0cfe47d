"""Other frameworks: each is one more small entry (``docs/reference/formulations.md`` §3).

They show the record's reach: zero-initialised buffers, decoupled weight decay
(Keras 3), a velocity of the opposite sign (Caffe), a first step that *is*
damped (MLX), and a non-standard Nesterov (Chainer).
"""

from __future__ import annotations

import sympy as sp

from derive.catalogue import entry
from derive.formulation import Assign, Formulation
from derive.hyperparameters import check_nesterov, resolve
from derive.symbols import b, eps, g, ghat, lam, mu, t, tau, theta, theta_wd, v

V = sp.IndexedBase("V", real=True)  # Caffe's history: lr inside, pointing uphill


@entry
def tf1_momentum(*, lr=None, momentum=None, nesterov=False) -> Formulation:
    """``tf.compat.v1.train.MomentumOptimizer``: PyTorch placement, zero accumulator."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    step = g[t] + m * b[t] if nesterov else b[t]
    return Formulation(
        name="tf1_momentum",
        title="TensorFlow 1 MomentumOptimizer" + (" (use_nesterov)" if nesterov else ""),
        citation="tensorflow/python/training/momentum.py; core/kernels/training_ops.cc ApplyMomentum",
        state=(theta, b),
        params=theta,
        grad_at=theta[t - 1],
        update=(Assign(b[t], m * b[t - 1] + g[t]), Assign(theta[t], theta[t - 1] - lr * step)),
        init={b: 0},
        hyper={"lr": lr, "momentum": m},
        options={"nesterov": nesterov},
    )


@entry
def keras_sgd(*, lr=None, momentum=None, weight_decay=None, nesterov=False) -> Formulation:
    """Keras 3 ``SGD``: paper placement, decoupled weight decay applied before the update."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    wd = resolve(weight_decay, lam, "weight_decay")
    decayed = theta[t - 1] - lr * wd * theta[t - 1]
    step = m * v[t] - lr * g[t] if nesterov else v[t]
    return Formulation(
        name="keras_sgd",
        title="Keras 3 SGD" + (" (nesterov)" if nesterov else ""),
        citation="keras/src/optimizers/sgd.py SGD.update_step; base_optimizer.py _apply_weight_decay",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(theta_wd[t], decayed),
            Assign(v[t], m * v[t - 1] - lr * g[t]),
            Assign(theta[t], theta_wd[t] + step),
        ),
        init={v: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
        options={"nesterov": nesterov},
    )


@entry
def caffe_sgd(*, lr=None, momentum=None, weight_decay=None, nesterov=False) -> Formulation:
    """Caffe ``SGDSolver`` / ``NesterovSolver``: coupled decay inside the lr product."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    wd = resolve(weight_decay, lam, "weight_decay")
    step = (1 + m) * V[t] - m * V[t - 1] if nesterov else V[t]
    return Formulation(
        name="caffe_sgd",
        title="Caffe " + ("NesterovSolver" if nesterov else "SGDSolver"),
        citation="BVLC/caffe src/caffe/solvers/sgd_solver.cpp ComputeUpdateValue, Regularize; nesterov_solver.cpp",
        state=(theta, V),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(V[t], m * V[t - 1] + lr * (g[t] + wd * theta[t - 1])),
            Assign(theta[t], theta[t - 1] - step),
        ),
        init={V: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
        options={"nesterov": nesterov},
    )


@entry
def chainer_nesterov_ag(*, lr=None, momentum=None) -> Formulation:
    """Chainer ``NesterovAG``: uses the *updated* velocity where eq. (7) uses the old one."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    return Formulation(
        name="chainer_nesterov_ag",
        title="Chainer NesterovAG",
        citation="chainer/optimizers/nesterov_ag.py NesterovAGRule; chainer/chainer#4274",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(v[t], m * v[t - 1] - lr * g[t]),
            Assign(theta[t], theta[t - 1] + m**2 * v[t] - (1 + m) * lr * g[t]),
        ),
        init={v: 0},
        hyper={"lr": lr, "momentum": m},
    )


@entry
def mlx_sgd(*, lr=None, momentum=None, dampening=None, weight_decay=None, nesterov=False) -> Formulation:
    """MLX ``SGD``: PyTorch's update from a zero buffer, so step 1 is damped too."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    damp = resolve(dampening, sp.S.Zero if nesterov else tau, "dampening")
    wd = resolve(weight_decay, lam, "weight_decay")
    check_nesterov(nesterov, m, damp)
    step = ghat[t] + m * b[t] if nesterov else b[t]
    return Formulation(
        name="mlx_sgd",
        title="MLX SGD" + (" (nesterov)" if nesterov else ""),
        citation="ml-explore/mlx python/mlx/optimizers/optimizers.py SGD.apply_single",
        state=(theta, b),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(ghat[t], g[t] + wd * theta[t - 1]),
            Assign(b[t], m * b[t - 1] + (1 - damp) * ghat[t]),
            Assign(theta[t], theta[t - 1] - lr * step),
        ),
        init={b: 0},
        hyper={"lr": lr, "momentum": m, "dampening": damp, "weight_decay": wd},
        options={"nesterov": nesterov},
    )


__all__ = ["tf1_momentum", "keras_sgd", "caffe_sgd", "chainer_nesterov_ag", "mlx_sgd"]
