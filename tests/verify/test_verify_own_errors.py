"""An exception from the optimizer under test is a verdict ("not checkable"); an exception in
verify's own code is a bug and propagates with its traceback, even when it surfaces through the
optimizer's ``step()`` or the optimizer swallows it."""

import pytest

torch = pytest.importorskip("torch")

from verify import runner  # noqa: E402
from verify.runner import RunConfig, run  # noqa: E402


class SwallowsErrors(torch.optim.SGD):
    """Calls the closure inside ``try/except Exception: pass``, as a careless optimizer might."""

    def step(self, closure=None):
        try:
            closure()
        except Exception:
            pass
        return super().step()


class Raises(torch.optim.SGD):
    def step(self, closure=None):
        raise RuntimeError("the optimizer's own failure")


def _broken(*args, **kwargs):
    raise RuntimeError("a bug in verify")


def test_the_optimizer_raising_is_recorded_as_the_run_s_error():
    observed = run(RunConfig(optimizer=Raises, steps=3))
    assert observed.error == "RuntimeError: the optimizer's own failure" and observed.failed_step == 1


@pytest.mark.parametrize("optimizer", [torch.optim.SGD, SwallowsErrors])
def test_an_error_in_verify_s_closure_propagates_through_step(optimizer, monkeypatch):
    monkeypatch.setattr(runner, "_as_tensor", _broken)  # the closure lays out the injected gradient with it
    with pytest.raises(RuntimeError, match="a bug in verify"):
        run(RunConfig(optimizer=optimizer, steps=3))


def test_an_error_in_verify_s_recording_propagates(monkeypatch):
    monkeypatch.setattr(runner, "_to_numpy", _broken)
    with pytest.raises(RuntimeError, match="a bug in verify"):
        run(RunConfig(steps=3))


def test_a_bug_in_a_command_is_a_traceback_not_a_one_line_error(monkeypatch):
    from verify import cli
    from verify.commands import trajectory

    monkeypatch.setattr(trajectory, "_trajectory_rows", lambda *a: {}["no such key"])
    with pytest.raises(KeyError):
        cli.main(["trajectory", "--steps", "2"])
