"""pytest helpers for a user's optimizers.

::

    from verify.testing import assert_implements

    def test_my_qhm_is_qhm():
        assert_implements(MyQHM, "qhm", {"lr": 0.05, "beta": 0.9, "nu": 0.7}, roles={"beta": "momentum"})

A failure is an ``AssertionError`` whose message names the first mismatch: the probe (constant
lr, varying lr, varying lr and momentum), the step, the group and tensor, the element, the
observed and expected values and the bound they broke; or why the optimizer could not be checked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from verify.compare import Mismatch


def describe_mismatch(mismatch: Mismatch) -> str:
    """One mismatch in words: where, observed, expected, and the bound (in ULPs and absolute)."""
    bound = mismatch.abs_error * mismatch.allowed_ulps / mismatch.ulps if mismatch.ulps else math.nan
    return (f"step {mismatch.step}, group {mismatch.group}, tensor {mismatch.tensor}, element {mismatch.index}: "
            f"observed {mismatch.got!r}, expected {mismatch.expected!r}; |difference| {mismatch.abs_error:.3g} "
            f"({mismatch.ulps:.3g} ULP) > bound {bound:.3g} ({mismatch.allowed_ulps:.3g} ULP)")


def assert_implements(optimizer, entry, kwargs: Mapping | None = None, *, roles: Mapping[str, str] | None = None,
                      steps: int = 30, hyper_dtype: str = "float64", timeout: float | None = 60.0):
    """Assert that ``optimizer(params, **kwargs)`` implements ``entry`` under every probe of
    :func:`verify.identify` (a constant lr, a varying lr, and, with momentum, a varying lr and
    momentum).

    Args:
        optimizer: an optimizer class or factory ``(params, **kwargs) -> torch.optim.Optimizer``.
        entry: a catalogue name or a :class:`derive.Formulation`.
        kwargs: constructor options.
        roles: param-group key -> formulation role, e.g. ``{"beta": "momentum"}``.
        steps: steps of each probe run.
        hyper_dtype: ``"float32"`` when the optimizer holds its hyperparameters in float32.
        timeout: seconds each probe run may take (None: no limit).

    Returns:
        The :class:`verify.identify.Verdict` (its ``reports`` per probe) when it holds.

    Raises:
        AssertionError: the optimizer departs (the message shows the first mismatch) or cannot be
            checked (the message says why).
    """
    __tracebackhide__ = True  # pytest shows the caller's line
    from verify.identify import identify

    result = identify(optimizer, kwargs, candidates=[entry], steps=steps, roles=roles, hyper_dtype=hyper_dtype,
                      timeout=timeout)
    name = getattr(entry, "name", entry)
    call = f"{result.optimizer}({', '.join(f'{k}={v!r}' for k, v in result.kwargs.items())})"
    if result.status == 2:
        raise AssertionError(f"{call} cannot be checked against {name}: {result.not_checkable}")
    verdict = result.verdicts[0]
    if verdict.implements:
        return verdict
    if verdict.error:
        raise AssertionError(f"{name} cannot follow {call}: {verdict.error}")
    probe, report = next((p, r) for p, r in verdict.reports.items() if not r.passed)
    where = describe_mismatch(report.first) if report.first else report.error
    hint = " (they agree under a constant lr only)" if verdict.constant_only else ""
    raise AssertionError(f"{call} does not implement {name}{hint}: under the {probe} probe, first mismatch at {where}")
