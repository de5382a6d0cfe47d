"""Which catalogue formulations does an optimizer implement?

The optimizer is probed like any run (:mod:`verify.runner`): an objective whose gradient
depends on where it is evaluated (so look-ahead forms differ from stored-point ones), in
float64, under three schedules -- a constant lr, a varying lr (forms that agree only when
the lr is constant, such as the two lr placements, come apart), and, when the optimizer has
momentum, a varying lr and momentum. Every catalogue entry is then built with the optimizer's
flags (a role the optimizer lacks counts as zero) and judged by :mod:`verify.compare` against
each probe. An entry *implements* the optimizer when it passes every probe; otherwise the
verdict names the first step and quantity where it departs, and the closest entry is the
one that departs latest.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from derive.catalogue import CATALOGUE
from derive.errors import DeriveError
from verify.compare import Report, compare
from verify.objectives import NEGATIVE_QUARTIC, QUARTIC
from verify.reference import UnsupportedRun, compiled, expected
from verify.runner import GroupSpec, Observed, RunConfig, TensorSpec, run
from verify.sweep import ROLES, formulation_options

PROBE_GROUPS = (GroupSpec((TensorSpec((3,)), TensorSpec((2, 2), contiguous=False))),)


@dataclass
class Verdict:
    """One catalogue entry against every probe."""

    formulation: str
    options: dict
    reports: dict[str, Report]  # probe name -> report
    error: str | None = None

    @property
    def implements(self) -> bool:
        return self.error is None and all(r.passed for r in self.reports.values())

    @property
    def constant_only(self) -> bool:
        return (self.error is None and not self.implements
                and self.reports.get("constant") is not None and self.reports["constant"].passed)

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
    probe_errors: dict[str, str] = field(default_factory=dict)

    @property
    def matches(self) -> list[str]:
        return [v.formulation for v in self.verdicts if v.implements]

    @property
    def closest(self) -> Verdict | None:
        others = [v for v in self.verdicts if not v.implements and v.error is None]
        return max(others, key=lambda v: v.departure) if others else None

    def describe(self) -> str:
        lines = [f"{self.optimizer}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"]
        for probe, message in self.probe_errors.items():
            lines.append(f"  the optimizer raised under the {probe} probe: {message}")
        if self.matches:
            lines.append("  implements: " + ", ".join(self.matches))
        else:
            closest = self.closest
            lines.append("  implements no catalogue formulation"
                         + (f"; closest: {closest.describe()}" if closest else ""))
        lines += ["  " + v.describe() for v in self.verdicts]
        return "\n".join(lines)


def probes(factory, kwargs: dict, *, steps: int) -> dict[str, RunConfig]:
    # an objective bounded in the direction the optimizer moves: maximize climbs a concave one
    objective = NEGATIVE_QUARTIC if kwargs.get("maximize") else QUARTIC
    base = RunConfig(optimizer=factory, options={"lr": 0.05, **kwargs}, groups=PROBE_GROUPS,
                     impl=None, objective=objective, steps=steps, seed=7)
    out = {"constant": base, "varying lr": base.with_(schedule="explicit")}
    if float(kwargs.get("momentum", 0)) != 0:
        out["varying lr and momentum"] = base.with_(schedule="explicit_momentum")
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


def judge(name: str, observed: Observed) -> Report:
    """Catalogue entry ``name`` against one observed probe (raises UnsupportedRun/DeriveError)."""
    hypers = _with_absent_roles_zero(observed)
    systems = [compiled(name, formulation_options(name, h, f)) for h, f in zip(hypers, observed.flags)]
    patched = Observed(**{**observed.__dict__, "hyper": hypers})
    return compare(patched, expected(systems, patched))


def identify(factory, kwargs: dict | None = None, *, steps: int = 30,
             candidates: list[str] | None = None, name: str | None = None) -> Identification:
    """Probe ``factory(params, **kwargs)`` and judge every catalogue entry (or ``candidates``)."""
    kwargs = dict(kwargs or {})
    result = Identification(name or getattr(factory, "__qualname__", str(factory)), kwargs)
    observed = {}
    for probe, config in probes(factory, kwargs, steps=steps).items():
        obs = run(config)
        if obs.error is not None:
            result.probe_errors[probe] = f"step {obs.failed_step}: {obs.error}"
        observed[probe] = obs
    for formulation in candidates or list(CATALOGUE):
        reports, error, options = {}, None, {}
        try:
            options = dict(formulation_options(formulation, _with_absent_roles_zero(
                observed["constant"])[0], observed["constant"].flags[0]))
            for probe, obs in observed.items():
                reports[probe] = judge(formulation, obs)
        except (UnsupportedRun, DeriveError, ValueError, TypeError) as exc:
            error = str(exc)
        result.verdicts.append(Verdict(formulation, options, reports, error))
    return result


def load(spec: str):
    """``MODULE:NAME`` (a dotted module, or a path to a .py file) -> the named object."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected MODULE:CLASS (e.g. torch.optim:SGD), got {spec!r}")
    if module_name.endswith(".py") or "/" in module_name:
        path = Path(module_name)
        if not path.exists():
            raise ValueError(f"no such file {path}")
        mod_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(mod_spec)
        sys.modules.setdefault(path.stem, module)
        mod_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ValueError(f"cannot import {module_name!r} ({exc}); give an importable module "
                             "(torch.optim:SGD) or a file path (path/to/file.py:Class)") from None
    try:
        target = getattr(module, attr)
    except AttributeError:
        names = [n for n, v in vars(module).items() if inspect.isclass(v)]
        raise ValueError(f"{module_name} has no {attr!r}; classes there: {', '.join(names[:12])}") from None
    return target
