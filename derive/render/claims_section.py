"""The claims, the operation counts and the verify runs as appendix sections.

Each claim is judged when the appendix is built (:func:`derive.claims.judge`),
so the appendix can never say more than was proved: the verdict, its
condition, the evidence and the engine's own rows are printed from the objects
returned (:mod:`derive.render.evidence`).  The operation counts are
:func:`derive.opcount.table` and :func:`derive.opcount.traffic_table`, filtered
to the formulations chosen; the verify runs are claim D2's.  The package's claims
and each plugin's are tabled apart, a plugin's captioned as its own.
"""

from __future__ import annotations

from functools import lru_cache

from derive.render.document import Paragraph, Section, Table, text
from derive.render.evidence import parts, row_blocks, verify_table, witness_blocks

VERIFY_CLAIM = "D2"  # the claim whose procedure runs verify on torch.optim.SGD
TORCH_SGD = "pytorch_sgd"
TORCH_NESTEROV = "pytorch_nesterov_implemented"


@lru_cache(maxsize=None)
def verdict(claim_id: str):
    """The claim's verdict, judged once per process (the renderers share it; a command's parallel run answers first)."""
    from derive.claims import verdict as judged

    return judged(claim_id)


def condition_parts(condition) -> tuple:
    """A claim's condition: its words and mathematics as the engine returned them."""
    return parts(condition) if condition else ("",)


def claim_section(claim, v) -> Section:
    head = (v.verdict, " (", *condition_parts(v.condition), ")") if v.condition else (v.verdict,)
    blocks = [] if claim.origin.builtin else [text(f"Registered by {claim.origin}.")]
    blocks += [text("Source: ", claim.source, "."),
              text("Statement: ", claim.statement),
              text("Reading judged: ", claim.reading)]
    if claim.assumptions:
        blocks.append(text("Assumptions: ", claim.assumptions))
    blocks.append(Paragraph(("Verdict: ", *head, ". Evidence: ", *parts(v.evidence), ".")))
    if v.torch_version:
        blocks.append(text(f"Judged against torch {v.torch_version}."))
    blocks += row_blocks(v.rows)
    if v.witness:
        blocks += witness_blocks(v.witness)
    return Section(f"Claim {claim.id}", f"claim-{claim.id}", tuple(blocks))


def claims_table(pairs, origin=None) -> Table:
    """The verdicts of *pairs*, captioned as the sources' (the package's claims) or as *origin*'s (a plugin's)."""
    rows = tuple(((c.id,), (v.verdict,), condition_parts(v.condition)) for c, v in pairs)
    whose = "Every claim of the sources" if origin is None or origin.builtin else f"Claims of {origin}"
    return Table(("claim", "verdict", "condition"), rows,
                 f"{whose}, judged by derive (python -m derive claims); the evidence is in "
                 "each claim's subsection.", (0.2, 0.3, 0.5))


def claims_tables(pairs) -> tuple[Table, ...]:
    """One table for the package's claims, then one per plugin, in registry order."""
    groups: dict = {}
    for c, v in pairs:
        groups.setdefault(c.origin, []).append((c, v))
    return tuple(claims_table(group, origin) for origin, group in groups.items())


def traffic_rows(formulation_names):
    """torch.optim.SGD's memory-traffic rows for the formulations chosen (its Nesterov rows also for
    pytorch_nesterov_implemented)."""
    from derive.opcount import traffic_table

    def chosen(row):
        nesterov = row.config.startswith("nesterov")
        return TORCH_SGD in formulation_names or (nesterov and TORCH_NESTEROV in formulation_names)

    return [r for r in traffic_table() if chosen(r)]


def opcount_sections(formulation_names) -> list[Section]:
    from derive.opcount import CONVENTIONS, table

    counts = table(formulation_names)
    conventions = list(CONVENTIONS)
    by_name: dict[str, dict] = {}
    for row in counts:
        by_name.setdefault(row.formulation, {})[row.convention] = row
    rows = tuple(((name,),) + tuple((f"{r[c].total} ({r[c].mul} mul, {r[c].add} add"
                                     + (f", {r[c].neg} neg" if r[c].neg else "")
                                     + (f", {r[c].fma} fma" if r[c].fma else "") + ")",)
                                    for c in conventions)
                 for name, r in by_name.items())
    blocks = [text("Operations per element in one regular step, read from each update program, "
                   "under each counting convention:"),
              Table(("convention", "what counts"), tuple(((c,), (CONVENTIONS[c].describe(),)) for c in conventions),
                    widths=(0.2, 0.8)),
              Table(("formulation",) + tuple(conventions), rows, "Arithmetic operations per element and step.",
                    (0.24,) + (0.76 / len(conventions),) * len(conventions))]
    traffic = traffic_rows(formulation_names)
    if traffic:
        blocks += [text("Memory traffic of torch.optim.SGD per element and step (tensor elements read and written):"),
                   Table(("configuration", "implementation", "step", "reads", "writes", "kernels"),
                         tuple(((r.config,), (r.impl,), (r.step,), (str(r.reads),), (str(r.writes),),
                                (str(r.kernels),)) for r in traffic),
                         "Memory traffic per element and step.", (0.3, 0.24, 0.13, 0.11, 0.11, 0.11))]
    return [Section("Operation counts", "opcount", tuple(blocks))]


def verify_section() -> Section:
    """torch.optim.SGD run by verify against derive's linear system (claim D2's runs)."""
    v = verdict(VERIFY_CLAIM)
    runs = [value.run for _, value in v.rows if hasattr(value, "run")]
    if not runs:
        return Section("Numeric verification", "verify", (Paragraph((
            "No verify runs in this installation (torch or verify is absent): ", *parts(v.evidence), ".")),))
    blocks = (text("torch.optim.SGD (torch ", v.torch_version or "?", ") run by verify against the trajectory of "
                   "derive's linear-system view of pytorch_sgd, step by step, within the argued tolerance "
                   "(ULPs of the running maximum magnitude; claim D2):"),
              verify_table(runs))
    return Section("Numeric verification", "verify", blocks)


def sections(claim_ids, formulation_names, chosen=("claims", "opcount", "verify")) -> list[Section]:
    """The claims section (table, then one subsection per claim), the operation counts, the verify runs."""
    out = []
    if "claims" in chosen:
        if claim_ids is None:
            out.append(Section("Claims", "claims", (text(
                "The claims engine (derive.claims) is not available in this installation: no verdict is shown."),)))
        elif claim_ids:
            from derive.claims import claims

            from derive.plugins import not_loaded

            pairs = [(c, verdict(c.id)) for c in claims(claim_ids)]
            missing = tuple(text(line[0].upper() + line[1:] + ".") for line in not_loaded())
            out.append(Section("Claims", "claims", claims_tables(pairs) + missing,
                               tuple(claim_section(c, v) for c, v in pairs)))
    if formulation_names and "opcount" in chosen:
        try:
            out += opcount_sections(formulation_names)
        except ImportError:
            out.append(Section("Operation counts", "opcount", (text(
                "The operation counter (derive.opcount) is not available in this installation."),)))
    # the verify runs are claim D2's: shown when D2 is chosen (by default, every claim is)
    if "verify" in chosen and VERIFY_CLAIM in (claim_ids or ()):
        out.append(verify_section())
    return out
