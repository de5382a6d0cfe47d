"""Which catalogue formulations does an optimizer implement?

The optimizer is probed like any run (:mod:`verify.runner`): an objective whose gradient
depends on where it is evaluated (so look-ahead forms differ from stored-point ones), in
float64, under three schedules -- a constant lr, a varying lr (forms that agree only when
the lr is constant, such as the two lr placements, come apart), and, when the optimizer has
momentum, a varying lr and momentum -- and, when the caller gives per-step sequences
(``lr_seq``, ``momentum_seq``, read with ``schedule_offset``), a fourth probe under those. The
given sequences are *added* to the three probes, never put in their place: a sequence the user
chose (a constant one, say) need not separate the forms the three are built to separate, so
replacing them could only make "implements" easier to earn. Every catalogue entry is then built with the optimizer's
flags (a role the optimizer lacks counts as zero) and judged by :mod:`verify.compare` against
each probe. An entry *implements* the optimizer when it passes every probe and every probe can
tell the entry apart from doing nothing (:mod:`verify.checkable`); otherwise the verdict names
the first step and quantity where it departs, and the closest entry is the one that departs
latest.

A probe run that failed (the optimizer raised, exited, hung) or evaluated no gradient makes the
whole identification *not checkable*: no entry is judged and no "closest" is guessed.
:attr:`Identification.status` is the CLI's exit code: 0 implements at least one entry, 1 checked
and implements none, 2 not checkable.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import numbers
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from derive.catalogue import CATALOGUE
from derive.formulation import Formulation
from verify.binding import Binding, binding as make_binding
from verify.checkable import nonfinite_step, run_problem
from verify.compare import Report
from verify.errors import VerifyError
from verify.judge import NOT_APPLICABLE, judge as judge_bound, sequence_values
from verify.options import check_options
from verify.objectives import NEGATIVE_QUARTIC, QUARTIC
from verify.runner import GroupSpec, Observed, RunConfig, TensorSpec, run
from verify.schedules import Schedule, sequences
from verify.sweep import ROLES, formulation_options

PROBE_GROUPS = (GroupSpec((TensorSpec((3,)), TensorSpec((2, 2), contiguous=False))),)


@dataclass
class Verdict:
    """One catalogue entry against every probe."""

    formulation: str
    options: dict
    reports: dict[str, Report]  # probe name -> report
    error: str | None = None
    unchecked: str | None = None  # why passing every probe proves nothing (verify.checkable)

    @property
    def passes(self) -> bool:
        return self.error is None and bool(self.reports) and all(r.passed for r in self.reports.values())

    @property
    def implements(self) -> bool:
        return self.passes and self.unchecked is None

    @property
    def constant_only(self) -> bool:
        """Passes the constant probe and departs under the built-in varying-lr one (a failure under
        the caller's own sequences alone says nothing about constant rates)."""
        return (self.error is None and not self.passes
                and self.reports.get("constant") is not None and self.reports["constant"].passed
                and self.reports.get("varying lr") is not None and not self.reports["varying lr"].passed)

    @property
    def departure(self) -> tuple[int, float]:
        """Sort key: later first mismatch is closer; then the smaller relative error."""
        if self.error is not None:
            return (-1, np.inf)
        firsts = [r.first.step for r in self.reports.values() if r.first is not None]
        errors = [r.max_rel for r in self.reports.values()]
        return (min(firsts) if firsts else 10**9, -max(errors, default=0.0))

    def describe(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in self.options.items())
        head = f"{self.formulation}({options})"
        if self.error:
            return f"{head}: not applicable ({self.error})"
        if self.unchecked:
            return f"{head}: not checkable ({self.unchecked})"
        if self.implements:
            return f"{head}: implements it (every probe within tolerance)"
        failing = [(name, r) for name, r in self.reports.items() if not r.passed]
        name, report = failing[0]
        where = report.first.describe() if report.first else report.error
        suffix = " (equal under a constant lr only)" if self.constant_only else ""
        return f"{head}: departs under the {name} probe at {where}{suffix}"


@dataclass
class Identification:
    optimizer: str
    kwargs: dict
    verdicts: list[Verdict] = field(default_factory=list)
    reason: str | None = None  # set when a probe run cannot back any verdict
    notes: list[str] = field(default_factory=list)

    @property
    def matches(self) -> list[str]:
        return [v.formulation for v in self.verdicts if v.implements]

    @property
    def departing(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.error is None and v.reports and not v.passes]

    @property
    def closest(self) -> Verdict | None:
        """The entry that departs latest; None unless the optimizer was checked and matched nothing."""
        if self.status != 1:
            return None
        return max(self.departing, key=lambda v: v.departure)

    @property
    def status(self) -> int:
        """0: implements at least one entry; 1: checked, implements none; 2: not checkable."""
        if self.reason is not None:
            return 2
        if self.matches:
            return 0
        return 1 if self.departing else 2

    @property
    def not_checkable(self) -> str | None:
        """Why no verdict could be given (status 2), or None."""
        if self.status != 2:
            return None
        if self.reason is not None:
            return self.reason
        reasons = [v.unchecked or v.error for v in self.verdicts]
        return "no catalogue entry could be judged: " + (reasons[0] if reasons else "no candidates")

    def describe(self) -> str:
        lines = [f"{self.optimizer}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"]
        lines += ["  " + note for note in self.notes]
        if self.status == 2:
            lines.append(f"  not checkable: {self.not_checkable}")
            return "\n".join(lines)
        if self.matches:
            lines.append("  implements: " + ", ".join(self.matches))
        else:
            closest = self.closest
            lines.append("  implements no catalogue formulation"
                         + (f"; closest: {closest.describe()}" if closest else ""))
        lines += ["  " + v.describe() for v in self.verdicts]
        return "\n".join(lines)


GIVEN_PROBE = "given sequences"


def probes(factory, kwargs: dict, *, steps: int, timeout: float | None = None,
           bound: Binding = Binding(), given: Schedule | None = None) -> dict[str, RunConfig]:
    """The probe runs by name: constant, varying lr, varying lr and momentum (when the optimizer
    has momentum), and the caller's ``given`` sequences (a :func:`verify.schedules.sequences`)."""
    # an objective bounded in the direction the optimizer moves: maximize climbs a concave one
    objective = NEGATIVE_QUARTIC if kwargs.get("maximize") else QUARTIC
    lr_key, momentum_key = bound.key_of("lr"), bound.key_of("momentum")
    base = RunConfig(optimizer=factory, options={lr_key: 0.05, **kwargs}, groups=PROBE_GROUPS,
                     impl=None, objective=objective, steps=steps, seed=7, timeout=timeout,
                     keys={"lr": lr_key, "momentum": momentum_key})
    out = {"constant": base, "varying lr": base.with_(schedule="explicit")}
    if float(kwargs.get(momentum_key, 0)) != 0:
        out["varying lr and momentum"] = base.with_(schedule="explicit_momentum")
    if given is not None:
        out[GIVEN_PROBE] = base.with_(schedule=given)
    return out


def _with_absent_roles_zero(observed: Observed) -> list[dict]:
    """Per group: the recorded hyperparameters, a role the optimizer does not have set to 0."""
    out = []
    for hyper in observed.hyper:
        hyper = dict(hyper)
        for role in ROLES:
            if role not in hyper or np.isnan(hyper[role]).all():
                hyper[role] = np.zeros(observed.steps)
        out.append(hyper)
    return out


def judge(name, observed: Observed) -> tuple[Report, str | None]:
    """Catalogue entry ``name`` (or a Formulation) against one observed probe whose hyperparameters
    are bound to roles, and, when it passes, why that proves nothing (None: the null trajectory is
    rejected). Raises UnsupportedRun/DeriveError/NonFiniteReference."""
    patched = Observed(**{**observed.__dict__, "hyper": _with_absent_roles_zero(observed)})
    return judge_bound(name, patched)


def identify(factory, kwargs: Mapping | None = None, *, steps: int = 30,
             candidates: list | None = None, name: str | None = None,
             timeout: float | None = 60.0, progress=None, roles: Mapping[str, str] | None = None,
             hyper: Mapping[str, float] | None = None, hyper_dtype: str = "float64",
             lr_seq: Sequence[float] | None = None, momentum_seq: Sequence[float] | None = None,
             schedule_offset: int = 0) -> Identification:
    """Probe ``factory(params, **kwargs)`` and judge every catalogue entry (or ``candidates``).

    Args:
        factory: an optimizer class or factory ``(params, **kwargs) -> torch.optim.Optimizer``.
        kwargs: constructor options.
        steps: steps of each probe run.
        candidates: catalogue names and/or :class:`derive.Formulation` objects (default: the
            whole catalogue).
        name: how the optimizer is named in the result.
        timeout: seconds each probe run may take (:mod:`verify.deadline`); None: no limit.
        progress: called as ``progress(done, total)`` after each probe run and each entry judged.
        roles: param-group key -> formulation role, e.g. ``{"beta": "momentum", "nu": "nu"}``.
        hyper: extra constructor options (``{"nu": 0.7}``); where the param groups do not hold
            one, its value is the role's constant (so are the ``kwargs`` that ``roles`` names).
        hyper_dtype: ``"float32"`` when the optimizer holds its hyperparameters in float32
            (:mod:`verify.binding`).
        lr_seq, momentum_seq: explicit per-step values (``steps - schedule_offset`` of them),
            written into the param groups before each step of one more probe, run in addition to
            the three built-in ones.
        schedule_offset: 0 (torch: step t uses entry t) or 1 (Keras, optax, MLX, Paddle: step 1
            uses the constructor's value, step t entry t - 1); see :func:`verify.schedules.sequences`.

    Returns:
        An :class:`Identification` (``.status``, ``.matches``, ``.not_checkable``, ``.describe()``).

    Raises:
        VerifyError or TypeError: a bad argument, named, before any run.
    """
    bound = make_binding(roles, hyper, hyper_dtype)
    kwargs, candidates = _checked_arguments(factory, kwargs, steps, candidates, timeout, bound)
    twice = sorted(set(kwargs) & set(bound.hyper))
    if twice:
        raise VerifyError(f"hyper and kwargs both give {', '.join(twice)}; give each option once")
    kwargs = {**kwargs, **bound.hyper}
    bound = bound.with_constants(kwargs)
    given = None
    if lr_seq is not None or momentum_seq is not None:
        given = sequences(lr=sequence_values(lr_seq, "lr_seq"), momentum=sequence_values(momentum_seq, "momentum_seq"),
                          steps=steps, offset=schedule_offset)
    result = Identification(name or getattr(factory, "__qualname__", str(factory)), kwargs)
    observed = {}
    configs = probes(factory, kwargs, steps=steps, timeout=timeout, bound=bound, given=given)
    total, done = len(configs) + len(candidates), 0

    def advance() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    for probe, config in configs.items():
        obs = bound.observed(run(config))
        advance()
        problem = run_problem(obs, None)
        if problem is not None:  # nothing to judge: no entry is tried, no closest is guessed
            result.reason = f"{problem} (under the {probe} probe)"
            return result
        step = nonfinite_step(obs)
        if step is not None:
            result.notes.append(f"the parameters became non-finite at step {step} under the {probe} probe")
        observed[probe] = obs
    for formulation in candidates:
        reports, error, options, unchecked = {}, None, {}, None
        try:
            options = _options(formulation, observed["constant"])
            for probe, obs in observed.items():
                reports[probe], why = judge(formulation, obs)
                if reports[probe].passed:  # a zero lr, for an entry that reads one: doing nothing passes too
                    why = run_problem(obs, formulation) or why
                unchecked = unchecked or (why and f"under the {probe} probe, {why}")
        except NOT_APPLICABLE as exc:
            error = str(exc)
        label = formulation.name if isinstance(formulation, Formulation) else formulation
        result.verdicts.append(Verdict(label, options, reports, error, unchecked))
        advance()
    return result


def _options(formulation, observed: Observed) -> dict:
    """The options an entry is built with for this optimizer (a Formulation: the values it holds)."""
    if isinstance(formulation, Formulation):
        return {**{k: v for k, v in formulation.hyper.items() if getattr(v, "is_number", False)},
                **formulation.options}
    return dict(formulation_options(formulation, _with_absent_roles_zero(observed)[0], observed.flags[0]))


def _checked_arguments(factory, kwargs, steps, candidates, timeout, bound) -> tuple[dict, list]:
    if not callable(factory):
        raise TypeError(f"factory must be an optimizer class or callable, got {factory!r}")
    kwargs = check_options({} if kwargs is None else kwargs, roles=bound.roles)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {steps!r} ({type(steps).__name__})")
    if steps < 1:
        raise VerifyError(f"steps must be at least 1, got {steps}")
    if candidates is None:
        candidates = list(CATALOGUE)
    if isinstance(candidates, str) or not all(isinstance(c, (str, Formulation)) for c in candidates):
        raise TypeError(f"candidates must be a list of formulation names or Formulations, got {candidates!r}")
    unknown = [c for c in candidates if isinstance(c, str) and c not in CATALOGUE]
    if unknown or not candidates:
        raise VerifyError(f"candidates: unknown formulation {unknown[0]!r}; `python -m derive list` shows them"
                          if unknown else "candidates is empty: name at least one formulation")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real)
                                or not math.isfinite(timeout) or timeout <= 0):
        raise VerifyError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return kwargs, list(candidates)


def load(spec: str):
    """``MODULE:NAME`` (a dotted module, or a path to a .py file) -> the named object.

    Whatever goes wrong while importing (a syntax error, a failed import, an exception or a
    ``sys.exit`` at module level) is a :class:`~verify.errors.VerifyError` of one line.
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise VerifyError(f"expected MODULE:CLASS (e.g. torch.optim:SGD), got {spec!r}")
    if module_name.endswith(".py") or "/" in module_name:
        module = _load_file(Path(module_name))
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise VerifyError(f"cannot import {module_name!r} ({exc}); give an importable module "
                              "(torch.optim:SGD) or a file path (path/to/file.py:Class)") from None
        except (Exception, SystemExit) as exc:
            raise VerifyError(f"importing {module_name!r} failed: {_one_line(exc)}") from None
    try:
        target = getattr(module, attr)
    except AttributeError:
        names = [n for n, v in vars(module).items() if inspect.isclass(v)]
        raise VerifyError(f"{module_name} has no {attr!r}; classes there: {', '.join(names[:12])}") from None
    if not callable(target):
        raise VerifyError(f"{spec} is a {type(target).__name__}, not an optimizer class")
    return target


def _load_file(path: Path):
    if not path.is_file():
        raise VerifyError(f"no such file {path}")
    mod_spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(mod_spec)
    added = sys.modules.setdefault(path.stem, module) is module
    try:
        mod_spec.loader.exec_module(module)
    except SyntaxError as exc:
        _forget(path.stem, added)
        raise VerifyError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except (Exception, SystemExit) as exc:
        _forget(path.stem, added)
        raise VerifyError(f"loading {path} failed: {_one_line(exc)}") from None
    return module


def _forget(name: str, added: bool) -> None:
    if added:
        sys.modules.pop(name, None)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
