r"""torch optimizers written from other frameworks' kernels, and the float32 rounding of their hyperparameters.

Each class is the update the framework runs, transcribed operation by operation from the
file its catalogue entry cites (``python -m derive list``), so verify can check the entry
against an implementation that rounds the way the framework does:

=============================  ===============================  =================================
class                          catalogue entry                  kernel
=============================  ===============================  =================================
:class:`OptaxSGD`              ``optax_sgd``                    ``add_decayed_weights``, ``trace``,
                                                                ``scale_by_learning_rate``
:class:`PaddleMomentum`        ``paddle_momentum``              ``CPUDenseUpdater`` (float ``mu``,
                                                                ``regularization_coeff``)
:class:`MXNetSGD`              ``mxnet_sgd``                    ``SGDMomKernel`` (float lr, momentum, wd)
:class:`MXNetNAG`              ``mxnet_nag``                    ``NAGMomKernel`` from 1.6.0
:class:`MXNetNAG15`            ``mxnet_nag_1_5``                ``NAGMomKernel`` of 1.5.0
:class:`MXNetNAG14`            ``mxnet_nag_1_4``                ``NAG.update`` of 1.4.0 (NDArray ops)
:class:`ChainerMomentumSGD`    ``chainer_momentum_sgd``         ``MomentumSGDRule`` + ``WeightDecay``
:class:`ChainerNesterovAG`     ``chainer_nesterov_ag``          ``NesterovAGRule`` + ``WeightDecay``
:class:`LasagneMomentum`       ``lasagne_momentum``             ``apply_momentum``
:class:`LasagneNesterov`       ``lasagne_nesterov_momentum``    ``apply_nesterov_momentum``
:class:`OptimisersJlMomentum`  ``optimisers_jl_momentum``       ``apply!(::Momentum)``
:class:`OptimisersJlNesterov`  ``optimisers_jl_nesterov``       ``apply!(::Nesterov)``
=============================  ===============================  =================================

Hyperparameters use verify's role names (``lr``, ``momentum``, ``weight_decay``,
``nesterov``) so the runner records them; a kernel that reads a hyperparameter as a C
``float`` rounds it to float32 first, as the framework does (:data:`FLOAT32_ROLES`).
:func:`with_hyper_dtype` rounds an observed run's recorded values the same way, from the
entry's ``Formulation.hyper_dtype``, so derive's exact reference sees what the kernel used.
"""

from __future__ import annotations

import abc

import numpy as np
import torch

from derive.catalogue import get
from verify.binding import declared_precision
from verify.transcribed import TranscribedOptimizer, zeros

# what each class reads as a C float (the entry's hyper_dtype says the same; a test checks they agree)
FLOAT32_ROLES: dict[str, tuple[str, ...]] = {}


def _float32(value: float) -> float:
    return float(np.float32(value))


class _FrameworkOptimizer(TranscribedOptimizer, abc.ABC):
    """Validation, state and the loop over parameters; subclasses write one element-wise update,
    :meth:`_update` (abstract: a subclass without one fails when it is constructed)."""

    entry: str = ""
    float32: tuple[str, ...] = ()  # roles the kernel holds as C floats
    flags: tuple[str, ...] = ()
    decay = True  # False: the framework has no weight decay of its own (a penalty goes into the loss)
    non_negative = ("lr", "momentum", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0,
                 **flags):
        if weight_decay and not self.decay:
            raise ValueError(f"{type(self).__name__} has no weight decay (got weight_decay={weight_decay}); "
                             "the framework adds a penalty to the loss instead")
        unknown = sorted(set(flags) - set(self.flags))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no option {', '.join(unknown)}")
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay,
                    **{f: bool(flags.get(f, False)) for f in self.flags}}
        super().__init__(params, defaults)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.entry:
            FLOAT32_ROLES[cls.entry] = cls.float32

    def _hyper(self, group) -> dict:
        values = {k: float(group[k]) for k in ("lr", "momentum", "weight_decay")}
        return {k: (_float32(v) if k in self.float32 else v) for k, v in values.items()}

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            hyper = self._hyper(group)
            for p in group["params"]:
                if p.grad is not None:
                    buffer = self._state(p, buffer=zeros)["buffer"]
                    self._update(p, p.grad.clone(), buffer, group, **hyper)
        return loss

    @abc.abstractmethod
    def _update(self, p, grad, buf, group, *, lr, momentum, weight_decay) -> None:
        """One step of the kernel on ``p`` in place: ``grad`` (a copy), ``buf`` (its buffer, zeros at
        first), ``group`` (its flags) and the hyperparameters as the kernel holds them."""


class OptaxSGD(_FrameworkOptimizer):
    """``chain(add_decayed_weights(wd), sgd(lr, momentum, nesterov))``: trace from zeros, times ``-lr``."""

    entry, flags = "optax_sgd", ("nesterov",)

    def _update(self, p, grad, trace, group, *, lr, momentum, weight_decay):
        grad = grad + weight_decay * p  # add_decayed_weights: g + s * p
        trace.copy_(grad + momentum * trace)  # trace: g + decay * t
        update = grad + momentum * trace if group["nesterov"] else trace
        p.copy_(p + (-lr) * update)  # scale(-lr), then apply_updates


class PaddleMomentum(_FrameworkOptimizer):
    """Paddle ``Momentum`` on CPU (``nesterov`` is its ``use_nesterov``); ``mu`` and the L2 coefficient are floats."""

    entry, flags, float32 = "paddle_momentum", ("nesterov",), ("momentum", "weight_decay")

    def _update(self, p, grad, velocity, group, *, lr, momentum, weight_decay):
        if weight_decay:  # regularization_method "l2_decay": param * coeff + grad
            grad = p * weight_decay + grad
        velocity.copy_(velocity * momentum + grad)
        if group["nesterov"]:
            p.copy_(p - (grad + velocity * momentum) * lr)
        else:
            p.copy_(p - lr * velocity)


class MXNetSGD(_FrameworkOptimizer):
    """MXNet 1.x ``SGD``: ``sgd_mom_update`` (``sgd_update`` without momentum), float hyperparameters."""

    entry, float32 = "mxnet_sgd", ("lr", "momentum", "weight_decay")

    def _update(self, w, grad, mom, group, *, lr, momentum, weight_decay):
        if momentum == 0:  # SGDKernel: (1 - lr wd) w - lr rescale_grad g
            w.copy_((1 - lr * weight_decay) * w - lr * grad)
            return
        mom.copy_(momentum * mom - (lr * weight_decay) * w - lr * grad)
        w.copy_(w + mom)


class MXNetNAG(_FrameworkOptimizer):
    """MXNet ``NAG`` from 1.6.0, in place as ``NAG.update`` calls it (``out=weight``).

    ``mom = mu mom``; ``w = w - mom + (mu + 1)(mom - lr (g + wd w))``; then
    ``mom = mom - lr (g + wd w)`` with the weight just written.
    """

    entry, float32 = "mxnet_nag", ("lr", "momentum", "weight_decay")

    def _update(self, w, grad, mom, group, *, lr, momentum, weight_decay):
        mom.mul_(momentum)
        w.copy_(w - mom + (momentum + 1) * (mom - lr * (grad + weight_decay * w)))
        mom.copy_(mom - lr * (grad + weight_decay * w))


class MXNetNAG15(_FrameworkOptimizer):
    """MXNet 1.5's ``NAG`` kernel: ``mom = mu mom + g + wd w``, ``w - lr (mu mom + g)``."""

    entry, float32 = "mxnet_nag_1_5", ("lr", "momentum", "weight_decay")

    def _update(self, w, grad, mom, group, *, lr, momentum, weight_decay):
        mom.copy_(momentum * mom + grad + weight_decay * w)
        w.copy_(w - lr * (momentum * mom + grad))


class MXNetNAG14(_FrameworkOptimizer):
    """MXNet 1.4's Python ``NAG.update`` (NDArray scalar ops parse doubles: exact hyperparameters)."""

    entry = "mxnet_nag_1_4"

    def _update(self, w, grad, mom, group, *, lr, momentum, weight_decay):
        if momentum == 0:  # no state: weight += -lr * (grad + wd * weight)
            w.add_(-lr * (grad + weight_decay * w))
            return
        mom.mul_(momentum)
        grad.add_(weight_decay * w)
        mom.add_(grad)
        grad.add_(momentum * mom)
        w.add_(-lr * grad)


class ChainerMomentumSGD(_FrameworkOptimizer):
    """Chainer ``MomentumSGD`` after the ``WeightDecay(weight_decay)`` hook (``g += rate p``)."""

    entry = "chainer_momentum_sgd"

    def _update(self, p, grad, v, group, *, lr, momentum, weight_decay):
        grad.add_(weight_decay * p)
        v.mul_(momentum).sub_(lr * grad)
        p.add_(v)


class ChainerNesterovAG(_FrameworkOptimizer):
    """Chainer ``NesterovAG``: ``v = mu v - lr g``; ``p += mu mu v - (1 + mu) lr g`` with the new v."""

    entry = "chainer_nesterov_ag"

    def _update(self, p, grad, v, group, *, lr, momentum, weight_decay):
        grad.add_(weight_decay * p)
        v.mul_(momentum).sub_(lr * grad)
        p.add_((momentum * momentum) * v)
        p.sub_(((1 + momentum) * lr) * grad)


class LasagneMomentum(_FrameworkOptimizer):
    """Lasagne ``momentum``: ``x = mu v + (p - lr g)``, ``v := x - p``, ``p := x`` (no weight decay)."""

    entry, decay = "lasagne_momentum", False

    def _update(self, p, grad, v, group, *, lr, momentum, weight_decay):
        x = momentum * v + (p - lr * grad)
        v.copy_(x - p)
        p.copy_(x)


class LasagneNesterov(_FrameworkOptimizer):
    """Lasagne ``nesterov_momentum``: ``x = mu v + (p - lr g) - p``, ``v := x``, ``p := mu x + (p - lr g)``."""

    entry, decay = "lasagne_nesterov_momentum", False

    def _update(self, p, grad, v, group, *, lr, momentum, weight_decay):
        sgd = p - lr * grad
        x = momentum * v + sgd - p
        v.copy_(x)
        p.copy_(momentum * x + sgd)


class OptimisersJlMomentum(_FrameworkOptimizer):
    """Optimisers.jl ``OptimiserChain(WeightDecay(wd), Momentum(lr, momentum))``: ``mvel = rho mvel + eta dx``."""

    entry = "optimisers_jl_momentum"

    def _update(self, x, dx, mvel, group, *, lr, momentum, weight_decay):
        dx = dx + weight_decay * x
        mvel.copy_(momentum * mvel + lr * dx)
        x.sub_(mvel)


class OptimisersJlNesterov(_FrameworkOptimizer):
    """Optimisers.jl ``Nesterov``: ``newdx = -rho^2 vel + (1 + rho) eta dx``, ``vel = rho vel - eta dx``."""

    entry = "optimisers_jl_nesterov"

    def _update(self, x, dx, vel, group, *, lr, momentum, weight_decay):
        dx = dx + weight_decay * x
        newdx = -(momentum * momentum) * vel + ((1 + momentum) * lr) * dx
        vel.copy_(momentum * vel - lr * dx)
        x.sub_(newdx)


OPTIMIZERS = {cls.entry: cls for cls in _FrameworkOptimizer.__subclasses__()}


def optimizer_spec(entry: str) -> str:
    """``verify.frameworks:Class`` for catalogue entry *entry* (what ``verify trajectory`` loads)."""
    return f"{__name__}:{OPTIMIZERS[entry].__name__}"


def with_hyper_dtype(observed, entry: str):
    """*observed* with each recorded hyperparameter rounded to the dtype entry *entry* holds it in.

    ``Formulation.hyper_dtype`` says which roles the framework keeps in a narrower float;
    derive's exact reference then sees the value the kernel used (``0.05`` becomes
    ``float32(0.05)``). An entry with ``hyper_dtype=None`` gets *observed* back unchanged.
    (:func:`verify.binding.declared_precision`, which every judgement applies.)
    """
    return declared_precision(get(entry), observed)


def judge(config, entry: str, *, hyper_dtype: bool = True):
    """Run *config* and compare it with derive's reference for *entry*: a :class:`verify.compare.Report`.

    With ``hyper_dtype`` (the default) the recorded hyperparameters are first rounded as the
    entry's framework rounds them (:func:`with_hyper_dtype`); a pass also needs the run to be
    told apart from doing nothing (:mod:`verify.checkable`).
    """
    from dataclasses import replace

    from verify.checkable import indistinguishable_from_null, run_problem
    from verify.compare import compare
    from verify.reference import compiled, expected
    from verify.runner import run
    from verify.sweep import formulation_options

    observed = run(config)
    problem = run_problem(observed, entry)
    if problem is not None:
        raise RuntimeError(f"{entry}: not checkable: {problem}")
    if hyper_dtype:
        observed = with_hyper_dtype(observed, entry)
    systems = [compiled(entry, formulation_options(entry, h, f)) for h, f in zip(observed.hyper, observed.flags)]
    report = compare(observed, expected(systems, observed))
    if report.passed:
        why = indistinguishable_from_null(observed, expected(systems, observed))
        if why is not None:
            report = replace(report, passed=False, error=f"not checkable: {why}")
    return report


def observed_from_record(record: dict):
    """A run that ``scripts/frameworks/drive.py`` recorded from a real framework, as a :class:`Observed`.

    The record holds the parameters after each step (row 0: the initial values), the gradient the
    framework computed at each step and the hyperparameters it was given; the gradients are
    injected into derive's reference as they are.
    """
    from verify.runner import GroupSpec, Observed, RunConfig, TensorSpec

    theta = np.asarray(record["theta"], dtype=np.float64)
    grads = np.asarray(record["grads"], dtype=np.float64)
    steps, n = grads.shape
    config = RunConfig(optimizer=None, options={}, groups=(GroupSpec((TensorSpec((n,)),)),), impl=None,
                       dtype=record["dtype"], steps=steps, name=f"{record['framework']} {record['version']}")
    hyper = {k: np.asarray(v, dtype=np.float64) for k, v in record["hyper"].items()}
    hyper.setdefault("dampening", np.zeros(steps))
    return Observed(config, [[theta]], [[grads]], [[np.ones(steps, bool)]], [hyper],
                    [{"nesterov": False, "maximize": False, **record["flags"]}], np.zeros(steps, bool),
                    np.full(steps, np.nan))


def replay(record: dict, entry: str, *, hyper_dtype: bool = True):
    """A recorded real-framework run (:func:`observed_from_record`) against *entry*: a Report."""
    from verify.compare import compare
    from verify.reference import compiled, expected
    from verify.sweep import formulation_options

    observed = observed_from_record(record)
    if hyper_dtype:
        observed = with_hyper_dtype(observed, entry)
    system = compiled(entry, formulation_options(entry, observed.hyper[0], observed.flags[0]))
    return compare(observed, expected([system], observed))
