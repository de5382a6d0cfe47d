"""``python -m verify``: each command's output, exit status and one-line errors."""

import json
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from verify.cli import main  # noqa: E402


def test_sweep_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    rc = main(["sweep", "--steps", "5", "--impl", "fused", "--dtype", "float32", "--schedule", "constant",
               "--no-scenarios", "--quiet", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "20 configurations" in text and "cpu    float32  fused" in text
    written = json.loads(out.read_text())
    records = written["configurations"]
    assert written["partial"] is False
    assert len(records) == 20 and all(r["passed"] for r in records)
    assert {"max_ulps", "max_allowed_ulps", "first_mismatch", "torch_seconds", "reference_seconds"} <= set(records[0])


def test_sweep_reports_known_torch_defects_and_still_exits_zero(capsys):
    rc = main(["sweep", "--steps", "3", "--impl", "for-loop", "--dtype", "float64", "--schedule", "constant",
               "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "known torch defect fused_sgd_late_first_gradient (torch " in text


def test_sweep_on_cuda_without_a_gpu_says_why_and_that_nothing_ran(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the CUDA sweep runs in test_verify_cuda.py")
    assert main(["sweep", "--device", "cuda", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "cuda: skipped" in captured.out
    assert captured.err.startswith("verify: error: nothing ran: torch ") and captured.err.count("\n") == 1


def test_identify_lists_the_matching_formulations(capsys):
    assert main(["identify", "torch.optim:SGD", "--kwargs", '{"momentum": 0.9}', "--steps", "10"]) == 0
    assert "implements: " in capsys.readouterr().out


# optax's sgd and Paddle's Momentum are the same update without weight decay (tests/derive/test_frameworks.py),
# but Paddle holds mu in float32 (Formulation.hyper_dtype, applied by every judgement): torch's float64 mu is not
# what Paddle's kernel would use, so paddle_momentum is not among them
TORCH_MOMENTUM_EQUALS = ["pytorch_momentum_documented", "pytorch_sgd", "tf1_momentum", "mlx_sgd", "optax_sgd"]


def test_identify_torch_momentum_names_every_formulation_equal_to_it(tmp_path, capsys):
    out = tmp_path / "identify.json"
    rc = main(["identify", "torch.optim:SGD", "--kwargs", '{"lr": 0.1, "momentum": 0.9}', "--json", str(out)])
    assert rc == 0
    assert "implements: " + ", ".join(TORCH_MOMENTUM_EQUALS) in capsys.readouterr().out
    record = json.loads(out.read_text())
    assert record["status"] == 0
    assert record["implements"] == TORCH_MOMENTUM_EQUALS
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()  # a plain file, not mkstemp's 0600


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_identify_of_a_refused_constructor_is_not_checkable_and_guesses_nothing(capsys):
    assert main(["identify", "torch.optim:SGD", "--kwargs", '{"lr": -0.1}']) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "closest" not in captured.err
    assert captured.err == ("verify: error: not checkable: the optimizer's constructor raised ValueError: "
                            "Invalid learning rate: -0.1 (under the constant probe)\n")


def test_trajectory_shows_the_exact_and_torch_values_side_by_side(tmp_path, capsys):
    out = tmp_path / "t.json"
    rc = main(["trajectory", "--objective", "x**2/2 + x**4/8", "--x0", "1.0,-0.5", "--lr", "0.1",
               "--momentum", "0.9", "--nesterov", "--steps", "4", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "theta exact" in text and ": pass" in text
    rows = json.loads(out.read_text())["steps"]
    assert len(rows) == 5 and abs(rows[4]["difference"][0]) < 1e-15


@pytest.mark.parametrize("argv, message", [
    (["identify", "torch.optim:SGD", "--kwargs", "{momentum: 1}"], "--kwargs is not JSON"),
    (["identify", "torch.optim"], "expected MODULE:CLASS"),
    (["trajectory", "no_such_form"], "unknown formulation 'no_such_form'"),
    (["trajectory", "keras_sgd"], "no torch optimizer implements keras_sgd; pass --optimizer"),
])
def test_a_bad_request_is_one_line_on_stderr_with_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("verify: error: ") and message in err and err.count("\n") == 1


def test_python_dash_m_verify_runs():
    done = subprocess.run([sys.executable, "-m", "verify", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "sweep" in done.stdout and "identify" in done.stdout


@pytest.mark.parametrize("command", ["sweep", "identify", "trajectory"])
def test_each_command_documents_its_exit_status_in_its_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 " in text and "; 1 " in text and "; 2 " in text


def test_the_parser_s_names_are_the_runner_s_and_the_schedules():
    from verify import cli
    from verify.runner import DTYPES, IMPLS
    from verify.schedules import SCHEDULES

    assert cli.DTYPE_NAMES == tuple(DTYPES) and cli.IMPL_NAMES == tuple(IMPLS)
    assert cli.SCHEDULE_NAMES == tuple(SCHEDULES)


# -- Ctrl-C -------------------------------------------------------------------------------------
def _start(argv, cwd):
    from verify_process import env

    return subprocess.Popen([sys.executable, "-m", "verify", *argv], cwd=cwd, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _read_until(stream, marker: bytes, limit: float = 300) -> bytes:
    import os
    import select
    import time

    seen, stop = b"", time.monotonic() + limit
    while marker not in seen:
        ready, _, _ = select.select([stream], [], [], max(0.0, stop - time.monotonic()))
        if not ready:
            raise AssertionError(f"{marker!r} never appeared; saw {seen[-500:]!r}")
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            raise AssertionError(f"the process ended before {marker!r}; saw {seen[-500:]!r}")
        seen += chunk
    return seen


@pytest.mark.slow
def test_ctrl_c_during_identify_says_interrupted_and_exits_130(tmp_path):
    import signal

    from verify_process import HOSTILE

    process = _start(["identify", f"{HOSTILE}:Hangs", "--timeout", "600", "--json", str(tmp_path / "i.json")],
                     tmp_path)
    seen = _read_until(process.stderr, b"hostile: hanging")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    text = (seen + err).decode().replace("hostile: hanging", "")
    assert process.returncode == 130
    assert text.strip() == "verify: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # identify has nothing partial to write


@pytest.mark.slow
def test_ctrl_c_during_a_sweep_writes_what_finished_marked_partial(tmp_path):
    import signal

    out = tmp_path / "sweep.json"
    import os
    import pty

    from verify_process import env

    # stderr on a terminal, so the progress bar says when the first configuration has finished
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a width
    process = subprocess.Popen([sys.executable, "-m", "verify", "sweep", "--steps", "3000", "--dtype", "float64",
                                "--impl", "for-loop", "--schedule", "explicit", "--no-scenarios", "--json", str(out)],
                               cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=slave)
    terminal = os.fdopen(master, "rb", buffering=0)
    seen = _read_until(terminal, b" 1/")
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    os.close(slave)  # kept open until now: a pty whose every slave is closed answers EIO at once
    rest = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child's side is closed
            break
        if not chunk:
            break
        rest += chunk
    terminal.close()
    text = (seen + rest).decode(errors="replace").replace("\r\n", "\n")
    assert process.returncode == 130, text
    assert text.rstrip("\n").splitlines()[-1] == "verify: interrupted" and "Traceback" not in text
    written = json.loads(out.read_text())
    assert written["partial"] is True and 1 <= len(written["configurations"]) < 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.json"]  # no temporary file left
