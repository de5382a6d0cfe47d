"""verify beyond torch's names: param-group keys bound to roles (--roles), extra hyperparameters
(--hyper), explicit per-step sequences (--lr-seq, --momentum-seq) read with a schedule offset, and
a declared hyperparameter precision (--hyper-dtype), from Python and from the command line."""

import json

import pytest

torch = pytest.importorskip("torch")

from derive.catalogue import CATALOGUE, entry  # noqa: E402
from verify.cli import main  # noqa: E402
from verify.errors import VerifyError  # noqa: E402
from verify.identify import identify  # noqa: E402
from verify.reference import compiled  # noqa: E402

from qhm import QHM, TEST_ENTRY, Float32LR, QHMHoldingNuOutside, qhm_user  # noqa: E402

QHM_FILE = f"{__file__.rsplit('/', 1)[0]}/qhm.py"
QHM_KWARGS = {"lr": 0.05, "beta": 0.9, "nu": 0.7}


@pytest.fixture
def registered():
    """The user's QHM entry in the catalogue for the test's duration (no plugin needed)."""
    entry(qhm_user)
    compiled.cache_clear()
    yield TEST_ENTRY
    CATALOGUE.pop(TEST_ENTRY, None)
    compiled.cache_clear()


# -- Python -------------------------------------------------------------------------------------
def test_qhm_with_beta_mapped_to_momentum_implements_the_qhm_formulation_only():
    result = identify(QHM, QHM_KWARGS, roles={"beta": "momentum"}, candidates=[qhm_user(), "pytorch_sgd"],
                      steps=12)
    assert result.matches == [TEST_ENTRY]


def test_without_the_roles_qhm_s_beta_is_not_read_as_momentum_and_nothing_matches():
    result = identify(QHM, QHM_KWARGS, candidates=[qhm_user()], steps=12)
    assert result.matches == [] and result.status == 1


def test_a_wrong_nu_is_caught_at_the_first_step():
    # the optimizer runs nu = 0.7, the formulation is built with nu = 1/2
    result = identify(QHM, QHM_KWARGS, roles={"beta": "momentum"}, candidates=[qhm_user(nu=0.5)], steps=12)
    assert result.matches == []
    assert result.verdicts[0].reports["constant"].first.step == 1


def test_an_extra_hyperparameter_the_groups_do_not_hold_is_the_role_s_constant():
    # the recording has no nu at all: hyper= supplies it (and passes it to the constructor)
    found = identify(QHMHoldingNuOutside, {"lr": 0.05, "beta": 0.9}, hyper={"nu": 0.7}, roles={"beta": "momentum"},
                     candidates=[qhm_user()], steps=12)
    assert found.matches == [TEST_ENTRY]
    unbound = identify(QHMHoldingNuOutside, {"lr": 0.05, "beta": 0.9}, roles={"beta": "momentum"},
                       candidates=[qhm_user()], steps=12)
    assert unbound.status == 2 and "needs nu" in unbound.not_checkable
    with pytest.raises(VerifyError, match="hyper and kwargs both give nu"):
        identify(QHMHoldingNuOutside, {"nu": 0.7}, hyper={"nu": 0.5}, candidates=[qhm_user()])


def test_a_float64_optimizer_holding_its_lr_in_float32_implements_sgd_only_when_declared():
    declared = identify(Float32LR, {"lr": 0.05}, candidates=["pytorch_sgd"], steps=12, hyper_dtype="float32")
    undeclared = identify(Float32LR, {"lr": 0.05}, candidates=["pytorch_sgd"], steps=12)
    assert declared.matches == ["pytorch_sgd"]
    assert undeclared.matches == [] and "departs" in undeclared.verdicts[0].describe()


def test_torch_sgd_itself_departs_from_a_float32_rounded_reference():
    # the declared precision is modelled, not a wider bound: exact float64 hyperparameters now fail
    result = identify(torch.optim.SGD, {"lr": 0.05}, candidates=["pytorch_sgd"], steps=12, hyper_dtype="float32")
    assert result.matches == []


@pytest.mark.parametrize("roles, hyper_dtype, error", [
    ({"beta": "momentum", "b2": "momentum"}, "float64", VerifyError),
    ("beta=momentum", "float64", TypeError),
    ({}, "float16", VerifyError),
])
def test_bad_roles_and_precisions_are_refused_before_any_run(roles, hyper_dtype, error):
    with pytest.raises(error):
        identify(QHM, QHM_KWARGS, roles=roles, hyper_dtype=hyper_dtype, candidates=["pytorch_sgd"])


# -- the command line ---------------------------------------------------------------------------
def test_cli_identify_binds_beta_and_nu(registered, capsys):
    status = main(["identify", f"{QHM_FILE}:QHM", "--kwargs", '{"lr": 0.05}', "--hyper", "beta=0.9,nu=0.7",
                   "--roles", "beta=momentum", "--steps", "10", "--quiet"])
    out = capsys.readouterr().out
    # the test's QHM, and the catalogue's own `qhm` where the literature entries are present: the same algebra
    expected = {TEST_ENTRY} | ({"qhm"} if "qhm" in CATALOGUE else set())
    implements = out.split("\n  implements: ")[1].split("\n")[0].split(", ") if "implements: " in out else []
    assert status == 0 and set(implements) == expected, out


def test_cli_trajectory_follows_qhm_under_explicit_lr_and_momentum_sequences(registered, capsys, tmp_path):
    lrs = tmp_path / "lr.txt"
    lrs.write_text("# lr per step\n0.1\n0.08\n0.06\n\n0.05\n0.04\n0.03\n")
    out = tmp_path / "out.json"
    status = main(["trajectory", TEST_ENTRY, "--optimizer", f"{QHM_FILE}:QHM", "--objective", "x**4/4 - x",
                   "--x0", "2", "--roles", "beta=momentum", "--momentum", "0.9", "--hyper", "nu=0.7",
                   "--lr-seq", str(lrs), "--momentum-seq", "0.9,0.8,0.7,0.6,0.5,0.4", "--steps", "6",
                   "--json", str(out)])
    assert status == 0, capsys.readouterr()
    rows = json.loads(out.read_text())["steps"]
    assert [r["lr"] for r in rows[1:]] == [0.1, 0.08, 0.06, 0.05, 0.04, 0.03]


def test_cli_trajectory_departs_when_the_declared_precision_is_not_the_optimizer_s(registered, capsys):
    # QHM holds lr, beta and nu in float64: a float32-rounded reference departs at the first step
    status = main(["trajectory", TEST_ENTRY, "--optimizer", f"{QHM_FILE}:QHM", "--roles", "beta=momentum",
                   "--momentum", "0.9", "--hyper", "nu=0.7", "--hyper-dtype", "float32", "--steps", "4"])
    assert status == 1 and "first mismatch at step 1" in capsys.readouterr().out


@pytest.mark.parametrize("offset, expected", [("0", [0.1, 0.2, 0.3]), ("1", [0.5, 0.1, 0.2])])
def test_the_schedule_offset_says_which_entry_a_step_reads(offset, expected, capsys, tmp_path):
    out = tmp_path / "out.json"
    status = main(["trajectory", "pytorch_sgd", "--lr", "0.5", "--lr-seq", "0.1,0.2,0.3", "--steps", "3",
                   "--schedule-offset", offset, "--json", str(out)])
    assert status == 0, capsys.readouterr()
    assert [r["lr"] for r in json.loads(out.read_text())["steps"][1:]] == expected


@pytest.mark.parametrize("argv, message", [
    (["--lr-seq", "0.1,0.2", "--steps", "3"], "the lr sequence has 2 values; 3 steps with schedule offset 0 need 3"),
    (["--momentum", "0.9", "--momentum-seq", "0.9", "--steps", "3", "--schedule-offset", "1"],
     "the momentum sequence has 1 value; 3 steps with schedule offset 1 need 2"),
    (["--lr-seq", "0.1,a"], "argument --lr-seq: expected a number, got 'a'"),
    (["--lr-seq", "no/such/file"], "neither a comma list of numbers nor an existing file"),
    (["--lr-seq", "0.1,inf"], "argument --lr-seq: must be a finite number"),
    (["--roles", "beta"], "argument --roles: expected KEY=ROLE pairs"),
    (["--roles", "a=momentum,b=momentum"], "two keys are mapped to the role 'momentum'"),
    (["--hyper", "nu=x"], "argument --hyper: nu: expected a number, got 'x'"),
    (["--hyper", "lr=0.1"], "--hyper gives lr, which --lr/--momentum/... already give"),
    (["--hyper-dtype", "float16"], "argument --hyper-dtype: invalid choice"),
    (["--schedule-offset", "2"], "argument --schedule-offset: invalid choice"),
])
def test_bad_binding_options_are_one_line_errors(argv, message, capsys):
    assert _status(["trajectory", "pytorch_sgd", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("verify: error: ") and err.count("\n") == 1 and message in err, err


def _status(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's refusals exit; the others return
        return exc.code


def test_the_file_sequence_must_cover_the_steps(capsys, tmp_path):
    short = tmp_path / "lr.txt"
    short.write_text("0.1\n0.2\n")
    assert main(["trajectory", "--lr-seq", str(short), "--steps", "5"]) == 2
    assert "the lr sequence has 2 values; 5 steps" in capsys.readouterr().err


def test_cli_identify_refuses_an_option_given_twice(capsys):
    assert main(["identify", "torch.optim:SGD", "--kwargs", '{"momentum": 0.9}', "--hyper", "momentum=0.5"]) == 2
    assert "--hyper and --kwargs both give momentum" in capsys.readouterr().err


def test_the_catalogue_s_own_qhm_entry_if_present_is_identified_with_roles(capsys):
    if "qhm" not in CATALOGUE:
        pytest.skip("no `qhm` catalogue entry on this branch (the literature entries add it)")
    from derive.catalogue import get

    present = set(get("qhm").roles().values())
    roles = {"beta": "momentum" if "momentum" in present else "beta", "nu": "nu"}
    if not set(roles.values()) | {"lr"} >= present:
        pytest.skip(f"the catalogue's qhm has roles {sorted(present)}; this test maps lr, beta, nu only")
    status = main(["identify", f"{QHM_FILE}:QHM", "--hyper", "lr=0.05,beta=0.9,nu=0.7", "--roles",
                   ",".join(f"{k}={v}" for k, v in roles.items()), "--steps", "10", "--quiet"])
    assert status == 0 and "qhm" in capsys.readouterr().out.split("implements:")[1].split("\n")[0]
