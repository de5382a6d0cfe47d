r"""Expected trajectories, computed from derive's linear-system view of a formulation.

Nothing here knows any optimizer's algebra. For a catalogue formulation, derive gives the
per-step affine map (:func:`derive.system.linear_system`)

.. math::
    x_t = A_t x_{t-1} + B_t g_t, \qquad y_{t-1} = C_t x_{t-1}, \qquad \theta_t = c\,x_t,

with :math:`A_1, B_1` distinct when the first step is special. The matrices are templates in
the step's hyperparameters; :class:`CompiledSystem` lambdifies them once, vectorized over the
steps, and :func:`expected` steps them over every parameter element at once (each element is
an independent copy of the scalar system), in float64 or in exact :class:`~fractions.Fraction`
arithmetic. The gradient is the injected one the optimizer was given, or the objective's
:math:`\varphi'` at the formulation's own evaluation point :math:`y_{t-1}`.

Per tensor, a step without a gradient leaves the state untouched and does not advance the
tensor's own step count (``torch.optim`` skips a parameter whose ``.grad`` is None), so the
first step it takes uses :math:`A_1, B_1`; a step skipped by a ``GradScaler`` changes nothing.

Alongside the trajectory, :func:`expected` returns what the tolerance model of
:mod:`verify.compare` needs: the signed per-element error-propagation matrices and the
rounding magnitudes of each step, computed from the same formulation (see
:func:`magnitude_system`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from derive.catalogue import get as get_formulation
from derive.formulation import Formulation
from derive.numeric import step_factors
from derive.symbols import t
from derive.system import linear_system
from verify.compare import magnitude_system
from verify.objectives import Objective


class UnsupportedRun(ValueError):
    """The reference cannot represent this run (say why and what to change)."""


class _FractionPrinter(PythonCodePrinter):
    """Prints rationals as ``Fraction(p, q)`` so a lambdified template stays exact."""

    def _print_Rational(self, expr):
        return f"Fraction({expr.p}, {expr.q})"

    _print_Half = _print_Rational

    def _print_Integer(self, expr):
        return str(expr.p)


@dataclass(frozen=True)
class Argument:
    """One argument of the compiled templates: a role read at ``step + offset``."""

    symbol: sp.Basic
    role: str
    offset: int


def _matrix_function(matrix: sp.Matrix, dummies, exact: bool):
    if exact:
        fn = sp.lambdify(dummies, list(matrix), modules=[{"Fraction": Fraction}], printer=_FractionPrinter)
    else:
        fn = sp.lambdify(dummies, list(matrix), modules="numpy")
    shape = matrix.shape

    def evaluate(*args):
        if exact:
            return np.array(fn(*args), dtype=object).reshape(shape)
        steps = np.shape(args[0])[0] if args else 1
        entries = [np.broadcast_to(np.asarray(e, dtype=np.float64), (steps,)) for e in fn(*args)]
        return np.stack(entries, axis=-1).reshape(steps, *shape)

    return evaluate


class CompiledSystem:
    """The step matrices of one formulation, compiled once (float64 and exact)."""

    def __init__(self, formulation: Formulation):
        self.formulation = formulation
        self.system = linear_system(formulation)
        factors = step_factors(self.system)  # derive's argument order and lifted first step
        mag = magnitude_system(formulation)
        roles = formulation.roles()
        # a hyperparameter the program reads but the composed matrices cancel still rounds
        extra = {a for M in (mag.A, mag.B, mag.A1, mag.B1) for a in M.atoms(sp.Indexed)}
        labels = {i.base.label for M in (mag.A, mag.B, mag.A1, mag.B1) for i in M.atoms(sp.Indexed)}
        extra |= {s for M in (mag.A, mag.B, mag.A1, mag.B1) for s in M.free_symbols
                  if isinstance(s, sp.Symbol) and s in roles and s not in labels}
        args = tuple(factors.args) + tuple(sorted(extra - set(factors.args), key=sp.default_sort_key))
        self.arguments = tuple(
            Argument(a, roles.get(a.base if isinstance(a, sp.Indexed) else a, str(a)),
                     int((a.indices[0] - t).subs(t, 0)) if isinstance(a, sp.Indexed) else 0)
            for a in args
        )
        self._dummies = [sp.Dummy(f"a{n}") for n in range(len(args))]
        sub = dict(zip(args, self._dummies))
        self.templates = {
            "A": self.system.A, "B": self.system.B, "C": self.system.C,
            "A1": factors.lifted[0], "B1": factors.lifted[1],
            "magA": mag.A, "magB": mag.B, "magA1": mag.A1, "magB1": mag.B1,
        }
        self.templates = {k: sp.Matrix(v).xreplace(sub) for k, v in self.templates.items()}
        unbound = {a for M in self.templates.values() for a in M.free_symbols | M.atoms(sp.Indexed)
                   if not isinstance(a, sp.Dummy)}
        if unbound:
            raise UnsupportedRun(f"{formulation.name}: no role for {sorted(map(str, unbound))} in its hyper map")
        self.roundings = mag.roundings
        entry_ops = max(int(sp.count_ops(e)) + len(e.free_symbols)
                        for k in ("A", "B", "A1", "B1") for e in self.templates[k])
        # float64 reference: each entry computed, then a dot product of m + 1 terms.
        self.reference_roundings = entry_ops + self.size + 1
        self.param_row = formulation.state.index(formulation.params)

    @property
    def size(self) -> int:
        return len(self.formulation.state)

    @cached_property
    def _float(self):
        return {k: _matrix_function(m, self._dummies, False) for k, m in self.templates.items()}

    @cached_property
    def _exact(self):
        return {k: _matrix_function(m, self._dummies, True) for k, m in self.templates.items()
                if not k.startswith("mag")}

    def values(self, hyper: dict[str, np.ndarray], steps: int) -> list[np.ndarray]:
        """Per-argument arrays of length ``steps`` (the value at step ``t + offset``).

        A value needed past the last step (``mu[t+1]`` at step ``T``) repeats the last one.
        """
        out = []
        for arg in self.arguments:
            if arg.role not in hyper or np.isnan(hyper[arg.role][:steps]).all():
                have = ", ".join(k for k, v in hyper.items() if not np.isnan(v).all()) or "none"
                raise UnsupportedRun(
                    f"{self.formulation.name} needs {arg.role} ({arg.symbol}); the run recorded {have}"
                )
            series = np.asarray(hyper[arg.role][:steps], dtype=np.float64)
            index = np.minimum(np.arange(steps) + arg.offset, steps - 1)
            out.append(series[index])
        return out

    def matrices(self, values: list[np.ndarray]) -> dict[str, np.ndarray]:
        """Every template at every step: arrays of shape ``(steps, rows, cols)``."""
        return {k: f(*values) for k, f in self._float.items()}

    def exact_matrices(self, values: list[np.ndarray], step: int) -> dict[str, np.ndarray]:
        args = [Fraction(float(v[step - 1])) for v in values]
        return {k: f(*args) for k, f in self._exact.items()}


@lru_cache(maxsize=256)
def compiled(name: str, options: tuple = ()) -> CompiledSystem:
    """The compiled system of catalogue entry ``name`` built with ``options`` (cached)."""
    return CompiledSystem(get_formulation(name, **dict(options)))

@dataclass
class GroupTrace:
    """One parameter group's expected run; its elements are flattened in tensor order.

    ``propagate``, ``program_magnitude`` and ``gradient_magnitude`` feed the tolerance model
    of :mod:`verify.compare`; they are zero (identity) at steps where an element is idle.
    """

    shapes: list[tuple[int, ...]]
    x: np.ndarray  # (T + 1, m, N) float64
    x_exact: np.ndarray | None  # (T + 1, m, N) Fractions, exact mode only
    theta_row: int
    propagate: np.ndarray  # (T, N, m, m): A_t + B_t h_t C_t, h = |phi''| at y (0 if injected)
    program_magnitude: np.ndarray  # (T, m, N): |A|_M |x_{t-1}| + |B|_M |g_t|
    gradient_magnitude: np.ndarray  # (T, m, N): |B_t| M(phi')(y_{t-1})
    roundings: int
    reference_roundings: int
    gradient_roundings: int

    def theta(self, index: int) -> np.ndarray:
        """Tensor ``index``'s expected values, shape ``(T + 1, *shape)``."""
        start = sum(int(np.prod(s)) for s in self.shapes[:index])
        size = int(np.prod(self.shapes[index]))
        rows = self.x[:, self.theta_row, start : start + size]
        return rows.reshape(rows.shape[0], *self.shapes[index])


@dataclass
class Expected:
    """The expected run of a whole optimizer: one :class:`GroupTrace` per parameter group."""

    formulation: str
    mode: str  # "float64" or "exact"
    groups: list[GroupTrace]
    seconds: float = 0.0


def expected(system: CompiledSystem | list[CompiledSystem], observed, *, mode: str = "float64") -> Expected:
    """The trajectory derive predicts for the inputs ``observed`` recorded (one system per group).

    ``observed`` is a :class:`verify.runner.Observed` (or anything with its fields): initial
    values, per-step hyperparameters per group, injected gradients, activity, skipped steps,
    and the run's objective.
    """
    import time

    started = time.perf_counter()
    if mode not in ("float64", "exact"):
        raise ValueError(f"mode must be 'float64' or 'exact', got {mode!r}")
    systems = system if isinstance(system, list) else [system] * len(observed.theta)
    objective = observed.config.objective
    steps = observed.config.steps
    groups = []
    for gi, sys_ in enumerate(systems):
        shapes = [a.shape[1:] for a in observed.theta[gi]]
        theta0 = np.concatenate([a[0].reshape(-1) for a in observed.theta[gi]])
        sizes = [int(np.prod(s)) for s in shapes]
        active = np.concatenate([np.repeat(a[:, None], n, axis=1)
                                 for a, n in zip(observed.active[gi], sizes)], axis=1)
        grads = None
        if objective is None:
            grads = np.concatenate([a.reshape(steps, -1) for a in observed.grads[gi]], axis=1)
        with np.errstate(all="ignore"):  # a diverging run is judged by compare, not warned about
            groups.append(_step_group(sys_, theta0, observed.hyper[gi], grads, active,
                                      observed.skipped, objective, steps, shapes, mode == "exact"))
    return Expected(systems[0].formulation.name, mode, groups, time.perf_counter() - started)


def _initial_state(system: CompiledSystem, theta0: np.ndarray, exact: bool) -> np.ndarray:
    f = system.formulation
    rows = []
    for base, value in f.initial_state().items():
        if base == f.params:
            rows.append([Fraction(float(v)) for v in theta0] if exact else theta0)
        elif value.is_number:
            rows.append([Fraction(int(value.p), int(value.q))] * len(theta0) if exact
                        else np.full(len(theta0), float(value)))
        else:
            raise UnsupportedRun(f"{f.name}: the initial value of {base} is not fixed ({value}); "
                                  "declare it in the formulation's init")
    return np.array(rows, dtype=object if exact else np.float64)


def _step_group(system, theta0, hyper, grads, active, skipped, objective: Objective | None,
                steps, shapes, exact) -> GroupTrace:
    m, n = system.size, len(theta0)
    values = system.values(hyper, steps)
    mats = system.matrices(values)
    x = _initial_state(system, theta0, exact)
    xs_float = np.empty((steps + 1, m, n))
    xs_exact = np.empty((steps + 1, m, n), dtype=object) if exact else None
    xs_float[0] = x.astype(np.float64)
    if exact:
        xs_exact[0] = x
    propagate = np.broadcast_to(np.eye(m), (steps, n, m, m)).copy()
    program_mag = np.zeros((steps, m, n))
    gradient_mag = np.zeros((steps, m, n))
    taken = np.zeros(n, dtype=int)  # each element's own step count (frozen steps do not count)
    for s in range(steps):
        act = active[s] & ~skipped[s]
        if act.any():
            first = act & (taken == 0)
            M = system.exact_matrices(values, s + 1) if exact else {k: mats[k][s] for k in ("A", "B", "C", "A1", "B1")}
            x_prev = xs_float[s]
            y = (M["C"] @ x)[0]
            y_float = (mats["C"][s] @ x_prev)[0]
            if objective is None:
                gvals = grads[s]
                gvals = np.where(act, np.nan_to_num(gvals), 0.0)
                grad = np.array([Fraction(float(v)) for v in gvals], dtype=object) if exact else gvals
            elif exact:
                grad = np.array([objective.gradient_exact(v) if a else Fraction(0)
                                 for v, a in zip(y, act)], dtype=object)
                gvals = grad.astype(np.float64)
            else:
                grad = np.where(act, objective.gradient(y), 0.0)
                gvals = grad
            new = M["A"] @ x + M["B"] * grad
            if first.any():
                new = np.where(first, M["A1"] @ x + M["B1"] * grad, new)
            x = np.where(act, new, x)
            taken += act
            # the tolerance model's inputs, always in float64
            A = np.where(first[:, None, None], mats["A1"][s], mats["A"][s])
            B = np.where(first[:, None, None], mats["B1"][s], mats["B"][s])
            if objective is not None:
                curvature = objective.curvature(y_float)
                A = A + B * (curvature[:, None, None] * mats["C"][s][None])
                gradient_mag[s] = np.abs(B[:, :, 0].T) * objective.gradient_magnitude(y_float) * act
            propagate[s] = np.where(act[:, None, None], A, propagate[s])
            magA = np.where(first, mats["magA1"][s] @ np.abs(x_prev), mats["magA"][s] @ np.abs(x_prev))
            magB = np.where(first, mats["magB1"][s] * np.abs(gvals), mats["magB"][s] * np.abs(gvals))
            program_mag[s] = (magA + magB) * act
        xs_float[s + 1] = x.astype(np.float64) if exact else x
        if exact:
            xs_exact[s + 1] = x
    return GroupTrace(
        shapes=[tuple(s) for s in shapes], x=xs_float, x_exact=xs_exact, theta_row=system.param_row,
        propagate=propagate, program_magnitude=program_mag, gradient_magnitude=gradient_mag,
        roundings=system.roundings, reference_roundings=0 if exact else system.reference_roundings,
        gradient_roundings=0 if objective is None else objective.gradient_roundings,
    )
