r"""What a run must show before verify may say "implements" or "within tolerance".

A comparison can only pass an optimizer it could have failed. So a verdict that the optimizer
agrees with a formulation is given only for a run that

1. ran: the constructor and every ``step()`` returned (no exception, no ``sys.exit``, no hang
   past the limit) -- :func:`run_problem`;
2. evaluated gradients: ``step()`` called the closure, and every parameter tensor received a
   gradient at some step -- :func:`run_problem`;
3. gave the entry something to do: an entry with a learning rate (a role ``lr``) is not judged on
   a run whose lr is 0 at every step -- :func:`run_problem` given the entry; an entry without one
   (``two_state``: its coefficients are the whole step) is left to the next rule;
4. can be told apart from doing nothing: the *null trajectory* (every parameter stays at its
   initial value, :func:`null_observed`) is rejected by the very comparison that passed, and
   the expected trajectory leaves the tolerance band by at least :data:`MARGIN` times the
   allowed error -- :func:`indistinguishable_from_null`.

Otherwise the verdict is *not checkable*, with the reason, and the CLI exits 2.

:func:`objective_breakdown` finds the first step at which the objective or its gradient was
not finite at a finite parameter value (a domain error such as :math:`\log x` at
:math:`x<0`, or an overflow such as :math:`e^{800}`): the run then says nothing about the
optimizer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from verify.compare import compare

# "far more than the tolerance": the null trajectory must depart by ten times what is allowed
MARGIN = 10.0
SIGNIFICANT_BITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}
_WIDER = {"float32": "float64", "float16": "float32", "bfloat16": "float32"}


def run_problem(observed, entry) -> str | None:
    """Why ``observed`` cannot back a verdict about ``entry``, or None.

    Args:
        observed: a :class:`verify.runner.Observed` whose hyperparameters are bound to roles
            (:mod:`verify.binding`), so the learning rate is found under ``lr`` whatever the
            optimizer calls it.
        entry: the catalogue name or :class:`derive.Formulation` to be judged; None before any
            entry is chosen (identify's probes), when only what no entry can change is checked:
            the run failed or saw no gradient.

    Returns:
        The reason in one sentence, or None.
    """
    if observed.error is not None:
        kind, _, message = observed.error.partition(": ")
        step = observed.failed_step
        if kind == "RunTimeout":
            where = f"step {step}" if step else "building the optimizer"
            return f"the run stopped in {where}: {message} (a hang? raise the limit with --timeout)"
        if kind == "SystemExit":
            return f"{message} in step {step}"
        if step == 0:
            return f"the optimizer's constructor raised {observed.error}"
        return f"the optimizer raised {observed.error} in step {step}"
    calls = observed.closure_calls
    if calls is not None and observed.steps and not calls.any():
        return ("the optimizer never called the closure, so no gradient was ever evaluated "
                "(step(closure) must call closure() to get the gradient)")
    never = [(gi, ti) for gi, group in enumerate(observed.active) for ti, a in enumerate(group) if not a.any()]
    if never and len(never) == sum(len(group) for group in observed.active):
        return "no gradient was ever evaluated: no parameter tensor had a gradient at any step"
    if never:
        where = ", ".join(f"group {gi} tensor {ti}" for gi, ti in never)
        return f"some parameters never received a gradient ({where}), so their updates were never checked"
    lrs = [h["lr"] for h in observed.hyper if "lr" in h]
    if entry is not None and lrs and all(np.all(lr == 0) for lr in lrs) and _has_lr(entry):
        return "nothing moved: the lr is 0 at every step, so doing nothing would pass too"
    return None


def _has_lr(entry) -> bool:
    """Whether ``entry`` (a catalogue name or a Formulation) has a learning-rate role."""
    from derive.catalogue import get
    from derive.formulation import Formulation

    return "lr" in (entry if isinstance(entry, Formulation) else get(entry)).hyper


def null_observed(observed):
    """``observed`` with every parameter held at its initial value: what doing nothing records."""
    theta = [[np.broadcast_to(t[:1], t.shape).copy() for t in group] for group in observed.theta]
    return replace(observed, theta=theta, error=None, failed_step=None)


def indistinguishable_from_null(observed, expected) -> str | None:
    """Why the comparison of ``observed`` with ``expected`` cannot tell the optimizer apart from
    doing nothing, or None when the null trajectory is rejected with :data:`MARGIN` to spare."""
    null = compare(null_observed(observed), expected)
    if null.passed:
        return ("nothing moved: the expected trajectory stays within the tolerance of the initial "
                "point, so doing nothing would pass too (a zero lr? too few steps?)")
    if null.max_ulps < MARGIN * null.max_allowed_ulps:
        ratio = null.max_ulps / null.max_allowed_ulps
        dtype = getattr(observed.config, "dtype", None)
        why = ""
        if dtype in SIGNIFICANT_BITS and dtype != "float64":
            why = (f": {dtype} keeps {SIGNIFICANT_BITS[dtype]} significant bits, so the parameters' whole "
                   f"way from where they started spans only {null.max_ulps:.3g} ULP of their largest value, and "
                   f"the rounding of {observed.steps} steps may cost {null.max_allowed_ulps:.3g} of them")
        return (f"the expected trajectory leaves the tolerance band by only {null.max_ulps:.3g} ULP "
                f"against {null.max_allowed_ulps:.3g} allowed ({ratio:.2g} times; a pass needs {MARGIN:g}), "
                f"so the comparison could barely tell the optimizer from doing nothing{why}; take more "
                "steps or a larger lr, so the parameters move further from where they started, or use "
                f"{_WIDER.get(dtype, 'a wider dtype')}")
    return None


def objective_breakdown(observed) -> str | None:
    """The first step whose objective or gradient was not finite at finite parameters, or None."""
    if observed.config.objective is None or observed.closure_calls is None:
        return None
    for step in range(1, observed.steps + 1):
        if not observed.closure_calls[step - 1]:
            continue
        theta = np.concatenate([t[step - 1].reshape(-1) for group in observed.theta for t in group])
        if not np.isfinite(theta).all():
            return None  # the optimizer itself left the finite numbers: the comparison judges that
        where = f"at step {step}, evaluated from theta = {_show(theta)}"
        loss = observed.loss[step - 1]
        if not np.isfinite(loss):
            return f"the objective is not finite {where}: f = {float(loss)!r} (outside its domain, or an overflow)"
        grads = [g[step - 1].reshape(-1) for group, active in zip(observed.grads, observed.active)
                 for g, a in zip(group, active) if a[step - 1]]
        grad = np.concatenate(grads) if grads else np.zeros(0)
        if not np.isfinite(grad).all():
            return (f"the gradient is not finite {where}: {_show(grad)} "
                    "(outside the objective's domain, or an overflow)")
    return None


def _show(values: np.ndarray) -> str:
    shown = ", ".join(repr(float(v)) for v in values[:4])
    return f"[{shown}{', ...' if len(values) > 4 else ''}]"


def nonfinite_step(observed) -> int | None:
    """The first step after which some parameter is NaN or infinite, or None."""
    for step in range(1, observed.steps + 1):
        if any(not np.isfinite(t[step]).all() for group in observed.theta for t in group):
            return step
    return None
