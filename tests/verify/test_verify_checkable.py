"""verify.checkable.run_problem: the lr-is-0 rule is decided there, per entry, so every caller
(check, identify, trajectory, the recorder, the literature and framework checks) gets it: an entry
with a learning rate is not judged on a run whose lr is 0 throughout; an entry without one
(two_state) is, and the null comparison still guards it."""

import pytest

torch = pytest.importorskip("torch")

import verify  # noqa: E402
from derive.catalogue import get  # noqa: E402
from verify.binding import Binding  # noqa: E402
from verify.checkable import run_problem  # noqa: E402
from verify.identify import probes  # noqa: E402
from verify.literature import TwoState  # noqa: E402
from verify.runner import run  # noqa: E402

ZERO_LR = "nothing moved: the lr is 0 at every step"
TSO = {"h": 11 / 24, "k": 13 / 24, "l": 7 / 12, "m": -1 / 24, "q": 25 / 24, "z": -5 / 12}


class AlphaSGD(torch.optim.Optimizer):
    """Plain SGD whose param groups call the learning rate ``alpha``."""

    def __init__(self, params, alpha=0.05):
        super().__init__(params, {"alpha": alpha})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["alpha"])
        return loss


@pytest.fixture(scope="module")
def zero_lr_run():
    return Binding().observed(run(probes(torch.optim.SGD, {"lr": 0.0}, steps=5)["constant"]))


@pytest.mark.parametrize("entry, says", [
    ("pytorch_sgd", ZERO_LR), ("plain_gd", ZERO_LR), (get("plain_gd"), ZERO_LR),
    ("two_state", None), (get("two_state"), None),  # no learning rate: its coefficients are the step
    (None, None),  # no entry chosen yet (identify's probes): only what no entry can change
])
def test_the_zero_lr_rule_depends_on_whether_the_entry_has_a_learning_rate(zero_lr_run, entry, says):
    problem = run_problem(zero_lr_run, entry)
    assert problem is None if says is None else says in problem


def test_a_run_with_an_lr_is_not_refused_for_any_entry():
    observed = Binding().observed(run(probes(torch.optim.SGD, {"lr": 0.05}, steps=5)["constant"]))
    assert run_problem(observed, "pytorch_sgd") is None


def test_check_judges_an_entry_without_a_learning_rate_on_a_zero_lr_run():
    result = verify.check(TwoState, "two_state", {**TSO, "lr": 0.0}, steps=12)
    assert result.passed, result.describe()


def test_check_refuses_a_zero_lr_for_an_entry_that_reads_one():
    result = verify.check(torch.optim.SGD, "pytorch_sgd", {"lr": 0.0}, steps=12)
    assert result.status == 2 and ZERO_LR in result.not_checkable


def test_the_rule_reads_the_bound_role_whatever_the_optimizer_calls_its_lr():
    result = verify.check(AlphaSGD, "plain_gd", {"alpha": 0.0}, roles={"alpha": "lr"}, steps=12)
    assert result.status == 2 and ZERO_LR in result.not_checkable


def test_identify_judges_two_state_on_a_zero_lr_probe():
    result = verify.identify(TwoState, {**TSO, "lr": 0.0}, candidates=["two_state", "plain_gd"], steps=12)
    assert result.matches == ["two_state"], result.describe()
    # plain_gd with lr 0 predicts no motion, TwoState moved: a departure, not "doing nothing would pass"
    plain = result.verdicts[1]
    assert plain.unchecked is None and not plain.reports["constant"].passed


def test_identify_refuses_every_entry_with_an_lr_when_the_probe_s_lr_is_0():
    result = verify.identify(torch.optim.SGD, {"lr": 0.0}, candidates=["plain_gd", "pytorch_sgd"], steps=10)
    assert result.status == 2 and ZERO_LR in result.not_checkable
    assert all(ZERO_LR in v.unchecked for v in result.verdicts)


# -- a pass that could barely fail: bfloat16 over 10 steps of the default trajectory -----------------
def _trajectory(capsys, *argv) -> tuple[int, str]:
    from verify.cli import main

    status = main(["trajectory", *argv])
    captured = capsys.readouterr()
    return status, captured.err


def test_bfloat16_for_10_steps_is_not_checkable_and_says_why_and_what_to_do(capsys):
    # theta_t = 0.9**t from 1: after 10 steps the whole way is 0.65, 83 bfloat16 ULPs of 1 (2**-7 each),
    # while 10 steps of rounding may cost 9.5 of them: the null trajectory is rejected by 8.8x, not 10x
    status, err = _trajectory(capsys, "--dtype", "bfloat16", "--steps", "10")
    assert status == 2 and err.startswith("verify: error: not checkable: ") and err.count("\n") == 1, err
    assert "83.4 ULP against 9.49 allowed (8.8 times; a pass needs 10)" in err
    assert "bfloat16 keeps 8 significant bits" in err and "the rounding of 10 steps may cost 9.49 of them" in err
    assert "take more steps or a larger lr" in err and "or use float32" in err


@pytest.mark.parametrize("argv", [["--dtype", "bfloat16", "--steps", "15"],  # further: 101 ULP, 10.7x
                                  ["--dtype", "bfloat16", "--steps", "10", "--lr", "0.3"],
                                  ["--dtype", "float32", "--steps", "10"]])
def test_each_remedy_the_message_names_makes_the_run_checkable(capsys, argv):
    status, err = _trajectory(capsys, *argv)
    assert status == 0, err
