"""Every check can fail: deliberately wrong SGD variants are rejected exactly where they differ."""

import pytest

pytest.importorskip("torch")

from verify import schedules  # noqa: E402
from verify.identify import identify  # noqa: E402
from verify.sweep import check, flag_combinations, sweep_configs  # noqa: E402
from wrong_sgd import MUTANTS, ControlSGD  # noqa: E402

TORCH_SGD_ENTRIES = ["pytorch_sgd", "pytorch_nesterov_implemented", "pytorch_momentum_documented"]


def _configs(optimizer):
    return sweep_configs(optimizer=optimizer, impls=("for-loop",), schedules=("constant", "explicit"), steps=30)


def _flags(config):
    return {k: config.options[k] for k in ("momentum", "dampening", "weight_decay", "nesterov", "maximize")}


def test_the_unmutated_control_passes_every_configuration():
    failures = [o.report.describe() for o in map(check, _configs(ControlSGD)) if not o.report.passed]
    assert not failures, "\n".join(failures[:5])


@pytest.mark.parametrize("name", list(MUTANTS))
def test_sweep_rejects_the_mutant_exactly_where_its_defect_changes_the_iterates(name):
    mutant = MUTANTS[name]
    wrong = []
    caught = 0
    for config in _configs(mutant.optimizer):
        should_fail = mutant.shows(_flags(config), schedules.get(config.schedule).varies_lr)
        report = check(config).report
        caught += not report.passed
        if report.passed == should_fail:
            wrong.append(f"expected {'FAIL' if should_fail else 'pass'}: {report.describe()}")
    assert caught > 0
    assert not wrong, "\n".join(wrong[:5])


def _showing_flags(mutant):
    return next(f for f in flag_combinations() if mutant.shows(f, True))


@pytest.mark.parametrize("name", list(MUTANTS))
def test_identify_never_calls_a_mutant_torch_optim_sgd(name):
    mutant = MUTANTS[name]
    result = identify(mutant.optimizer, _showing_flags(mutant), candidates=TORCH_SGD_ENTRIES, steps=12)
    assert not set(result.matches) & set(TORCH_SGD_ENTRIES), result.describe()


def test_identify_calls_the_control_torch_optim_sgd():
    flags = {"momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01, "maximize": True}
    result = identify(ControlSGD, flags, candidates=TORCH_SGD_ENTRIES, steps=12)
    assert "pytorch_sgd" in result.matches, result.describe()
