"""Where verify writes its JSON: checked before any work, written atomically.

:func:`check_destination` refuses, before a run starts, a path that is a directory, lies in a
missing directory or below a file, or cannot be written (probed by creating and removing a
temporary file there, so it holds for root and read-only file systems alike).
:func:`write_json` goes through derive's one atomic writer
(:func:`derive.render.output.write_file_atomically`): a temporary file beside the target renamed
over it, so a reader never sees half a file, with the permissions a plain ``open()`` would give
(``0666`` less the umask), and no temporary file left whatever goes wrong, Ctrl-C included.
"""

from __future__ import annotations

import json
import os
import tempfile

from derive.render.output import write_file_atomically
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


def write_json(path: str, payload) -> None:
    """``payload`` as indented, key-sorted JSON, replacing ``path`` atomically."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
    write_file_atomically(path, text.encode("utf-8"), prefix=PREFIX)
