"""Claims added from the framework survey (docs/reference/formulations.md §3)."""

from __future__ import annotations

import sympy as sp

from derive.catalogue import get
from derive.claims import claim
from derive.claims.evidence import (CONSTANT, EPS, MU, Prose, by_schedule, condition_of, describe, finding,
                                    proof_rows)
from derive.equivalence import equivalence
from derive.formulation import Assign, Formulation
from derive.symbols import b, eps, g, lam, mu, t, theta, v

SURVEY = "docs/reference/formulations.md"


@claim("TF1-approx", source="TF1 MomentumOptimizer docstring (" + SURVEY + " §3.6)",
       statement=r"With use_nesterov the variable tracks $\theta_t + \mu v_t$ of the paper; this is an approximation "
                 "valid for high momentum.",
       reading=r"TF1's use_nesterov iterate is only approximately Sutskever's look-ahead point $\theta + \mu v$ "
               r"(constant lr and momentum, any $\mu$).",
       assumptions=r"constant $\varepsilon, \mu$; zero accumulator.", expected="fails")
def tf1_approx():
    result = equivalence(get("sutskever_nesterov", **CONSTANT), get("tf1_momentum", nesterov=True, **CONSTANT))
    if result:
        return finding("fails", Prose(r"exact for every $\mu$, not an approximation: ", describe(result)),
                       rows=proof_rows(result.rows[-5:]))
    return finding("holds", Prose("not exact: ", describe(result)), rows=proof_rows(result.rows), witness=result.witness)


@claim("Bengio-eq7", source="Bengio, Boulanger-Lewandowski, Pascanu 2012, eq. (7)",
       statement=r"Storing $\Theta_t = \theta_t + \mu_{t+1} v_t$ turns Nesterov's method into eq. (7), with the "
                 "gradient at the stored point.",
       reading=r"bengio_nesterov is sutskever_nesterov under $\Theta_t = \theta_t + \mu_{t+1} v_t$ for every lr and "
               "momentum schedule.",
       assumptions=r"$v_0 = 0$.", expected="holds")
def bengio_eq7():
    result = equivalence(get("sutskever_nesterov"), get("bengio_nesterov"))
    if result:
        return finding("holds", Prose("exact under any schedule: ", describe(result)), rows=proof_rows(result.rows[-5:]))
    return finding("fails", describe(result), rows=proof_rows(result.rows), witness=result.witness)


@claim("Chainer-NAG", source="chainer/chainer#4274 (" + SURVEY + " §3.16)",
       statement="Chainer's NesterovAG differs from Bengio et al.'s eq. (7): it uses the updated velocity.",
       reading="chainer_nesterov_ag and bengio_nesterov give different parameters, even with constant lr and "
               "momentum.",
       assumptions="zero velocity in both.", expected="holds")
def chainer_nag():
    result = equivalence(get("bengio_nesterov", **CONSTANT), get("chainer_nesterov_ag", weight_decay=0, **CONSTANT),
                         same_params=True)
    if result:
        return finding("fails", Prose("they are the same: ", describe(result)), rows=proof_rows(result.rows[-5:]))
    return finding("holds", Prose("no change of variables: ", describe(result)), rows=proof_rows(result.rows),
                   witness=result.witness)


@claim("MLX-first-step", source=SURVEY + " §3.19",
       statement="MLX's SGD (zero buffer, damped from step 1) matches PyTorch's only without dampening.",
       reading=r"mlx_sgd and pytorch_sgd give the same parameters for $\tau = 0$ (any schedule) and differ for "
               r"$\tau \neq 0$ at step 1 already.",
       expected="holds")
def mlx_first_step():
    same = equivalence(get("pytorch_sgd", dampening=0, weight_decay=0), get("mlx_sgd", dampening=0, weight_decay=0),
                       same_params=True)
    damped = equivalence(get("pytorch_sgd", weight_decay=0), get("mlx_sgd", weight_decay=0), same_params=True)
    rows = ((Prose(r"$\tau = 0$: ", describe(same)), sp.S.Zero),
            (Prose(r"$\tau \neq 0$: ", describe(damped)), getattr(damped, "residual", 0)))
    if same and not damped:
        return finding("holds", Prose(r"$\tau = 0$ equal; $\tau \neq 0$: ", describe(damped)), rows=rows,
                       witness=damped.witness)
    return finding("fails", Prose(r"$\tau = 0$: ", describe(same), r"; $\tau$: ", describe(damped)), rows=rows)


@claim("Keras-decay", source=SURVEY + " §3.8",
       statement="Keras 3's decoupled weight decay (applied before the momentum update, not fed into the "
                 "velocity) and PyTorch's coupled weight decay give the same trajectory.",
       reading=r"keras_sgd with weight decay $\lambda$ and pytorch_sgd with weight decay $\lambda$ and no dampening "
               "give the same parameters, constant lr and momentum.",
       assumptions=r"constant $\varepsilon$; momentum $\mu$ or 0.", expected="holds under a condition", condition="mu = 0")
def keras_decay():
    # Keras keeps a velocity even at mu = 0, so it is the source (its state maps onto PyTorch's).
    with_momentum = equivalence(get("keras_sgd", **CONSTANT), get("pytorch_sgd", dampening=0, **CONSTANT),
                                same_params=True)
    without = equivalence(get("keras_sgd", lr=EPS, momentum=0), get("pytorch_sgd", lr=EPS, momentum=0, dampening=0),
                          same_params=True)
    rows = ((Prose(r"$\mu \neq 0$: ", describe(with_momentum)), getattr(with_momentum, "residual", 0)),
            (Prose(r"$\mu = 0$: ", describe(without)), sp.S.Zero))
    if without and not with_momentum:
        return finding("holds under a condition", Prose(r"$\mu = 0$: ", describe(without), r"; $\mu \neq 0$: ",
                                                        describe(with_momentum)),
                       condition=condition_of(with_momentum), rows=rows, witness=with_momentum.witness)
    return finding("holds" if with_momentum else "fails", Prose(r"$\mu$: ", describe(with_momentum)), rows=rows)


# -- MXNet's NAG across releases (derive/catalogue/mxnet.py) ------------------------------------
MXNET_SOURCE = "apache/mxnet tags 1.4.0, 1.5.0, 1.6.0 (" + SURVEY + " §3.13; issue 12)"
NO_DECAY = {"weight_decay": 0}


@claim("MXNet-NAG-1.5", source=MXNET_SOURCE,
       statement="MXNet's NAG changed its learning-rate placement between 1.4 and 1.5, when the Python update "
                 "became the fused nag_mom_update kernel (apache/mxnet#14568).",
       reading=r"Without weight decay, MXNet 1.4's NAG (mxnet_nag_1_4) and 1.5's (mxnet_nag_1_5) give the same "
               r"parameters under a constant learning rate and different ones under a schedule $\varepsilon_t$.",
       assumptions=r"zero momentum buffers; momentum schedule $\mu_t$ shared; $\lambda = 0$ so that the "
                   r"placement alone is judged, then $\lambda$ separately.",
       expected="fails")
def mxnet_nag_1_5():
    schedule = equivalence(get("mxnet_nag_1_4", **NO_DECAY), get("mxnet_nag_1_5", **NO_DECAY), same_params=True)
    decay = equivalence(get("mxnet_nag_1_4"), get("mxnet_nag_1_5"), same_params=True)
    later = equivalence(get("mxnet_nag_1_5", **NO_DECAY), get("mxnet_nag", **NO_DECAY), same_params=True)
    rows = ((Prose(r"1.4 → 1.5, $\lambda = 0$, any schedule: ", describe(schedule)), sp.S.Zero),
            (Prose(r"1.4 → 1.5, $\lambda \neq 0$: ", describe(decay)), getattr(decay, "residual", sp.S.Zero)),
            (Prose(r"1.5 → 1.6, $\lambda = 0$: ", describe(later)), getattr(later, "residual", sp.S.Zero)))
    if schedule:
        return finding("fails", Prose(r"1.5 kept PyTorch placement: without weight decay 1.4 and 1.5 are the same "
                                      "update under any schedule (", describe(schedule), r"); what 1.5 changed is "
                                      r"that $\lambda\theta$ left the look-ahead term (", describe(decay),
                                      "); the placement moved in 1.6 (", describe(later), ")"),
                       rows=rows, witness=getattr(decay, "witness", None))
    return finding("holds", Prose("1.4 and 1.5 differ under a schedule: ", describe(schedule)), rows=rows,
                   witness=schedule.witness)


@claim("MXNet-NAG-1.6", source="apache/mxnet#16053 (85fe0b43, first released in 1.6.0), fixing apache/mxnet#15543",
       statement="The NAG kernel rewritten for 1.6 puts the learning rate inside the momentum; it agrees with "
                 "1.5's kernel only while the learning rate is constant.",
       reading=r"Without weight decay, mxnet_nag_1_5 and mxnet_nag give the same parameters for every momentum "
               r"schedule exactly when the learning rate is constant (then $m' = -\varepsilon m$).",
       assumptions=r"zero momentum buffers; $\lambda = 0$.",
       expected="holds under a condition", condition="constant learning rate")
def mxnet_nag_1_6():
    schedule = equivalence(get("mxnet_nag_1_5", **NO_DECAY), get("mxnet_nag", **NO_DECAY), same_params=True)
    constant = equivalence(get("mxnet_nag_1_5", lr=EPS, **NO_DECAY), get("mxnet_nag", lr=EPS, **NO_DECAY),
                           same_params=True)
    return by_schedule(schedule, constant, what="MXNet 1.5 → 1.6 NAG")


def _nag_kernel_out_of_place(*, lr, momentum, weight_decay) -> Formulation:
    """NAGMomKernel (1.6+) as its source reads when ``out`` is not the weight: both terms see the old ``w``."""
    decayed = g[t] + weight_decay * theta[t - 1]
    return Formulation(
        name="mxnet_nag_kernel", title="MXNet NAGMomKernel, out != weight",
        citation="apache/mxnet 1.9.1 src/operator/optimizer_op-inl.h NAGMomKernel",
        state=(theta, v), params=theta, grad_at=theta[t - 1],
        update=(Assign(v[t], momentum * v[t - 1] - lr * decayed),
                Assign(theta[t], theta[t - 1] - momentum * v[t - 1] + (1 + momentum) * v[t])),
        init={v: 0}, hyper={"lr": lr, "momentum": momentum, "weight_decay": weight_decay})


@claim("MXNet-NAG-inplace", source="apache/mxnet 1.9.1 src/operator/optimizer_op-inl.h NAGMomKernel",
       statement=r"KERNEL_ASSIGN(out, w - mom + (momentum + 1) (mom - lr (grad + wd w))); "
                 r"mom = mom - lr (grad + wd w), after mom = momentum mom.",
       reading=r"NAG.update, which calls the kernel with out=weight, gives the parameters of the kernel's "
               r"formula with both $w$ the weight before the step, for every schedule and weight decay "
               r"$\lambda$.",
       assumptions="zero momentum; the formula read with out and weight distinct.",
       expected="holds under a condition", condition="weight_decay = 0")
def mxnet_nag_inplace():
    written = _nag_kernel_out_of_place(lr=eps[t], momentum=mu[t], weight_decay=lam)
    decay = equivalence(written, get("mxnet_nag"), same_params=True)
    plain = equivalence(_nag_kernel_out_of_place(lr=eps[t], momentum=mu[t], weight_decay=0),
                        get("mxnet_nag", weight_decay=0), same_params=True)
    rows = ((Prose(r"$\lambda = 0$: ", describe(plain)), sp.S.Zero),
            (Prose(r"$\lambda \neq 0$: ", describe(decay)), getattr(decay, "residual", sp.S.Zero)))
    if plain and not decay:
        return finding("holds under a condition",
                       Prose(r"in place, the momentum's decay term reads the weight just written; equal only "
                             r"without weight decay: ", describe(decay)),
                       condition=condition_of(decay), rows=rows, witness=decay.witness)
    if plain:
        return finding("holds", Prose("in place or not, the same: ", describe(decay)), rows=rows)
    return finding("fails", Prose(r"even without weight decay: ", describe(plain)), rows=rows,
                   witness=plain.witness)


def _mxnet_nag_docstring(*, lr, momentum, weight_decay) -> Formulation:
    """The update NAG's docstring (1.5.0 to 1.9.1) prints, typed from its two lines."""
    return Formulation(
        name="mxnet_nag_docstring", title="MXNet NAG docstring",
        citation="apache/mxnet 1.9.1 python/mxnet/optimizer/optimizer.py NAG docstring",
        state=(theta, b), params=theta, grad_at=theta[t - 1],
        update=(Assign(b[t], momentum * b[t - 1] + g[t] + weight_decay * theta[t - 1]),
                Assign(theta[t], theta[t - 1] - lr * (g[t] + momentum * b[t]))),
        init={b: 0}, hyper={"lr": lr, "momentum": momentum, "weight_decay": weight_decay})


@claim("MXNet-NAG-doc", source="apache/mxnet 1.9.1 python/mxnet/optimizer/optimizer.py, NAG docstring",
       statement=r"NAG updates each weight by state = momentum * state + grad + wd * weight; "
                 r"weight = weight - (lr * (grad + momentum * state)).",
       reading=r"The docstring's update gives the parameters of the kernel NAG calls in 1.9.1 (mxnet_nag) at a "
               r"constant learning rate and momentum, with weight decay $\lambda$.",
       assumptions=r"constant $\varepsilon, \mu$; zero buffers.", expected="fails")
def mxnet_nag_doc():
    doc = _mxnet_nag_docstring(lr=EPS, momentum=MU, weight_decay=lam)
    kernel = equivalence(doc, get("mxnet_nag", **CONSTANT), same_params=True)
    no_decay = equivalence(_mxnet_nag_docstring(lr=EPS, momentum=MU, weight_decay=0),
                           get("mxnet_nag", weight_decay=0, **CONSTANT), same_params=True)
    older = equivalence(_mxnet_nag_docstring(lr=eps[t], momentum=mu[t], weight_decay=lam), get("mxnet_nag_1_5"),
                        same_params=True)
    rows = ((Prose(r"docstring vs 1.9.1 kernel, constant, $\lambda$: ", describe(kernel)),
             getattr(kernel, "residual", sp.S.Zero)),
            (Prose(r"the same, $\lambda = 0$: ", describe(no_decay)), getattr(no_decay, "residual", sp.S.Zero)),
            (Prose("docstring vs 1.5's kernel, any schedule: ", describe(older)), sp.S.Zero))
    if kernel:
        return finding("holds", Prose("the docstring is the kernel at constant hyperparameters: ", describe(kernel)),
                       rows=rows)
    return finding("fails", Prose(r"with weight decay the docstring is not the kernel even at constant "
                                  "hyperparameters (", describe(kernel), "); it is 1.5's kernel (",
                                  describe(older), ")"), rows=rows, witness=kernel.witness)


@claim("MXNet-SGD-doc", source="apache/mxnet 1.9.1 python/mxnet/optimizer/optimizer.py, SGD docstring",
       statement=r"Standard updates are applied by rescaled_grad = lr * (grad + wd * weight); "
                 r"state = momentum * state + rescaled_grad; weight = weight - state.",
       reading=r"The docstring's update (a history $V_t$ with the learning rate inside, subtracted) gives the "
               "parameters of sgd_mom_update (mxnet_sgd, which adds a velocity) under any schedule.",
       assumptions="zero states; rescale_grad = 1, no clipping.", expected="holds")
def mxnet_sgd_doc():
    # the docstring's update is Caffe's history form, typed once in caffe_sgd
    result = equivalence(get("caffe_sgd"), get("mxnet_sgd"))
    if result:
        return finding("holds", Prose("under any schedule, with the state negated: ", describe(result)),
                       rows=proof_rows(result.rows[-5:]))
    return finding("fails", describe(result), rows=proof_rows(result.rows), witness=result.witness)


@claim("Lasagne-Nesterov", source="Lasagne/Lasagne lasagne/updates.py, nesterov_momentum docstring (pylearn2#136)",
       statement="The classic formulation of Nesterov momentum requires the gradient to be evaluated at the "
                 "predicted next position in parameter space. Here, we use the formulation described at "
                 "pylearn2#136, which allows the gradient to be evaluated at the current parameters.",
       reading=r"lasagne_nesterov_momentum is Nesterov's method (sutskever_nesterov) under a change of variables, "
               r"for every learning-rate and momentum schedule.",
       assumptions=r"$v_0 = 0$ in both.", expected="holds under a condition", condition="constant momentum")
def lasagne_nesterov():
    schedule = equivalence(get("sutskever_nesterov"), get("lasagne_nesterov_momentum"))
    constant = equivalence(get("sutskever_nesterov", momentum=MU), get("lasagne_nesterov_momentum", momentum=MU))
    return by_schedule(schedule, constant, what="Nesterov → Lasagne")


@claim("Optax-Sutskever", source="google-deepmind/optax 0.2.8 optax/_src/alias.py, sgd docstring (References)",
       statement=r"sgd: $m_t \leftarrow g_t + \mu m_{t-1}$, $u_t \leftarrow -\alpha_t m_t$; "
                 "References: Sutskever et al., On the importance of initialization and momentum in deep "
                 "learning, 2013.",
       reading=r"optax.sgd with momentum gives the parameters of Sutskever et al.'s classical momentum "
               r"(eqs. 1-2) for every learning-rate schedule $\alpha_t$.",
       assumptions=r"zero trace and velocity; momentum schedule $\mu_t$ shared; no weight decay.",
       expected="holds under a condition", condition="constant learning rate")
def optax_sutskever():
    schedule = equivalence(get("sutskever_momentum"), get("optax_sgd", weight_decay=0), same_params=True)
    constant = equivalence(get("sutskever_momentum", lr=EPS), get("optax_sgd", lr=EPS, weight_decay=0),
                           same_params=True)
    return by_schedule(schedule, constant, what="Sutskever → optax")
