r"""One recorded run against one formulation: the judgement ``trajectory``, ``identify``, the
training-loop recorder and :func:`check` share.

:func:`judge` binds the run's param-group values to the formulation's roles
(:mod:`verify.binding`), builds the formulation with the options the run implies (a role recorded
as zero throughout is passed as 0, the flags as recorded), computes derive's trajectory for the
same inputs (:mod:`verify.reference`) and compares them with the tolerance model
(:mod:`verify.compare`).  A pass counts only when the run could have failed
(:mod:`verify.checkable`).

:func:`check` is the public one-call form: build an optimizer, run it under a schedule (a named
one, or explicit per-step sequences), judge it against an entry.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from derive.catalogue import CATALOGUE
from derive.errors import DeriveError
from derive.formulation import Formulation
from verify.binding import Binding, binding as make_binding, declared_precision
from verify.checkable import indistinguishable_from_null, objective_breakdown, run_problem
from verify.compare import Report, compare
from verify.errors import VerifyError
from verify.reference import CompiledSystem, NonFiniteReference, UnsupportedRun, compiled, expected

# what a formulation that cannot follow a run raises: a verdict ("not applicable"), never a crash
NOT_APPLICABLE = (UnsupportedRun, DeriveError, NonFiniteReference)


def entry_name(entry) -> str:
    return entry.name if isinstance(entry, Formulation) else entry


def checked_entry(entry, where: str = "entry"):
    """A catalogue name or a :class:`~derive.formulation.Formulation`; anything else is refused."""
    if isinstance(entry, Formulation):
        return entry
    if not isinstance(entry, str):
        raise TypeError(f"{where} must be a catalogue name or a derive Formulation, got {entry!r}")
    if entry not in CATALOGUE:
        raise VerifyError(f"{where}: unknown formulation {entry!r}; `python -m derive list` shows them")
    return entry


@lru_cache(maxsize=64)
def _compiled_formulation(formulation: Formulation) -> CompiledSystem:
    return CompiledSystem(formulation)  # a Formulation hashes by identity: built once per object


def systems(entry, observed) -> list[CompiledSystem]:
    """One compiled system per group of the (bound) run.  A catalogue name is built with the options
    the run implies (:func:`verify.sweep.formulation_options`); a Formulation is used as built."""
    if isinstance(entry, Formulation):
        return [_compiled_formulation(entry)] * len(observed.hyper)
    from verify.sweep import formulation_options

    return [compiled(entry, formulation_options(entry, h, f)) for h, f in zip(observed.hyper, observed.flags)]


def judge(entry, observed, *, exact: bool = False) -> tuple[Report, str | None]:
    """``entry`` against a run whose hyperparameters are already bound to roles.

    Returns the comparison's report and, when it passed, why that proves nothing (None: the null
    trajectory is rejected).  Raises what :data:`NOT_APPLICABLE` lists when the formulation cannot
    follow the run.
    """
    return judge_with_reference(entry, observed, exact=exact)[:2]


def judge_with_reference(entry, observed, *, exact: bool = False):
    """:func:`judge`, and the :class:`verify.reference.Expected` trajectory it compared with.

    The entry's declared hyperparameter precision (``Formulation.hyper_dtype``) is applied first:
    the reference uses the values the framework's kernel holds."""
    from derive.catalogue import get

    observed = declared_precision(entry if isinstance(entry, Formulation) else get(entry), observed)
    reference = expected(systems(entry, observed), observed, mode="exact" if exact else "float64")
    report = compare(observed, reference)
    return report, (indistinguishable_from_null(observed, reference) if report.passed else None), reference


@dataclass
class Check:
    """The verdict of :func:`check` (and of :meth:`verify.recorder.Recording.check`).

    ``status`` is the CLI's exit code: 0 within tolerance, 1 checked and outside it (``report.first``
    is the first mismatch: step, group, tensor, index, expected, got, ULPs against the bound),
    2 not checkable (``not_checkable`` says why: the optimizer raised, nothing moved, the entry
    cannot follow the run).
    """

    entry: str
    report: Report | None
    not_checkable: str | None = None

    @property
    def status(self) -> int:
        if self.not_checkable is not None:
            return 2
        return 0 if self.report.passed else 1

    @property
    def passed(self) -> bool:
        return self.status == 0

    @property
    def first(self):
        return None if self.report is None else self.report.first

    def describe(self) -> str:
        if self.not_checkable is not None:
            return f"{self.entry}: not checkable: {self.not_checkable}"
        if self.report.passed:
            return f"{self.entry}: within tolerance ({self.report.describe()})"
        return f"{self.entry}: departs ({self.report.describe()})"


def judge_run(entry, observed, bound: Binding, *, exact: bool = False) -> Check:
    """Everything between a recorded run and its verdict: the run's problems, binding, judging."""
    name = entry_name(entry)
    observed = bound.observed(observed)  # first: the lr rule reads the role, whatever the key
    problem = run_problem(observed, entry)
    if problem is not None:
        return Check(name, None, problem)
    breakdown = objective_breakdown(observed) if observed.config.objective is not None else None
    if breakdown is not None:
        return Check(name, None, breakdown)
    try:
        report, unchecked = judge(entry, observed, exact=exact)
    except NOT_APPLICABLE as exc:
        return Check(name, None, f"{name} cannot follow this run: {exc}")
    return Check(name, report, unchecked)


def check(optimizer, entry, kwargs: Mapping | None = None, *, steps: int = 20, schedule="constant",
          lr_seq: Sequence[float] | None = None, momentum_seq: Sequence[float] | None = None,
          schedule_offset: int = 0, roles: Mapping[str, str] | None = None,
          hyper: Mapping[str, float] | None = None, hyper_dtype: str = "float64",
          dtype: str = "float64", objective=None, exact: bool = False, seed: int = 0,
          timeout: float | None = 60.0) -> Check:
    """Run ``optimizer(params, **kwargs)`` for ``steps`` steps and judge it against ``entry``.

    Args:
        optimizer: an optimizer class or factory ``(params, **kwargs) -> torch.optim.Optimizer``.
        entry: a catalogue name (``"pytorch_sgd"``) or a :class:`derive.Formulation`.
        kwargs: constructor options (``{"lr": 0.1, "momentum": 0.9}``).
        steps: how many ``step()`` calls.
        schedule: a schedule name of :mod:`verify.schedules` (``"constant"``, ``"explicit"``,
            ``"step"``, ``"onecycle"``, ...), ignored when a sequence is given.
        lr_seq, momentum_seq: explicit per-step values, written into the param groups (under the
            keys ``roles`` maps to ``lr`` and ``momentum``) before each step.
        schedule_offset: 0 (torch) or 1 (Keras, optax, MLX, Paddle); see
            :func:`verify.schedules.sequences`.
        roles: param-group key -> formulation role, e.g. ``{"beta": "momentum"}``.
        hyper: extra constructor options (``{"nu": 0.7}``); where the param groups do not hold
            one, its value is the role's constant (so are the ``kwargs`` that ``roles`` names).
        hyper_dtype: ``"float32"`` when the framework holds its hyperparameters in float32.
        dtype: the parameters' dtype (``"float64"``, ``"float32"``; half types on CUDA only).
        objective: a :class:`verify.objectives.Objective` or its text (``"x**4/4 - x"``); None feeds
            seeded random gradients.
        exact: compare with the exact (rational) reference rather than the float64 one.
        seed: the seed of the initial values and injected gradients.
        timeout: seconds the run may take (None: no limit).

    Returns:
        A :class:`Check`: ``.status`` 0 within tolerance, 1 departs (``.first`` is the first
        mismatch), 2 not checkable (``.not_checkable`` says why).

    Raises:
        VerifyError or TypeError: a bad argument, named, before anything runs.
    """
    from verify.objectives import Objective
    from verify.options import check_options
    from verify.runner import GroupSpec, RunConfig, TensorSpec, run
    from verify import schedules

    if not callable(optimizer):
        raise TypeError(f"optimizer must be an optimizer class or callable, got {optimizer!r}")
    entry = checked_entry(entry)
    bound = make_binding(roles, hyper, hyper_dtype)
    kwargs = check_options({} if kwargs is None else kwargs, roles=bound.roles)
    twice = sorted(set(kwargs) & set(bound.hyper))
    if twice:
        raise VerifyError(f"hyper and kwargs both give {', '.join(twice)}; give each option once")
    kwargs = {**kwargs, **bound.hyper}
    bound = bound.with_constants(kwargs)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise VerifyError(f"steps must be a whole number >= 1, got {steps!r}")
    if lr_seq is not None or momentum_seq is not None:
        schedule = schedules.sequences(lr=sequence_values(lr_seq, "lr_seq"),
                                       momentum=sequence_values(momentum_seq, "momentum_seq"),
                                       steps=steps, offset=schedule_offset)
    else:
        schedule = schedules.get(schedule).name
    if isinstance(objective, str):
        objective = Objective.parse(objective)
    config = RunConfig(optimizer=optimizer, options=dict(kwargs),
                       groups=(GroupSpec((TensorSpec((3,)), TensorSpec((2, 2), contiguous=False))),),
                       impl=None, dtype=dtype, schedule=schedule, objective=objective, steps=steps, seed=seed,
                       timeout=timeout, keys={r: bound.key_of(r) for r in ("lr", "momentum")})
    return judge_run(entry, run(config), bound, exact=exact)


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def sequence_values(values, where: str) -> tuple[float, ...] | None:
    """A per-step sequence given from Python, checked: a TypeError or VerifyError naming ``where``."""
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{where} must be a sequence of numbers, got {values!r}")
    bad = [v for v in values if not _number(v)]
    if bad:
        raise VerifyError(f"{where}: every value must be a finite number, got {bad[0]!r}")
    return tuple(float(v) for v in values)
