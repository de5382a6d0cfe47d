"""Every derive subcommand against hostile input: exit 2, one line on stderr, no traceback, nothing left behind.

The table runs in one subprocess (a driver that calls ``derive.cli.main`` per row in a
fresh working directory and reports JSON), because each interpreter start costs
seconds on a loaded machine; a few rows also run as real ``python -m derive``
processes.  Rows that render before failing would be bugs: none may take long.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from derive.errors import DeriveError

ROOT = Path(__file__).resolve().parents[2]

# (label, argv, the one-line message must contain this).  In each row's working directory
# `afile` is a file, `ro` a directory nothing can be created in (when the test can make one),
# and `old/` holds a previous appendix whose files must stay byte-identical.
TABLE = [
    ("unknown subcommand", ["frobnicate"], "invalid choice: 'frobnicate'"),
    ("list extra argument", ["list", "extra"], "unrecognized arguments: extra"),
    ("list bad flag", ["list", "--bogus"], "unrecognized arguments: --bogus"),
    ("unroll unknown name", ["unroll", "nope", "-T", "1"], "unknown formulation 'nope'"),
    ("unroll negative T", ["unroll", "plain_gd", "-T", "-3"], "--steps must be a non-negative integer"),
    ("unroll fractional T", ["unroll", "plain_gd", "-T", "2.5"], "--steps must be a non-negative integer"),
    ("maximize=no", ["unroll", "pytorch_sgd", "-T", "1", "-o", "maximize=no"],
     "maximize is a flag: write maximize=true or maximize=false (or 1/0), got maximize='no'"),
    ("nesterov=yes", ["unroll", "pytorch_sgd", "-T", "1", "-o", "momentum=0.9", "-o", "nesterov=yes"],
     "nesterov is a flag: write nesterov=true or nesterov=false (or 1/0), got nesterov='yes'"),
    ("nesterov=0.5", ["unroll", "pytorch_sgd", "-T", "1", "-o", "momentum=0.9", "-o", "nesterov=0.5"],
     "got nesterov='0.5'"),
    ("repeated option", ["unroll", "pytorch_sgd", "-T", "1", "-o", "momentum=0.9", "-o", "momentum=0.5"],
     "option momentum is given twice (momentum=0.9 and momentum=0.5); give it once"),
    ("lr=nan", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=nan"], "lr must be finite, got lr=nan"),
    ("lr=inf", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=inf"], "lr must be finite, got lr=inf"),
    ("lr=-inf", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=-inf"], "lr must be finite, got lr=-inf"),
    ("lr=oo", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=oo"], "lr must be finite, got lr=oo"),
    ("lr=zoo", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=zoo"], "lr must be finite, got lr=zoo"),
    ("lr=1j", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=1j"], "lr must be finite, got lr=1j"),
    ("lr=1e999", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=1e999"], "lr must be finite, got lr=1e999"),
    ("lr=code", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=__import__('os').system('touch pwned')"],
     "refused"),
    ("lr=attribute", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=(1).real"], "attribute access refused"),
    ("lr=10**10**10", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=10**10**10"], "bits"),
    ("lr=x^2", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=2^2"], "write powers as **"),
    ("lr negative", ["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=-1"], "lr must be non-negative, got lr=-1"),
    ("unknown key", ["unroll", "pytorch_sgd", "-T", "1", "-o", "foo=1"],
     "pytorch_sgd has no option foo; it accepts lr, momentum, dampening, weight_decay, nesterov, maximize"),
    ("not KEY=VALUE", ["unroll", "pytorch_sgd", "-T", "1", "-o", "momentum"], "is not KEY=VALUE"),
    ("bad format", ["unroll", "plain_gd", "-T", "1", "--format", "pdf"], "invalid choice: 'pdf'"),
    ("claims unknown id", ["claims", "--only", "NOPE"], "unknown claim id NOPE"),
    ("claims no id", ["claims", "--only"], "expected at least one argument"),
    ("opcount unknown name", ["opcount", "nope"], "unknown formulation 'nope'"),
    ("opcount bad dtype", ["opcount", "--dtype", ","], "unknown dtype ','"),
    ("appendix out is a file", ["appendix", "--out", "afile", "--no-pdf"], "--out afile is a file"),
    ("appendix out below a file", ["appendix", "--out", "afile/sub", "--no-pdf"],
     "--out afile/sub is below"),
    ("appendix out read-only", ["appendix", "--out", "ro", "--no-pdf"], "--out ro: cannot write in"),
    ("appendix out below read-only", ["appendix", "--out", "ro/a/b", "--no-pdf"], "cannot write in"),
    ("appendix out empty", ["appendix", "--out", "", "--no-pdf"], "--out is empty"),
    ("appendix horizon 0", ["appendix", "--out", "old", "--horizon", "0", "--no-pdf"],
     "--horizon must be between 1 and 6"),
    ("appendix horizon 99", ["appendix", "--out", "old", "--horizon", "99", "--no-pdf"],
     "--horizon must be between 1 and 6"),
    ("appendix horizon text", ["appendix", "--out", "old", "--horizon", "abc"], "invalid int value: 'abc'"),
    ("appendix bad convention", ["appendix", "--out", "old", "--convention", "x"], "invalid choice: 'x'"),
    ("report out is a file", ["report", "--out", "afile"], "--out afile is a file"),
    ("report out below a file", ["report", "--out", "afile/x/y"], "is below"),
    ("report out read-only", ["report", "--out", "ro"], "cannot write in"),
    ("notebooks out is a file", ["notebooks", "--out", "afile"], "--out afile is a file"),
    ("notebooks out below a file", ["notebooks", "--out", "afile/nb"], "is below"),
    ("notebooks out read-only", ["notebooks", "--out", "ro"], "cannot write in"),
]

DRIVER = textwrap.dedent(r'''
    import contextlib, io, json, os, sys, time, traceback
    from derive.cli import main

    def listing(root):
        out = {}
        for base, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(base, name)
                rel = os.path.relpath(path, root)
                out[rel] = open(path, "rb").read().hex() if os.path.isfile(path) else "dir"
        return out

    rows = json.loads(sys.stdin.read())
    for row in rows:
        os.chdir(row["cwd"])
        before = listing(row["cwd"])
        stdout, stderr = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        code = None
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(row["argv"])
            except SystemExit as exc:
                code = exc.code
            except BaseException:
                stderr.write(traceback.format_exc())
                code = "raised"
        print(json.dumps({"label": row["label"], "code": code, "stderr": stderr.getvalue(),
                          "stdout": stdout.getvalue(), "seconds": time.perf_counter() - started,
                          "changed": before != listing(row["cwd"])}), flush=True)
''')


def _immutable(directory: Path) -> bool:
    """Make *directory* refuse new entries, even to root: chattr +i (or chmod when not root)."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return True
    done = subprocess.run(["chattr", "+i", str(directory)], capture_output=True)
    if done.returncode != 0:
        return False
    try:
        (directory / "probe").touch()
    except OSError:
        return True
    (directory / "probe").unlink()
    subprocess.run(["chattr", "-i", str(directory)], capture_output=True)
    return False


def _release(directory: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(directory)], capture_output=True)
    else:
        directory.chmod(0o755)


def _workdir(path: Path) -> bool:
    """A working directory with `afile`, `ro` (read-only if possible) and `old/` (a previous appendix)."""
    path.mkdir()
    (path / "afile").write_text("not a directory\n")
    old = path / "old"
    old.mkdir()
    for name in ("appendix.tex", "appendix-body.tex", "appendix.md", "appendix.pdf"):
        (old / name).write_text(f"old {name}\n")
    (path / "ro").mkdir()
    return _immutable(path / "ro")


@pytest.fixture(scope="module")
def table_results(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad-input")
    rows, immutable = [], []
    try:
        for n, (label, argv, _) in enumerate(TABLE):
            cwd = base / f"row{n:02d}"
            if _workdir(cwd):
                immutable.append(cwd / "ro")
            rows.append({"label": label, "argv": argv, "cwd": str(cwd), "ro": str(cwd / "ro") in map(str, immutable)})
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(rows), capture_output=True,
                              text=True, timeout=900, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        results = {r["label"]: r for r in map(json.loads, done.stdout.splitlines())}
        for row in rows:
            results[row["label"]]["ro"] = row["ro"]
            results[row["label"]]["cwd"] = row["cwd"]
        return results
    finally:
        for directory in immutable:
            _release(directory)


@pytest.mark.parametrize("label,argv,message", TABLE, ids=[row[0] for row in TABLE])
def test_a_hostile_input_is_exit_2_and_one_line_and_changes_nothing(table_results, label, argv, message):
    result = table_results[label]
    if "read-only" in label and not result["ro"]:
        pytest.skip("cannot make a directory read-only here (root without chattr +i)")
    assert "Traceback" not in result["stderr"], result["stderr"]
    assert result["code"] == 2, result
    lines = result["stderr"].splitlines()
    assert len(lines) == 1, result["stderr"]
    assert lines[0].startswith("derive: error: ") or lines[0].startswith("derive "), lines[0]
    assert message in lines[0], lines[0]
    assert result["stdout"] == ""
    assert not result["changed"], "the row's directory changed (a file was left behind or replaced)"
    assert not Path(result["cwd"], "pwned").exists()


def test_no_row_of_the_table_does_the_work_before_refusing(table_results):
    # Not a speed assertion: a row that takes minutes rendered before it refused.
    slow = {label: round(r["seconds"], 1) for label, r in table_results.items() if r["seconds"] > 60}
    assert not slow, slow


def _derive(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


REAL = [
    pytest.param(["unroll", "pytorch_sgd", "-T", "1", "-o", "maximize=no"], "maximize is a flag", id="maximize=no"),
    pytest.param(["report", "--out", "afile"], "--out afile is a file", id="report-file"),
    pytest.param(["appendix", "--out", "afile/sub"], "is below", id="appendix-below-file",
                 marks=pytest.mark.slow),
    pytest.param(["unroll", "pytorch_sgd", "-T", "1", "-o", "lr=__import__('os').system('touch pwned')"],
                 "refused", id="lr-code", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("argv,message", REAL)
def test_the_real_entry_point_behaves_as_the_driver_saw(tmp_path, argv, message):
    _workdir(tmp_path / "w")
    _release(tmp_path / "w" / "ro")
    done = _derive(*argv, cwd=tmp_path / "w")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1 and message in done.stderr
    assert not (tmp_path / "w" / "pwned").exists()


def test_nesterov_0_now_means_off_on_the_command_line(tmp_path):
    on = _derive("unroll", "pytorch_sgd", "-T", "2", "-o", "momentum=0.9", "-o", "nesterov=1",
                 "-o", "weight_decay=0", cwd=tmp_path)
    off = _derive("unroll", "pytorch_sgd", "-T", "2", "-o", "momentum=0.9", "-o", "nesterov=0",
                  "-o", "weight_decay=0", cwd=tmp_path)
    plain = _derive("unroll", "pytorch_sgd", "-T", "2", "-o", "momentum=0.9", "-o", "weight_decay=0",
                    cwd=tmp_path)
    assert on.returncode == off.returncode == plain.returncode == 0, (on.stderr, off.stderr)
    assert off.stdout == plain.stdout
    assert on.stdout != off.stdout


# -- the Python API names the wrong argument ----------------------------------------------------
def _api_calls():
    import derive
    from derive.claims import claims, judge
    from derive.equivalence import equivalence
    from derive.induction import symbolic_closed_form
    from derive.opcount import count, table
    from derive.unroll import closed_form, iterate

    f = derive.get("plain_gd")
    return [
        ("claims('B7')", lambda: claims("B7"), "claims: ids must be a list of claim ids, got the string 'B7'"),
        ("claims(7)", lambda: claims(7), "claims: ids must be a list of claim ids"),
        ("claims([7])", lambda: claims([7]), "claims: ids must hold claim ids (strings), got 7"),
        ("judge(3)", lambda: judge(3), "judge: claim_or_id must be a claim id or a Claim"),
        ("judge('nope')", lambda: judge("nope"), "unknown claim id nope"),
        ("get(None)", lambda: derive.get(None), "name must be a catalogue name (a string), got name=None"),
        ("get(3)", lambda: derive.get(3), "got name=3"),
        ("closed_form('plain_gd', 3)", lambda: closed_form("plain_gd", 3),
         "closed_form: f must be a Formulation, got the name 'plain_gd'; build it first"),
        ("closed_form(f, '3')", lambda: closed_form(f, "3"), "got steps='3'"),
        ("iterate('plain_gd', 2)", lambda: iterate("plain_gd", 2), "iterate: f must be a Formulation"),
        ("symbolic_closed_form('plain_gd')", lambda: symbolic_closed_form("plain_gd"),
         "symbolic_closed_form: f must be a Formulation"),
        ("symbolic_closed_form(f, check_up_to=-1)", lambda: symbolic_closed_form(f, check_up_to=-1),
         "check_up_to must be >= 0, got check_up_to=-1"),
        ("count('plain_gd')", lambda: count("plain_gd"), "count: f must be a Formulation"),
        ("count(f, 'nope')", lambda: count(f, "nope"), "count: unknown convention 'nope'"),
        ("table('plain_gd')", lambda: table("plain_gd"), "table: names must be a list of catalogue names"),
        ("equivalence('plain_gd', f)", lambda: equivalence("plain_gd", f), "equivalence: F must be a Formulation"),
        ("equivalence(f, f, steps=0)", lambda: equivalence(f, f, steps=0), "steps must be >= 1, got steps=0"),
        ("equivalence(f, f, steps='4')", lambda: equivalence(f, f, steps="4"), "steps must be an integer"),
    ]


@pytest.mark.parametrize("index", range(18))
def test_a_public_function_called_wrongly_names_the_argument(index):
    label, call, message = _api_calls()[index]
    with pytest.raises(DeriveError) as caught:
        call()
    assert message in str(caught.value), (label, str(caught.value))
    if "unknown claim" not in message:
        assert isinstance(caught.value, TypeError), label
