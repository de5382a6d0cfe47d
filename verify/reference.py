r"""Expected trajectories, computed from derive's linear-system view of a formulation.

Nothing here knows any optimizer's algebra. For a catalogue formulation, derive gives the
per-step affine map (:func:`derive.system.linear_system`)

.. math::
    x_t = A_t x_{t-1} + B_t g_t, \qquad y_{t-1} = C_t x_{t-1}, \qquad \theta_t = c\,x_t,

with :math:`A_1, B_1` distinct when the first step is special. The matrices are templates in
the step's hyperparameters; :class:`CompiledSystem` lambdifies them once, vectorized over the
steps, and :func:`expected` steps them over the parameter elements (each element is an
independent copy of the scalar system), in float64 or in exact :class:`~fractions.Fraction`
arithmetic. The gradient is the injected one the optimizer was given, or the objective's
:math:`\varphi'` at the formulation's own evaluation point :math:`y_{t-1}`.

Per tensor, a step without a gradient leaves the state untouched and does not advance the
tensor's own step count (``torch.optim`` skips a parameter whose ``.grad`` is None), so the
first step it takes uses :math:`A_1, B_1`; a step skipped by a ``GradScaler`` changes nothing.
Tensors with the same pattern of such steps share every step matrix: the work is per group of
tensors, never a matrix per element, and it runs a bounded chunk of elements at a time
(:mod:`verify.stepping`), so a 10^7-element layer needs memory for a chunk, not for (T, N).

Alongside the trajectory, each chunk carries what the tolerance model of :mod:`verify.compare`
needs: the error-propagation matrices and the rounding magnitudes of each step, computed from
the same formulation (see :func:`verify.compare.magnitude_system`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Iterator

import numpy as np
import sympy as sp

from derive.catalogue import get as get_formulation
from derive.formulation import Formulation
from derive.numeric import step_factors
from derive.numeric.compiled import compile_matrices
from derive.symbols import t
from derive.system import linear_system
from verify.compare import magnitude_system
from verify.stepping import Chunk, GroupInputs, NonFiniteReference, plan, segments, step_chunk

__all__ = ["CompiledSystem", "Expected", "GroupTrace", "NonFiniteReference", "UnsupportedRun", "compiled",
           "expected"]


class UnsupportedRun(ValueError):
    """The reference cannot represent this run (say why and what to change)."""


@dataclass(frozen=True)
class Argument:
    """One argument of the compiled templates: a role read at ``step + offset``."""

    symbol: sp.Basic
    role: str
    offset: int


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

    # derive's engine compiles every template (derive.numeric.compile_matrices): one place turns a
    # system's matrices into float64 (vectorised over steps) and exact (Fraction) functions
    @cached_property
    def _float(self):
        return compile_matrices(self.templates, self._dummies)

    @cached_property
    def _exact(self):
        steps = {k: m for k, m in self.templates.items() if not k.startswith("mag")}
        functions = compile_matrices(steps, self._dummies, exact=True, rational=self._rational)
        return {k: (lambda fn: lambda *args: np.array(fn(*args), dtype=object))(fn) for k, fn in functions.items()}

    @cached_property
    def _rational(self) -> bool:
        return all(e.is_rational_function(*self._dummies) and all(n.is_Rational for n in e.atoms(sp.Number))
                   and not e.has(sp.NumberSymbol) for k, M in self.templates.items() if not k.startswith("mag")
                   for e in M)

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

    def matrices(self, values: list[np.ndarray], steps: int) -> dict[str, np.ndarray]:
        """Every template at every step: arrays of shape ``(steps, rows, cols)`` (``steps`` sizes a
        system that reads no per-step value, such as plain_gd built with lr = 0)."""
        return {k: f(*values, steps=steps) for k, f in self._float.items()}

    def exact_matrices(self, values: list[np.ndarray], step: int) -> dict[str, np.ndarray]:
        args = [Fraction(float(v[step - 1])) for v in values]
        return {k: f(*args) for k, f in self._exact.items()}

    def initial_state(self, theta0: np.ndarray, exact: bool) -> np.ndarray:
        """``x_0`` for elements with initial parameters ``theta0``: ``(m, N)``."""
        f = self.formulation
        rows = []
        for base, value in f.initial_state().items():
            if base == f.params or value == f.params[0]:  # the parameters, or a copy of them (x_0 = theta_0)
                rows.append([Fraction(float(v)) for v in theta0] if exact else theta0)
            elif value.is_number:
                rows.append([Fraction(int(value.p), int(value.q))] * len(theta0) if exact
                            else np.full(len(theta0), float(value)))
            else:
                raise UnsupportedRun(f"{f.name}: the initial value of {base} is not fixed ({value}); "
                                      "declare it in the formulation's init")
        return np.array(rows, dtype=object if exact else np.float64)


@lru_cache(maxsize=256)
def compiled(name: str, options: tuple = ()) -> CompiledSystem:
    """The compiled system of catalogue entry ``name`` built with ``options`` (cached)."""
    return CompiledSystem(get_formulation(name, **dict(options)))


# Elements stepped together: T * chunk float64 values per array stays near 4 MB (in cache).
CHUNK_VALUES = 1 << 19
# Runs up to this many state values are kept after expected(); larger ones are recomputed in compare.
STORE_VALUES = 1 << 22


@dataclass
class GroupTrace:
    """One parameter group's expected run; its elements are flattened in tensor order.

    The trajectory is produced chunk by chunk (:meth:`chunks`, :mod:`verify.stepping`): a small
    run keeps its chunks, a large one recomputes them when asked, so nothing of size
    ``(T, N)`` is held. :attr:`x` assembles the whole ``(T + 1, m, N)`` trajectory on request.
    """

    shapes: list[tuple[int, ...]]
    theta_row: int
    roundings: int
    reference_roundings: int
    gradient_roundings: int
    inputs: GroupInputs = field(repr=False)
    stored: list[Chunk] | None = field(default=None, repr=False)
    stepping_seconds: float = 0.0  # spent stepping chunks, in expected() or later on request

    @property
    def steps(self) -> int:
        return self.inputs.steps

    @property
    def offsets(self) -> list[int]:
        """Where each tensor starts in the group's flat element order."""
        return [0, *np.cumsum([int(np.prod(s)) for s in self.shapes])][:-1]

    def chunk_size(self) -> int:
        m, steps = self.inputs.system.size, self.steps
        size = CHUNK_VALUES // (steps + 1)
        if self.inputs.objective is not None:  # per-element propagation products: T * m * m each
            size //= m * m
        return max(64, min(1 << 16, size))

    def chunks(self) -> Iterator[Chunk]:
        """The group's elements in chunks, each stepped through the whole run."""
        if self.stored is not None:
            yield from self.stored
            return
        for segment, pieces in plan(self.inputs, self.chunk_size()):
            started = time.perf_counter()
            with np.errstate(all="ignore"):  # non-finite values are reported as NonFiniteReference
                chunk = step_chunk(self.inputs, segment, pieces)
            self.stepping_seconds += time.perf_counter() - started
            yield chunk

    def _assemble(self, attribute: str, dtype) -> np.ndarray:
        total = sum(int(np.prod(s)) for s in self.shapes)
        out = np.empty((self.steps + 1, self.inputs.system.size, total), dtype=dtype)
        offsets = self.offsets
        for chunk in self.chunks():
            values, column = getattr(chunk, attribute), 0
            for ti, a, b in chunk.pieces:
                out[..., offsets[ti] + a : offsets[ti] + b] = values[..., column : column + b - a]
                column += b - a
        return out

    @property
    def x(self) -> np.ndarray:
        """The whole expected state, ``(T + 1, m, N)`` float64 (assembled on request)."""
        return self._assemble("x", np.float64)

    @property
    def x_exact(self) -> np.ndarray | None:
        """The exact state as Fractions, ``(T + 1, m, N)``; None in float64 mode."""
        return self._assemble("x_exact", object) if self.inputs.exact else None

    def theta(self, index: int) -> np.ndarray:
        """Tensor ``index``'s expected values, shape ``(T + 1, *shape)``."""
        start, size = self.offsets[index], int(np.prod(self.shapes[index]))
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
    and the run's objective. Its arrays may be float32: they are read a chunk at a time.

    Raises :class:`NonFiniteReference` (a ``ValueError``) naming the earliest step and the value
    where the reference state, an injected gradient or the objective's gradient is not finite.
    A group larger than ``STORE_VALUES`` state values is not stepped here but lazily, once,
    chunk by chunk inside :func:`verify.compare.compare` (so it raises there): holding its
    trajectory would cost (T + 1) m N float64, and stepping it twice would double the time.
    """
    started = time.perf_counter()
    if mode not in ("float64", "exact"):
        raise ValueError(f"mode must be 'float64' or 'exact', got {mode!r}")
    systems = system if isinstance(system, list) else [system] * len(observed.theta)
    objective = observed.config.objective
    steps = observed.config.steps
    skipped = np.asarray(observed.skipped, bool)
    groups, earliest = [], None
    for gi, sys_ in enumerate(systems):
        values = sys_.values(observed.hyper[gi], steps)
        inputs = GroupInputs(
            system=sys_, values=values, mats=sys_.matrices(values, steps),
            theta0=[a[0].reshape(-1) for a in observed.theta[gi]],
            grads=None if objective is not None else [a.reshape(steps, -1) for a in observed.grads[gi]],
            objective=objective, exact=mode == "exact",
            segments=segments(observed.active[gi], skipped),
        )
        trace = GroupTrace([tuple(a.shape[1:]) for a in observed.theta[gi]], sys_.param_row, sys_.roundings,
                           0 if mode == "exact" else sys_.reference_roundings,
                           0 if objective is None else objective.gradient_roundings, inputs)
        if sum(len(t) for t in inputs.theta0) * (steps + 1) * sys_.size > STORE_VALUES:
            groups.append(trace)  # stepped once, by compare, chunk by chunk: it raises there
            continue
        chunks = []
        with np.errstate(all="ignore"):  # non-finite values are reported as NonFiniteReference
            for segment, pieces in plan(inputs, trace.chunk_size()):
                try:
                    chunk = step_chunk(inputs, segment, pieces)
                except NonFiniteReference as exc:
                    earliest = exc if earliest is None or exc.step < earliest.step else earliest
                    continue
                chunks.append(chunk)
        trace.stored = chunks
        groups.append(trace)
    if earliest is not None:
        raise earliest
    return Expected(systems[0].formulation.name, mode, groups, time.perf_counter() - started)
