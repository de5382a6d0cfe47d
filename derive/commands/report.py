"""The main job: write the appendix (tex, md, pdf where pdflatex exists), print the claims table, say where.

Claims are judged once, in worker processes while this process builds the
appendix's formulation sections, and shared by the appendix and the table.  The
symbolic closed forms are proven by induction here; their comparison with the
concrete unroll is left to the tests.  Verdicts, the rendered appendix and its
pdf are cached on disk (``--no-cache`` to bypass), each under a key that names
everything it is made from.  The exit status is 1 when a verdict differs from the
recorded one (a regression), 0 otherwise.  With a plugin's formulations or claims
loaded, the rendered appendix is not cached (its key cannot name the plugin's code).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from derive import progress

NAME = "report"
HELP = "write the appendix, print every claim's verdict, and list the files written"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="build/appendix", help="output directory (default: build/appendix)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the pdf even when pdflatex exists")
    progress.add_arguments(parser)


def claims_table(pairs) -> list[str]:
    """One line per claim: id, verdict (marked when it differs from the record), condition."""
    from derive.claims import agrees
    from derive.plaintext import terminal

    width = max((len(c.id) for c, _ in pairs), default=5)
    lines = [f"{'claim':<{width}}  {'verdict':<24}  condition / evidence"]
    for c, v in pairs:
        mark = ("" if agrees(c, v) else f"  <-- recorded: {c.expected}") + \
            ("" if c.origin.builtin else f"  [{c.origin}]")
        lines.append(f"{c.id:<{width}}  {v.verdict:<24}  {terminal(v.condition or v.evidence)}{mark}")
    return lines


def appendix_key(options) -> str:
    """Every file of ``derive`` and ``verify`` (the appendix prints verdicts of torch claims), the versions, the options."""
    from derive.cache import digest, environment
    from derive.claims.dependencies import ROOT

    sources = sorted(p for package in ("derive", "verify") for p in (ROOT / package).rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts)
    return digest([("options", repr(options)), *environment(torch=True),
                   *((p.relative_to(ROOT).as_posix(), p.read_bytes().decode("utf-8", "replace")) for p in sources)])


def tex_identity(exe: str) -> str:
    """pdflatex's version line and the dates of the TeX trees' file databases (updated by every package install)."""
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    databases = subprocess.run(["kpsewhich", "-all", "ls-R"], capture_output=True, text=True).stdout.split()
    stamps = [f"{d}:{Path(d).stat().st_mtime_ns}" for d in databases if Path(d).exists()]
    return "\n".join(version + stamps)


def appendix_files(options, *, pdf: bool, store, bar) -> dict[str, bytes]:
    """``{file name: bytes}``: rendered (or the cached rendering), with the pdf compiled (or cached)."""
    from derive.cache import digest
    from derive.render.files import render
    from derive.render.output import compile_pdf, pdflatex

    from derive.plugins import user_plugins

    cached = store is not None and not user_plugins()  # a plugin's code is not in the key
    key = appendix_key(options) if cached else None
    files = store.load("appendix", key, dict) if cached else None
    if files is None:
        files = render(options, pdf=False)
        if cached:
            store.save("appendix", key, files)
    bar.update(1)
    exe = pdflatex() if pdf else None
    if exe is not None:
        bar.set_description("compiling the pdf")
        pdf_key = digest([("tex", files["appendix.tex"].decode("utf-8")), ("pdflatex", tex_identity(exe))]) \
            if store is not None else None
        compiled = store.load("pdf", pdf_key, bytes) if store is not None else None
        if compiled is None:
            compiled, _ = compile_pdf({"appendix.tex": files["appendix.tex"].decode("utf-8")}, "appendix.tex")
            if store is not None:
                store.save("pdf", pdf_key, compiled)
        files = dict(files, **{"appendix.pdf": compiled})
    bar.update(1)
    return files


def run(args) -> int:
    from derive.cache import Store
    from derive.render.appendix import Options
    from derive.render.output import check_output_dir, write_atomically

    check_output_dir(args.out)  # before the seconds of judging and rendering, not after

    try:
        from derive.claims import agrees, claims, judge_all
    except ImportError:
        print("report: the claims engine (derive.claims) is not available; no claims table")
        written = write_atomically(Path(args.out), appendix_files(
            Options(check_up_to=0), pdf=not args.no_pdf, store=None, bar=progress.Silent()))
        return _files_written(written, args)
    from derive.plugins import not_loaded

    out = Path(args.out)
    selected = claims()
    bar = progress.bar(len(selected) + 2, "judging claims, building the appendix", quiet=args.quiet,
                       unit="task")
    judging = judge_all(selected, cache=not args.no_cache, progress=bar)
    try:
        files = appendix_files(Options(check_up_to=0), pdf=not args.no_pdf,
                               store=None if args.no_cache else Store(), bar=bar)
        written = write_atomically(out, files)
        pairs = judging.pairs()
    finally:
        judging.close()
        bar.close()
    print("\n".join(claims_table(pairs)))
    regressions = [c.id for c, v in pairs if not agrees(c, v)]
    counts = {}
    for _, v in pairs:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    print(f"{len(pairs)} claims: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    for line in not_loaded():
        print(line)
    status = 0
    if regressions:
        print(f"report: verdicts differ from the record for {', '.join(regressions)}")
        status = 1
    return _files_written(written, args) or status


def _files_written(written, args) -> int:
    print("appendix files:")
    for path in written:
        print(f"  {path.resolve()}")
    if not any(p.suffix == ".pdf" for p in written):
        print("  (no pdf: " + ("--no-pdf given" if args.no_pdf else "pdflatex is not installed") + ")")
    return 0
