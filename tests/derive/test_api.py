"""The public API exported from ``derive``: every name resolves, registration, trajectory."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import derive
from derive import closed_form, get, register, trajectory, unregister
from derive.errors import DeriveError
from derive.registry import DuplicateEntry
from derive.symbols import eps, g, mu, t, theta
from user_formulations import qhm


def test_every_exported_name_resolves():
    for name in derive.__all__:
        assert getattr(derive, name) is not None, name


def test_derive_equivalence_is_the_function_and_the_module_still_imports():
    import derive.equivalence as _  # noqa: F401  (binding the submodule must not replace the function)
    from derive.equivalence import Residual, translation  # noqa: F401

    assert callable(derive.equivalence) and derive.equivalence is derive.change_of_variables
    result = derive.equivalence(get("sutskever_momentum"), get("pytorch_momentum_documented"),
                                under={"lr": sp.Symbol("epsilon", positive=True)})
    assert isinstance(result, derive.Proof)
    assert isinstance(derive.equivalence(get("sutskever_momentum"), get("pytorch_momentum_documented")),
                      derive.Residual)


def test_under_imposes_assumptions_by_role_on_both_formulations():
    damped = derive.equivalence(get("mlx_sgd", weight_decay=0), get("pytorch_sgd", weight_decay=0), same_params=True)
    undamped = derive.equivalence(get("mlx_sgd", weight_decay=0), get("pytorch_sgd", weight_decay=0),
                                  same_params=True, under={"dampening": 0})
    assert not damped and undamped


@pytest.fixture
def registered():
    names = []
    yield names
    for name in names:
        unregister(name)


def test_a_registered_factory_is_in_the_catalogue_and_builds_with_options(registered):
    @register
    def qhm_user(*, lr=None, momentum=None, nu=None):
        return qhm(lr=lr, momentum=momentum, nu_value=nu, name="qhm_user")

    registered.append("qhm_user")
    from derive.catalogue import names

    assert "qhm_user" in names() and get("qhm_user").name == "qhm_user"
    f = get("qhm_user", nu=1)
    assert f.hyper["nu"] == 1


def test_a_formulation_registers_itself_and_duplicates_are_refused(registered):
    register(qhm(name="qhm_once"))
    registered.append("qhm_once")
    assert get("qhm_once").title == "Quasi-hyperbolic momentum"
    with pytest.raises(DuplicateEntry, match="already has 'qhm_once'"):
        register(qhm(name="qhm_once"))
    with pytest.raises(DuplicateEntry, match="already has 'plain_gd'.*derive.catalogue.papers.plain_gd"):
        register(get("plain_gd"))


def test_the_appendix_renders_a_registered_entry(registered):
    from derive.render import files
    from derive.render.appendix import Options

    register(qhm(name="qhm_appendix"))
    registered.append("qhm_appendix")
    out = files.render(Options(only=("qhm_appendix",), sections=("formulations",), horizon=2), pdf=False)
    markdown = out["appendix.md"].decode()
    assert "### Quasi-hyperbolic momentum" in markdown and "Ma and Yarats" in markdown


def test_a_factory_whose_formulation_has_another_name_is_refused():
    with pytest.raises(DeriveError, match="named 'qhm' but would be registered as 'other'"):
        register(qhm, name="other")
    assert "other" not in derive.CATALOGUE


def test_trajectory_of_plain_gd_on_given_gradients_is_theta0_minus_the_weighted_sum():
    lrs, grads = [sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 5)], [3, -1, 2]
    run = trajectory("plain_gd", {"lr": lrs}, grads=grads, x0=7, exact=True)
    assert run.shape == (4, 1)
    assert run[-1, 0] == 7 - sum(a * b for a, b in zip(lrs, grads))


def test_trajectory_with_momentum_schedules_equals_the_closed_form():
    f = get("pytorch_momentum_documented")
    lrs, mus, grads = [sp.Rational(1, 2), sp.Rational(1, 4), 1], [sp.Rational(9, 10), sp.Rational(1, 2), 0], [1, 2, 3]
    run = trajectory(f, {"lr": lrs, "momentum": mus}, grads=grads, x0=1, exact=True)
    theta_3 = closed_form(f, 3).expression(theta)  # the unrolled closed form, definitions inlined
    values = {**{eps[k]: lrs[k - 1] for k in (1, 2, 3)}, **{mu[k]: mus[k - 1] for k in (1, 2, 3)},
              **{g[k]: grads[k - 1] for k in (1, 2, 3)}, theta[0]: 1}
    expected = theta_3.xreplace(values)
    assert run[-1, 0] == expected


def test_trajectory_in_floats_agrees_with_the_exact_run():
    hyper = {"lr": [0.1, 0.05, 0.05, 0.02], "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}
    exact = trajectory("pytorch_sgd", hyper, 4, exact=True, curvature=2.0, offset=0.5)
    floats = trajectory("pytorch_sgd", hyper, 4, curvature=2.0, offset=0.5)
    assert floats.dtype == np.float64
    assert np.allclose(floats, exact.astype(float), rtol=1e-14, atol=1e-15)


def test_objectives_per_coordinate_run_as_independent_coordinates():
    hyper = {"lr": 0.05, "momentum": 0.9}
    both = trajectory("sutskever_nesterov", hyper, 5, objective=["x**4/4 - x", "x**2"], x0=[2, 1])
    assert both.shape == (6, 2, 2)
    for c, (objective, x0) in enumerate([("x**4/4 - x", 2), ("x**2", 1)]):
        alone = trajectory("sutskever_nesterov", hyper, 5, objective=objective, x0=x0)
        assert np.array_equal(both[:, c, :], alone)
    # the first step is plain GD at x0 whatever the form: x0 - lr f'(x0)
    assert both[1, 0, 0] == pytest.approx(2 - 0.05 * (2**3 - 1))


def test_trajectory_binds_a_role_the_table_lacks_per_step():
    f = qhm(momentum=sp.Rational(1, 2))
    run = trajectory(f, {"lr": 1, "nu": [0, 1]}, grads=[1, 1], x0=0, exact=True)
    # step 1: nu = 0, plain step; step 2: nu = 1, theta moves by b_2 = (1/2)(1/2) + 1/2
    assert list(run[:, 0]) == [0, -1, -1 - sp.Rational(3, 4)]


def test_trajectory_refuses_bad_requests_with_one_sentence():
    with pytest.raises(DeriveError, match="grads or objective, not both"):
        trajectory("plain_gd", {"lr": 1}, 2, grads=[1, 1], objective="x**2")
    with pytest.raises(DeriveError, match="no hyperparameter 'lrr'"):
        trajectory("plain_gd", {"lrr": 1}, 2)
    with pytest.raises(DeriveError, match="lr has 1 values but step 2"):
        trajectory("plain_gd", {"lr": [1]}, 2)


def test_the_readme_python_api_example_runs_and_prints_what_it_says(capsys):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Python API"):readme.index("\n## ", readme.index("## Python API") + 1)]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    exec(compile(code, "README.md (Python API)", "exec"), {"__name__": "readme_example"})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "(Eq(beta*nu, 0),) True" and printed[1] == "1 2/3"
    assert "qhm_readme" not in derive.CATALOGUE
