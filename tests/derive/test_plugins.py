"""Plugins: a user's formulations and claims reach every command through --plugin and the sgd_derive.plugins
entry-point group, are marked as the user's, are never cached, and fail in one line; derive holds no torch.

A plugin that loads stays registered in its process, so every test that loads one runs derive in a
subprocess; the failures are loaded in this process (a plugin that fails leaves nothing registered).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from derive.catalogue import CATALOGUE
from derive.claims import REGISTRY
from derive.cli import main
from derive.commands import COMMANDS
from plugin_sources import USER_PLUGIN  # tests/: the same user plugin in verify's plugin tests

ROOT = Path(__file__).resolve().parents[2]


def derive(*argv, cwd: Path, env: dict | None = None, python_path=()) -> subprocess.CompletedProcess:
    """``python -m derive ARGV`` in a fresh interpreter (what it registers dies with it)."""
    paths = [str(ROOT), *map(str, python_path)]
    return subprocess.run([sys.executable, "-m", "derive", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={**os.environ, "PYTHONPATH": os.pathsep.join(paths), **(env or {})})


def python(code: str, *, cwd: Path, python_path=(), env: dict | None = None) -> subprocess.CompletedProcess:
    paths = [str(ROOT), *map(str, python_path)]
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=600,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(paths), **(env or {})})


@pytest.fixture
def user_dir(tmp_path) -> Path:
    """A user's directory outside the repository, holding their plugin ``user_plugin.py``."""
    (tmp_path / "user_plugin.py").write_text(USER_PLUGIN)
    return tmp_path


# -- --plugin on every command ---------------------------------------------------------------------
def _minimal_argv(name: str, tmp_path: Path) -> list[str]:
    out = str(tmp_path / "out")
    return {"unroll": ["unroll", "plain_gd", "-T", "1"], "appendix": ["appendix", "--out", out, "--no-pdf"],
            "notebooks": ["notebooks", "--out", out], "report": ["report", "--out", out, "--no-pdf"]}.get(name, [name])


def _command_names() -> list[str]:
    import importlib

    return [importlib.import_module(f"derive.commands.{m}").NAME for m in COMMANDS]


@pytest.mark.parametrize("command", _command_names())
def test_every_derive_command_loads_plugins_first_and_a_missing_one_is_one_line(command, tmp_path, capsys):
    before = (dict(CATALOGUE), dict(REGISTRY))
    status = main(_minimal_argv(command, tmp_path) + ["--plugin", "no_such_plugin_module"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.splitlines() == ["derive: error: plugin no_such_plugin_module: no module named "
                                "'no_such_plugin_module' (give a dotted name importable from sys.path or the "
                                "current directory, or a path to a .py file)"]
    assert not (tmp_path / "out").exists()  # nothing ran, nothing written
    assert (dict(CATALOGUE), dict(REGISTRY)) == before


def _one_error(argv, capsys) -> str:
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1 and err.startswith("derive: error: plugin "), err
    return err.strip()


def test_a_plugin_raising_on_import_is_named_with_its_exception(tmp_path, capsys):
    (tmp_path / "raising.py").write_text("x = 1\nraise RuntimeError('the plugin broke\\nsecond line')\n")
    err = _one_error(["list", "--plugin", str(tmp_path / "raising.py")], capsys)
    assert err.endswith("raising.py raised RuntimeError on import: the plugin broke")
    assert "raising" not in sys.modules  # a file plugin that failed is not left half-imported


def test_a_plugin_missing_its_own_dependency_is_not_reported_as_missing_itself(tmp_path, capsys):
    (tmp_path / "needs_more.py").write_text("import a_dependency_nobody_installed\n")
    err = _one_error(["list", "--plugin", str(tmp_path / "needs_more.py")], capsys)
    assert "raised ModuleNotFoundError on import: No module named 'a_dependency_nobody_installed'" in err


@pytest.mark.parametrize("kind, source, taken", [
    ("formulation", "from derive.catalogue import entry\n\n@entry\ndef plain_gd(*, lr=None):\n    pass\n",
     "formulation 'plain_gd' is already registered by sgd-derive"),
    ("claim", "from derive.claims import claim\n\n@claim('B7', source='s', statement='s', reading='r', "
              "expected='holds')\ndef b7():\n    pass\n", "claim 'B7' is already registered by sgd-derive"),
])
def test_a_plugin_taking_a_registered_name_is_refused_and_leaves_nothing_registered(kind, source, taken, tmp_path,
                                                                                    capsys):
    early = ("from derive.catalogue import entry\nfrom derive.formulation import Formulation\n\n"
             "@entry\ndef registered_before_the_clash(*, lr=None):\n    pass\n\n")
    (tmp_path / f"clash_{kind}.py").write_text(early + source)
    before = (dict(CATALOGUE), dict(REGISTRY))
    err = _one_error(["list", "--plugin", str(tmp_path / f"clash_{kind}.py")], capsys)
    assert err.endswith(f"clash_{kind}.py: {taken}")
    assert (dict(CATALOGUE), dict(REGISTRY)) == before  # the entry registered before the clash is gone too


def test_a_path_that_is_not_a_file_or_a_name_that_is_not_a_module_is_one_line(tmp_path, capsys):
    assert _one_error(["list", "--plugin", str(tmp_path / "absent.py")], capsys).endswith("absent.py: no such file")
    assert "not a module name" in _one_error(["list", "--plugin", "not-a-module"], capsys)


# -- what a plugin registers, seen by the commands ----------------------------------------------------
def test_list_unroll_and_claims_see_a_plugin_by_path_and_by_dotted_name(user_dir):
    listed = derive("list", "--plugin", "user_plugin", cwd=user_dir)  # a module beside the user
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^halved_gd +Half-step gradient descent  \[plugin user_plugin\]$", listed.stdout, re.M)
    assert re.search(r"^plain_gd +Plain gradient descent$", listed.stdout, re.M)  # the package's: unmarked
    entries = json.loads(derive("list", "--json", "--plugin", "user_plugin", cwd=user_dir).stdout)
    assert {e["name"]: e["origin"] for e in entries}["halved_gd"] == "plugin user_plugin"
    assert {e["name"]: e["origin"] for e in entries}["plain_gd"] == "sgd-derive"

    elsewhere = user_dir / "elsewhere"
    elsewhere.mkdir()
    unrolled = derive("unroll", "halved_gd", "-T", "2", "--plugin", str(user_dir / "user_plugin.py"), cwd=elsewhere)
    assert unrolled.returncode == 0, unrolled.stderr
    assert unrolled.stdout.strip() == "theta[2] = -(1/2)*epsilon[1]*g[1] - (1/2)*epsilon[2]*g[2] + theta[0]"

    judged = derive("claims", "--only", "USER-1", "USER-2", "B3", "--plugin", "user_plugin", cwd=user_dir)
    assert judged.returncode == 0, judged.stderr
    lines = judged.stdout.splitlines()
    assert re.fullmatch(r"USER-1 \| holds +\| equal at every step  \[plugin user_plugin\]", lines[0])
    assert re.fullmatch(r"USER-2 \| fails +\| they differ  \[plugin user_plugin\]", lines[1])
    assert lines[2].startswith("B3 ") and "[plugin" not in lines[2]


def test_the_same_plugin_named_twice_is_loaded_once(user_dir):
    twice = derive("list", "--plugin", "user_plugin", "--plugin", "user_plugin", cwd=user_dir)
    assert twice.returncode == 0, twice.stderr
    assert twice.stdout.count("halved_gd") == 1


def test_a_changed_verdict_of_a_plugin_claim_fails_the_command(user_dir):
    (user_dir / "user_plugin.py").write_text(USER_PLUGIN.replace('expected="fails"', 'expected="holds"'))
    judged = derive("claims", "--only", "USER-2", "--plugin", "user_plugin", cwd=user_dir)
    assert judged.returncode == 1
    assert "[recorded: holds]" in judged.stdout and "USER-2" in judged.stderr


def test_the_appendix_captions_a_plugins_claims_and_formulations_as_the_plugins(user_dir):
    out = user_dir / "appendix"
    written = derive("appendix", "--out", str(out), "--no-pdf", "--sections", "formulations,claims", "--horizon", "1",
                     "--only", "halved_gd", "USER-1", "B3", "--plugin", "user_plugin", cwd=user_dir)
    assert written.returncode == 0, written.stderr
    for name in ("appendix.md", "appendix.tex"):
        text = (out / name).read_text()
        assert "Claims of plugin user" in text  # (the underscore is escaped in LaTeX)
        assert "Every claim of the sources" in text  # B3, the package's, keeps its caption, in its own table
        assert text.count("Registered by plugin user") == 2  # the formulation and the claim USER-1
    md = (out / "appendix.md").read_text()
    assert md.index("Every claim of the sources") < md.index("Claims of plugin user")


def test_a_plugins_claims_are_never_cached_and_the_packages_are(user_dir):
    cache = user_dir / "cache"
    judged = derive("claims", "--only", "USER-1", "--plugin", "user_plugin", cwd=user_dir,
                    env={"SGD_DERIVE_CACHE": str(cache)})
    assert judged.returncode == 0, judged.stderr
    assert not (cache / "verdicts").exists()
    judged = derive("claims", "--only", "USER-1", "B3", "--plugin", "user_plugin", cwd=user_dir,
                    env={"SGD_DERIVE_CACHE": str(cache)})
    assert judged.returncode == 0, judged.stderr
    assert len(list((cache / "verdicts").iterdir())) == 1  # B3's


def test_a_plugin_is_a_plugin_from_python_too(user_dir):
    out = python("from derive.plugins import load_plugins, user_plugins\n"
                 "from derive.catalogue import origin\nfrom derive.claims import REGISTRY, cacheable\n"
                 "assert not user_plugins()\n"
                 "record, = [p for p in load_plugins(['user_plugin'], entry_points=False) if p.name == 'user_plugin']\n"
                 "print(record.formulations, record.claims, origin('halved_gd'), REGISTRY['USER-1'].origin,\n"
                 "      cacheable(REGISTRY['USER-1']), cacheable(REGISTRY['B3']), user_plugins())\n"
                 "assert load_plugins(['user_plugin'], entry_points=False)[-1] is record  # once per process",
                 cwd=user_dir)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == ("('halved_gd',) ('USER-1', 'USER-2') plugin user_plugin "
                                         "plugin user_plugin False True True")


# -- the sgd_derive.plugins entry-point group ------------------------------------------------------
def _distribution(site: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]):
    """An installed distribution, as importlib.metadata sees one: a .dist-info with entry_points.txt."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[sgd_derive.plugins]\n" + "".join(
        f"{k} = {v}\n" for k, v in entry_points.items()))
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)


def test_installed_distributions_plugins_load_in_a_fixed_order_and_are_marked_with_the_distribution(tmp_path):
    site = tmp_path / "site"
    renamed = USER_PLUGIN.replace("halved_gd", "quartered_gd").replace("USER-", "DIST-")
    _distribution(site, "zeta-tools", {"one": "zeta_plugin"}, {"zeta_plugin": renamed})
    _distribution(site, "alpha-tools", {"second": "alpha_two:register", "first": "alpha_one"}, {
        "alpha_one": "from dataclasses import replace\nfrom derive.catalogue import entry, get\n\n"
                     "@entry\ndef alpha_gd(*, lr=None):\n"
                     "    return replace(get('plain_gd', lr=lr), name='alpha_gd', title='Alpha')\n",
        "alpha_two": "def register():\n    from dataclasses import replace\n    from derive.catalogue import entry, get\n\n"
                     "    @entry\n    def beta_gd(*, lr=None):\n"
                     "        return replace(get('plain_gd', lr=lr), name='beta_gd', title='Beta')\n"})
    listed = derive("list", cwd=tmp_path, python_path=[site])
    assert listed.returncode == 0, listed.stderr
    marked = re.findall(r"^(\w+) .*\[(plugin [\w-]+)\]$", listed.stdout, re.M)
    assert marked == [("alpha_gd", "plugin alpha-tools"), ("beta_gd", "plugin alpha-tools"),
                      ("quartered_gd", "plugin zeta-tools")]  # distribution, then entry-point name
    out = python("from derive.plugins import load_plugins\n"
                 "print([(p.name, p.target, p.formulations) for p in load_plugins() if p.name != 'verify'])",
                 cwd=tmp_path, python_path=[site])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("[('alpha-tools', 'alpha_one', ('alpha_gd',)), ('alpha-tools', "
                                  "'alpha_two:register', ('beta_gd',)), ('zeta-tools', 'zeta_plugin', "
                                  "('quartered_gd',))]")
    skipped = derive("list", cwd=tmp_path, python_path=[site], env={"SGD_DERIVE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert skipped.returncode == 0 and "[plugin" not in skipped.stdout


def test_the_packages_own_entry_point_is_the_built_in_plugin_loaded_once(tmp_path):
    tomllib = pytest.importorskip("tomllib")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["sgd_derive.plugins"]
    from derive.plugins import BUILTIN

    assert declared == dict(BUILTIN) == {"verify": "verify.plugin:register"}
    site = tmp_path / "site"  # this checkout, as if installed: its entry point and the fallback name one plugin
    _distribution(site, "sgd-derive", declared, {})
    out = python("from derive.plugins import load_plugins\n"
                 "print([(p.name, p.origin.builtin) for p in load_plugins()])",
                 cwd=tmp_path, python_path=[site])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[('verify', True)]"


def test_a_broken_installed_plugin_is_one_line_naming_its_distribution(tmp_path):
    site = tmp_path / "site"
    _distribution(site, "broken-tools", {"broken": "broken_plugin"}, {"broken_plugin": "1 / 0\n"})
    for argv in (["list"], ["claims", "--only", "B1"]):
        result = derive(*argv, cwd=tmp_path, python_path=[site])
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.splitlines() == [
            "derive: error: plugin broken-tools (entry point broken = broken_plugin in sgd_derive.plugins) "
            "raised ZeroDivisionError on import: division by zero"]


# -- torch stays out of derive ---------------------------------------------------------------------
def test_no_derive_module_imports_torch_or_verify():
    """Not in code, not in the notebook cells derive writes: the arrow derive -> verify is gone."""
    offending = []
    for path in sorted((ROOT / "derive").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"\b(import|from)\s+verify\b", text):
            offending.append(f"{path.relative_to(ROOT)} mentions importing verify")
        if re.search(r"^\s*(import|from)\s+torch\b", text, re.M):
            offending.append(f"{path.relative_to(ROOT)} imports torch")
    assert not offending


BLOCK_TORCH = textwrap.dedent("""
    import sys

    class BlockTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError(f"torch is blocked in this test: {name}")
            return None

    sys.meta_path.insert(0, BlockTorch())
""")


def test_without_torch_claims_says_in_one_line_how_many_claims_were_not_loaded_and_why(tmp_path):
    # The whole registry (cut to two claims here, to stay quick) is judged: the line says what is missing.
    code = BLOCK_TORCH + ("from derive.cli import main\nimport json\nfrom derive.claims import REGISTRY\n"
                          "for i in [i for i in REGISTRY if i not in ('B3', 'B10')]:\n    del REGISTRY[i]\n"
                          "sys.exit(main(['claims', '--json']))")
    out = python(code, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [d["id"] for d in json.loads(out.stdout)] == ["B3", "B10"]
    assert out.stderr.splitlines() == ["derive: 7 claims of plugin verify not loaded (C1, C2, C3, C4, D1, D2, "
                                       "B6-torch): torch is not installed; pip install 'sgd-derive[verify]'"]
    # Claims asked for by id: none is missing, so there is nothing to say.
    only = python(BLOCK_TORCH + "from derive.cli import main\nsys.exit(main(['claims', '--only', 'B3']))",
                  cwd=tmp_path)
    assert only.returncode == 0 and only.stderr == "", only.stderr
    asked = python(BLOCK_TORCH + "from derive.cli import main\nsys.exit(main(['claims', '--only', 'C3']))",
                   cwd=tmp_path)
    assert asked.returncode == 2
    assert asked.stderr.splitlines()[-1] == ("derive: error: claim C3 is plugin verify's, not loaded here: "
                                             "torch is not installed; pip install 'sgd-derive[verify]'")
