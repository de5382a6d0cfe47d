r"""The appendix, built from derive's objects: one section per formulation, then the claims.

For each formulation (catalogue order): its citation, its update (the Assign
program, the first step as a case), its linear-system matrices, its closed form
after a concrete horizon with a time-varying :math:`\varepsilon_t`
(:func:`derive.unroll.closed_form`), its closed form for a symbolic horizon with
the induction's obligations (:mod:`derive.induction`), and, when its learning
rate sits elsewhere than the chosen convention, the same program after the
change of variables between velocity and buffer (:mod:`derive.render.convention`).
Then each claim with its verdict and evidence (:mod:`derive.claims`), the
operation counts (:mod:`derive.opcount`) and, when chosen, the map of who equals
whom (:mod:`derive.render.map_section`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.catalogue import get, names, origin
from derive.errors import DeriveError
from derive.formulation import Formulation
from derive.render import convention as conventions
from derive.render.derivation import A, B, C, Row, closed_form_rows, expression_rows, system_rows, update_rows, x
from derive.render.document import Display, Document, Section, text
from derive.render.printer import house_latex
from derive.symbols import Phi, T, eps, g, k, mu, t
from derive.unroll import closed_form

TITLE = "Appendix: SGD with momentum and Nesterov momentum, derived and checked"
CHECK_UP_TO = 8  # horizons T = 1..8 at which each symbolic closed form is compared with the unroll
SECTIONS = ("formulations", "claims", "opcount", "verify", "map")  # in the order they appear
# the map judges every ordered pair (minutes when the cache is cold): chosen with --sections
DEFAULT_SECTIONS = ("formulations", "claims", "opcount", "verify")


@dataclass(frozen=True)
class Options:
    """What the appendix contains: ``sections`` (of :data:`SECTIONS`), ``only`` (formulation names and
    claim ids, filtering every section), the worked horizon, the convention; and ``columns``, the
    LaTeX page its equations are broken for (2: one column of a two-column paper)."""

    only: tuple[str, ...] = ()
    horizon: int = 3
    convention: str = "paper"
    check_up_to: int = CHECK_UP_TO  # 0: the induction proof alone (derive report; the tests still compare)
    sections: tuple[str, ...] = DEFAULT_SECTIONS
    columns: int = 1  # LaTeX laid out for a one-column page or for one column of a two-column paper
    cache: bool = True  # the map's pair verdicts read from and kept in the verdict cache

    def __post_init__(self):
        unknown = [s for s in self.sections if s not in SECTIONS]
        if unknown or not self.sections:
            raise DeriveError(f"--sections: unknown section {', '.join(unknown) or '(none given)'}; "
                              f"use a comma-separated list of {','.join(SECTIONS)}")
        if self.convention not in conventions.CONVENTIONS:
            raise DeriveError(f"unknown convention {self.convention!r}; use one of {', '.join(conventions.CONVENTIONS)}")
        if self.columns not in (1, 2):
            raise DeriveError(f"--columns must be 1 or 2, got {self.columns}")
        if not 1 <= self.horizon <= 6:
            raise DeriveError(f"--horizon must be between 1 and 6 (the closed forms are printed in full), got {self.horizon}")


def preface(options: Options) -> tuple:
    return (
        text("Every equation below is printed from the SymPy objects that derive computed and checked: "
             "the update programs of the catalogue, their linear-system matrices, their closed forms "
             "and the claim verdicts. Nothing is typed twice."),
        text("Step ", t, " turns the state at step ", t - 1, " into the state at step ", t,
             ", using the learning rate ", eps[t], ", the momentum ", mu[t], " and the gradient ", g[t],
             ", taken at the gradient point of each formulation. Schedules are arbitrary sequences; "
             "a constant is the special case. Each program is shown as its source writes it; where its "
             "velocity is not in the ", options.convention, " convention (", conventions.describe(options.convention),
             "), the same program follows after the change of variables."),
    )


def symbolic_rows(f: Formulation, check_up_to: int = CHECK_UP_TO) -> tuple[tuple[Row, ...], tuple, int]:
    """The closed form for a symbolic horizon, and the induction that proves it (every obligation 0)."""
    from derive.induction import symbolic_closed_form

    scf = symbolic_closed_form(f, check_up_to=check_up_to)
    rows = tuple(Row(base[T], scf.state[base], "parameters" if base == f.params else "state")
                 for base in [f.params] + [s for s in f.state if s != f.params])
    if not scf.kernel.explicit:  # named entries Phi_{T,k,r,c}: print the recursion that defines them
        rows = rows[:1] + expression_rows(scf.kernel.recursion())
    else:
        rows = rows[:1]
    return rows, induction_blocks(f, scf), scf.verified_up_to


def induction_blocks(f: Formulation, scf) -> tuple:
    r"""The induction's obligations as the equations they prove, said once to reduce to 0.

    Base case :math:`x_1 = A_1 x_0 + B_1 g_1` and step :math:`x_{T+1} = A_{T+1} x_T + B_{T+1} g_{T+1}`
    for each state variable; with an explicit kernel, also :math:`\Phi_{T+1,k} = A_{T+1}\Phi_{T,k}` and
    :math:`\Phi_{k,k} = I`.  A residual that is not 0 is an error, never printed as a proof.
    """
    kinds = ("base case", "induction step", "kernel step", "kernel at equal steps")
    residuals = [(label, expr) for label, expr in scf.proof
                 if label.startswith(kinds) and not label.endswith("(definition)")]
    if any(expr != 0 for _, expr in residuals):
        raise DeriveError(f"{f.name}: an induction obligation is not 0; the closed form is not proved")
    obligations = []
    for s in [f.params] + [s for s in f.state if s != f.params]:
        name = house_latex(s)
        obligations += [Row(s[1], rf"\left[A_{{1}} x_{{0}} + B_{{1}} g_{{1}}\right]_{{{name}}}", "base case"),
                        Row(s[T + 1], rf"\left[A_{{T+1}} x_{{T}} + B_{{T+1}} g_{{T+1}}\right]_{{{name}}}",
                            "induction step")]
    if scf.kernel.explicit:
        obligations += [Row(Phi[T + 1, k], r"A_{T+1} \Phi_{T,k}", "kernel step"),
                        Row(Phi[k, k], "I", "kernel at equal steps")]
    return (text(f"The induction: each obligation below, with the closed forms substituted for both sides, "
                 f"reduces to 0 by exact simplification ({len(residuals)} residuals, all 0):"),
            Display(tuple(obligations)))


def formulation_section(f: Formulation, options: Options, registered_by=None) -> Section:
    """One formulation; *registered_by* (its origin), when it is a plugin, is said first (whose entry this is)."""
    blocks = [text("Source: ", f.citation, "."), text("Update, as one step of the program:"),
              Display(update_rows(f))]
    if f.note:
        blocks.insert(1, text(f.note))
    if registered_by is not None and not registered_by.builtin:
        blocks.insert(0, text(f"Registered by {registered_by}."))
    converted = conventions.convert(f, options.convention)
    if converted is not None:
        blocks += [text(f"In the {options.convention} convention, by the change of variables on the first line:"),
                   Display(converted)]
    blocks += [text("Linear-system view, ", sp.Eq(x[t], A[t] * x[t - 1] + B[t] * g[t], evaluate=False),
                    ", the gradient taken at ", C[t] * x[t - 1], ":"),
               Display(system_rows(f)),
               text("Closed form after ", sp.Eq(T, options.horizon, evaluate=False),
                    " steps, every schedule time-varying:"),
               Display(closed_form_rows(closed_form(f, options.horizon)))]
    rows, induction, checked = symbolic_rows(f, options.check_up_to)
    compared = (" and compared with the unroll for ", sp.Eq(T, 1, evaluate=False), f", ..., {checked}") if checked else ()
    blocks += [text("Closed form for a symbolic horizon ", T, ", proven by induction on ", T, *compared, ":"),
               Display(rows), *induction]
    return Section(f.title, f.name, tuple(blocks))


def select(options: Options) -> tuple[list[str], list[str] | None]:
    """The formulation names and claim ids chosen by ``--only`` (all by default)."""
    claim_ids = _claim_ids()
    if not options.only:
        return names(), claim_ids
    known = set(names()) | set(claim_ids or ())
    unknown = [x for x in options.only if x not in known]
    if unknown:
        raise DeriveError(f"--only: unknown id {', '.join(unknown)}; use catalogue names "
                          "(`derive list`) or claim ids (`derive claims`)")
    return ([n for n in names() if n in options.only],
            [c for c in (claim_ids or ()) if c in options.only])


def _claim_ids() -> list[str] | None:
    try:
        from derive.claims import REGISTRY
    except ImportError:
        return None
    return list(REGISTRY)


def build(options: Options = Options()) -> Document:
    """The appendix document for *options*."""
    from derive.render import claims_section, map_section

    formulation_names, claim_ids = select(options)
    sections = []
    if formulation_names and "formulations" in options.sections:
        subsections = tuple(formulation_section(get(n), options, origin(n)) for n in formulation_names)
        from_plugins = sorted({str(origin(n)) for n in formulation_names if not origin(n).builtin})
        intro = "Each formulation of the catalogue, in the order of the catalogue" + (
            f"; those registered by {', '.join(from_plugins)} say so" if from_plugins else "") + "."
        sections.append(Section("Formulations", "formulations", (text(intro),), subsections))
    sections += claims_section.sections(claim_ids, formulation_names, options.sections)
    sections += map_section.sections(formulation_names, options.sections, cache=options.cache)
    return Document(TITLE, preface(options), tuple(sections), options.columns)
