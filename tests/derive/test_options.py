"""Options: flags are flags, numbers are finite and exact, and Python and the CLI refuse the same values alike."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.catalogue import get
from derive.errors import DeriveError, InvalidHyperparameter
from derive.options import parse_options
from derive.symbols import eps, g, ghat, t, theta


def built(*pairs: str, name: str = "pytorch_sgd"):
    options = parse_options(list(pairs), name)
    return get(name, **options)


@pytest.mark.parametrize("word,value", [("true", True), ("TRUE", True), ("True", True), ("1", True),
                                        ("false", False), ("False", False), ("FALSE", False), ("0", False)])
def test_a_flag_takes_true_false_1_0_in_any_case(word, value):
    assert parse_options([f"nesterov={word}"], "pytorch_sgd") == {"nesterov": value}


@pytest.mark.parametrize("word", ["no", "yes", "0.5", "2", "", "on", "off", "t", "f", "nesterov", "1.0"])
@pytest.mark.parametrize("key", ["nesterov", "maximize"])
def test_any_other_flag_value_is_an_error_naming_the_flag_and_the_value(key, word):
    with pytest.raises(DeriveError, match=rf"{key} is a flag: write {key}=true or {key}=false.*got {key}={word!r}"):
        parse_options(["momentum=0.9", f"{key}={word}"], "pytorch_sgd")


def test_maximize_false_and_0_build_descent_and_true_builds_ascent():
    # Today's bug: maximize=no built gradient ascent.  The processed gradient's sign says which.
    for word in ("false", "0"):
        f = built("weight_decay=0", "momentum=0", f"maximize={word}")
        assert all(a.base != ghat for a in f.update)
        assert f.update[-1].value == theta[t - 1] - eps[t] * g[t]
    ascent = built("weight_decay=0", "momentum=0", "maximize=true")
    assert [a.value for a in ascent.update if a.base == ghat] == [-g[t]]


def test_nesterov_0_is_off_and_nesterov_1_is_on():
    off = built("momentum=0.9", "nesterov=0")
    on = built("momentum=0.9", "nesterov=1")
    assert off.options["nesterov"] is False and on.options["nesterov"] is True
    assert off.update == get("pytorch_sgd", momentum=sp.Rational(9, 10)).update
    assert on.update == get("pytorch_sgd", momentum=sp.Rational(9, 10), nesterov=True).update
    assert off.update != on.update


@pytest.mark.parametrize("value", ["no", 1, 0, "true", None, 1.0])
def test_python_flags_must_be_bool(value):
    with pytest.raises(InvalidHyperparameter, match=rf"nesterov is a flag: pass True or False, got nesterov={value!r}"):
        get("pytorch_sgd", momentum=0.9, nesterov=value)


def test_a_repeated_option_is_an_error_not_last_one_wins():
    with pytest.raises(DeriveError, match=r"option momentum is given twice \(momentum=0.9 and momentum=0.5\)"):
        parse_options(["momentum=0.9", "momentum=0.5"], "pytorch_sgd")
    with pytest.raises(DeriveError, match="given twice"):
        parse_options(["nesterov=true", "nesterov=true"], "pytorch_sgd")


def test_an_unknown_key_names_the_valid_ones_from_python_and_the_cli():
    valid = "it accepts lr, momentum, dampening, weight_decay, nesterov, maximize"
    with pytest.raises(DeriveError, match=f"pytorch_sgd has no option foo; {valid}"):
        parse_options(["foo=1"], "pytorch_sgd")
    with pytest.raises(InvalidHyperparameter, match=f"pytorch_sgd has no option foo; {valid}"):
        get("pytorch_sgd", foo=1)


# The same non-finite values from Python and from the command line: one sentence.
NON_FINITE_PY = [(sp.nan, "nan"), (sp.oo, "oo"), (-sp.oo, "-oo"), (sp.zoo, "zoo"), (1j, "1j"),
                 (1e999, "inf"), (float("nan"), "nan"), (float("-inf"), "-inf"), ("nan", "nan"), ("inf", "inf"),
                 (10**400, str(10**400)), (sp.I * 2, "2*I"), (sp.oo * sp.Symbol("tau"), "oo*tau")]
NON_FINITE_CLI = ["nan", "NaN", "inf", "-inf", "+inf", "infinity", "oo", "-oo", "zoo", "1j", "1e999", "2*1e308",
                  "1e308*10", "-1e999"]


@pytest.mark.parametrize("value,shown", NON_FINITE_PY, ids=[s[:12] for _, s in NON_FINITE_PY])
def test_python_refuses_a_non_finite_hyperparameter(value, shown):
    with pytest.raises(InvalidHyperparameter) as caught:
        get("pytorch_sgd", lr=value)
    assert str(caught.value) == f"lr must be finite, got lr={shown}; give a finite real number"


@pytest.mark.parametrize("text", NON_FINITE_CLI)
def test_the_cli_options_refuse_the_same_values_with_the_same_sentence(text):
    with pytest.raises(InvalidHyperparameter) as caught:
        parse_options([f"lr={text}"], "pytorch_sgd")
    assert str(caught.value) == f"lr must be finite, got lr={text}; give a finite real number"
    with pytest.raises(InvalidHyperparameter) as again:
        get("pytorch_sgd", lr=text)
    assert str(again.value) == str(caught.value)


@pytest.mark.parametrize("text,value", [("0.9", sp.Rational(9, 10)), ("9/10", sp.Rational(9, 10)),
                                        ("1e-3", sp.Rational(1, 1000)), ("sqrt(2)/2", sp.sqrt(2) / 2),
                                        (" 0.5 ", sp.Rational(1, 2))])
def test_a_numeric_option_is_read_exactly(text, value):
    f = built(f"momentum={text}")
    assert f.hyper["momentum"] == value


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "abc", "x", "0.9.1", "1,5", "'0.9'"])
def test_a_non_numeric_option_is_refused_without_running_it(text):
    with pytest.raises(InvalidHyperparameter, match="momentum must be a number"):
        parse_options([f"momentum={text}"], "pytorch_sgd")


def test_an_exact_value_from_python_stays_exact():
    assert get("pytorch_sgd", lr=0.1).hyper["lr"] == sp.Rational(1, 10)
    assert get("pytorch_sgd", lr=sp.Rational(1, 3)).hyper["lr"] == sp.Rational(1, 3)
    assert get("plain_gd", lr=sp.Symbol("alpha")).hyper["lr"] == sp.Symbol("alpha")
    assert get("plain_gd").hyper["lr"].has(t)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_a_flag_value_is_read_only_from_the_four_words(word):
    try:
        value = parse_options([f"maximize={word}"], "pytorch_sgd")["maximize"]
    except DeriveError as exc:
        assert word.strip().lower() not in ("true", "false", "1", "0")
        assert "maximize is a flag" in str(exc)
    else:
        assert value is (word.strip().lower() in ("true", "1"))
        assert word.strip().lower() in ("true", "false", "1", "0")


@settings(max_examples=150, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_python_and_cli_agree_on_every_float(value):
    """A float from Python and its repr on the command line: both accepted with one value, or both refused."""
    try:
        from_python = get("plain_gd", lr=value).hyper["lr"]
    except InvalidHyperparameter as exc:
        from_python = exc
    text = repr(value)
    try:
        parse_options([f"lr={text}"], "plain_gd")
        from_cli = get("plain_gd", lr=text).hyper["lr"]
    except InvalidHyperparameter as exc:
        from_cli = exc
    if isinstance(from_python, Exception):
        assert isinstance(from_cli, Exception), (value, from_cli)
        if not math.isfinite(value):
            assert str(from_cli).startswith("lr must be finite") and str(from_python).startswith("lr must be finite")
    else:
        assert from_cli == from_python


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["lr", "momentum", "dampening"]), min_size=2, max_size=4))
def test_any_repeated_key_is_refused(keys):
    pairs = [f"{k}=0.5" for k in keys]
    if len(set(keys)) < len(keys):
        with pytest.raises(DeriveError, match="given twice"):
            parse_options(pairs, "pytorch_sgd")
    else:
        assert parse_options(pairs, "pytorch_sgd") == {k: "0.5" for k in keys}
