"""Writing the appendix: the destination checked first, files rendered, compiled in a temporary directory, then moved.

:func:`check_output_dir` refuses, before any rendering, an ``--out`` that is a
file, lies below a file, or is a directory nothing can be created in (probed by
creating a file: permission bits and ``os.access`` say nothing to root, nor on
read-only or immutable file systems).  :func:`write_atomically` writes every
file into a temporary directory beside the target and then ``os.replace``\\ s them
into place as one set: SIGINT and SIGTERM are held back while the set is
committed (and delivered right after), and a failed rename puts the previous
files back, so the directory holds either the whole old set or the whole new
one.  :func:`compile_pdf` runs ``pdflatex`` twice (``-interaction=nonstopmode
-halt-on-error``, a fixed ``SOURCE_DATE_EPOCH``) and reads the log for errors; a
SIGTERM meanwhile kills pdflatex and removes its temporary directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

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


def compile_pdf(files: Mapping[str, str | bytes], main: str = "appendix.tex") -> tuple[bytes, str]:
    """Compile *main* among *files* (name -> text, or bytes for an image); returns (pdf bytes, log text).

    Raises :class:`DeriveError` naming the first LaTeX errors when the log has any.
    """
    exe = pdflatex()
    if exe is None:
        raise DeriveError("pdflatex is not installed: apt-get install texlive-latex-base "
                          "texlive-latex-recommended, or pass --no-pdf")
    env = dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH, FORCE_SOURCE_DATE="1")
    # subprocess.run kills pdflatex on any exception; the handler turns SIGTERM into one.
    with sigterm_as_interrupt(), tempfile.TemporaryDirectory(prefix="derive-pdflatex-") as tmp:
        for name, content in files.items():
            if isinstance(content, bytes):
                Path(tmp, name).write_bytes(content)
            else:
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


def check_output_dir(out_dir, option: str = "--out") -> Path:
    """*out_dir* if the files can be written there; else a one-line :class:`DeriveError`, before any work.

    The directory need not exist: then its nearest existing ancestor must be a
    directory we can create entries in.  Nothing is left behind by the check.
    """
    path = Path(out_dir)
    if not str(out_dir):
        raise DeriveError(f"{option} is empty; give a directory")
    try:
        existing = path.absolute()
        while not existing.exists():
            existing = existing.parent
    except OSError as exc:
        raise DeriveError(f"{option} {path}: cannot look it up ({exc.strerror})") from None
    if not existing.is_dir():
        where = "is a file" if existing == path.absolute() else f"is below {existing}, which is a file"
        raise DeriveError(f"{option} {path} {where}; give a directory")
    try:
        with deferred_signals():  # an interruption must not leave the probe behind
            fd, probe = tempfile.mkstemp(dir=existing, prefix=".derive-probe-")
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise DeriveError(f"{option} {path}: cannot write in {existing} ({exc.strerror})") from None
    return path


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block; any that arrived are delivered when it ends.

    In the main thread the Python-level handlers are swapped for a recorder (a
    thread mask alone is not enough: another thread may take the signal and
    Python still runs the handler in the main thread); elsewhere the thread's
    signal mask is the best that can be done.
    """
    held = (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread():
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        return
    arrived: list[int] = []
    previous = {}
    try:
        for signum in held:
            if signal.getsignal(signum) is not None:  # None: a handler Python did not install; leave it
                previous[signum] = signal.signal(signum, lambda number, frame: arrived.append(number))
        yield
    finally:
        interrupted = _restore(previous)
        for signum in sorted(set(arrived), reverse=True):  # SIGTERM first: its default action ends the process
            signal.raise_signal(signum)
        if interrupted is not None:
            raise interrupted


def _restore(handlers: dict) -> BaseException | None:
    """Put every handler back, as one step: once SIGINT's handler is back a KeyboardInterrupt may come at
    any bytecode, which would leave the other recorder in place for good.  The thread's mask holds new
    signals meanwhile (they arrive when it is lifted); a handler that still runs and raises is returned."""
    interrupted = None
    pending = list(handlers.items())
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, list(handlers))
    try:
        while pending:
            try:
                while pending:
                    signal.signal(*pending[0])  # it runs pending handlers first, which may raise
                    pending.pop(0)
            except KeyboardInterrupt as exc:
                interrupted = exc
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return interrupted


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """In the main thread, a SIGTERM raises KeyboardInterrupt (so ``finally`` blocks run) unless a handler is set."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def write_atomically(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Replace *files* (name -> bytes) in *out_dir* as one set: all or nothing.

    Every file is written to a temporary directory inside *out_dir* first; the
    renames then run with SIGINT/SIGTERM held back, and if one fails the files
    already replaced are restored from hard links (copies where links fail)
    of the previous versions.
    """
    out_dir = check_output_dir(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DeriveError(f"cannot create the output directory {out_dir}: {exc.strerror}") from None
    names = sorted(files)
    with deferred_signals():
        try:
            with tempfile.TemporaryDirectory(dir=out_dir, prefix=".derive-") as tmp:
                new, old = Path(tmp, "new"), Path(tmp, "old")
                new.mkdir()
                old.mkdir()
                for name in names:
                    (new / name).write_bytes(files[name])
                _commit(out_dir, names, new, old)
        except OSError as exc:
            raise DeriveError(f"cannot write into {out_dir}: {exc.strerror or exc}; "
                              "the previous files are unchanged") from None
    return [out_dir / name for name in names]


def _commit(out_dir: Path, names: list[str], new: Path, old: Path) -> None:
    """Move every ``new/name`` onto ``out_dir/name``; on failure put the previous files back."""
    kept = []
    for name in names:
        target = out_dir / name
        if target.is_file():
            try:
                os.link(target, old / name)
            except OSError:
                shutil.copy2(target, old / name)
            kept.append(name)
    done = []
    try:
        for name in names:
            os.replace(new / name, out_dir / name)
            done.append(name)
    except OSError:
        for name in done:
            if name in kept:
                os.replace(old / name, out_dir / name)
            else:
                os.unlink(out_dir / name)
        raise


def plain_mode() -> int:
    """The permissions a plain ``open()`` gives a new file: ``0666`` less the umask (``mkstemp`` gives ``0600``)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_file_atomically(path, data: bytes, *, prefix: str = ".derive-") -> None:
    """Replace the one file *path* by *data*: a reader sees the old file or the new one, never half.

    The bytes go to a temporary file beside *path* (same file system, so the rename is atomic),
    which gets :func:`plain_mode` permissions and is renamed over *path*; whatever goes wrong,
    Ctrl-C included, the temporary file is removed.  derive's single files and verify's JSON
    reports both go through here; :func:`write_atomically` is the directory-of-files version.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, plain_mode())
        os.replace(tmp, path)
    except BaseException:  # cleanup only: the exception propagates unchanged
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
