r"""Check a real training loop: record what its optimizer did, then judge the recording.

::

    with verify.record(optimizer) as recording:
        for x, y in batches:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
            scheduler.step()
    verdict = recording.check("pytorch_sgd")
    assert verdict.passed, verdict.describe()

While the block runs, hooks around ``optimizer.step()`` (torch's
``register_step_pre_hook``/``register_step_post_hook``) record, per step: every parameter before
the first step and after each step, every gradient the step read (``.grad``; ``None`` marks the
tensor idle that step, as torch skips it), and every number each param group held (lr, momentum,
weight decay, the optimizer's own keys) with the flags (nesterov, maximize).  Nothing else of the
loop changes.  :meth:`Recording.check` then judges the recording exactly as ``verify trajectory``
judges a run: the same binding of keys to roles (:mod:`verify.binding`), derive's reference for
the same gradients and hyperparameters, the same tolerance model and first-mismatch report
(:mod:`verify.judge`).

The recording holds (T + 1) + T values per parameter element (values and gradients, in the
parameters' dtype, half types widened to float32), so it is meant for a few hundred steps of a
model that fits in memory a few times over.  Tensors that never had a gradient are left out of
the judgement (the optimizer never touched them).

``step(closure)`` is recorded too: the recorder hands ``step()`` a wrapper of the closure that, each
time the optimizer calls it, records the gradients the closure left in ``.grad`` -- what torch's
SGD reads right after calling it.  A closure the optimizer never calls leaves the gradients read
before ``step()``.  A step that calls its closure more than once (a line search, LBFGS) cannot be
judged: the update then depends on several gradients at several points, and the formulations here
take one gradient per step, so which of them "the step's gradient" is has no answer; the recording
says so when it is checked.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from verify.binding import binding
from verify.errors import VerifyError
from verify.judge import Check, checked_entry, judge_run
from verify.runner import FLAGS, RECORD_DTYPES, GroupSpec, Observed, RunConfig, TensorSpec, \
    hyperparameter_value

_DTYPE_NAMES = {torch.float64: "float64", torch.float32: "float32", torch.float16: "float16",
                torch.bfloat16: "bfloat16"}


class Recording:
    """What an optimizer did inside a ``with verify.record(optimizer)`` block."""

    def __init__(self, optimizer: torch.optim.Optimizer):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"record() needs a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.params = [list(group["params"]) for group in optimizer.param_groups]
        self.initial: list[list[np.ndarray]] | None = None
        self.theta: list[list[list[np.ndarray]]] = []  # per step, [group][tensor]
        self.grads: list[list[list[np.ndarray | None]]] = []
        self.hyper: list[list[dict[str, float]]] = []  # per step, per group
        self.flags: list[dict[str, bool]] = [{} for _ in self.params]
        self.problem: str | None = None
        self._handles = []

    # -- recording -------------------------------------------------------------------------
    def __enter__(self) -> "Recording":
        self._handles = [self.optimizer.register_step_pre_hook(self._before),
                         self.optimizer.register_step_post_hook(self._after)]
        return self

    def __exit__(self, *exc) -> bool:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return False

    def _before(self, optimizer, args, kwargs):
        groups = [list(group["params"]) for group in optimizer.param_groups]
        if len(groups) != len(self.params) or any(
                len(a) != len(b) or any(p is not q for p, q in zip(a, b)) for a, b in zip(groups, self.params)):
            self.problem = self.problem or f"the optimizer's param groups changed at step {len(self.theta) + 1}"
        if self.initial is None:
            self.initial = self._values(self.params)
        self.grads.append(self._gradients())
        self.hyper.append([{key: number for key, value in group.items() if key != "params"
                            and (number := hyperparameter_value(value)) is not None}
                           for group in optimizer.param_groups[:len(self.params)]])
        self.flags = [{k: bool(group.get(k, False)) for k in FLAGS}
                      for group in optimizer.param_groups[:len(self.params)]]
        return self._wrap_closure(args, kwargs)

    def _wrap_closure(self, args, kwargs):
        """``step()``'s arguments with its closure (if any) replaced by one that records the gradients
        it leaves, as this step's; None (arguments unchanged) without a closure."""
        positional = len(args) > 1  # args[0] is the optimizer
        closure = args[1] if positional else kwargs.get("closure")
        if closure is None:
            return None
        step, calls = len(self.grads), 0

        def recorded_closure():
            nonlocal calls
            loss = closure()
            calls += 1
            if calls == 2:
                self.problem = self.problem or (
                    f"step {step} called its closure more than once (a line search such as LBFGS): the update "
                    "then uses several gradients at several points, and the formulations take one per step")
            self.grads[step - 1] = self._gradients()
            return loss

        if positional:
            return (args[0], recorded_closure, *args[2:]), kwargs
        return args, {**kwargs, "closure": recorded_closure}

    def _gradients(self) -> list[list[np.ndarray | None]]:
        return [[None if p.grad is None else _numpy(p.grad) for p in group] for group in self.params]

    def _after(self, optimizer, args, kwargs) -> None:
        self.theta.append(self._values(self.params))

    @staticmethod
    def _values(groups) -> list[list[np.ndarray]]:
        return [[_numpy(p) for p in group] for group in groups]

    @property
    def steps(self) -> int:
        """The number of ``step()`` calls recorded (that returned)."""
        return len(self.theta)

    # -- judging ---------------------------------------------------------------------------
    def observed(self) -> Observed:
        """The recording as a :class:`verify.runner.Observed` (what ``verify trajectory`` judges)."""
        if self.problem is not None:
            raise VerifyError(f"the recording cannot be judged: {self.problem}")
        steps = self.steps
        if steps == 0:
            raise VerifyError("nothing was recorded: optimizer.step() was never called inside the block")
        dtypes = {p.dtype for group in self.params for p in group}
        if len(dtypes) != 1:
            raise VerifyError(f"the parameters have several dtypes ({', '.join(sorted(map(str, dtypes)))}); "
                              "record an optimizer whose parameters share one")
        dtype = _DTYPE_NAMES.get(dtypes.pop())
        if dtype is None:
            raise VerifyError("the parameters are not float64, float32, float16 or bfloat16")
        record = RECORD_DTYPES[dtype]
        keep = [[ti for ti in range(len(group)) if any(self.grads[s][gi][ti] is not None for s in range(steps))]
                for gi, group in enumerate(self.params)]
        theta, grads, active, specs = [], [], [], []
        for gi, kept in enumerate(keep):
            theta.append([np.stack([self.initial[gi][ti]] + [self.theta[s][gi][ti] for s in range(steps)])
                          .astype(record) for ti in kept])
            grads.append([np.stack([_or_nan(self.grads[s][gi][ti], self.initial[gi][ti]) for s in range(steps)])
                          .astype(record) for ti in kept])
            active.append([np.array([self.grads[s][gi][ti] is not None for s in range(steps)]) for ti in kept])
            specs.append(GroupSpec(tuple(TensorSpec(tuple(self.params[gi][ti].shape)) for ti in kept)))
        hyper = []
        for gi in range(len(self.params)):
            keys = sorted({k for s in range(steps) for k in self.hyper[s][gi]})
            hyper.append({k: np.array([self.hyper[s][gi].get(k, np.nan) for s in range(steps)]) for k in keys})
        used = [gi for gi, kept in enumerate(keep) if kept]
        config = RunConfig(optimizer=type(self.optimizer), options={}, groups=tuple(specs[gi] for gi in used),
                           impl=None, dtype=dtype, steps=steps, name="recorded training loop")
        return Observed(config, [theta[gi] for gi in used], [grads[gi] for gi in used],
                        [active[gi] for gi in used], [hyper[gi] for gi in used],
                        [self.flags[gi] for gi in used], skipped=np.zeros(steps, bool),
                        loss=np.full(steps, np.nan))

    def check(self, entry, *, roles: Mapping[str, str] | None = None, hyper_dtype: str = "float64",
              exact: bool = False) -> Check:
        """Judge the recording against ``entry``, as ``verify trajectory`` judges a run.

        Args:
            entry: a catalogue name (``"pytorch_sgd"``) or a :class:`derive.Formulation`.
            roles: param-group key -> formulation role, e.g. ``{"beta": "momentum"}``.
            hyper_dtype: ``"float32"`` when the optimizer holds its hyperparameters in float32.
            exact: compare with the exact (rational) reference rather than the float64 one.

        Returns:
            A :class:`verify.judge.Check`: ``.passed``; ``.status`` 0 within tolerance, 1 departs
            (``.first``: step, group, tensor, index, expected, got, ULPs against the bound), 2 not
            checkable (``.not_checkable``); ``.describe()`` says it in one line.

        Raises:
            VerifyError: nothing was recorded, the param groups changed, or mixed dtypes.
        """
        entry = checked_entry(entry)
        return judge_run(entry, self.observed(), binding(roles, None, hyper_dtype), exact=exact)


def record(optimizer: torch.optim.Optimizer) -> Recording:
    """A context manager that records ``optimizer``'s steps; see :mod:`verify.recorder`."""
    return Recording(optimizer)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    value = tensor.detach()
    if value.dtype in (torch.float16, torch.bfloat16):
        value = value.float()  # widened exactly: NumPy has no bfloat16
    return value.to("cpu", copy=True).numpy()


def _or_nan(grad, like) -> np.ndarray:
    return np.full(np.shape(like), np.nan) if grad is None else grad
