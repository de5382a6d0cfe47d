r"""The numeric engine: hyperparameters bound by role and step, a system's step compiled, and stepped.

Every number derive computes from a formulation comes from here: the float64
evaluation of a closed form (:meth:`derive.unroll.ClosedForm.evaluate`), the
notebooks' trajectories (:func:`derive.render.experiments.trajectory`), the exact
witnesses (:func:`derive.witness.exact_trajectory`) and the exact reference
torch is compared with.  verify's vectorised reference builds on the same
pieces (:class:`CompiledStep`, :func:`compile_matrices`).

* :mod:`~derive.numeric.binding`: a value per role, symbol or entry, constant
  or per step; ``base[t + o]`` is read at step ``k`` as step ``k + o``'s value.
* :mod:`~derive.numeric.compiled`: :math:`A_t, B_t, C_t` and step 1's
  :math:`A_1, B_1` compiled once, float64 (vectorised over steps) and exact.
* :mod:`~derive.numeric.stepping`: :func:`run`,
  :math:`x_k = A_k x_{k-1} + B_k g_k` with given gradients or a quadratic's.

>>> from derive import get
>>> from derive.numeric import run
>>> f = get("sutskever_momentum")
>>> run(f, {"lr": 0.5, "momentum": [0.5, 0.25]}, 2, gradients=[1, 1], initial={f.params: 0}, exact=True).state(2)
{theta: -9/8, v: -5/8}
"""

from derive.numeric.binding import Argument, argument, as_sympy, exact_number, is_sequence, lookup
from derive.numeric.compiled import CompiledStep, compile_matrices, compile_step, step_factors
from derive.numeric.stepping import Trajectory, run

StepFactors = CompiledStep  # the name before the engine

__all__ = ["Argument", "CompiledStep", "StepFactors", "Trajectory", "argument", "as_sympy", "compile_matrices",
           "compile_step", "exact_number", "is_sequence", "lookup", "run", "step_factors"]
