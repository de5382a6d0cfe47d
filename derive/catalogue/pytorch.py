"""PyTorch: the forms its documentation states and the one ``torch.optim.SGD`` computes."""

from __future__ import annotations

from derive.catalogue import entry
from derive.formulation import Assign, Formulation, looking_ahead
from derive.hyperparameters import check_nesterov, is_zero, resolve
from derive.symbols import b, d, eps, g, ghat, lam, mu, t, tau, theta, theta_la, v

TORCH_SGD = "torch/optim/sgd.py (torch 2.13.0): _single_tensor_sgd, _multi_tensor_sgd, _fused_sgd"
TORCH_DOC_NOTE = "torch/optim/sgd.py (torch 2.13.0), SGD docstring, note on momentum"


@entry
def pytorch_momentum_documented(*, lr=None, momentum=None) -> Formulation:
    """The docs note's momentum: learning rate outside the buffer, ``v_0 = 0``."""
    lr, m = resolve(lr, eps[t], "lr"), resolve(momentum, mu[t], "momentum")
    return Formulation(
        name="pytorch_momentum_documented",
        title="PyTorch momentum as documented",
        citation=TORCH_DOC_NOTE,
        state=(theta, v),
        params=theta,
        grad_at=theta[t - 1],
        update=(Assign(v[t], m * v[t - 1] + g[t]), Assign(theta[t], theta[t - 1] - lr * v[t])),
        init={v: 0},
        hyper={"lr": lr, "momentum": m},
    )


@entry
def pytorch_nesterov_documented(*, lr=None, momentum=None) -> Formulation:
    """The docs note's Nesterov: its momentum, gradient at the shifted point."""
    return looking_ahead(
        pytorch_momentum_documented(lr=lr, momentum=momentum),
        name="pytorch_nesterov_documented",
        title="PyTorch Nesterov as documented",
        citation=TORCH_DOC_NOTE + ' ("Nesterov is analogously modified")',
    )


def _torch_sgd(name, title, *, params, lr, momentum, dampening, weight_decay, nesterov, maximize):
    lr = resolve(lr, eps[t], "lr")
    m = resolve(momentum, mu[t], "momentum")
    damp = resolve(dampening, tau, "dampening")
    wd = resolve(weight_decay, lam, "weight_decay")
    check_nesterov(nesterov, m, damp)
    sign = -1 if maximize else 1
    update, grad = [], g[t]
    if maximize or not is_zero(wd):
        update.append(Assign(ghat[t], sign * g[t] + wd * params[t - 1]))
        grad = ghat[t]
    state, hyper = (params,), {"lr": lr}
    if not is_zero(m):
        # The buffer starts as the first processed gradient, undamped.
        update.append(Assign(b[t], m * b[t - 1] + (1 - damp) * grad, first=grad))
        state, hyper = (params, b), {"lr": lr, "momentum": m, "dampening": damp}
        if nesterov:
            update.append(Assign(d[t], grad + m * b[t]))
            grad = d[t]
        else:
            grad = b[t]
    update.append(Assign(params[t], params[t - 1] - lr * grad))
    if not is_zero(wd):
        hyper["weight_decay"] = wd
    return Formulation(
        name=name,
        title=title,
        citation=TORCH_SGD,
        state=state,
        params=params,
        grad_at=params[t - 1],
        update=tuple(update),
        init={b: 0} if b in state else {},
        hyper=hyper,
        options={"nesterov": nesterov, "maximize": maximize},
        note="The buffer is None before step 1; $b_0 = 0$ is never read.",
    )


@entry
def pytorch_sgd(*, lr=None, momentum=None, dampening=None, weight_decay=None, nesterov=False, maximize=False):
    """``torch.optim.SGD`` exactly as implemented (for-loop, foreach and fused agree).

    maximize negates the gradient first, weight decay adds ``lambda theta``, the
    buffer starts as the first processed gradient, dampening applies from step 2,
    Nesterov steps along ``ghat + mu b``.
    """
    if nesterov and dampening is None:
        dampening = 0
    title = "torch.optim.SGD as implemented" + (" (nesterov)" if nesterov else "")
    return _torch_sgd(
        "pytorch_sgd", title, params=theta, lr=lr, momentum=momentum, dampening=dampening,
        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
    )


@entry
def pytorch_nesterov_implemented(*, lr=None, momentum=None) -> Formulation:
    """torch.optim.SGD(nesterov=True): it stores the look-ahead iterate theta'."""
    return _torch_sgd(
        "pytorch_nesterov_implemented", "PyTorch Nesterov as implemented", params=theta_la, lr=lr,
        momentum=momentum, dampening=0, weight_decay=0, nesterov=True, maximize=False,
    )

