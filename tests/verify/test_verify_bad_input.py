"""Every verify subcommand against hostile input, in a subprocess: exit 2, exactly one
``verify: error:`` line naming the problem, no traceback, and no file left behind.

The fast rows are refused before torch is imported; the ``slow`` rows need a run (an optimizer
constructor, an objective leaving its domain) or a module load.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify_process import ROOT, TORCH_BLOCKER, assert_one_line_error, env, listing, verify

from verify.errors import VerifyError
from verify.options import ROLE_OPTIONS, parse_kwargs

SWEEP = ["sweep", "--dtype", "float64", "--impl", "for-loop", "--schedule", "constant", "--no-scenarios", "--quiet"]

# argv (OUT is the --json target inside the test's directory), what the one line must say
REFUSED_UP_FRONT = [
    (SWEEP + ["--steps", "0"], "argument --steps: must be at least 1, got 0"),
    (SWEEP + ["--steps", "-5"], "argument --steps: must be at least 1, got -5"),
    (SWEEP + ["--steps", "2.5"], "argument --steps: expected a whole number, got '2.5'"),
    (["sweep", "--dtype", ","], "argument --dtype: empty list ','"),
    (["sweep", "--impl", "loop"], "argument --impl: unknown loop"),
    (SWEEP + ["--json", "missing/out.json"], "the directory"),
    (SWEEP + ["--json", "."], "is a directory; give a file name"),
    (SWEEP + ["--json", "/proc/verify-out.json"], "cannot write in /proc"),
    (["identify", "torch.optim:SGD", "--kwargs", '{"lr": "a"}', "--json", "OUT"], "--kwargs: lr must be a finite number, got 'a'"),
    (["identify", "torch.optim:SGD", "--kwargs", '{"momentum": [1]}'], "--kwargs: momentum must be a finite number, got [1]"),
    (["identify", "torch.optim:SGD", "--kwargs", '{"nesterov": 0}'], "--kwargs: nesterov must be true or false, got 0"),
    (["identify", "torch.optim:SGD", "--kwargs", '{"lr": NaN}'], "--kwargs: lr must be a finite number, got nan"),
    (["identify", "torch.optim:SGD", "--kwargs", '{"lr": 1e999}'], "--kwargs: lr must be a finite number, got inf"),
    (["identify", "torch.optim:SGD", "--kwargs", '{"lr": 0.1, "lr": 0.2}'], "--kwargs gives 'lr' twice"),
    (["identify", "torch.optim:SGD", "--kwargs", "[0.1]"], "--kwargs must be a JSON object"),
    (["identify", "torch.optim:SGD", "--kwargs", "{lr: 1}"], "--kwargs is not JSON"),
    (["identify", "torch.optim:SGD", "--steps", "0"], "argument --steps: must be at least 1, got 0"),
    (["identify", "torch.optim:SGD", "--timeout", "0"], "argument --timeout: must be a positive number of seconds"),
    (["identify", "torch.optim:SGD", "--timeout", "inf"], "argument --timeout: must be a finite number"),
    (["identify", "torch.optim:SGD", "--json", "missing/out.json"], "the directory"),
    (["identify", "torch.optim:SGD", "--json", "."], "is a directory"),
    (["identify", "torch.optim:SGD", "--json", "/etc/hostname/out.json"], "is not a directory"),
    (["trajectory", "--steps", "-3"], "argument --steps: must be at least 1, got -3"),
    (["trajectory", "--x0", "inf"], "argument --x0: must be a finite number, got 'inf'"),
    (["trajectory", "--x0", "nan"], "argument --x0: must be a finite number, got 'nan'"),
    (["trajectory", "--x0", "1,,2"], "argument --x0: expected a number, got ''"),
    (["trajectory", "--lr", "inf"], "argument --lr: must be a finite number, got 'inf'"),
    (["trajectory", "--lr", "nan"], "argument --lr: must be a finite number, got 'nan'"),
    (["trajectory", "--momentum=-inf"], "argument --momentum: must be a finite number"),
    (["trajectory", "--json", "/proc/verify-out.json"], "cannot write in /proc"),
    (["nosuch"], "argument COMMAND: invalid choice: 'nosuch'"),
]

NEEDS_A_RUN = [
    (["trajectory", "plain_gd", "--lr", "-1", "--json", "OUT"],
     "not checkable: the optimizer's constructor raised ValueError: Invalid learning rate: -1.0"),
    (["trajectory", "--momentum", "0.9", "--dampening", "0.5", "--nesterov"],
     "constructor raised ValueError: Nesterov momentum requires a momentum and zero dampening"),
    (["trajectory", "--x0", "1e308"], "the objective is not finite at step 1, evaluated from theta = [1e+308]: f = inf"),
    (["trajectory", "plain_gd", "--objective", "1/x", "--x0", "0"],
     "the objective is not finite at step 1, evaluated from theta = [0.0]: f = inf"),
    (["trajectory", "plain_gd", "--objective", "log(x)", "--steps", "30"], "the objective is not finite at step 7"),
    (["trajectory", "plain_gd", "--objective", "sqrt(x)", "--steps", "40"], "the objective is not finite at step 16"),
    (["trajectory", "plain_gd", "--objective", "x**100000"],
     "the objective is not finite at step 2, evaluated from theta = [-9999.0]: f = inf"),
    (["trajectory", "plain_gd", "--objective", "exp(x)", "--x0", "800", "--json", "OUT"],
     "the objective is not finite at step 1, evaluated from theta = [800.0]: f = inf"),
    (["trajectory", "plain_gd", "--lr", "0"], "not checkable: nothing moved: the lr is 0 at every step"),
    (["identify", "torch.optim:SGD", "--kwargs", '{"lr": -0.1}', "--json", "OUT"],
     "not checkable: the optimizer's constructor raised ValueError: Invalid learning rate: -0.1"),
    (["identify", "SYNTAX:Mine"], "syntax error: invalid syntax"),
    (["identify", "IMPORTS:Mine"], "failed: ModuleNotFoundError: No module named 'no_such_module_for_verify'"),
    (["identify", "EXITS:Mine"], "failed: SystemExit: 4"),
    (["identify", "torch.optim:NoSuchOptimizer"], "torch.optim has no 'NoSuchOptimizer'"),
    (["identify", "no_such_package_for_verify:SGD"], "cannot import 'no_such_package_for_verify'"),
]

BAD_FILES = {"SYNTAX": "def broken(:\n", "IMPORTS": "import no_such_module_for_verify\n",
             "EXITS": "import sys\nsys.exit(4)\n"}


def _run(argv, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for key, source in BAD_FILES.items():
        (tmp_path / f"{key.lower()}.py").write_text(source)
    argv = [str(tmp_path / "out.json") if a == "OUT" else a for a in argv]
    argv = [a.replace(key, str(tmp_path / f"{key.lower()}.py")) if a.startswith(key + ":") else a
            for a in argv for key in [next((k for k in BAD_FILES if a.startswith(k + ":")), "")]]
    before = listing(tmp_path)
    done = verify(*argv, cwd=work)
    return done, before, listing(tmp_path)


@pytest.mark.parametrize("argv, message", REFUSED_UP_FRONT, ids=[" ".join(a[:4]) for a, _ in REFUSED_UP_FRONT])
def test_bad_input_is_refused_up_front_in_one_line(argv, message, tmp_path):
    done, before, after = _run(argv, tmp_path)
    assert_one_line_error(done, message)
    assert after == before  # no output, no temporary file, nothing half-written
    assert not list(Path("/proc").glob("verify-out*"))


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.parametrize("argv, message", NEEDS_A_RUN, ids=[" ".join(a[:4]) for a, _ in NEEDS_A_RUN])
def test_what_only_a_run_reveals_is_one_line_naming_the_step_or_the_cause(argv, message, tmp_path):
    done, before, after = _run(argv, tmp_path)
    assert_one_line_error(done, message)
    assert after == before  # no output, no temporary file, nothing half-written
    assert not list(Path("/proc").glob("verify-out*"))


def test_verify_help_works_without_torch(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(TORCH_BLOCKER)
    blocked = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True,
                             env=env(str(tmp_path)))
    assert blocked.returncode != 0 and "torch is blocked" in blocked.stderr  # the blocker works
    for argv in (["--help"], ["sweep", "--help"], ["identify", "--help"], ["trajectory", "--help"]):
        done = verify(*argv, cwd=tmp_path, extra_path=str(tmp_path))
        assert done.returncode == 0 and "exit status: 0" in done.stdout, done.stderr
    done = verify("identify", "torch.optim:SGD", cwd=tmp_path, extra_path=str(tmp_path))
    assert_one_line_error(done, "torch")


def test_import_verify_is_cheap_and_exports_its_api_and_verify_error():
    code = ("import sys, verify; assert 'torch' not in sys.modules, 'torch loaded'; "
            "assert issubclass(verify.VerifyError, ValueError); print(sorted(verify.__all__))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['VerifyError', '__version__', 'check', 'identify', 'record']"


@pytest.mark.torch
def test_the_exported_names_are_the_functions_not_their_modules():
    code = ("import verify, verify.identify, verify.judge, verify.recorder; "
            "print(all(callable(f) and not isinstance(f, type(verify)) "
            "for f in (verify.identify, verify.check, verify.record)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr


# -- the Python API names the bad argument --------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("call, error, message", [
    (dict(steps=0), "VerifyError", "steps must be at least 1, got 0"),
    (dict(steps="5"), "TypeError", "steps must be an int, got '5' (str)"),
    (dict(steps=True), "TypeError", "steps must be an int"),
    (dict(candidates=["nosuch"]), "VerifyError", "candidates: unknown formulation 'nosuch'"),
    (dict(candidates="pytorch_sgd"), "TypeError", "candidates must be a list of formulation names"),
    (dict(candidates=[]), "VerifyError", "candidates is empty"),
    (dict(kwargs={"lr": "a"}), "VerifyError", "kwargs: lr must be a finite number, got 'a'"),
    (dict(kwargs={"lr": float("nan")}), "VerifyError", "kwargs: lr must be a finite number, got nan"),
    (dict(kwargs={"nesterov": "no"}), "VerifyError", "kwargs: nesterov must be true or false, got 'no'"),
    (dict(kwargs=[("lr", 0.1)]), "TypeError", "kwargs must be a mapping"),
    (dict(timeout=0), "VerifyError", "timeout must be a positive number of seconds"),
    (dict(factory=3), "TypeError", "factory must be an optimizer class or callable, got 3"),
])
def test_the_python_api_refuses_bad_arguments_naming_them(call, error, message):
    import torch

    import verify

    call = {"factory": torch.optim.SGD, "kwargs": {}, **call}
    factory, kwargs = call.pop("factory"), call.pop("kwargs")
    expected_type = verify.VerifyError if error == "VerifyError" else TypeError
    with pytest.raises(expected_type) as raised:
        verify.identify(factory, kwargs, **call)
    assert message in str(raised.value)


# -- --kwargs fuzzing -------------------------------------------------------------------------------
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["lr", "momentum", "nesterov", "maximize", "betas", "x"]), JSON, max_size=4))
def test_kwargs_json_is_accepted_exactly_when_every_option_has_its_type(options):
    text = json.dumps(options)
    try:
        parsed = parse_kwargs(text)
    except VerifyError as exc:
        assert str(exc).startswith("--kwargs"), exc
        bad = [k for k, v in options.items()
               if (k in ROLE_OPTIONS and (isinstance(v, bool) or not isinstance(v, (int, float))
                                          or v != v or abs(v) == float("inf")))
               or (k in ("nesterov", "maximize") and not isinstance(v, bool))]
        assert bad and any(f"{k} must be" in str(exc) for k in bad), (options, exc)
    else:
        assert json.dumps(parsed) == text  # the options as given (NaN != NaN, so compare the text)
        assert all(isinstance(parsed[k], bool) for k in ("nesterov", "maximize") if k in parsed)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_kwargs_text_is_either_an_object_of_options_or_one_verify_error(text):
    try:
        parsed = parse_kwargs(text)
    except VerifyError as exc:
        assert str(exc).startswith("--kwargs") and "\n" not in str(exc)
    else:
        assert isinstance(parsed, dict)
