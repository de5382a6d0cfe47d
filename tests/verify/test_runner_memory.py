"""The runner's record at layer size: a float32 run is recorded in float32 (4 bytes a value, not
8), the seeded gradients are the same values as one ``(steps, *shape)`` draw without holding it,
and the narrower record leaves every verdict as the float64 record of the same values gives."""

import dataclasses

import numpy as np
import pytest

pytest.importorskip("torch")

from verify.compare import compare, tolerance  # noqa: E402
from verify.reference import compiled, expected  # noqa: E402
from verify.runner import RECORD_DTYPES, GroupSpec, RunConfig, TensorSpec, run  # noqa: E402
from verify.sweep import check, formulation_options  # noqa: E402

FLAGS = {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}
GROUPS = (GroupSpec((TensorSpec((3,), frozen=frozenset({2, 3})), TensorSpec((2, 3), contiguous=False),
                     TensorSpec(()))), GroupSpec((TensorSpec((4,)),), {"lr": 0.02}))


def _records(observed):
    return [a for arrays in (observed.theta, observed.grads) for group in arrays for a in group]


@pytest.mark.parametrize("dtype, item", [("float32", 4), ("float16", 4), ("bfloat16", 4), ("float64", 8)])
def test_the_record_is_in_the_tensors_own_dtype(dtype, item):
    config = RunConfig(options=FLAGS, groups=GROUPS, dtype=dtype, steps=6)
    observed = run(config)
    assert observed.error is None
    for group, spec in zip(observed.theta, GROUPS):
        for theta, tensor in zip(group, spec.tensors):
            assert theta.dtype == np.dtype(RECORD_DTYPES[dtype]) == np.dtype(f"float{8 * item}")
            assert theta.nbytes == 7 * int(np.prod(tensor.shape)) * item
    for group, spec in zip(observed.grads, GROUPS):
        for grads, tensor in zip(group, spec.tensors):
            assert grads.dtype == np.dtype(f"float{8 * item}")
            assert grads.nbytes == 6 * int(np.prod(tensor.shape)) * item


def test_a_float32_layer_records_four_bytes_per_value():
    observed = run(RunConfig(options=FLAGS, groups=(GroupSpec((TensorSpec((10_000,)),)),), dtype="float32", steps=5))
    assert sum(a.nbytes for a in _records(observed)) == (6 + 5) * 10_000 * 4


def test_seeded_gradients_are_one_draw_per_tensor_in_order():
    config = RunConfig(options=FLAGS, groups=GROUPS, dtype="float64", steps=6, seed=3)
    observed = run(config)
    rng = np.random.default_rng(3)
    for spec in GROUPS:  # the initial values come first, then each tensor's (steps, *shape) block
        for tensor in spec.tensors:
            rng.standard_normal(tensor.shape)
    for gi, spec in enumerate(GROUPS):
        for ti, tensor in enumerate(spec.tensors):
            block = rng.standard_normal((6, *tensor.shape))
            active = observed.active[gi][ti]
            np.testing.assert_array_equal(observed.grads[gi][ti][active], block[active])
            assert np.isnan(observed.grads[gi][ti][~active]).all()


def test_user_float32_gradients_are_used_as_given():
    grads = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    config = RunConfig(options=FLAGS, groups=(GroupSpec((TensorSpec((5,)),)),), dtype="float64", steps=4,
                       gradients=[[grads]])
    observed = run(config)
    np.testing.assert_array_equal(observed.grads[0][0], grads.astype(np.float64))
    assert check(config).report.passed


def _verdict(report):
    first = None if report.first is None else dataclasses.astuple(report.first)
    return report.passed, report.max_abs, report.max_rel, report.max_ulps, report.max_allowed_ulps, first


def _widened(observed):
    wide = lambda arrays: [[a.astype(np.float64) for a in group] for group in arrays]  # noqa: E731
    return dataclasses.replace(observed, theta=wide(observed.theta), grads=wide(observed.grads))


@pytest.mark.parametrize("perturb", [False, True], ids=["correct", "off-by-4-bounds"])
def test_the_float32_record_gives_the_verdict_of_the_same_values_in_float64(perturb):
    config = RunConfig(options=FLAGS, schedule="explicit", dtype="float32", steps=30)
    observed = run(config)
    systems = [compiled("pytorch_sgd", formulation_options("pytorch_sgd", h, f))
               for h, f in zip(observed.hyper, observed.flags)]
    if perturb:  # an optimizer off by 4x the bound from step 11 on, in float32 as torch would hold it
        ref = expected(systems, observed)
        bound = tolerance(ref.groups[0], "float32")
        row = ref.groups[0].x[11:, ref.groups[0].theta_row, 1] + 4 * bound[11:, 1]
        observed.theta[0][0][11:, 1] = row.astype(np.float32)
    assert observed.theta[0][0].dtype == np.float32
    narrow = compare(observed, expected(systems, observed))
    wide = compare(_widened(observed), expected(systems, _widened(observed)))
    assert _verdict(narrow) == _verdict(wide)
    assert narrow.passed is not perturb, narrow.describe()
    if perturb:
        assert (narrow.first.step, narrow.first.tensor, narrow.first.index) == (11, 0, (1,))
