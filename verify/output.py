"""Where verify writes its JSON: checked before any work, written atomically.

:func:`check_destination` refuses, before a run starts, a path that is a directory, lies in a
missing directory or below a file, or cannot be written (probed by creating and removing a
temporary file there, so it holds for root and read-only file systems alike).
:func:`write_json` writes a temporary file beside the target and renames it over the target,
so a reader never sees half a file; the file gets the permissions a plain ``open()`` would
give (``0666`` less the umask, not ``mkstemp``'s ``0600``), and the temporary file is removed
whatever goes wrong, Ctrl-C included.
"""

from __future__ import annotations

import json
import os
import tempfile

from verify.errors import VerifyError

PREFIX = ".verify-"


def check_destination(path: str, option: str = "--json") -> None:
    """Raise :class:`VerifyError` unless a file can be written at ``path``."""
    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise VerifyError(f"{option} {path} is a directory; give a file name")
    parent = os.path.dirname(target)
    if not os.path.exists(parent):
        raise VerifyError(f"{option} {path}: the directory {parent} does not exist")
    if not os.path.isdir(parent):
        raise VerifyError(f"{option} {path}: {parent} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=PREFIX, suffix=".probe")
    except OSError as exc:
        raise VerifyError(f"{option} {path}: cannot write in {parent} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)
    if os.path.exists(target) and not os.access(target, os.W_OK):
        raise VerifyError(f"{option} {path}: the file is not writable")


def _plain_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json(path: str, payload) -> None:
    """Atomically: a reader never sees half a file, and no temporary file outlives a failure."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=PREFIX, suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True, default=str)
            handle.write("\n")
        os.chmod(tmp, _plain_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
