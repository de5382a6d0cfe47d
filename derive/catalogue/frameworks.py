"""Other frameworks: each is one more small entry (``docs/reference/formulations.md`` §3).

They show the record's reach: zero-initialised buffers, decoupled weight decay
(Keras 3), a velocity of the opposite sign (Caffe, Optimisers.jl), a first step
that *is* damped (MLX), a non-standard Nesterov (Chainer), weight decay as a
separate transform or hook (optax, Chainer, Optimisers.jl) and hyperparameters
held in float32 (Paddle).  MXNet, whose NAG changed twice, is in
:mod:`derive.catalogue.mxnet`.  Each entry is written from the code the
framework runs (the kernel, not the docstring); the citation names the file and
version read.
"""

from __future__ import annotations

import sympy as sp

from derive.catalogue import entry
from derive.formulation import Assign, Formulation
from derive.hyperparameters import check_nesterov, is_zero, resolve
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


CHAINER = "chainer/chainer 7.8.1"
CHAINER_HOOK = "chainer/optimizer_hooks/weight_decay.py WeightDecay (timing 'pre': g += rate p)"


def _coupled(wd) -> tuple[tuple[Assign, ...], sp.Expr]:
    """``ghat = g + lambda theta`` when there is a decay term (a hook or transform before the rule)."""
    if is_zero(wd):
        return (), g[t]
    return (Assign(ghat[t], g[t] + wd * theta[t - 1]),), ghat[t]


@entry
def chainer_momentum_sgd(*, lr=None, momentum=None, weight_decay=None) -> Formulation:
    """Chainer ``MomentumSGD`` (``v *= mu; v -= lr g; p += v``) after the ``WeightDecay`` hook."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    wd = resolve(weight_decay, lam, "weight_decay")
    decay, grad = _coupled(wd)
    return Formulation(
        name="chainer_momentum_sgd",
        title="Chainer MomentumSGD",
        citation=f"{CHAINER}: chainer/optimizers/momentum_sgd.py MomentumSGDRule.update_core_cpu; {CHAINER_HOOK}",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(*decay, Assign(v[t], m * v[t - 1] - lr * grad), Assign(theta[t], theta[t - 1] + v[t])),
        init={v: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
    )


@entry
def chainer_nesterov_ag(*, lr=None, momentum=None, weight_decay=None) -> Formulation:
    """Chainer ``NesterovAG``: uses the *updated* velocity where eq. (7) uses the old one."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    wd = resolve(weight_decay, lam, "weight_decay")
    decay, grad = _coupled(wd)
    return Formulation(
        name="chainer_nesterov_ag",
        title="Chainer NesterovAG",
        citation=f"{CHAINER}: chainer/optimizers/nesterov_ag.py NesterovAGRule.update_core_cpu; {CHAINER_HOOK}; "
                 "chainer/chainer#4274",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            *decay,
            Assign(v[t], m * v[t - 1] - lr * grad),
            Assign(theta[t], theta[t - 1] + m**2 * v[t] - (1 + m) * lr * grad),
        ),
        init={v: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
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


@entry
def optax_sgd(*, lr=None, momentum=None, weight_decay=None, nesterov=False) -> Formulation:
    r"""``optax.chain(optax.add_decayed_weights(lambda), optax.sgd(lr, momentum, nesterov))``.

    ``add_decayed_weights`` adds :math:`\lambda\theta` to the gradient, ``trace``
    keeps :math:`b_t = \hat g_t + \mu b_{t-1}` from zeros and hands on
    :math:`\hat g_t + \mu b_t` (Nesterov) or :math:`b_t`, ``scale_by_learning_rate``
    multiplies by :math:`-\varepsilon_t`.  ``weight_decay=0`` is ``optax.sgd`` alone.
    """
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    wd = resolve(weight_decay, lam, "weight_decay")
    decay, grad = _coupled(wd)
    step = grad + m * b[t] if nesterov else b[t]
    return Formulation(
        name="optax_sgd",
        title="optax sgd" + (" (nesterov)" if nesterov else "") + ("" if is_zero(wd) else " after add_decayed_weights"),
        citation="google-deepmind/optax 0.2.8: optax/_src/alias.py sgd; optax/transforms/_accumulation.py trace; "
                 "optax/_src/transform.py scale_by_learning_rate; optax/transforms/_adding.py add_decayed_weights",
        state=(theta, b),
        params=theta,
        grad_at=theta[t - 1],
        update=(*decay, Assign(b[t], grad + m * b[t - 1]), Assign(theta[t], theta[t - 1] - lr * step)),
        init={b: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
        options={"nesterov": nesterov},
    )


@entry
def paddle_momentum(*, lr=None, momentum=None, weight_decay=None, nesterov=False) -> Formulation:
    """Paddle ``Momentum`` (``use_nesterov``; a float ``weight_decay`` or ``L2Decay`` is fused into the op).

    The op reads ``mu`` and ``regularization_coeff`` as ``float`` attributes; the
    learning rate is a tensor in the parameters' dtype.
    """
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    wd = resolve(weight_decay, lam, "weight_decay")
    decay, grad = _coupled(wd)
    step = grad + b[t] * m if nesterov else b[t]
    return Formulation(
        name="paddle_momentum",
        title="Paddle Momentum" + (" (use_nesterov)" if nesterov else ""),
        citation="PaddlePaddle/Paddle 3.3.1: python/paddle/optimizer/momentum.py Momentum._append_optimize_op; "
                 "paddle/phi/kernels/impl/momentum_kernel_impl.h (045e4045) CPUDenseUpdater, "
                 "CPUDenseMomentumFunctor",
        state=(theta, b),
        params=theta,
        grad_at=theta[t - 1],
        update=(*decay, Assign(b[t], b[t - 1] * m + grad), Assign(theta[t], theta[t - 1] - lr * step)),
        init={b: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
        options={"nesterov": nesterov},
        hyper_dtype={"momentum": "float32", "weight_decay": "float32"},
        note="The op reads mu and regularization_coeff as C floats: in a float64 run they are float32 values; "
             "the learning rate is a tensor of the parameters' dtype.",
    )


LASAGNE = "Lasagne/Lasagne 07ce3cc5: lasagne/updates.py"


@entry
def lasagne_momentum(*, lr=None, momentum=None) -> Formulation:
    """Lasagne ``momentum``: ``x = mu v + (p - lr g)``, ``v := x - p``, ``p := x``."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    return Formulation(
        name="lasagne_momentum",
        title="Lasagne momentum",
        citation=f"{LASAGNE} sgd, apply_momentum, momentum",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(Assign(v[t], m * v[t - 1] - lr * g[t]), Assign(theta[t], theta[t - 1] + v[t])),
        init={v: 0},
        hyper={"lr": lr, "momentum": m},
    )


@entry
def lasagne_nesterov_momentum(*, lr=None, momentum=None) -> Formulation:
    """Lasagne ``nesterov_momentum``: ``v := mu v + (p - lr g) - p``, ``p := mu v + (p - lr g)``."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    return Formulation(
        name="lasagne_nesterov_momentum",
        title="Lasagne nesterov_momentum",
        citation=f"{LASAGNE} sgd, apply_nesterov_momentum, nesterov_momentum",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(Assign(v[t], m * v[t - 1] - lr * g[t]), Assign(theta[t], m * v[t] + theta[t - 1] - lr * g[t])),
        init={v: 0},
        hyper={"lr": lr, "momentum": m},
    )


OPTIMISERS_JL = ("FluxML/Optimisers.jl 007b9721: src/rules.jl apply!(::{rule}), apply!(::WeightDecay) "
                 "in OptimiserChain(WeightDecay(lambda), {rule}(eta, rho)); read from source, not run")


@entry
def optimisers_jl_momentum(*, lr=None, momentum=None, weight_decay=None) -> Formulation:
    """Optimisers.jl ``Momentum``: ``mvel = rho mvel + eta dx``, ``x -= mvel`` (lr inside, uphill)."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    wd = resolve(weight_decay, lam, "weight_decay")
    decay, grad = _coupled(wd)
    return Formulation(
        name="optimisers_jl_momentum",
        title="Optimisers.jl Momentum",
        citation=OPTIMISERS_JL.format(rule="Momentum"),
        state=(theta, V),
        params=theta,
        grad_at=theta[t - 1],
        update=(*decay, Assign(V[t], m * V[t - 1] + lr * grad), Assign(theta[t], theta[t - 1] - V[t])),
        init={V: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
    )


@entry
def optimisers_jl_nesterov(*, lr=None, momentum=None, weight_decay=None) -> Formulation:
    """Optimisers.jl ``Nesterov``: ``newdx = -rho^2 vel + (1+rho) eta dx``, ``vel = rho vel - eta dx``, ``x -= newdx``."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    wd = resolve(weight_decay, lam, "weight_decay")
    decay, grad = _coupled(wd)
    return Formulation(
        name="optimisers_jl_nesterov",
        title="Optimisers.jl Nesterov",
        citation=OPTIMISERS_JL.format(rule="Nesterov"),
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            *decay,
            Assign(v[t], m * v[t - 1] - lr * grad),
            Assign(theta[t], theta[t - 1] - (-(m**2) * v[t - 1] + (1 + m) * lr * grad)),
        ),
        init={v: 0},
        hyper={"lr": lr, "momentum": m, "weight_decay": wd},
    )


__all__ = ["tf1_momentum", "keras_sgd", "caffe_sgd", "chainer_momentum_sgd", "chainer_nesterov_ag", "mlx_sgd",
           "optax_sgd", "paddle_momentum", "lasagne_momentum", "lasagne_nesterov_momentum",
           "optimisers_jl_momentum", "optimisers_jl_nesterov"]
