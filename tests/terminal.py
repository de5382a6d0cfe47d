"""Run one of the project's commands with stderr on a pseudo-terminal: what a person sees there."""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stderr_on_a_terminal(module: str, argv: list[str], *, timeout: float = 600) -> tuple[int, bytes]:
    """``python -m module *argv`` with stderr on a 100-column pty; its exit status and what it drew there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    drawn = bytearray()

    def read():
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    done = subprocess.run([sys.executable, "-m", module, *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=slave, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=timeout)
    os.close(slave)
    reader.join(5)
    os.close(master)
    return done.returncode, bytes(drawn)
