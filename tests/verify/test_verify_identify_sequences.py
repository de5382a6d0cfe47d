"""`verify identify` with the user's per-step sequences (--lr-seq, --momentum-seq, --schedule-offset):
one more probe, run beside identify's own three, read as `verify trajectory` reads them."""

import json

import pytest

torch = pytest.importorskip("torch")

from verify.cli import main  # noqa: E402
from verify.errors import VerifyError  # noqa: E402
from verify.identify import GIVEN_PROBE, identify  # noqa: E402

from clamped_lr import ClampedLR  # noqa: E402

CLAMPED = f"{__file__.rsplit('/', 1)[0]}/clamped_lr.py"


def test_identify_s_own_probes_do_not_reach_the_clamp():
    result = identify(ClampedLR, {"lr": 0.05}, candidates=["pytorch_sgd"], steps=6)
    assert result.matches == ["pytorch_sgd"]
    assert GIVEN_PROBE not in result.verdicts[0].reports


def test_a_given_lr_sequence_is_one_more_probe_and_catches_the_clamp():
    result = identify(ClampedLR, {"lr": 0.05}, candidates=["pytorch_sgd"], steps=6,
                      lr_seq=[0.05, 0.3, 0.05, 0.05, 0.05, 0.05])
    verdict = result.verdicts[0]
    assert result.matches == [] and result.status == 1
    assert set(verdict.reports) == {"constant", "varying lr", GIVEN_PROBE}
    assert verdict.reports["constant"].passed and not verdict.reports[GIVEN_PROBE].passed
    assert verdict.reports[GIVEN_PROBE].first.step == 2  # the step that read 0.3


def test_torch_sgd_implements_its_entry_under_given_lr_and_momentum_sequences():
    result = identify(torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, candidates=["pytorch_sgd", "sutskever_momentum"],
                      steps=5, lr_seq=[0.1, 0.05, 0.02, 0.05, 0.1], momentum_seq=[0.9, 0.8, 0.7, 0.8, 0.9])
    assert result.matches == ["pytorch_sgd"]
    assert result.verdicts[0].reports[GIVEN_PROBE].passed


def test_with_schedule_offset_1_step_one_uses_the_constructor_s_lr():
    # offset 1 needs steps - 1 values; the clamp is hit at step 2 either way, here by entry 1
    result = identify(ClampedLR, {"lr": 0.05}, candidates=["pytorch_sgd"], steps=4, lr_seq=[0.3, 0.05, 0.05],
                      schedule_offset=1)
    assert result.verdicts[0].reports[GIVEN_PROBE].first.step == 2
    assert result.verdicts[0].reports["constant"].passed


@pytest.mark.parametrize("sequences, error, message", [
    ({"lr_seq": [0.1, 0.2]}, VerifyError, "the lr sequence has 2 values; 3 steps with schedule offset 0 need 3"),
    ({"lr_seq": "0.1,0.2,0.3"}, TypeError, "lr_seq must be a sequence of numbers"),
    ({"momentum_seq": [0.9, float("nan"), 0.9]}, VerifyError, "momentum_seq: every value must be a finite number"),
    ({"lr_seq": [0.1, 0.2, 0.3], "schedule_offset": 2}, VerifyError, "schedule offset must be 0 or 1"),
])
def test_bad_sequences_are_refused_before_any_run(sequences, error, message):
    def never(params, **kwargs):
        raise AssertionError("the optimizer was built: the sequences were not checked first")

    with pytest.raises(error, match=message):
        identify(never, {"lr": 0.1}, candidates=["pytorch_sgd"], steps=3, **sequences)


# -- the command line ---------------------------------------------------------------------------
def test_cli_identify_reads_a_sequence_file_and_reports_it(capsys, tmp_path):
    lrs = tmp_path / "lr.txt"
    lrs.write_text("# warm-up, then decay\n0.02\n0.05\n0.1\n0.05\n0.02\n")
    out = tmp_path / "identify.json"
    status = main(["identify", "torch.optim:SGD", "--kwargs", '{"lr": 0.05, "momentum": 0.9}', "--steps", "5",
                   "--lr-seq", str(lrs), "--momentum-seq", "0.9,0.8,0.7,0.8,0.9", "--quiet", "--json", str(out)])
    assert status == 0, capsys.readouterr()
    saved = json.loads(out.read_text())
    assert "pytorch_sgd" in saved["implements"]
    assert saved["lr_seq"] == [0.02, 0.05, 0.1, 0.05, 0.02] and saved["schedule_offset"] == 0


def test_cli_identify_departs_under_a_given_sequence_that_reaches_the_clamp(capsys):
    status = main(["identify", f"{CLAMPED}:ClampedLR", "--kwargs", '{"lr": 0.05}', "--steps", "4",
                   "--lr-seq", "0.05,0.3,0.05,0.05", "--quiet"])
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("  pytorch_sgd("))
    assert status == 1 and f"departs under the {GIVEN_PROBE} probe at step 2," in line, out
    assert "equal under a constant lr only" not in line  # the built-in varying-lr probe passed


@pytest.mark.parametrize("argv, message", [
    (["--lr-seq", "0.1,0.2", "--steps", "3"],
     "the lr sequence has 2 values; 3 steps with schedule offset 0 need 3 (give more values or fewer steps)"),
    (["--momentum-seq", "0.9", "--steps", "3", "--schedule-offset", "1"],
     "the momentum sequence has 1 value; 3 steps with schedule offset 1 need 2"),
    (["--lr-seq", "0.1,a"], "argument --lr-seq: expected a number, got 'a'"),
    (["--lr-seq", "no/such/file"], "neither a comma list of numbers nor an existing file"),
    (["--momentum-seq", "0.9,-inf"], "argument --momentum-seq: must be a finite number"),
    (["--schedule-offset", "2"], "argument --schedule-offset: invalid choice"),
])
def test_cli_identify_bad_sequences_are_one_line_errors(argv, message, capsys):
    try:
        status = main(["identify", "torch.optim:SGD", "--kwargs", '{"momentum": 0.9}', "--quiet", *argv])
    except SystemExit as exc:  # argparse's refusals exit; the others return
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("verify: error: ") and err.count("\n") == 1 and message in err, err
