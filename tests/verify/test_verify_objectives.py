"""One SymPy expression, every function verify needs: they agree with each other and with torch."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

torch = pytest.importorskip("torch")

from verify.objectives import Objective, rounding_magnitude  # noqa: E402

EXPRESSIONS = ["x**2/2 - x/4", "x**2/2 + x**4/8", "sin(x) + x**2", "exp(-x**2)", "log(1 + x**2)"]
POINTS = np.array([-1.5, -0.3, 0.0, 0.7, 2.0])


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_torch_autograd_and_the_numpy_gradient_agree(text):
    objective = Objective.parse(text)
    x = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
    objective.torch_loss([x]).backward()
    np.testing.assert_allclose(x.grad.numpy(), objective.gradient(POINTS), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_the_exact_gradient_agrees_with_float64(text):
    objective = Objective.parse(text)
    exact = [float(objective.gradient_exact(Fraction(float(v)))) for v in POINTS]
    np.testing.assert_allclose(exact, objective.gradient(POINTS), rtol=1e-15, atol=1e-16)


def test_a_quadratic_objective_has_an_exactly_rational_gradient():
    objective = Objective.parse("3*x**2/2 - x")
    assert objective.is_affine_gradient
    assert objective.gradient_exact(Fraction(1, 5)) == Fraction(-2, 5)  # 3/5 - 1, no rounding


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_the_rounding_magnitude_bounds_the_value(text):
    objective = Objective.parse(text)
    magnitude = sp.lambdify(objective.symbol, rounding_magnitude(objective.derivative), "numpy")
    assert np.all(np.broadcast_to(magnitude(POINTS), POINTS.shape) >= np.abs(objective.gradient(POINTS)))


def test_an_objective_with_a_second_symbol_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="free symbols y; write it in x only"):
        Objective.parse("x*y")
