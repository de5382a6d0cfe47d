r"""A user's plugin: quasi-hyperbolic momentum (Ma and Yarats, ICLR 2019) and three claims about it.

QHM keeps a damped, zero-initialised buffer and steps along a mix of it and the gradient:

    b_t     = beta_t b_{t-1} + (1 - beta_t) g_t,        b_0 = 0
    theta_t = theta_{t-1} - alpha_t [(1 - nu) g_t + nu b_t]

Load it with ``--plugin qhm_plugin`` (from this directory) on any ``derive`` or ``verify``
command.  The catalogue has its own ``qhm``; this one is the user's, ``user_qhm``, with the
roles lr = alpha, momentum = beta, nu = nu.  Every claim is judged by derive's
change-of-variables solver, not taken on trust:

* USER-QHM-1: nu = 1 is the damped zero-initialised buffer (MLX's SGD with dampening = momentum)
  under any lr and momentum schedule;
* USER-QHM-2: nu = beta is PyTorch's Nesterov with the learning rate rescaled by (1 - beta),
  under any lr schedule while beta is constant; a schedule on beta breaks it;
* USER-QHM-3: without the rescaling, nu = beta is not PyTorch's Nesterov (the witness shows
  the first step that differs).
"""

import sympy as sp

import derive
from derive import Assign, Formulation
from derive.claims import finding
from derive.symbols import g, t

theta = sp.IndexedBase("theta", real=True)
b = sp.IndexedBase("b", real=True)  # QHM's damped momentum buffer
alpha = sp.IndexedBase("alpha", positive=True)  # the learning rate schedule alpha_t
beta = sp.IndexedBase("beta", real=True)  # the momentum schedule beta_t
ALPHA = sp.Symbol("alpha", positive=True)  # a constant learning rate
BETA = sp.Symbol("beta", real=True)  # a constant momentum
NU = sp.Symbol("nu", real=True)

SOURCE = "Ma and Yarats, Quasi-hyperbolic momentum and Adam for deep learning, ICLR 2019"


@derive.register
def user_qhm(*, lr=None, momentum=None, nu=None) -> Formulation:
    r"""QHM: :math:`b_t = \beta_t b_{t-1} + (1-\beta_t) g_t`, :math:`\theta_t = \theta_{t-1} - \alpha_t[(1-\nu) g_t + \nu b_t]`.

    Args:
        lr: the learning rate (default the schedule alpha_t).
        momentum: beta (default the schedule beta_t).
        nu: the immediate discount (default the constant nu).

    Returns:
        The formulation, named ``user_qhm``.
    """
    lr = alpha[t] if lr is None else sp.sympify(lr)
    m = beta[t] if momentum is None else sp.sympify(momentum)
    n = NU if nu is None else sp.sympify(nu)
    return Formulation(
        name="user_qhm", title="Quasi-hyperbolic momentum (a user's declaration)",
        citation=SOURCE + ", eq. (3)",
        state=(theta, b), params=theta, grad_at=theta[t - 1],
        update=(Assign(b[t], m * b[t - 1] + (1 - m) * g[t]),
                Assign(theta[t], theta[t - 1] - lr * ((1 - n) * g[t] + n * b[t]))),
        init={b: 0}, hyper={"lr": lr, "momentum": m, "nu": n})


def torch_nesterov(lr):
    """torch.optim.SGD(nesterov=True), no weight decay, at learning rate *lr* and momentum beta_t."""
    return derive.get("pytorch_sgd", lr=lr, momentum=beta[t], nesterov=True, weight_decay=0)


def _said(result) -> str:
    """A Proof's change of variables at step t, or a Residual's conditions and witness, in one line."""
    if result:
        return f"S_t = {sp.sstr(result.S[t])}"
    conditions = " and ".join(sp.sstr(c) for c in result.conditions) or sp.sstr(result.residual) + " = 0"
    standing = "necessary and sufficient" if result.sufficient else "necessary, not sufficient"
    w = result.witness
    values = ", ".join(f"{k} = {v}" for k, v in sorted(w.hyperparameters.items(), key=lambda kv: str(kv[0])))
    return (f"needs {conditions} ({standing}); witness: at step {w.step} with {values}, "
            f"the parameters differ by {w.difference}")


@derive.claim("USER-QHM-1", source=SOURCE + ", Sec. 3",
              statement=r"QHM with $\nu = 1$ is momentum SGD with a damped buffer.",
              reading=r"user_qhm($\alpha_t$, $\beta_t$, $\nu = 1$) and mlx_sgd($\alpha_t$, $\beta_t$, dampening "
                      r"$\beta_t$, no weight decay) give the same parameters under any lr and momentum schedule.",
              assumptions=r"both buffers start at zero.", expected="holds")
def user_qhm_1():
    result = derive.equivalence(user_qhm(nu=1),
                                derive.get("mlx_sgd", lr=alpha[t], momentum=beta[t], dampening=beta[t], weight_decay=0),
                                same_params=True)
    return finding("holds" if result else "fails", "under any schedule: " + _said(result))


@derive.claim("USER-QHM-2", source=SOURCE + ", Sec. 4 (NAG)",
              statement=r"QHM with $\nu = \beta$ is Nesterov's accelerated gradient, the learning rate "
                        r"rescaled by $1 - \beta$.",
              reading=r"user_qhm($\alpha_t$, $\beta$, $\nu = \beta$) and torch.optim.SGD(nesterov=True) at "
                      r"lr $\alpha_t(1 - \beta)$, momentum $\beta$ give the same parameters.",
              assumptions=r"QHM's buffer starts at zero, PyTorch's at the first gradient.",
              expected="holds under a condition", condition="constant momentum beta")
def user_qhm_2():
    constant = derive.equivalence(user_qhm(momentum=BETA, nu=BETA),
                                  derive.get("pytorch_sgd", lr=alpha[t] * (1 - BETA), momentum=BETA,
                                             nesterov=True, weight_decay=0))
    scheduled = derive.equivalence(user_qhm(momentum=beta[t], nu=beta[t]), torch_nesterov(alpha[t] * (1 - beta[t])))
    if constant and not scheduled:
        return finding("holds under a condition",
                       "constant beta, any lr schedule: " + _said(constant) + "; a momentum schedule beta_t "
                       + _said(scheduled),
                       condition="constant momentum beta", witness=scheduled.witness)
    verdict = "holds" if constant and scheduled else "fails"
    return finding(verdict, "constant beta: " + _said(constant) + "; beta_t: " + _said(scheduled),
                   witness=None if constant else constant.witness)


@derive.claim("USER-QHM-3", source="a user's check of USER-QHM-2",
              statement=r"Without the rescaling, QHM with $\nu = \beta$ is not PyTorch's Nesterov.",
              reading=r"user_qhm($\alpha_t$, $\beta$, $\nu = \beta$) and torch.optim.SGD(nesterov=True) at lr "
                      r"$\alpha_t$, momentum $\beta$ give different parameters.",
              expected="fails")
def user_qhm_3():
    result = derive.equivalence(user_qhm(momentum=BETA, nu=BETA),
                                derive.get("pytorch_sgd", lr=alpha[t], momentum=BETA, nesterov=True, weight_decay=0))
    return finding("holds" if result else "fails", _said(result), witness=None if result else result.witness)
