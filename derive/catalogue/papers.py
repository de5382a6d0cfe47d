"""Forms as the papers write them: plain GD, Polyak/Sutskever momentum, Nesterov."""

from __future__ import annotations

from derive.catalogue import entry
from derive.formulation import Assign, Formulation, looking_ahead
from derive.hyperparameters import resolve
from derive.symbols import Theta, eps, g, mu, t, theta, v


@entry
def plain_gd(*, lr=None) -> Formulation:
    """Gradient descent with a step-size schedule (Robbins and Monro 1951)."""
    lr = resolve(lr, eps[t], "lr")
    return Formulation(
        name="plain_gd",
        title="Plain gradient descent",
        citation="Robbins and Monro, A Stochastic Approximation Method, Ann. Math. Statist. 22(3), 1951",
        state=(theta,),
        params=theta,
        grad_at=theta[t - 1],
        update=(Assign(theta[t], theta[t - 1] - lr * g[t]),),
        hyper={"lr": lr},
    )


@entry
def sutskever_momentum(*, lr=None, momentum=None) -> Formulation:
    """Classical momentum, learning rate inside the velocity ("paper placement")."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    return Formulation(
        name="sutskever_momentum",
        title="Classical momentum (Sutskever et al. 2013)",
        citation="Sutskever, Martens, Dahl, Hinton, On the importance of initialization and momentum "
        "in deep learning, ICML 2013, eqs. (1)-(2)",
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(v[t], m * v[t - 1] - lr * g[t]),
            Assign(theta[t], theta[t - 1] + v[t]),
        ),
        init={v: 0},
        hyper={"lr": lr, "momentum": m},
    )


@entry
def sutskever_nesterov(*, lr=None, momentum=None) -> Formulation:
    """Nesterov's accelerated gradient: classical momentum, gradient at the look-ahead point."""
    return looking_ahead(
        sutskever_momentum(lr=lr, momentum=momentum),
        name="sutskever_nesterov",
        title="Nesterov momentum (Sutskever et al. 2013)",
        citation="Sutskever, Martens, Dahl, Hinton, ICML 2013, eqs. (3)-(4), restating Nesterov 1983",
    )


@entry
def bengio_nesterov(*, lr=None, momentum=None) -> Formulation:
    """Nesterov momentum storing the look-ahead point (Bengio et al. 2012, eq. 7).

    Their index ``t-1`` on the momentum is the step being taken; here that is
    ``mu[t]``, so their ``mu_t`` (the next step's momentum) is ``mu[t+1]``.
    """
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    m_next = m.subs(t, t + 1)
    return Formulation(
        name="bengio_nesterov",
        title="Reformulated Nesterov momentum (Bengio et al. 2012)",
        citation="Bengio, Boulanger-Lewandowski, Pascanu, Advances in optimizing recurrent networks, "
        "arXiv:1212.0901, Sec. 3.5, eq. (7)",
        state=(Theta, v),
        params=Theta,
        grad_at=Theta[t - 1],
        update=(
            Assign(v[t], m * v[t - 1] - lr * g[t]),
            Assign(Theta[t], Theta[t - 1] + m_next * m * v[t - 1] - (1 + m_next) * lr * g[t]),
        ),
        init={v: 0},
        hyper={"lr": lr, "momentum": m},
        note=r"Stores $\Theta_t = \theta_t + \mu_{t+1} v_t$: the next step's momentum enters the update.",
    )
