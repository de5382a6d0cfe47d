"""Writing the appendix: all files rendered first, compiled in a temporary directory, then moved.

:func:`write_atomically` writes every file into a temporary directory beside the
target and only then ``os.replace``\\ s each one into place, so a failure while
rendering or compiling leaves the previous files intact.  :func:`compile_pdf`
runs ``pdflatex`` twice (``-interaction=nonstopmode -halt-on-error``, a fixed
``SOURCE_DATE_EPOCH``) and reads the log for errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

from derive.errors import DeriveError

SOURCE_DATE_EPOCH = "0"  # the pdf's embedded dates: fixed, so reruns differ as little as pdflatex allows
PDFLATEX_TIMEOUT = 180


def pdflatex() -> str | None:
    return shutil.which("pdflatex")


def log_errors(log: str) -> list[str]:
    """The error lines of a pdflatex log (``! ...`` and the ``l.N`` line after each)."""
    lines = log.splitlines()
    errors = []
    for n, line in enumerate(lines):
        if line.startswith("!"):
            context = next((x for x in lines[n + 1:n + 8] if x.startswith("l.")), "")
            errors.append(f"{line} {context}".strip())
    return errors


def compile_pdf(files: Mapping[str, str], main: str = "appendix.tex") -> tuple[bytes, str]:
    """Compile *main* among *files* (name -> text); returns (pdf bytes, log text).

    Raises :class:`DeriveError` naming the first LaTeX errors when the log has any.
    """
    exe = pdflatex()
    if exe is None:
        raise DeriveError("pdflatex is not installed: apt-get install texlive-latex-base "
                          "texlive-latex-recommended, or pass --no-pdf")
    env = dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH, FORCE_SOURCE_DATE="1")
    with tempfile.TemporaryDirectory(prefix="derive-pdflatex-") as tmp:
        for name, content in files.items():
            Path(tmp, name).write_text(content, encoding="utf-8")
        for _ in range(2):  # the second run resolves references
            try:
                subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", main], cwd=tmp, env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=PDFLATEX_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise DeriveError(f"pdflatex did not finish {main} within {PDFLATEX_TIMEOUT} s") from None
            log_path = Path(tmp, Path(main).with_suffix(".log"))
            log = log_path.read_text(encoding="latin-1") if log_path.exists() else ""
            errors = log_errors(log)
            pdf = Path(tmp, Path(main).with_suffix(".pdf"))
            if errors or not pdf.exists():
                detail = "; ".join(errors[:3]) or "no pdf was produced and the log names no error"
                raise DeriveError(f"pdflatex failed on {main}: {detail}")
        return pdf.read_bytes(), log


def write_atomically(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write *files* (name -> bytes) into *out_dir*: all to a temporary directory, then each moved in."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DeriveError(f"cannot create the output directory {out_dir}: {exc.strerror}") from None
    written = []
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".derive-") as tmp:
        for name in sorted(files):
            Path(tmp, name).write_bytes(files[name])
        for name in sorted(files):
            os.replace(Path(tmp, name), out_dir / name)
            written.append(out_dir / name)
    return written
