"""Run a real framework's optimizer on one problem and write what it did to JSON.

Runs inside the framework's own environment (numpy and the framework only; no torch, no
derive): ``python scripts/frameworks/drive.py FRAMEWORK OUT.json``, FRAMEWORK one of
optax, paddle, mxnet, chainer. ``check.py`` (the project's environment) then compares each
run with derive's reference for the catalogue entry named in it.

The problem is the same everywhere: f_t(p) = sum(h p^2 / 2 + c_t p) on 5 elements, h fixed
in [1/2, 2], c_t drawn per step (seed 0), 40 steps, the learning rate changed before every
step (0.05 (1 + sin(t) / 2)), the momentum too where the framework lets a user change it
between steps. Each step records the parameters after it, the gradient the framework
computed (h p + c_t, at the stored parameters) and the hyperparameters it was given.
"""

import json
import math
import sys

import numpy as np

N, STEPS, WD = 5, 40, 0.01
RNG = np.random.RandomState(0)  # the legacy generator: the same draws under MXNet 1.4's numpy 1.14
H = RNG.uniform(0.5, 2.0, N)
C = RNG.standard_normal((STEPS, N))
THETA0 = RNG.standard_normal(N)


def lr_at(t: int) -> float:
    return 0.05 * (1 + math.sin(t) / 2)


def momentum_at(t: int, varying: bool) -> float:
    return 0.9 - 0.2 * t / STEPS if varying else 0.9


def record(framework, version, entry, dtype, flags, thetas, grads, lrs, moms, wd) -> dict:
    return {"framework": framework, "version": version, "entry": entry, "dtype": dtype, "flags": flags,
            "theta": [list(map(float, th)) for th in thetas], "grads": [list(map(float, g)) for g in grads],
            "hyper": {"lr": lrs, "momentum": moms, "weight_decay": [wd] * len(lrs)}}


def optax_runs():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    out = []
    for dtype in ("float64", "float32"):
        for nesterov, wd in ((False, 0.0), (True, WD), (False, WD)):
            sgd = optax.inject_hyperparams(optax.sgd)(learning_rate=lr_at(1), momentum=0.9, nesterov=nesterov)
            opt = optax.chain(optax.add_decayed_weights(wd), sgd) if wd else sgd
            p = jnp.asarray(THETA0, dtype=dtype)
            state = opt.init(p)
            thetas, grads, lrs, moms = [np.asarray(p)], [], [], []
            for t in range(1, STEPS + 1):
                hp = (state[1] if wd else state).hyperparams
                hp["learning_rate"] = jnp.asarray(lr_at(t), dtype=hp["learning_rate"].dtype)
                hp["momentum"] = jnp.asarray(momentum_at(t, True), dtype=hp["momentum"].dtype)
                g = jax.grad(lambda q: jnp.sum(H.astype(dtype) * q * q / 2 + C[t - 1].astype(dtype) * q))(p)
                updates, state = opt.update(g, state, p)
                p = optax.apply_updates(p, updates)
                thetas.append(np.asarray(p)), grads.append(np.asarray(g))
                lrs.append(lr_at(t)), moms.append(momentum_at(t, True))
            out.append(record("optax", optax.__version__ + " (jax " + jax.__version__ + ")", "optax_sgd", dtype,
                              {"nesterov": nesterov}, thetas, grads, lrs, moms, wd))
    return out


def paddle_runs():
    import paddle

    out = []
    for dtype in ("float64", "float32"):
        paddle.set_default_dtype(dtype)
        for nesterov in (False, True):
            p = paddle.create_parameter([N], dtype, default_initializer=paddle.nn.initializer.Assign(THETA0))
            opt = paddle.optimizer.Momentum(learning_rate=lr_at(1), momentum=0.9, parameters=[p],
                                            use_nesterov=nesterov, weight_decay=WD)
            h, thetas, grads, lrs, moms = paddle.to_tensor(H, dtype=dtype), [p.numpy()], [], [], []
            for t in range(1, STEPS + 1):
                loss = (h * p * p / 2 + paddle.to_tensor(C[t - 1], dtype=dtype) * p).sum()
                loss.backward()
                grads.append(p.grad.numpy())
                opt.set_lr(lr_at(t))
                opt.step()
                opt.clear_grad()
                thetas.append(p.numpy()), lrs.append(lr_at(t)), moms.append(0.9)
            out.append(record("paddle", paddle.__version__, "paddle_momentum", dtype, {"nesterov": nesterov},
                              thetas, grads, lrs, moms, WD))
    return out


MXNET_NAG = {"1.4": "mxnet_nag_1_4", "1.5": "mxnet_nag_1_5"}


def mxnet_runs():
    import mxnet as mx

    version = mx.__version__
    nag = MXNET_NAG.get(".".join(version.split(".")[:2]), "mxnet_nag")
    out = []
    for dtype in ("float64", "float32"):
        for name, entry in (("sgd", "mxnet_sgd"), ("nag", nag)):
            opt = mx.optimizer.create(name, learning_rate=lr_at(1), momentum=0.9, wd=WD)
            update = mx.optimizer.get_updater(opt)
            w = mx.nd.array(THETA0, dtype=dtype)
            thetas, grads, lrs, moms = [w.asnumpy()], [], [], []
            for t in range(1, STEPS + 1):
                g = (H * w.asnumpy().astype(np.float64) + C[t - 1]).astype(dtype)
                opt.lr, opt.momentum = lr_at(t), momentum_at(t, True)
                update(0, mx.nd.array(g, dtype=dtype), w)
                thetas.append(w.asnumpy()), grads.append(g)
                lrs.append(lr_at(t)), moms.append(momentum_at(t, True))
            out.append(record("mxnet", version, entry, dtype, {}, thetas, grads, lrs, moms, WD))
    return out


def chainer_runs():
    import chainer
    import chainer.functions as F

    out = []
    for dtype in ("float64", "float32"):
        for name, entry in (("MomentumSGD", "chainer_momentum_sgd"), ("NesterovAG", "chainer_nesterov_ag")):
            link = chainer.Link()
            with link.init_scope():
                link.p = chainer.Parameter(THETA0.astype(dtype))
            opt = getattr(chainer.optimizers, name)(lr=lr_at(1), momentum=0.9)
            opt.setup(link)
            opt.add_hook(chainer.optimizer_hooks.WeightDecay(WD))
            thetas, grads, lrs, moms = [link.p.array.copy()], [], [], []
            for t in range(1, STEPS + 1):
                link.cleargrads()
                p = link.p
                loss = F.sum(H.astype(dtype) * p * p / 2 + C[t - 1].astype(dtype) * p)
                loss.backward()
                grads.append(p.grad.copy())  # before the hook adds rate * p
                opt.lr, opt.momentum = lr_at(t), momentum_at(t, True)
                opt.update()
                thetas.append(p.array.copy()), lrs.append(lr_at(t)), moms.append(momentum_at(t, True))
            out.append(record("chainer", chainer.__version__, entry, dtype, {}, thetas, grads, lrs, moms, WD))
    return out


RUNS = {"optax": optax_runs, "paddle": paddle_runs, "mxnet": mxnet_runs, "chainer": chainer_runs}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in RUNS:
        sys.exit(f"usage: drive.py {{{','.join(RUNS)}}} OUT.json")
    with open(sys.argv[2], "w") as f:
        json.dump(RUNS[sys.argv[1]](), f)
