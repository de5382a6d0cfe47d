r"""The linear-momentum literature: methods linear in the gradients, each as its paper writes it.

Heavy ball (Polyak 1964), quasi-hyperbolic momentum (Ma and Yarats 2019), the synthesized
Nesterov variants it recovers (Lessard, Recht, Packard 2016), AccSGD (Jain et al. 2018, as
Kidambi et al. implement it), aggregated momentum with :math:`K` velocities (Lucas et al. 2019),
stochastic primal averaging (Defazio 2020) and schedule-free SGD (Defazio et al. 2024).
An initial value may be the parameters' own (``init={xprev: theta[0]}``: "start at rest").
Iterate averaging (Polyak--Ruppert, an exponential moving average) is a *read-out* of any
entry: :func:`derive.catalogue.averaging.averaged` adds the averaged state.
"""

from __future__ import annotations

import inspect

import sympy as sp

from derive.catalogue import entry
from derive.formulation import Assign, Formulation
from derive.hyperparameters import resolve
from derive.symbols import eps, g, mu, t, theta

theta_prev = sp.IndexedBase("thetacheck", real=True)  # the previous iterate, theta_{t-1}
buffer_q = sp.IndexedBase("b", real=True)  # QHM's damped momentum buffer (the paper's g_t)
theta_long = sp.IndexedBase("thetahat", real=True)  # AccSGD's long-step iterate
x = sp.IndexedBase("x", real=True)  # the averaged iterate (primal averaging, schedule-free)
z = sp.IndexedBase("z", real=True)  # the SGD iterate under the average
y = sp.IndexedBase("y", real=True)  # schedule-free's gradient point
c = sp.IndexedBase("c", real=True)  # the averaging weight c_t
nu = sp.Symbol("nu", real=True)
gamma = sp.Symbol("gamma", real=True)
kappa = sp.Symbol("kappa", positive=True)
xi = sp.Symbol("xi", positive=True)
beta = sp.Symbol("beta", real=True)

QHM_PAPER = "Ma and Yarats, Quasi-hyperbolic momentum and Adam for deep learning, ICLR 2019"


@entry
def heavy_ball(*, lr=None, momentum=None) -> Formulation:
    r"""Polyak's heavy ball: :math:`\theta_t = \theta_{t-1} - \varepsilon_t g_t + \mu_t(\theta_{t-1} - \theta_{t-2})`.

    The state is the iterate and the previous iterate; the method starts at rest
    (:math:`\theta_{-1} = \theta_0`).
    """
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    return Formulation(
        name="heavy_ball",
        title="Heavy ball (Polyak 1964)",
        citation="Polyak, Some methods of speeding up the convergence of iteration methods, USSR Comput. "
        "Math. Math. Phys. 4(5), 1964, Sec. 3 (the two-step heavy-ball method); started at rest",
        state=(theta, theta_prev),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(theta[t], theta[t - 1] - lr * g[t] + m * (theta[t - 1] - theta_prev[t - 1])),
            Assign(theta_prev[t], theta[t - 1]),
        ),
        init={theta_prev: theta[0]},
        hyper={"lr": lr, "momentum": m},
    )


@entry
def qhm(*, lr=None, momentum=None, nu=None) -> Formulation:
    r"""Quasi-hyperbolic momentum: a step along :math:`(1-\nu) g_t + \nu b_t`, :math:`b` a damped buffer.

    .. math:: b_t = \beta b_{t-1} + (1-\beta) g_t, \qquad
              \theta_t = \theta_{t-1} - \alpha\bigl[(1-\nu) g_t + \nu b_t\bigr], \qquad b_0 = 0
    """
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    n = resolve(nu, globals()["nu"], "nu")
    return Formulation(
        name="qhm",
        title="Quasi-hyperbolic momentum (Ma and Yarats 2019)",
        citation=QHM_PAPER + ", Sec. 3 (the QHM update); facebookresearch/qhoptim qhoptim/pyt/qhm.py",
        state=(theta, buffer_q),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(buffer_q[t], m * buffer_q[t - 1] + (1 - m) * g[t]),
            Assign(theta[t], theta[t - 1] - lr * ((1 - n) * g[t] + n * buffer_q[t])),
        ),
        init={buffer_q: 0},
        hyper={"lr": lr, "momentum": m, "nu": n},
    )


@entry
def synthesized_nesterov(*, lr=None, momentum=None, lookahead=None) -> Formulation:
    r"""Lessard et al.'s two-parameter family: heavy ball with the gradient at a look-ahead point.

    .. math:: \theta_t = \theta_{t-1} + \beta(\theta_{t-1} - \theta_{t-2}) - \alpha \nabla f(y_{t-1}),
              \qquad y_{t-1} = \theta_{t-1} + \gamma(\theta_{t-1} - \theta_{t-2})

    :math:`\gamma = 0` is the heavy ball, :math:`\gamma = \beta` Nesterov's method.
    """
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    ahead = resolve(lookahead, gamma, "lookahead")
    return Formulation(
        name="synthesized_nesterov",
        title="Synthesized Nesterov variants (Lessard, Recht, Packard 2016)",
        citation="Lessard, Recht, Packard, Analysis and design of optimization algorithms via integral "
        "quadratic constraints, SIAM J. Optim. 26(1), 2016, Sec. 6 (parameters alpha, beta1, beta2 as in "
        "qhoptim's from_synthesized_nesterov); started at rest",
        state=(theta, theta_prev),
        params=theta,
        grad_at=theta[t - 1] + ahead * (theta[t - 1] - theta_prev[t - 1]),
        update=(
            Assign(theta[t], theta[t - 1] + m * (theta[t - 1] - theta_prev[t - 1]) - lr * g[t]),
            Assign(theta_prev[t], theta[t - 1]),
        ),
        init={theta_prev: theta[0]},
        hyper={"lr": lr, "momentum": m, "lookahead": ahead},
    )


@entry
def accsgd(*, lr=None, kappa=None, xi=None, c=None) -> Formulation:
    r"""AccSGD as its authors implement it: a short step and a long step, mixed.

    With :math:`B = c^2\xi/\kappa`, :math:`\zeta = c/(c + B)` and long step :math:`\delta\kappa/c`:

    .. math:: \hat\theta_t = (1 - B)\hat\theta_{t-1} + B\theta_{t-1} - B\tfrac{\delta\kappa}{c} g_t, \qquad
              \theta_t = \zeta(\theta_{t-1} - \delta g_t) + (1 - \zeta)\hat\theta_t, \qquad \hat\theta_0 = \theta_0
    """
    lr = resolve(lr, eps[t], "lr")
    k, s = resolve(kappa, globals()["kappa"], "kappa"), resolve(xi, globals()["xi"], "xi")
    small = resolve(c, sp.Symbol("c", positive=True), "c")  # the authors' default is 7/10
    B = small**2 * s / k
    zeta = sp.cancel(small / (small + B))  # kappa/(kappa + c xi): the code's zeta, in lowest terms
    long_step = sp.cancel(B * lr * k / small)  # B times the long step delta kappa/c: c xi delta
    return Formulation(
        name="accsgd",
        title="AccSGD (Jain et al. 2018; Kidambi et al. 2018)",
        citation="Jain, Kakade, Kidambi, Netrapalli, Sidford, Accelerating stochastic gradient descent for least "
        "squares regression, COLT 2018; as implemented in rahulkidambi/AccSGD AccSGD.py "
        "(Kidambi et al., ICLR 2018)",
        state=(theta, theta_long),
        params=theta,
        grad_at=theta[t - 1],
        update=(
            Assign(theta_long[t], (1 - B) * theta_long[t - 1] + B * theta[t - 1] - long_step * g[t]),
            Assign(theta[t], zeta * (theta[t - 1] - lr * g[t]) + sp.cancel(1 - zeta) * theta_long[t]),
        ),
        init={theta_long: theta[0]},
        hyper={"lr": lr, "kappa": k, "xi": s, "c": small},
    )


def aggmo_with(K: int):
    r"""The AggMo factory for :math:`K` velocities (options ``lr``, ``beta_1`` .. ``beta_K``).

    .. math:: v^{(i)}_t = \beta^{(i)} v^{(i)}_{t-1} - g_t, \qquad
              \theta_t = \theta_{t-1} + \frac{\gamma_t}{K}\sum_{i=1}^K v^{(i)}_t, \qquad v^{(i)}_0 = 0
    """
    if isinstance(K, bool) or not isinstance(K, int) or K < 1:
        raise ValueError(f"AggMo needs K >= 1 velocities, got K={K!r}")
    velocities = tuple(sp.IndexedBase(f"v^{{({i})}}", real=True) for i in range(1, K + 1))
    roles = tuple(f"beta_{i}" for i in range(1, K + 1))
    name = "aggmo" if K == 3 else f"aggmo_{K}"

    def build(**options) -> Formulation:
        lr = resolve(options.get("lr"), eps[t], "lr")
        betas = [resolve(options.get(role), sp.Symbol(f"beta_{i}", real=True), role)
                 for i, role in enumerate(roles, start=1)]
        update = tuple(Assign(v[t], bi * v[t - 1] - g[t]) for v, bi in zip(velocities, betas))
        update += (Assign(theta[t], theta[t - 1] + lr / K * sum((v[t] for v in velocities), sp.S.Zero)),)
        return Formulation(
            name=name,
            title=f"Aggregated momentum, K = {K} (Lucas et al. 2019)",
            citation="Lucas, Sun, Zemel, Grosse, Aggregated momentum: stability through passive damping, "
            "ICLR 2019, Sec. 3 (the AggMo update); AtheMathmo/AggMo src/aggmo.py",
            state=(theta, *velocities),
            params=theta,
            grad_at=theta[t - 1],
            update=update,
            init={v: 0 for v in velocities},
            hyper={"lr": lr, **dict(zip(roles, betas))},
        )

    parameters = [inspect.Parameter(role, inspect.Parameter.KEYWORD_ONLY, default=None) for role in ("lr", *roles)]
    build.__signature__ = inspect.Signature(parameters, return_annotation=Formulation)
    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"AggMo with {K} velocities." + (aggmo_with.__doc__ or "").split("\n", 1)[1]
    return build


aggmo = entry(aggmo_with(3))


@entry
def primal_averaging(*, lr=None, averaging=None) -> Formulation:
    r"""Stochastic primal averaging: SGD on :math:`z`, the gradient taken at the average :math:`x`.

    .. math:: z_t = z_{t-1} - \eta_t \nabla f(x_{t-1}), \qquad x_t = (1 - c_t) x_{t-1} + c_t z_t, \qquad z_0 = x_0
    """
    lr, weight = resolve(lr, eps[t], "lr"), resolve(averaging, c[t], "averaging")
    return Formulation(
        name="primal_averaging",
        title="Stochastic primal averaging (Defazio 2020)",
        citation="Defazio, Momentum via primal averaging: theoretical insights and learning rate schedules for "
        "non-convex optimization, arXiv:2010.00406, 2020, Sec. 2 (stochastic primal averaging)",
        state=(x, z),
        params=x,
        grad_at=x[t - 1],
        update=(Assign(z[t], z[t - 1] - lr * g[t]), Assign(x[t], (1 - weight) * x[t - 1] + weight * z[t])),
        init={z: x[0]},
        hyper={"lr": lr, "averaging": weight},
    )


@entry
def schedule_free_sgd(*, lr=None, momentum=None, averaging=None) -> Formulation:
    r"""Schedule-free SGD: SGD on :math:`z`, averaged into :math:`x`, the gradient at their interpolation.

    .. math:: y_{t-1} = (1-\beta) z_{t-1} + \beta x_{t-1}, \quad z_t = z_{t-1} - \gamma_t \nabla f(y_{t-1}), \quad
              x_t = (1 - c_t) x_{t-1} + c_t z_t

    The parameters are :math:`y` (what the reference implementation keeps in the model in
    training mode); :math:`x` is the evaluation point.  The paper's weight is
    :math:`c_{t+1} = 1/(t+1)`, i.e. ``averaging = 1/(t+1)`` in this step numbering.
    """
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, beta, "momentum")
    weight = resolve(averaging, c[t], "averaging")
    return Formulation(
        name="schedule_free_sgd",
        title="Schedule-free SGD (Defazio et al. 2024)",
        citation="Defazio, Yang, Mehta, Mishchenko, Khaled, Cutkosky, The road less scheduled, NeurIPS 2024, "
        "Sec. 2 (Schedule-Free SGD); facebookresearch/schedule_free sgd_schedulefree_reference.py",
        state=(y, z, x),
        params=y,
        grad_at=y[t - 1],
        update=(
            Assign(z[t], z[t - 1] - lr * g[t]),
            Assign(x[t], (1 - weight) * x[t - 1] + weight * z[t]),
            Assign(y[t], (1 - m) * z[t] + m * x[t]),
        ),
        init={z: y[0], x: y[0]},
        hyper={"lr": lr, "momentum": m, "averaging": weight},
    )
