"""pytest helpers for a user's claims about formulations (no torch, no pytest import needed).

::

    from derive.testing import assert_equivalent, assert_not_equivalent

    def test_documented_nesterov_is_the_implemented_one_at_constant_rates():
        assert_equivalent(get("pytorch_nesterov_documented"), get("pytorch_nesterov_implemented"),
                          under={"lr": EPS, "momentum": MU})

A failure is an ``AssertionError`` whose message shows the residual, its conditions
(necessary and sufficient, or only necessary) and the witness: two exact runs and
the step where they differ.
"""

from __future__ import annotations

import sympy as sp

from derive.equivalence import Proof, Residual, equivalence
from derive.formulation import Formulation
from derive.symbols import t

__all__ = ["assert_equivalent", "assert_not_equivalent", "explain"]


def explain(result: Proof | Residual) -> str:
    """A result in words, for a failure message: the change of variables, or the residual, its conditions
    (with their standing) and the witness."""
    if isinstance(result, Proof):
        S = result.S.get(t, result.S[max(k for k in result.S if isinstance(k, int))])
        return f"{result.source} -> {result.target}: change of variables S_t = {sp.sstr(S.tolist())}"
    lines = [f"{result.source} -> {result.target}: no change of variables; residual {sp.sstr(result.residual)} "
             f"({result.label})"]
    if result.conditions:
        relations = " and ".join(f"{sp.sstr(r.lhs)} = {sp.sstr(r.rhs)}" for r in result.conditions)
        lines.append(f"condition: {relations} at every step ({result.necessity()})")
    else:
        lines.append("condition: none (the residual does not vanish for a non-zero lr and momentum)")
    w = result.witness
    if w is not None:
        values = ", ".join(f"{sp.sstr(s)} = {v}" for s, v in w.hyperparameters.items())
        lines.append(f"witness: on f(theta) = {sp.sstr(w.objective)} from theta_0 = {w.theta0} with {values}, "
                     f"at step {w.step} {w.target} gives {w.value}, the claim predicts {w.claimed} "
                     f"(difference {w.difference})")
    return "\n".join(lines)


def assert_equivalent(a: Formulation, b: Formulation, *, same_params: bool = False, under: dict | None = None,
                      steps: int = 4) -> Proof:
    """Assert that *b* follows *a* under a change of variables, for every objective (and every step).

    Args:
        a, b: the formulations.
        same_params: require the parameters themselves to agree (``theta'_t = theta_t``).
        under: assumptions imposed on both (``{"dampening": 0}``, ``{"lr": epsilon}``).
        steps: the concrete horizon solved before the induction.

    Returns:
        The :class:`~derive.equivalence.Proof`.

    Raises:
        AssertionError: with the residual, its conditions and the witness.
    """
    result = equivalence(a, b, steps=steps, same_params=same_params, under=under)
    if not result:
        raise AssertionError(f"{a.name} and {b.name} are not equivalent"
                             f"{' (same parameters)' if same_params else ''}:\n{explain(result)}")
    return result


def assert_not_equivalent(a: Formulation, b: Formulation, *, first_step: int | None = None,
                          same_params: bool = False, under: dict | None = None, steps: int = 4) -> Residual:
    """Assert that no change of variables maps *a* onto *b*; with *first_step*, that the witness's runs
    first differ at that step.

    Args:
        a, b: the formulations.
        first_step: the step at which the witness must first differ (None: any).
        same_params, under, steps: as :func:`assert_equivalent`.

    Returns:
        The :class:`~derive.equivalence.Residual`.

    Raises:
        AssertionError: when they are equivalent (the change of variables is shown), or the witness
            differs at another step (or there is none).
    """
    result = equivalence(a, b, steps=steps, same_params=same_params, under=under)
    if result:
        raise AssertionError(f"{a.name} and {b.name} are equivalent:\n{explain(result)}")
    if first_step is not None:
        found = result.witness.step if result.witness is not None else None
        if found != first_step:
            shown = f"first differ at step {found}" if found is not None else "have no witness (no step differs)"
            raise AssertionError(f"{a.name} and {b.name} {shown}, not at step {first_step}:\n{explain(result)}")
    return result
