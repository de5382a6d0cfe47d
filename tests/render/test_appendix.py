"""The appendix: semantic checks on the SymPy objects it prints, determinism, atomic writes, goldens.

A golden file pins the exact bytes for the installed SymPy (a printing change shows up there);
the semantic tests pin the mathematics (a wrong row fails them whatever the printer does).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp

from derive.catalogue import get, names
from derive.errors import DeriveError
from derive.render import convention, files, markdown
from derive.render.appendix import Options
from derive.render.derivation import Cases, closed_form_rows, update_rows
from derive.render.printer import house_latex
from derive.symbols import g, t
from derive.unroll import closed_form

GOLDEN = Path(__file__).parent / "golden" / sp.__version__
GOLDEN_OPTIONS = Options(only=("plain_gd", "sutskever_momentum", "pytorch_sgd", "pytorch_nesterov_implemented"),
                         horizon=2)
REGENERATE = ("python -m derive appendix --no-pdf --horizon 2 --only plain_gd sutskever_momentum pytorch_sgd "
              f"pytorch_nesterov_implemented --out tests/render/golden/{sp.__version__}")


@pytest.fixture(scope="module")
def golden_files():
    return files.render(GOLDEN_OPTIONS, pdf=False)


@pytest.mark.parametrize("name", ["appendix.tex", "appendix-body.tex", "appendix.md"])
def test_golden_bytes_for_this_sympy(golden_files, name):
    path = GOLDEN / name
    if not GOLDEN.is_dir():
        pytest.skip(f"no golden files for SymPy {sp.__version__}; create them with: {REGENERATE}")
    assert golden_files[name] == path.read_bytes(), (
        f"{name} differs from the golden for SymPy {sp.__version__}; if the semantic tests pass this is a "
        f"printing change: review the diff, then regenerate with: {REGENERATE}")


def test_rendering_twice_gives_identical_bytes(golden_files):
    assert files.render(GOLDEN_OPTIONS, pdf=False) == golden_files


@pytest.mark.parametrize("name", names())
def test_update_rows_are_the_program(name):
    f = get(name)
    rows = {r.lhs: r.rhs for r in update_rows(f)}
    assert rows[g[t]].args[0] == f.grad_at
    for assign in f.update:
        rhs = rows[assign.target]
        if assign.first is None:
            assert rhs == assign.value
        else:
            assert isinstance(rhs, Cases) and rhs.branches[0][0] == assign.first and rhs.branches[1][0] == assign.value


@pytest.mark.parametrize("name", ["sutskever_nesterov", "pytorch_sgd", "keras_sgd", "bengio_nesterov"])
def test_closed_form_rows_sum_to_the_unrolled_parameters(name):
    f = get(name)
    (row,) = closed_form_rows(closed_form(f, 3))
    iterated = closed_form(f, 3).expression(f.params)
    assert row.lhs == f.params[3]
    assert sp.expand(row.rhs.expr() - iterated) == 0


@pytest.mark.parametrize("name", [n for n in names() if convention.placement(get(n))])
def test_convention_change_reproduces_the_original_velocity(name):
    f = get(name)
    kind, u = convention.placement(f)
    other = "pytorch" if kind == "paper" else "paper"
    rows = convention.convert(f, other)
    definition = rows[0]  # w_t = expression in u_t
    w = definition.lhs.base
    velocity = next(r for r in rows[2:] if r.lhs == w[t])
    original = next(a for a in f.update if a.base == u)
    converted = velocity.rhs.branches[-1][0] if isinstance(velocity.rhs, Cases) else velocity.rhs
    back = converted.xreplace({w[t - 1]: definition.rhs.subs(t, t - 1)})
    assert sp.simplify(back - definition.rhs.xreplace({u[t]: original.value})) == 0


def test_every_update_line_appears_in_the_markdown(golden_files):
    md = golden_files["appendix.md"].decode()
    for name in GOLDEN_OPTIONS.only:
        for assign in get(name).update:
            if assign.first is None:
                assert f"{house_latex(assign.target)} &= {house_latex(assign.value)}" in md


KATEX_MACROS = {"begin", "end", "text", "left", "right", "frac", "sum", "prod", "varepsilon", "mu", "theta",
                "Theta", "lambda", "tau", "nabla", "hat", "tilde", "bar", "Phi", "geq", "qquad", "Bigl", "Bigr",
                "textbackslash", "textasciicircum", "textasciitilde", "S", "cdot", "leq", "neq", "to", "times"}


def test_markdown_math_uses_only_katex_macros_inside_dollar_blocks(golden_files):
    md = golden_files["appendix.md"].decode()
    assert "align*" not in md
    blocks = re.findall(r"\$\$\n(.*?)\n\$\$", md, flags=re.S)
    assert blocks and all(b.startswith(r"\begin{aligned}") for b in blocks)
    used = set(re.findall(r"(?<!\\)\\([A-Za-z]+)", md))  # skip a row break before a letter
    assert used <= KATEX_MACROS, used - KATEX_MACROS


def test_markdown_escapes_prose():
    assert markdown.escape("_single_tensor_sgd *x*") == r"\_single\_tensor\_sgd \*x\*"


def test_a_failure_midway_leaves_the_previous_files_intact(tmp_path, monkeypatch):
    files.write(tmp_path, Options(only=("plain_gd",)), pdf=False)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(_document):
        raise RuntimeError("rendering failed midway")

    monkeypatch.setattr(markdown, "document", broken)
    with pytest.raises(RuntimeError, match="midway"):
        files.write(tmp_path, Options(only=("plain_gd", "sutskever_momentum")), pdf=False)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temp dir left either


@pytest.mark.parametrize("options, message", [
    (dict(only=("no_such_thing",)), "unknown id no_such_thing"),
    (dict(horizon=0), "--horizon"),
    (dict(convention="keras"), "unknown convention"),
])
def test_bad_options_name_the_problem(options, message):
    with pytest.raises(DeriveError, match=message):
        files.render(Options(**options), pdf=False)


def test_cli_writes_the_appendix(tmp_path, capsys):
    from derive.cli import main

    assert main(["appendix", "--out", str(tmp_path), "--only", "plain_gd", "--no-pdf"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"appendix.tex", "appendix-body.tex", "appendix.md", "sgdderive.sty"}
    assert str(tmp_path / "appendix.md") in capsys.readouterr().out


@pytest.mark.latex
def test_pdflatex_compiles_the_appendix_and_its_log_has_no_error(golden_files):
    from derive.render.output import compile_pdf, log_errors

    texts = {name: data.decode() for name, data in golden_files.items() if name.endswith(".tex")}
    pdf, log = compile_pdf(texts)
    assert pdf.startswith(b"%PDF") and log_errors(log) == [] and "Output written on appendix.pdf" in log


@pytest.mark.latex
def test_a_latex_error_is_reported_from_the_log():
    from derive.render.output import compile_pdf

    broken = {"appendix.tex": "\\documentclass{article}\\begin{document}$\\undefinedmacro$\\end{document}\n"}
    with pytest.raises(DeriveError, match="Undefined control sequence"):
        compile_pdf(broken)


def test_the_convention_decides_which_programs_are_converted():
    from derive.render.appendix import formulation_section
    from derive.render.document import Display

    def converted(name, chosen):
        section = formulation_section(get(name), Options(convention=chosen))
        return any(isinstance(b, Display) and b.rows[0].label == "change of variables" for b in section.blocks)

    assert converted("sutskever_momentum", "pytorch") and not converted("sutskever_momentum", "paper")
    assert converted("pytorch_sgd", "paper") and not converted("pytorch_sgd", "pytorch")


def test_without_pdflatex_the_appendix_has_tex_and_md_only(monkeypatch):
    from derive.render import output

    monkeypatch.setattr(output.shutil, "which", lambda name: None)
    assert set(files.render(Options(only=("plain_gd",)))) == {"appendix.tex", "appendix-body.tex", "appendix.md",
                                                             "sgdderive.sty"}


def test_an_output_path_that_is_a_file_is_refused_with_the_reason(tmp_path):
    target = tmp_path / "appendix"
    target.write_text("not a directory")
    with pytest.raises(DeriveError, match="appendix is a file; give a directory"):
        files.write(target, Options(only=("plain_gd",)), pdf=False)


@pytest.mark.latex
def test_the_body_compiles_when_another_document_inputs_it(golden_files):
    from derive.render.latex import PREAMBLE
    from derive.render.output import compile_pdf, log_errors

    host = PREAMBLE + "\\begin{document}\n\\input{appendix-body.tex}\n\\end{document}\n"
    pdf, log = compile_pdf({"appendix.tex": host, "appendix-body.tex": golden_files["appendix-body.tex"].decode()})
    assert log_errors(log) == [] and "appendix-body.tex" in log
