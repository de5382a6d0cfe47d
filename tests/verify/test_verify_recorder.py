"""verify.record: a real training loop recorded around optimizer.step() and judged with the same
binding, reference, tolerance model and first-mismatch report as `verify trajectory`."""

import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import verify  # noqa: E402
from verify.errors import VerifyError  # noqa: E402

from qhm import QHM, Float32LR, qhm_user  # noqa: E402

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _loop(optimizer, params, steps=12, scheduler=None, dtype=torch.float64):
    torch.manual_seed(1)
    x = torch.randn(32, params[0].shape[-1], dtype=dtype)
    y = torch.randn(32, dtype=dtype)
    with verify.record(optimizer) as recording:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = ((x @ params[0] + params[1] - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
    return recording


def _params(dtype=torch.float64):
    torch.manual_seed(0)
    return [torch.randn(3, dtype=dtype, requires_grad=True), torch.zeros((), dtype=dtype, requires_grad=True)]


def test_the_readme_example_runs_and_its_assertions_hold(capsys):
    block = re.search(r"```python\n(import torch\nimport verify\n.*?)```", README, flags=re.S)
    assert block is not None, "the README's recorder example is gone"
    exec(compile(block.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "pytorch_sgd: within tolerance" in out and "sutskever_nesterov: departs" in out


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torch_sgd_with_momentum_decay_and_a_scheduler_is_pytorch_sgd(dtype):
    params = _params(dtype)
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=12)
    recording = _loop(optimizer, params, scheduler=scheduler, dtype=dtype)
    assert recording.steps == 12
    verdict = recording.check("pytorch_sgd")
    assert verdict.passed, verdict.describe()
    assert not recording.check("mlx_sgd").passed  # MLX damps the first step: the recording tells them apart


def test_a_loop_of_the_users_qhm_checks_against_its_formulation_with_roles():
    params = _params()
    recording = _loop(QHM(params, lr=0.05, beta=0.9, nu=0.7), params)
    assert recording.check(qhm_user(), roles={"beta": "momentum"}).passed
    wrong = recording.check(qhm_user(nu=0.5), roles={"beta": "momentum"})
    assert wrong.status == 1 and wrong.first.step == 1


def test_the_declared_hyperparameter_precision_decides_a_float32_lr_loop():
    params = _params()
    recording = _loop(Float32LR(params, lr=0.05), params)
    assert recording.check("plain_gd", hyper_dtype="float32").passed
    assert recording.check("plain_gd").status == 1


def test_a_tensor_without_gradients_is_left_out_and_the_rest_is_judged():
    params = _params()
    idle = torch.zeros(2, dtype=torch.float64, requires_grad=True)  # never in the loss: no .grad ever
    optimizer = torch.optim.SGD([*params, idle], lr=0.05, momentum=0.9)
    recording = _loop(optimizer, params)
    assert [len(g) for g in recording.observed().theta] == [2]
    assert recording.check("pytorch_sgd").passed


def _closure_loop(optimizer, params, steps=12, keyword=False):
    """The closure idiom: zero_grad, forward and backward all inside the closure, so before each
    step() .grad is the previous step's gradient (None before the first)."""
    torch.manual_seed(1)
    x, y = torch.randn(32, 3, dtype=torch.float64), torch.randn(32, dtype=torch.float64)

    def closure():
        optimizer.zero_grad()
        loss = ((x @ params[0] + params[1] - y) ** 2).mean()
        loss.backward()
        return loss

    with verify.record(optimizer) as recording:
        for _ in range(steps):
            optimizer.step(closure=closure) if keyword else optimizer.step(closure)
    return recording


@pytest.mark.parametrize("keyword", [False, True])
def test_a_closure_loop_records_the_gradient_the_closure_computed(keyword):
    params = _params()
    recording = _closure_loop(torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True), params,
                              keyword=keyword)
    observed = recording.observed()
    assert observed.active[0][0].all()  # step 1 saw a gradient, though .grad was None before step()
    verdict = recording.check("pytorch_sgd")
    assert verdict.passed, verdict.describe()
    wrong = recording.check("sutskever_nesterov")
    assert wrong.status == 1 and wrong.first.step == 1


def test_a_closure_loop_is_the_same_recording_as_the_backward_loop():
    closure_params, plain_params = _params(), _params()
    by_closure = _closure_loop(torch.optim.SGD(closure_params, lr=0.05, momentum=0.9), closure_params).observed()
    by_backward = _loop(torch.optim.SGD(plain_params, lr=0.05, momentum=0.9), plain_params).observed()
    for a, b in zip(by_closure.grads[0] + by_closure.theta[0], by_backward.grads[0] + by_backward.theta[0]):
        assert (a == b).all()


def test_a_step_that_calls_its_closure_twice_cannot_be_judged_and_says_why():
    params = _params()
    recording = _closure_loop(torch.optim.LBFGS(params, lr=0.05, max_iter=3), params, steps=2)
    with pytest.raises(VerifyError, match="step 1 called its closure more than once"):
        recording.check("plain_gd")


def test_an_empty_recording_cannot_be_judged():
    optimizer = torch.optim.SGD(_params(), lr=0.05)
    with verify.record(optimizer) as recording:
        pass
    with pytest.raises(VerifyError, match="nothing was recorded"):
        recording.check("pytorch_sgd")


def test_the_hooks_are_removed_when_the_block_ends():
    params = _params()
    optimizer = torch.optim.SGD(params, lr=0.05)
    recording = _loop(optimizer, params, steps=3)
    params[0].grad = torch.ones(3, dtype=torch.float64)
    optimizer.step()
    assert recording.steps == 3
