"""Drive any torch optimizer the way a training loop does, and record what it did.

The runner knows nothing about what the optimizer *should* compute: it feeds gradients
(injected from a seeded generator, or autograd of an :class:`~verify.objectives.Objective`
through a closure, so look-ahead optimizers evaluate where they choose), applies a schedule,
freezes tensors, skips steps through a ``GradScaler``, checkpoints and resumes, and records

* every parameter tensor after every step, and every gradient given, as NumPy arrays in the
  tensor's own dtype (:data:`RECORD_DTYPES`: float16 and bfloat16 widen to float32, exactly, since
  NumPy has no bfloat16), so a float32 layer costs 4 bytes per element per step, not 8;
* every number that each ``step()`` read from ``param_groups`` (lr, momentum, dampening, weight
  decay, and any key of the optimizer's own such as QHM's ``nu``), per group and under its own
  key, so the reference is fed exactly those values (:mod:`verify.binding` maps keys to roles);
* which tensors had a gradient at each step, how many times ``step()`` called the closure,
  and which steps the scaler skipped.

An exception raised by the optimizer under test (its constructor, recorded as step 0, its
``step()``, ``state_dict()`` or ``load_state_dict()``, or a torch scheduler driving it), a
``sys.exit`` from it, and a run past :attr:`RunConfig.timeout` end that run and are recorded with
their step; they never propagate (see :attr:`Observed.error`). An exception in verify's own code
(the closure included, even when it surfaces through ``step()``) is a bug and propagates with
its traceback, as does Ctrl-C.
"""

from __future__ import annotations

import copy
import inspect
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import numpy as np
import torch

from verify import schedules
from verify.deadline import RunTimeout, deadline
from verify.injected import SeededGradients, user_gradients
from verify.objectives import Objective
from verify.observed import FLAGS, HYPERPARAMETERS, RECORD_DTYPES, Observed, RunRecord as _Recorder, \
    hyperparameter_value

__all__ = ["DTYPES", "FLAGS", "GroupSpec", "HYPERPARAMETERS", "IMPLS", "Observed", "OptimizerRaised",
           "RECORD_DTYPES", "RunConfig", "TensorSpec", "hyperparameter_value", "run"]

IMPLS: dict[str, dict[str, bool]] = {
    "for-loop": {"foreach": False, "fused": False},
    "foreach": {"foreach": True, "fused": False},
    "fused": {"foreach": False, "fused": True},
}
DTYPES: dict[str, torch.dtype] = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


@dataclass(frozen=True)
class TensorSpec:
    """One parameter tensor: its shape, its memory layout, the steps at which it has no grad."""

    shape: tuple[int, ...]
    contiguous: bool = True
    frozen: frozenset[int] = frozenset()  # 1-based steps with ``p.grad = None``
    grad_contiguous: bool | None = None  # injected grads: None lays them out like the param

    @property
    def grad_layout(self) -> "TensorSpec":
        same = self.grad_contiguous is None
        return self if same else TensorSpec(self.shape, contiguous=self.grad_contiguous)


@dataclass(frozen=True)
class GroupSpec:
    """One parameter group: its tensors and the options that override the optimizer defaults."""

    tensors: tuple[TensorSpec, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


# a vector, a transposed matrix (non-contiguous, dense) and a 0-d tensor; strided vectors with
# gaps live in the scenarios, because fused SGD on CPU mishandles them (verify/defects.py)
DEFAULT_GROUPS = (GroupSpec((TensorSpec((3,)), TensorSpec((2, 3), contiguous=False), TensorSpec(()))),)


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run; hashable, printable, and the key of a sweep table."""

    optimizer: Callable[..., torch.optim.Optimizer] = torch.optim.SGD
    options: Mapping[str, Any] = field(default_factory=lambda: {"lr": 0.05})
    groups: tuple[GroupSpec, ...] = DEFAULT_GROUPS
    impl: str | None = "for-loop"  # None: pass no foreach/fused kwargs at all
    dtype: str = "float64"
    device: str = "cpu"
    lr_tensor: bool = False
    schedule: str = "constant"
    objective: Objective | None = None  # None: injected gradients (seeded, or ``gradients``)
    gradients: Any = None  # [group][tensor] arrays of shape (steps, *shape): the user's own (not copied)
    steps: int = 20
    seed: int = 0
    skip_steps: frozenset[int] = frozenset()  # steps a GradScaler must skip (inf gradient)
    checkpoint_at: int | None = None  # resume in a fresh optimizer after this step
    initial: tuple[float, ...] | None = None  # values of the only tensor (else seeded normal)
    # recorded in place of the parameter, in RECORD_DTYPES[dtype] (a wider readout is rounded to it)
    readout: Callable[[torch.optim.Optimizer, dict, torch.Tensor], torch.Tensor] | None = None
    name: str = ""
    timeout: float | None = None  # seconds for the whole run (verify.deadline); None: no limit
    # the param-group key an explicit schedule writes for a role ({"momentum": "beta"}); default: the role
    keys: Mapping[str, str] = field(default_factory=dict)

    def label(self) -> str:
        if self.name:
            return self.name
        opts = ",".join(f"{k}={_fmt(v)}" for k, v in self.options.items() if k != "lr")
        return f"{opts or 'plain'}|{self.impl}|{self.dtype}|{getattr(self.schedule, 'name', self.schedule)}"

    def with_(self, **changes) -> "RunConfig":
        return replace(self, **changes)


def _fmt(value) -> str:
    return "T" if value is True else "F" if value is False else f"{value:g}"


def run(config: RunConfig) -> Observed:
    """Run ``config`` and return the observed trajectory (never raises for optimizer errors)."""
    started = time.perf_counter()
    torch_dtype = DTYPES[config.dtype]
    rng = np.random.default_rng(config.seed)
    initial = [[rng.standard_normal(t.shape) for t in g.tensors] for g in config.groups]
    if config.initial is not None:
        if len(config.groups) != 1 or len(config.groups[0].tensors) != 1:
            raise ValueError("RunConfig.initial sets the values of a single tensor in a single group")
        shape = config.groups[0].tensors[0].shape
        initial = [[np.asarray(config.initial, dtype=np.float64).reshape(shape)]]
    injected = None
    if config.objective is None:
        injected = SeededGradients(rng, config)
    if config.gradients is not None:
        injected = user_gradients(config)
    schedule = schedules.get(config.schedule)
    recorder = _Recorder.empty(config)

    params = [[_make_param(v, t, torch_dtype, config.device) for v, t in zip(vals, g.tensors)]
              for vals, g in zip(initial, config.groups)]
    try:
        with deadline(config.timeout):
            _drive(config, params, injected, schedule, recorder)
    except RunTimeout as exc:
        recorder.fail(f"RunTimeout: {exc}")
    except SystemExit as exc:  # sys.exit() inside the optimizer ends its run, not verify
        recorder.fail(f"SystemExit: the optimizer called sys.exit({exc.code!r})")
    except OptimizerRaised as exc:  # a failure of the optimizer under test is a result, not a crash
        recorder.fail(f"{type(exc.original).__name__}: {exc.original}")
    observed = recorder.finish(config)
    observed.seconds = time.perf_counter() - started
    return observed


class OptimizerRaised(Exception):
    """The optimizer under test (or a torch scheduler driving it) raised ``original``."""

    def __init__(self, original: Exception):
        super().__init__(original)
        self.original = original


def _user(recorder: "_Recorder", call, *args, **kwargs):
    """``call(*args, **kwargs)``, user code: what it raises becomes :class:`OptimizerRaised`.

    An error of verify's own closure that surfaced through ``step()`` (or that ``step()``
    swallowed) is re-raised as itself: it is verify's bug, not the optimizer's verdict.
    """
    try:
        result = call(*args, **kwargs)
    except Exception as exc:  # narrowed below: the closure's own errors are re-raised as they are
        if recorder.own_error is not None:
            raise recorder.own_error from None
        raise OptimizerRaised(exc) from exc
    if recorder.own_error is not None:
        raise recorder.own_error
    return result


def _drive(config: RunConfig, params, injected, schedule, recorder: "_Recorder") -> None:
    """Build the optimizer and take ``config.steps`` steps; ``recorder.step`` is the current one."""
    optimizer, scheduler, scaler = _build(config, params, schedule, recorder)
    _record(config, optimizer, params, recorder, 0)
    for step in range(1, config.steps + 1):
        recorder.step = step
        for group in optimizer.param_groups:
            for key in ("lr", "momentum"):
                value = schedule.explicit(key, step)
                if value is not None:
                    schedules.set_group_value(group, config.keys.get(key, key), value)
        closure = _closure(config, params, injected, step, recorder)
        recorder.read_hyperparameters(optimizer, step)
        if isinstance(injected, SeededGradients):
            injected.draw(step)  # drawing is the runner's work, not step()'s: outside the timer
        t0 = time.perf_counter()
        if scaler is None:
            _user(recorder, optimizer.step, closure)
        else:
            _scaled_step(config, params, closure, scaler, optimizer, step, recorder)
        recorder.step_seconds += time.perf_counter() - t0
        _user(recorder, schedule.advance, scheduler, step)
        _record(config, optimizer, params, recorder, step)
        if config.checkpoint_at == step:
            params, optimizer, scheduler, scaler = _resume(config, params, schedule, optimizer,
                                                           scheduler, scaler, recorder)


# -- construction ------------------------------------------------------------------------
def _make_param(value: np.ndarray, spec: TensorSpec, dtype, device) -> torch.nn.Parameter:
    values = torch.from_numpy(np.asarray(value, dtype=np.float64))
    return torch.nn.Parameter(_layout(values, spec, dtype, device))


def _layout(tensor: torch.Tensor, spec: TensorSpec, dtype, device) -> torch.Tensor:
    """``tensor``'s values in ``dtype`` on ``device``, non-contiguous when the spec asks.

    The layout is allocated in the target dtype and device, then filled: ``.to()`` of a
    strided view would hand back a contiguous copy.
    """
    if spec.contiguous or tensor.dim() == 0:
        out = torch.empty(tensor.shape, dtype=dtype, device=device)
    elif tensor.dim() == 1:  # every other element of a buffer twice as long
        out = torch.zeros(2 * tensor.numel(), dtype=dtype, device=device)[::2]
    else:  # the transpose of a tensor with the dimensions reversed
        dims = tuple(reversed(range(tensor.dim())))
        out = torch.zeros(tuple(reversed(tensor.shape)), dtype=dtype, device=device).permute(dims)
    out.copy_(tensor)
    return out


def _accepts(factory, name: str) -> bool:
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return True
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _build(config: RunConfig, params, schedule, recorder: "_Recorder", *, fresh_scaler=True):
    options = dict(config.options)
    if config.impl is not None:
        options.update({k: v for k, v in IMPLS[config.impl].items() if _accepts(config.optimizer, k)})
    groups = []
    for spec, tensors in zip(config.groups, params):
        group = {"params": list(tensors), **spec.options}
        groups.append(group)
    if config.lr_tensor:
        options["lr"] = torch.tensor(float(options.get("lr", 1e-3)))
        for group in groups:
            if "lr" in group:
                group["lr"] = torch.tensor(float(group["lr"]))
    optimizer = _user(recorder, config.optimizer, groups, **options)
    scheduler = _user(recorder, schedule.build, optimizer, config.steps)
    scaler = None
    if config.skip_steps and fresh_scaler:
        scaler = torch.amp.GradScaler(config.device, init_scale=2.0**4, growth_interval=3)
        scaler.scale(torch.ones((), device=config.device))  # the scale is created lazily
    return optimizer, scheduler, scaler


def _resume(config, params, schedule, optimizer, scheduler, scaler, recorder):
    """Checkpoint with ``state_dict()`` and continue in fresh objects, as a restarted job does."""
    saved_opt = copy.deepcopy(_user(recorder, optimizer.state_dict))
    saved_sched = None if scheduler is None else copy.deepcopy(_user(recorder, scheduler.state_dict))
    saved_scaler = None if scaler is None else copy.deepcopy(scaler.state_dict())
    fresh = [[torch.nn.Parameter(p.detach().clone(memory_format=torch.preserve_format))
              for p in group] for group in params]
    optimizer, scheduler, _ = _build(config, fresh, schedule, recorder, fresh_scaler=False)
    _user(recorder, optimizer.load_state_dict, saved_opt)
    if scheduler is not None:
        _user(recorder, scheduler.load_state_dict, saved_sched)
    if scaler is not None:
        scaler = torch.amp.GradScaler(config.device)
        scaler.load_state_dict(saved_scaler)
        scaler.scale(torch.ones((), device=config.device))  # the scale is created lazily
    return fresh, optimizer, scheduler, scaler


# -- gradients ---------------------------------------------------------------------------
def _closure(config: RunConfig, params, injected, step: int, recorder: "_Recorder"):
    """The closure ``step()`` calls: it sets ``.grad`` at the current parameter values."""
    frozen = [[step in t.frozen for t in g.tensors] for g in config.groups]
    calls = []

    def closure():
        try:
            return evaluate()
        except Exception as exc:  # verify's own code failed: remembered, so step() cannot disguise it
            recorder.own_error = exc
            raise

    def evaluate():
        loss = None
        if config.objective is not None:
            with torch.enable_grad():
                for group in params:
                    for p in group:
                        p.grad = None
                loss = config.objective.torch_loss([p for group in params for p in group])
                loss.backward()
        for gi, group in enumerate(params):
            for ti, p in enumerate(group):
                if frozen[gi][ti]:
                    p.grad = None
                    continue
                if injected is not None:
                    value = _as_tensor(injected[gi][ti][step - 1])
                    p.grad = _layout(value, config.groups[gi].tensors[ti].grad_layout, p.dtype, p.device)
                if not calls:  # the first evaluation is the one the step is recorded with
                    recorder.grads[gi][ti][step - 1] = _to_numpy(p.grad, recorder.dtype)
                    recorder.active[gi][ti][step - 1] = True
        if not calls and loss is not None:
            recorder.loss[step - 1] = float(loss.detach())
        calls.append(step)
        recorder.closure_calls[step - 1] += 1
        return loss

    return closure


def _as_tensor(row) -> torch.Tensor:
    """One step's gradient as a CPU tensor: float32 and float64 shared, anything else as float64."""
    row = np.asarray(row)
    if row.dtype not in (np.float32, np.float64) or not row.dtype.isnative:
        row = row.astype(np.float64)
    return torch.from_numpy(row)


def _scaled_step(config, params, closure, scaler, optimizer, step: int, recorder) -> None:
    """One ``GradScaler`` step: grads scaled by a power of two (exact), inf on a skipped step."""
    with torch.no_grad():
        closure()
        scale = scaler.get_scale()
        first = True
        for group in params:
            for p in group:
                if p.grad is None:
                    continue
                p.grad.mul_(scale)
                if step in config.skip_steps and first:
                    p.grad[(0,) * p.grad.dim()] = float("inf")
                    first = False
    _user(recorder, scaler.step, optimizer)
    scaler.update()


def _record(config: RunConfig, optimizer, params, recorder: "_Recorder", step: int) -> None:
    """Row ``step`` of every tensor: the parameter, or what ``config.readout`` reads from it."""
    for gi, group in enumerate(params):
        for ti, p in enumerate(group):
            value = p if config.readout is None else config.readout(
                optimizer, optimizer.param_groups[gi], optimizer.param_groups[gi]["params"][ti])
            recorder.theta[gi][ti][step] = _to_numpy(value, recorder.dtype)


def _to_numpy(tensor: torch.Tensor, dtype) -> np.ndarray:
    """A view (or a widened copy) of ``tensor``'s values; the caller's assignment copies it."""
    return tensor.detach().to("cpu", _TORCH_OF[dtype]).numpy()


_TORCH_OF = {np.float64: torch.float64, np.float32: torch.float32}
