"""Interruptions: the appendix's files are replaced as one set, and a SIGTERM during pdflatex cleans up.

Signals are sent at every step of the commit (from inside the patched calls), at
random moments in a real process, and to a process waiting on a (fake) pdflatex.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from derive.errors import DeriveError
from derive.render import output

ROOT = Path(__file__).resolve().parents[2]


SET = ("appendix-body.tex", "appendix.md", "appendix.pdf", "appendix.tex")


def _set(tag: str) -> dict[str, bytes]:
    return {name: f"{tag} {name}\n".encode() * 50 for name in SET}


def _state(directory: Path) -> set[str]:
    """The tags of the set's files (one tag: consistent) and any leftover temporary entry."""
    tags = {(directory / name).read_bytes().split()[0].decode() for name in SET}
    leftovers = {p.name for p in directory.iterdir() if p.name.startswith(".derive")}
    return tags | {f"leftover {n}" for n in leftovers}


def _raising(signum, frame):
    raise KeyboardInterrupt(signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_any_step_of_the_commit_leaves_the_whole_new_set(tmp_path, monkeypatch, signum):
    """Send the signal from inside every os.replace, os.link and file write of the commit, one point per run."""
    points = 0
    for target in range(1, 40):
        directory = tmp_path / f"run{target}"
        output.write_atomically(directory, _set("old"))
        calls = {"n": 0}

        def at_point(real):
            def wrapped(*args, **kwargs):
                calls["n"] += 1
                if calls["n"] == target:
                    os.kill(os.getpid(), signum)
                return real(*args, **kwargs)
            return wrapped

        monkeypatch.setattr(output.os, "replace", at_point(os.replace))
        monkeypatch.setattr(output.os, "link", at_point(os.link))
        monkeypatch.setattr(Path, "write_bytes", at_point(Path.write_bytes))
        previous = signal.signal(signum, _raising)
        try:
            with pytest.raises(KeyboardInterrupt) if target <= 3 * len(SET) else _no_signal(calls, target):
                output.write_atomically(directory, _set("new"))
        finally:
            signal.signal(signum, previous)
            monkeypatch.undo()
        if calls["n"] < target:
            break
        points += 1
        # The signal arrived mid-commit and was delivered after it: the whole new set, nothing left over.
        assert _state(directory) == {"new"}, target
    assert points == 3 * len(SET)  # 4 writes, 4 links, 4 renames


class _no_signal:
    def __init__(self, calls, target):
        self.calls, self.target = calls, target

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        assert self.calls["n"] < self.target
        return False


def test_a_failed_rename_puts_the_previous_set_back(tmp_path, monkeypatch):
    output.write_atomically(tmp_path, {name: b"old" for name in SET[:3]})
    real, calls = os.replace, {"n": 0}

    def failing(src, dst):
        calls["n"] += 1
        if calls["n"] == 4:  # the last of the four renames: appendix.tex, which did not exist
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", failing)
    with pytest.raises(DeriveError, match="No space left on device; the previous files are unchanged"):
        output.write_atomically(tmp_path, {name: b"new" for name in SET})
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SET[:3])
    assert all((tmp_path / name).read_bytes() == b"old" for name in SET[:3])


CHILD = textwrap.dedent(r'''
    import os, signal, sys
    from pathlib import Path
    from derive.render.output import write_atomically
    names = ("appendix-body.tex", "appendix.md", "appendix.pdf", "appendix.tex")
    out = Path(sys.argv[1])
    sets = [{n: f"{tag} {n}\n".encode() * 2000 for n in names} for tag in ("A", "B")]
    write_atomically(out, sets[0])
    print("ready", flush=True)
    k = 0
    held = {signal.SIGINT}
    while True:
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
            while True:
                k += 1
                write_atomically(out, sets[k % 2])
        except KeyboardInterrupt:
            signal.pthread_sigmask(signal.SIG_BLOCK, held)  # the parent's next signal waits for the report
            tags = {(out / n).read_bytes().split()[0] for n in names}
            left = [p.name for p in out.iterdir() if p.name.startswith(".derive")]
            print("consistent" if len(tags) == 1 and not left else f"BROKEN {tags} {left}", flush=True)
''')


def _default_sigint() -> None:
    # A child inherits an ignored SIGINT (pytest-xdist's workers ignore it), and Python then installs no
    # KeyboardInterrupt handler: the child would never report. Start it as a shell would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _child(directory: Path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(directory)], stdout=subprocess.PIPE,
                             text=True, env=env, preexec_fn=_default_sigint)
    assert child.stdout.readline().strip() == "ready"
    return child


def _interrupt_many(directory: Path, count: int, seed: int) -> tuple[list[str], set]:
    """SIGINT the committing child *count* times, then SIGTERM it: its reports and the set left on disk."""
    import random

    rng = random.Random(seed)
    child = _child(directory)
    reports = []
    try:
        for _ in range(count):
            time.sleep(rng.uniform(0, 0.02))
            child.send_signal(signal.SIGINT)
            # a lost signal must fail the test, not hang the suite
            ready, _, _ = select.select([child.stdout], [], [], 60)
            assert ready, f"SIGINT {len(reports) + 1} of {count}: no report from the child in 60 s (signal lost)"
            reports.append(child.stdout.readline().strip())
        time.sleep(rng.uniform(0, 0.02))
        child.send_signal(signal.SIGTERM)  # the default action: the process dies at once
        child.wait(timeout=30)
    finally:
        child.kill()
        child.wait()
    return reports, _state(directory)


def test_signals_at_random_moments_in_a_real_process_never_mix_two_sets(tmp_path):
    reports, left = _interrupt_many(tmp_path / "a", count=40, seed=1)
    assert reports == ["consistent"] * 40
    assert left in ({"A"}, {"B"})


@pytest.mark.slow
def test_many_more_signals_at_random_moments_never_mix_two_sets(tmp_path):
    for seed in range(10):
        reports, left = _interrupt_many(tmp_path / f"a{seed}", count=100, seed=seed)
        assert reports == ["consistent"] * 100, seed
        assert left in ({"A"}, {"B"}), seed


# -- SIGTERM during pdflatex ---------------------------------------------------------------------
FAKE_PDFLATEX = """#!/bin/sh
echo $$ > "$DERIVE_TEST_PIDFILE"
exec sleep 120
"""

PDF_CHILD = textwrap.dedent(r'''
    import sys
    from derive.render.output import compile_pdf
    try:
        compile_pdf({"appendix.tex": "\\documentclass{article}\\begin{document}x\\end{document}"})
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
''')


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def test_sigterm_during_pdflatex_kills_it_and_removes_its_directory(tmp_path):
    bin_dir, tmp_dir, pidfile = tmp_path / "bin", tmp_path / "tmp", tmp_path / "pdflatex.pid"
    bin_dir.mkdir()
    tmp_dir.mkdir()
    fake = bin_dir / "pdflatex"
    fake.write_text(FAKE_PDFLATEX)
    fake.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=f"{bin_dir}:{os.environ['PATH']}", TMPDIR=str(tmp_dir),
               DERIVE_TEST_PIDFILE=str(pidfile))
    child = subprocess.Popen([sys.executable, "-c", PDF_CHILD], stdout=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert time.monotonic() < deadline and child.poll() is None, "pdflatex never started"
            time.sleep(0.05)
        pdflatex_pid = int(pidfile.read_text())
        assert _alive(pdflatex_pid)
        assert any(p.name.startswith("derive-pdflatex-") for p in tmp_dir.iterdir())
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 130
        assert child.stdout.read().strip() == "interrupted"
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 10
    while _alive(pdflatex_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pdflatex_pid), "pdflatex outlived the SIGTERM"
    assert list(tmp_dir.iterdir()) == []
