"""Operation counts from the programs, and torch.optim.SGD's memory-traffic model."""

from __future__ import annotations

import sympy as sp

from derive.catalogue import get
from derive.claims.evidence import CONSTANT
from derive.cli import main
from derive.opcount import CONVENTIONS, count, table, traffic


def test_b11_source_counts_under_the_as_written_convention():
    doc = count(get("pytorch_nesterov_documented", **CONSTANT), "as-written")
    impl = count(get("pytorch_nesterov_implemented", **CONSTANT), "as-written")
    assert (doc.total, impl.total) == (7, 6)
    assert doc.mul - impl.mul == 1 and doc.add == impl.add


def test_hoisting_scalar_products_removes_the_saving():
    doc = count(get("pytorch_nesterov_documented", **CONSTANT), "hoisted")
    impl = count(get("pytorch_nesterov_implemented", **CONSTANT), "hoisted")
    assert doc.total == impl.total


def test_fma_counts_each_multiply_add_once():
    for name in ("pytorch_nesterov_documented", "pytorch_nesterov_implemented", "sutskever_momentum"):
        plain, fused = count(get(name), "hoisted"), count(get(name), "fma")
        assert fused.total == plain.total - fused.fma and fused.fma > 0


def test_lookahead_point_costs_what_its_expression_costs():
    f = get("sutskever_nesterov", **CONSTANT)  # theta + mu v: no sign for count_ops to count apart
    with_point, without = count(f, "as-written"), count(f, "no-lookahead")
    point = f.grad_at.xreplace({a: sp.Dummy() for a in f.grad_at.atoms(sp.Indexed)})  # t-1 is no operation
    assert with_point.total - without.total == sp.count_ops(point)


def test_table_has_every_formulation_and_convention():
    rows = table()
    assert len(rows) == len(get.__globals__["CATALOGUE"]) * len(CONVENTIONS)


def test_fused_traffic_reads_param_grad_buffer_once():
    regular = {r.impl: r for r in traffic({"dampening": 0, "weight_decay": 0}) if r.step == "regular"}
    first = {r.impl: r for r in traffic({"dampening": 0, "weight_decay": 0}) if r.step == "first"}
    assert (regular["fused"].reads, regular["fused"].writes) == (3, 2)  # param, grad, buffer; param, buffer
    assert (first["fused"].reads, first["fused"].writes) == (2, 2)  # the buffer is created, not read
    # for-loop: buf.mul_, buf.add_, param.add_ -> 3 kernels
    assert regular["for-loop/foreach"].kernels == 3
    assert regular["for-loop/foreach"].bytes("float64") == 8 * (5 + 3)


def test_cli_prints_the_table(capsys):
    assert main(["opcount", "pytorch_nesterov_documented"]) == 0
    out = capsys.readouterr().out
    assert "pytorch_nesterov_documented" in out and "as-written" in out
    assert main(["opcount", "--dtype", "int3"]) == 2
