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
    records = json.loads(out.read_text())
    assert len(records) == 20 and all(r["passed"] for r in records)
    assert {"max_ulps", "max_allowed_ulps", "first_mismatch", "torch_seconds", "reference_seconds"} <= set(records[0])


def test_sweep_reports_known_torch_defects_and_still_exits_zero(capsys):
    rc = main(["sweep", "--steps", "3", "--impl", "for-loop", "--dtype", "float64", "--schedule", "constant",
               "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "known torch defect fused_sgd_late_first_gradient (torch " in text


def test_sweep_on_cuda_without_a_gpu_says_why(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the CUDA sweep runs in test_verify_cuda.py")
    assert main(["sweep", "--device", "cuda", "--quiet"]) == 0
    assert "cuda: skipped" in capsys.readouterr().out


def test_identify_lists_the_matching_formulations(capsys):
    assert main(["identify", "torch.optim:SGD", "--kwargs", '{"momentum": 0.9}', "--steps", "10"]) == 0
    assert "implements: " in capsys.readouterr().out


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
