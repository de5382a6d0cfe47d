"""The one registry of configurations, and the loop that judges them.

Tests, the CLI and the benchmark all draw from here: :func:`flag_combinations` (every
combination of ``torch.optim.SGD`` flags that its constructor accepts), :func:`sweep_configs`
(those × implementations × dtypes × schedules × devices), and :data:`SCENARIOS` (what real
training loops do: groups, frozen tensors, scaler-skipped steps, checkpoints, objectives,
every torch scheduler). :func:`check` runs one configuration end to end and never raises;
:func:`check_all` runs many, in worker processes when asked, and returns them in order.
"""

from __future__ import annotations

import inspect
import itertools
import multiprocessing
import os
import time
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
import torch

from derive.catalogue import CATALOGUE
from derive.errors import DeriveError
from verify import defects
from verify.checkable import indistinguishable_from_null, run_problem
from verify.compare import Report, compare
from verify.objectives import QUADRATIC, QUARTIC
from verify.reference import NonFiniteReference, UnsupportedRun, compiled, expected
from verify.runner import GroupSpec, RunConfig, TensorSpec, run

FLAG_VALUES = {
    "momentum": (0.0, 0.9),
    "dampening": (0.0, 0.5),
    "weight_decay": (0.0, 0.01),
    "nesterov": (False, True),
    "maximize": (False, True),
}
SWEEP_SCHEDULES = ("constant", "explicit", "onecycle")
from derive.symbols import HYPERPARAMETER_ROLES as ROLES  # noqa: E402  (derive's role table)


def flag_combinations() -> list[dict]:
    """Every flag combination ``torch.optim.SGD`` accepts (nesterov needs momentum, no dampening)."""
    out = []
    for values in itertools.product(*FLAG_VALUES.values()):
        flags = dict(zip(FLAG_VALUES, values))
        if flags["nesterov"] and (flags["momentum"] == 0 or flags["dampening"] != 0):
            continue
        out.append(flags)
    return out


def sweep_configs(*, optimizer=torch.optim.SGD, impls=("for-loop", "foreach", "fused"),
                  dtypes=("float64", "float32"), schedules=SWEEP_SCHEDULES, devices=("cpu",),
                  steps: int = 200, lr: float = 0.05, flags: list[dict] | None = None) -> list[RunConfig]:
    """The full sweep: flag combinations × impls × dtypes × schedules × devices."""
    configs = []
    axes = itertools.product(devices, dtypes, enumerate(impls), enumerate(schedules))
    for device, dtype, (k, impl), (j, schedule) in axes:
        for i, f in enumerate(flags or flag_combinations()):
            # lr as a float and as a Tensor alternate so every flag combination meets both
            configs.append(RunConfig(optimizer=optimizer, options={"lr": lr, **f}, impl=impl, dtype=dtype,
                                     device=device, schedule=schedule, steps=steps,
                                     lr_tensor=bool((i + j + k) % 2), seed=i))
    return configs


# -- realistic loops -------------------------------------------------------------------------
_G = GroupSpec
_T = TensorSpec
_TWO_GROUPS = (
    _G((_T((3,)), _T((2, 3), contiguous=False))),
    _G((_T((4,)), _T(())), {"lr": 0.02, "momentum": 0.5, "dampening": 0.25, "weight_decay": 0.05}),
)
_FROZEN = (_G((_T((3,), frozen=frozenset({1, 2, 3})), _T((2, 2), contiguous=False, frozen=frozenset({5, 6})),
               _T((2,)))),)
_STRIDED = (_G((_T((5,), contiguous=False), _T((2,)))),)  # p = base[::2]: a view with gaps
_GRAD_LAYOUT = (_G((_T((2, 3), contiguous=False, grad_contiguous=True), _T((3, 2), grad_contiguous=False))),)
_LARGE = (_G((_T((8, 8)), _T((3,)))),)
_BASE = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}

SCENARIOS: dict[str, RunConfig] = {
    c.name: c
    for c in [
        RunConfig(name="two_groups", options=_BASE, groups=_TWO_GROUPS, schedule="explicit", steps=30),
        RunConfig(name="frozen_then_unfrozen", options=_BASE, groups=_FROZEN, steps=12),
        RunConfig(name="frozen_then_unfrozen_fused", options=_BASE, groups=_FROZEN, steps=12, impl="fused"),
        RunConfig(name="scaler_skips", options={**_BASE, "dampening": 0.1}, skip_steps=frozenset({3, 4, 9}),
                  steps=15, dtype="float32"),
        RunConfig(name="scaler_skips_fused", options={**_BASE, "dampening": 0.1}, skip_steps=frozenset({3, 4, 9}),
                  steps=15, dtype="float32", impl="fused"),
        RunConfig(name="scaler_skips_first_fused", options={**_BASE, "dampening": 0.1},
                  skip_steps=frozenset({1}), steps=6, dtype="float32", impl="fused"),
        RunConfig(name="scaler_skips_first", options={**_BASE, "dampening": 0.1},
                  skip_steps=frozenset({1}), steps=6, dtype="float32", impl="foreach"),
        RunConfig(name="strided_vector", options=_BASE, groups=_STRIDED, steps=8, impl="foreach"),
        RunConfig(name="strided_vector_fused", options=_BASE, groups=_STRIDED, steps=8, impl="fused"),
        RunConfig(name="grad_layout_differs", options=_BASE, groups=_GRAD_LAYOUT, steps=8, impl="foreach"),
        RunConfig(name="grad_layout_differs_fused", options=_BASE, groups=_GRAD_LAYOUT, steps=8, impl="fused"),
        *[RunConfig(name=f"large_{dtype}_{impl}", options={**_BASE, "lr": 0.5}, groups=_LARGE, steps=3,
                    dtype=dtype, impl=impl)
          for dtype in ("float16", "bfloat16") for impl in ("for-loop", "fused")],
        RunConfig(name="checkpoint_resume", options={**_BASE, "nesterov": True}, checkpoint_at=7, steps=15,
                  schedule="onecycle", impl="foreach", lr_tensor=True),
        RunConfig(name="checkpoint_resume_fused", options=_BASE, checkpoint_at=5, steps=12, schedule="cyclic",
                  impl="fused"),
        RunConfig(name="quadratic_objective", options={**_BASE, "nesterov": True}, objective=QUADRATIC,
                  schedule="cosine", steps=40),
        RunConfig(name="quartic_objective_float32", options=_BASE, objective=QUARTIC, schedule="step",
                  steps=40, dtype="float32", impl="fused"),
        RunConfig(name="maximize_objective", options={**_BASE, "maximize": True, "lr": 0.01},
                  objective=QUADRATIC, steps=10),
    ]
    + [RunConfig(name=f"scheduler_{s}", options={**_BASE, "dampening": 0.1}, schedule=s, steps=40,
                 lr_tensor=s in ("exponential", "plateau"))
       for s in ("step", "multistep", "exponential", "cosine", "lambda", "plateau", "cyclic", "onecycle",
                 "explicit_momentum")]
}


# -- judging one configuration -----------------------------------------------------------------
def formulation_options(name: str, hyper: dict[str, np.ndarray], flags: dict[str, bool]) -> tuple:
    """Options for catalogue entry ``name``: a role (a key of ``hyper``, bound by :mod:`verify.binding`)
    recorded as zero throughout is passed as 0
    (it changes the program: no buffer, no decay term), any other role stays symbolic, and the
    boolean flags the entry takes are passed through."""
    accepted = inspect.signature(CATALOGUE[name]).parameters
    options = {}
    for role in hyper:  # any role the entry takes as a hyperparameter, not torch's four only
        if role not in accepted or isinstance(accepted[role].default, bool):
            continue
        values = hyper[role][~np.isnan(hyper[role])]
        if len(values) and np.all(values == 0):
            options[role] = 0
        elif len(values) and np.any(values == 0) and role == "momentum":
            raise UnsupportedRun("momentum switches between zero and non-zero: torch then skips the "
                                  "buffer on some steps, which no single formulation describes")
    for flag, value in flags.items():
        if flag in accepted:
            options[flag] = value
    return tuple(sorted(options.items()))


@dataclass
class Outcome:
    config: RunConfig
    report: Report
    defect: defects.Defect | None = None

    @property
    def known_defect(self) -> str | None:
        return None if self.defect is None else self.defect.name

    @property
    def strict(self) -> bool:
        """Whether the known defect must show (its absence then means torch fixed it)."""
        return self.defect is not None and self.defect.always_shows(self.config)

    @property
    def unexpected(self) -> bool:
        """A failure nobody expected, or a known defect that no longer shows where it must."""
        if self.defect is None:
            return not self.report.passed
        return self.report.passed and self.strict


def check(config: RunConfig, formulation: str = "pytorch_sgd", *, mode: str = "float64") -> Outcome:
    """Run ``config``, compute derive's expected trajectory, compare; never raises."""
    observed = run(config)
    started = time.perf_counter()
    problem = None if observed.error is not None else run_problem(observed, formulation)  # raised: reported below
    if problem:  # no gradient ever evaluated: no reference can say anything about this run
        report = Report(config.label(), False, error=f"not checkable: {problem}", torch_seconds=observed.seconds)
        report.verify_seconds = time.perf_counter() - started
        return Outcome(config, report, defects.known(config))
    try:
        systems = [compiled(formulation, formulation_options(formulation, h, f))
                   for h, f in zip(observed.hyper, observed.flags)]
        reference = expected(systems, observed, mode=mode)
        report = compare(observed, reference)
        if report.passed:
            # a pass counts only from a run that could have failed (verify/checkable.py); the null
            # comparison is paid only for a run that never left its initial point
            reason = indistinguishable_from_null(observed, reference) if _stationary(observed) else None
            if reason:
                report = replace(report, passed=False, error=f"not checkable: {reason}")
    except (UnsupportedRun, DeriveError, NonFiniteReference) as exc:  # verify's own bugs propagate
        # an optimizer that failed early leaves nothing to compute a reference from: say so
        error = (f"step {observed.failed_step}: {observed.error}" if observed.error
                 else f"reference: {exc}")
        report = Report(config.label(), False, error=error, torch_seconds=observed.seconds)
    report.verify_seconds = time.perf_counter() - started  # reference + tolerance + comparison
    return Outcome(config, report, defects.known(config))


def _stationary(observed) -> bool:
    """Every recorded parameter equals its initial value at every step (what doing nothing records)."""
    return all(np.array_equal(t, np.broadcast_to(t[:1], t.shape)) for group in observed.theta for t in group)


# -- judging many --------------------------------------------------------------------------------
_WORK: dict = {}  # what forked workers inherit: the configurations and the formulation


def _worker_start() -> None:
    torch.set_num_threads(1)  # one process per core; torch's own threads would oversubscribe


def _check_index(index: int) -> tuple[int, Report]:
    return index, check(_WORK["configs"][index], _WORK["formulation"]).report


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def check_all(configs: Sequence[RunConfig], *, workers: int = 1, formulation: str = "pytorch_sgd",
              on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """:func:`check` every configuration; the outcomes in the order of ``configs``.

    With ``workers > 1`` the CPU configurations run in that many forked processes (each with
    one torch thread); a CUDA configuration runs in this process (a forked child cannot use
    CUDA). ``on_result`` sees each outcome as it finishes, in completion order. Ctrl-C
    terminates the workers and propagates ``KeyboardInterrupt``.
    """
    configs = list(configs)
    results: list[Outcome | None] = [None] * len(configs)
    workers = max(1, min(int(workers), len(configs)))
    forkable = workers > 1 and "fork" in multiprocessing.get_all_start_methods()
    pooled = [i for i, c in enumerate(configs) if forkable and c.device == "cpu"]
    for i in sorted(set(range(len(configs))) - set(pooled)):
        results[i] = check(configs[i], formulation)
        if on_result is not None:
            on_result(results[i])
    if not pooled:
        return results
    _WORK.update(configs=configs, formulation=formulation)
    pool = multiprocessing.get_context("fork").Pool(min(workers, len(pooled)), initializer=_worker_start)
    try:
        for index, report in pool.imap_unordered(_check_index, pooled):
            # the defect table is consulted here, so an outcome is what check() would return
            results[index] = Outcome(configs[index], report, defects.known(configs[index]))
            if on_result is not None:
                on_result(results[index])
        pool.close()
    except BaseException:
        pool.terminate()  # Ctrl-C or a failing callback: no worker outlives the call
        raise
    finally:
        pool.join()
        _WORK.clear()
    return results
