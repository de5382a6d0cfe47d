"""torch.optim.SGD against derive's ``pytorch_sgd``: every valid flag combination, every impl.

The sweep's configurations are pytest parameters (25 steps here, 200 in the slow suite), so
``pytest -n auto`` spreads them over cores, as ``python -m verify sweep --workers N`` does.
"""

import pytest

torch = pytest.importorskip("torch")

from verify.sweep import SCENARIOS, check, flag_combinations, sweep_configs  # noqa: E402


def _id(config):
    return f"{config.label()}|{'tensor-lr' if config.lr_tensor else 'float-lr'}"


FAST_SWEEP = sweep_configs(steps=25)


def test_flag_combinations_are_exactly_those_sgd_accepts():
    combos = flag_combinations()
    assert len(combos) == 20
    for flags in combos:
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, **flags)
    with pytest.raises(ValueError, match="Nesterov"):
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)


@pytest.mark.parametrize("config", FAST_SWEEP, ids=_id)
def test_torch_sgd_follows_the_pytorch_sgd_formulation(config):
    outcome = check(config)
    assert outcome.report.passed, outcome.report.describe()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_training_loop_scenario_matches_or_shows_its_known_defect(name):
    outcome = check(SCENARIOS[name])
    if outcome.known_defect:
        # strict: the day torch fixes it, this fails and the defect entry must be retired
        assert outcome.strict, f"scenario {name} must show {outcome.known_defect} deterministically"
        assert not outcome.report.passed, f"{outcome.known_defect} no longer shows: {outcome.report.describe()}"
    else:
        assert outcome.report.passed, outcome.report.describe()


@pytest.mark.slow
@pytest.mark.parametrize("config", sweep_configs(), ids=_id)
def test_full_cpu_sweep_of_200_steps_passes(config):
    """The sweep `python -m verify sweep` runs, one test per configuration: `pytest -n auto` spreads it."""
    outcome = check(config)
    assert outcome.report.passed, outcome.report.describe()
