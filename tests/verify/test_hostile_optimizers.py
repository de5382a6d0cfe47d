"""verify is not fooled: each hostile optimizer (tests/verify/hostile_optimizers.py) gets the
verdict it has earned, through the Python API and through the CLI in a subprocess.

0 implements an entry; 1 checked, implements none; 2 not checkable (the run failed, hung,
exited, evaluated no gradient, or could not be told apart from doing nothing).
"""

import json

import pytest

torch = pytest.importorskip("torch")

import hostile_optimizers as hostile  # noqa: E402
from verify_process import HOSTILE, assert_one_line_error, listing, verify  # noqa: E402

from verify import identify  # noqa: E402

CANDIDATES = ["plain_gd", "pytorch_sgd", "sutskever_momentum"]

# name, constructor options, status, what the verdict must say
TABLE = [
    ("Honest", {}, 0, "implements: plain_gd, pytorch_sgd, sutskever_momentum"),
    ("DoesNothing", {}, 2, "not checkable: the optimizer never called the closure, so no gradient was ever evaluated"),
    ("SkipsTheClosure", {"lr": 0.05}, 2, "not checkable: the optimizer never called the closure"),
    ("EvaluatesButNeverUpdates", {}, 1, "implements no catalogue formulation; closest: plain_gd(): departs "
                                        "under the constant probe at step 1"),
    ("UpdatesOnlyTheFirstTensor", {}, 1, "departs under the constant probe at step 1, group 0, tensor 1"),
    ("RaisesAtStepThree", {}, 2, "not checkable: the optimizer raised RuntimeError: boom at the third step in step 3"),
    ("WritesNaN", {}, 1, "the parameters became non-finite at step 4 under the constant probe"),
    ("ExitsTheProcess", {}, 2, "not checkable: the optimizer called sys.exit(3) in step 2"),
    ("IgnoresTheLearningRate", {}, 1, "departs under the varying lr probe at step 1"),
    ("AddsNoise", {}, 1, "implements no catalogue formulation; closest: plain_gd(): departs under the constant "
                         "probe at step 1"),
    ("ConstructorRaises", {}, 2, "not checkable: the optimizer's constructor raised ValueError: refusing lr=0.05"),
]


@pytest.mark.parametrize("name, options, status, says", TABLE, ids=[row[0] for row in TABLE])
def test_each_hostile_optimizer_gets_the_verdict_it_earned(name, options, status, says):
    result = identify(getattr(hostile, name), options, steps=10, candidates=CANDIDATES)
    assert result.status == status, result.describe()
    assert says in result.describe(), result.describe()
    if status == 2:  # nothing was judged, so nothing is guessed
        assert result.matches == [] and result.closest is None and result.verdicts == []
    if status == 1:
        assert result.matches == [] and result.closest is not None


def test_a_hang_is_stopped_by_the_timeout_and_named():
    identify(hostile.Honest, {}, steps=3, candidates=["plain_gd"])  # first use loads lazily: not in the limit
    result = identify(hostile.Hangs, {}, steps=10, candidates=CANDIDATES, timeout=5)
    assert result.status == 2
    assert "not checkable: the run stopped in step 2: no result within 5 s" in result.describe()


@pytest.mark.parametrize("options, says", [
    ({"lr": 0.0}, "nothing moved: the lr is 0 at every step"),
    ({"lr": 1e-300}, "nothing moved: the expected trajectory stays within the tolerance of the initial point"),
])
def test_torch_sgd_that_cannot_move_is_not_checkable(options, says):
    result = identify(torch.optim.SGD, options, steps=10, candidates=CANDIDATES)
    assert result.status == 2 and says in result.not_checkable


def test_the_null_trajectory_is_what_the_comparison_rejects():
    from verify.checkable import indistinguishable_from_null, null_observed
    from verify.compare import compare
    from verify.identify import probes
    from verify.reference import compiled, expected
    from verify.runner import run

    observed = run(probes(torch.optim.SGD, {}, steps=10)["constant"])
    reference = expected([compiled("plain_gd")], observed)
    assert compare(observed, reference).passed
    null = null_observed(observed)
    assert all((t == t[0]).all() for group in null.theta for t in group)
    assert not compare(null, reference).passed
    assert indistinguishable_from_null(observed, reference) is None


# -- the same through the CLI, in a subprocess --------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name, options, status, says", TABLE, ids=[row[0] for row in TABLE])
def test_the_cli_exit_status_says_the_same(name, options, status, says, tmp_path):
    out = tmp_path / "identify.json"
    done = verify("identify", f"{HOSTILE}:{name}", "--kwargs", json.dumps(options), "--steps", "10",
                  "--json", str(out), cwd=tmp_path)
    if status == 2:
        assert_one_line_error(done, says)
        assert listing(tmp_path) == []  # no JSON, no temporary file
        return
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr and says.split(": ")[0] in done.stdout
    record = json.loads(out.read_text())
    assert record["status"] == status and listing(tmp_path) == ["identify.json"]


@pytest.mark.slow
def test_the_cli_stops_a_hang_after_timeout_seconds(tmp_path):
    done = verify("identify", f"{HOSTILE}:Hangs", "--steps", "10", "--timeout", "20", cwd=tmp_path)
    assert_one_line_error(done, "not checkable: the run stopped in step 2: no result within 20 s")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["DoesNothing", "SkipsTheClosure"])
def test_trajectory_refuses_to_pass_an_optimizer_that_never_evaluates_a_gradient(name, tmp_path):
    done = verify("trajectory", "plain_gd", "--optimizer", f"{HOSTILE}:{name}", cwd=tmp_path)
    assert_one_line_error(done, "not checkable: the optimizer never called the closure")


@pytest.mark.slow
def test_trajectory_fails_an_optimizer_that_evaluates_but_never_updates(tmp_path):
    done = verify("trajectory", "plain_gd", "--optimizer", f"{HOSTILE}:EvaluatesButNeverUpdates", cwd=tmp_path)
    assert done.returncode == 1 and "FAIL" in done.stdout and "first mismatch at step 1" in done.stdout


# -- what the runner records, which the verdicts above rest on ----------------------------------
def _probe(factory, **changes):
    from verify.identify import probes

    return probes(factory, {}, steps=5)["constant"].with_(**changes)


def test_the_runner_counts_closure_calls_and_records_each_failure_with_its_step():
    from verify.runner import run

    assert list(run(_probe(hostile.Honest)).closure_calls) == [1] * 5
    assert not run(_probe(hostile.SkipsTheClosure)).closure_calls.any()
    exited = run(_probe(hostile.ExitsTheProcess))  # sys.exit inside step() ends the run, not pytest
    assert (exited.failed_step, exited.error) == (2, "SystemExit: the optimizer called sys.exit(3)")
    refused = run(_probe(hostile.ConstructorRaises))
    assert refused.failed_step == 0 and refused.error.startswith("ValueError: refusing lr=0.05")


def test_a_timed_out_run_stops_in_its_step_and_leaves_no_timer_behind():
    import signal

    from verify.runner import run

    run(_probe(hostile.Honest))  # first use loads lazily: not inside the limit below
    before = signal.getsignal(signal.SIGALRM)
    hung = run(_probe(hostile.Hangs, timeout=2))
    assert (hung.failed_step, hung.error) == (2, "RunTimeout: no result within 2 s")
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert list(hung.closure_calls) == [1, 0, 0, 0, 0]


@pytest.mark.parametrize("optimizer", [hostile.DoesNothing, hostile.SkipsTheClosure])
def test_sweep_check_does_not_pass_an_optimizer_that_does_nothing(optimizer):
    """verify.sweep.check (the sweep's unit, public) gives no pass to a run that could not fail."""
    from verify.runner import RunConfig
    from verify.sweep import check

    config = RunConfig(optimizer=optimizer, options={"lr": 0.05}, steps=5)
    outcome = check(config)
    assert not outcome.report.passed
    assert outcome.report.error.startswith("not checkable: ")
    assert "closure" in outcome.report.error


def test_sweep_check_still_passes_torch_sgd():
    from verify.runner import RunConfig
    from verify.sweep import check

    outcome = check(RunConfig(options={"lr": 0.05, "momentum": 0.9}, steps=5))
    assert outcome.report.passed, outcome.report.describe()


def test_sweep_check_does_not_pass_a_run_that_never_left_its_initial_point():
    """lr = 1e-300: torch's update rounds away, the expected one is inside the tolerance: no verdict."""
    from verify.runner import RunConfig
    from verify.sweep import check

    outcome = check(RunConfig(options={"lr": 1e-300}, steps=5))
    assert not outcome.report.passed
    assert outcome.report.error.startswith("not checkable: nothing moved"), outcome.report.error
