"""Claims added from the framework survey (docs/reference/formulations.md §3)."""

from __future__ import annotations

import sympy as sp

from derive.catalogue import get
from derive.claims import claim
from derive.claims.evidence import CONSTANT, EPS, Prose, condition_of, describe, finding, proof_rows
from derive.equivalence import equivalence

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
    result = equivalence(get("bengio_nesterov", **CONSTANT), get("chainer_nesterov_ag", **CONSTANT), same_params=True)
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
