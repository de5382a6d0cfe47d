"""verify's long commands draw a progress bar on a terminal, and nothing otherwise or under --quiet."""

import pytest

pytest.importorskip("torch")

from terminal import stderr_on_a_terminal  # noqa: E402

IDENTIFY = ["identify", "torch.optim:SGD", "--kwargs", '{"lr": 0.1}', "--steps", "5"]
SWEEP = ["sweep", "--steps", "3", "--impl", "for-loop", "--dtype", "float64", "--schedule", "constant",
         "--no-scenarios"]


@pytest.mark.slow
@pytest.mark.parametrize("argv, label", [(IDENTIFY, b"identify"), (SWEEP, b"sweep")])
def test_a_bar_on_a_terminal_and_none_under_quiet(argv, label):
    status, drawn = stderr_on_a_terminal("verify", argv)
    assert status == 0 and label in drawn and b"run/s" in drawn  # tqdm's bar, drawn then cleared
    status, drawn = stderr_on_a_terminal("verify", [*argv, "--quiet"])
    assert status == 0 and drawn == b""


def test_no_bar_when_stderr_is_not_a_terminal(capfd):
    from verify.cli import main

    assert main(SWEEP) == 0
    assert capfd.readouterr().err == ""
