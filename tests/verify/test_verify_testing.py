"""verify.testing.assert_implements and verify.check: a user's optimizer against one entry, with
the first mismatch in the failure message."""

import pytest

torch = pytest.importorskip("torch")

import verify  # noqa: E402
from verify.testing import assert_implements  # noqa: E402

from hostile_optimizers import DoesNothing, RaisesAtStepThree  # noqa: E402
from qhm import QHM, qhm_user  # noqa: E402


def test_torch_sgd_implements_pytorch_sgd():
    verdict = assert_implements(torch.optim.SGD, "pytorch_sgd", {"lr": 0.05, "momentum": 0.9}, steps=10)
    assert set(verdict.reports) == {"constant", "varying lr", "varying lr and momentum"}


def test_qhm_implements_its_formulation_with_roles():
    assert_implements(QHM, qhm_user(), {"lr": 0.05, "beta": 0.9, "nu": 0.7}, roles={"beta": "momentum"}, steps=10)


def test_a_departure_names_the_probe_and_the_first_mismatch():
    with pytest.raises(AssertionError) as failed:
        assert_implements(torch.optim.SGD, "sutskever_momentum", {"momentum": 0.9}, steps=10)
    message = str(failed.value)
    assert "does not implement sutskever_momentum (they agree under a constant lr only)" in message
    assert "under the varying lr probe, first mismatch at step 2, group 0, tensor 0, element (0,)" in message
    assert "observed " in message and "expected " in message and "> bound " in message


def test_an_optimizer_that_cannot_be_checked_says_why():
    with pytest.raises(AssertionError, match="cannot be checked against pytorch_sgd: .*never called the closure"):
        assert_implements(DoesNothing, "pytorch_sgd", {"lr": 0.05}, steps=5)


def test_check_judges_one_optimizer_against_one_entry():
    assert verify.check(torch.optim.SGD, "pytorch_sgd", {"lr": 0.05, "momentum": 0.9}, steps=10,
                        schedule="explicit").status == 0
    departs = verify.check(torch.optim.SGD, "sutskever_momentum", {"lr": 0.05, "momentum": 0.9}, steps=10,
                           lr_seq=[0.05, 0.04, 0.03, 0.02, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06])
    assert departs.status == 1 and departs.first.step == 2


def test_check_follows_explicit_sequences_with_roles_and_an_objective():
    result = verify.check(QHM, qhm_user(), {"lr": 0.05, "beta": 0.9, "nu": 0.7}, roles={"beta": "momentum"},
                          steps=6, lr_seq=[0.1, 0.2, 0.1, 0.2, 0.1, 0.2], momentum_seq=[0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
                          objective="x**4/4 - x", exact=True)
    assert result.passed, result.describe()


def test_check_reports_an_optimizer_that_raised_as_not_checkable():
    result = verify.check(RaisesAtStepThree, "plain_gd", {"lr": 0.05}, steps=5)
    assert result.status == 2 and "raised" in result.not_checkable


@pytest.mark.parametrize("kwargs, error", [
    ({"steps": 0}, verify.VerifyError),
    ({"lr_seq": [0.1]}, verify.VerifyError),
    ({"lr_seq": "0.1,0.2"}, TypeError),
    ({"roles": {"a": "lr", "b": "lr"}}, verify.VerifyError),
])
def test_check_refuses_bad_arguments_before_running(kwargs, error):
    with pytest.raises(error):
        verify.check(torch.optim.SGD, "pytorch_sgd", {"lr": 0.05}, **{"steps": 3, **kwargs})
