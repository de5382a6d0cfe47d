"""The optimizers verify transcribes from frameworks' kernels and from papers share one base
(verify.transcribed): validation, lazily created state, the closure with gradients on; a framework
optimizer without its kernel's update cannot be built."""

import pytest

torch = pytest.importorskip("torch")

from verify import frameworks, literature  # noqa: E402
from verify.transcribed import TranscribedOptimizer  # noqa: E402


def _params():
    return [torch.ones(3, dtype=torch.float64, requires_grad=True)]


def test_a_framework_optimizer_without_its_update_fails_when_constructed():
    class Incomplete(frameworks._FrameworkOptimizer):
        pass

    with pytest.raises(TypeError, match="abstract method.*_update"):
        Incomplete(_params(), lr=0.1)


@pytest.mark.parametrize("cls", [*frameworks.OPTIMIZERS.values(), *literature.ENTRIES])
def test_every_transcribed_optimizer_has_the_shared_base(cls):
    assert issubclass(cls, TranscribedOptimizer)


@pytest.mark.parametrize("cls, option", [(frameworks.OptaxSGD, "lr"), (frameworks.MXNetSGD, "momentum"),
                                         (frameworks.PaddleMomentum, "weight_decay"), (literature.QHM, "lr"),
                                         (literature.AggMo, "lr")])
def test_a_negative_hyperparameter_is_refused_naming_it(cls, option):
    with pytest.raises(ValueError, match=rf"Invalid {option}: {option}=-0.5; it must be >= 0"):
        cls(_params(), **{option: -0.5})


def test_two_state_s_signed_coefficients_are_not_refused():
    optimizer = literature.TwoState(_params(), m=-0.1, z=-0.1)  # m and z are negative by design
    assert (optimizer.param_groups[0]["m"], optimizer.param_groups[0]["z"]) == (-0.1, -0.1)
    with pytest.raises(ValueError, match="Invalid lr"):  # the lr, unsigned, still is
        literature.TwoState(_params(), m=-0.1, z=-0.1, lr=-0.1)


def test_the_closure_runs_with_gradients_on_and_its_loss_is_returned():
    params = _params()
    optimizer = frameworks.OptaxSGD(params, lr=0.1, momentum=0.0)

    def closure():
        optimizer.zero_grad()
        loss = (params[0] ** 2).sum()
        loss.backward()  # fails under no_grad: step() itself runs without gradients
        return loss

    loss = optimizer.step(closure)
    assert loss.item() == 3.0
    assert torch.equal(params[0].detach(), torch.full((3,), 0.8, dtype=torch.float64))  # 1 - 0.1 * 2
