"""Argument types and options shared by verify's subcommands (torch-free).

The names the runner and the schedules define are spelled out here so that building the parser
needs no torch (``tests/verify/test_verify_cli.py`` keeps them equal).  Every type raises
``argparse.ArgumentTypeError``, which the parser prints as one ``verify: error:`` line.
"""

from __future__ import annotations

import argparse
import math
import os

DTYPE_NAMES = ("float64", "float32", "float16", "bfloat16")
IMPL_NAMES = ("for-loop", "foreach", "fused")
SCHEDULE_NAMES = ("constant", "explicit", "explicit_momentum", "step", "multistep", "exponential", "cosine",
                  "lambda", "plateau", "cyclic", "onecycle")
HYPER_DTYPES = ("float64", "float32")
DEFAULT_TIMEOUT = 60.0
TIMEOUT_HELP = (f"seconds one optimizer run may take (default {DEFAULT_TIMEOUT:g}); a hang inside a single "
                "C call (a torch kernel) may not be interruptible")
QUIET_HELP = "no progress bar (there is none unless stderr is a terminal)"


def csv(choices):
    def parse(text: str) -> list[str]:
        items = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(bad)}; choose from {', '.join(choices)}")
        if not items:
            raise argparse.ArgumentTypeError(f"empty list {text!r}; choose from {', '.join(choices)}")
        return items
    return parse


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole(text, 1)


def non_negative_int(text: str) -> int:
    return _whole(text, 0)


def finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    value = finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def points(text: str) -> tuple[float, ...]:
    return tuple(finite(v) for v in text.split(","))


def _pairs(text: str, what: str) -> list[tuple[str, str]]:
    out = []
    for item in text.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key or not value:
            raise argparse.ArgumentTypeError(f"expected KEY={what} pairs separated by commas, got {item.strip()!r}")
        if not key.isidentifier():
            raise argparse.ArgumentTypeError(f"{key!r} is not a parameter-group key (a Python name)")
        out.append((key, value))
    return out


def roles(text: str) -> dict[str, str]:
    """``beta=momentum,nu=nu``: param-group key -> formulation role (both Python names)."""
    out: dict[str, str] = {}
    for key, role in _pairs(text, "ROLE"):
        if not role.isidentifier():
            raise argparse.ArgumentTypeError(f"{role!r} is not a role name (a Python name)")
        if key in out:
            raise argparse.ArgumentTypeError(f"{key!r} is mapped twice")
        if role in out.values():
            raise argparse.ArgumentTypeError(f"two keys are mapped to the role {role!r}; map one key per role")
        out[key] = role
    return out


def hyper(text: str) -> dict[str, float]:
    """``nu=0.7,beta=0.9``: extra constructor options, finite numbers."""
    out: dict[str, float] = {}
    for key, value in _pairs(text, "VALUE"):
        if key in out:
            raise argparse.ArgumentTypeError(f"{key!r} is given twice")
        try:
            out[key] = finite(value)
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{key}: {exc}") from None
    return out


def sequence(text: str) -> tuple[float, ...]:
    """``0.1,0.05,0.01`` or a file with one number per line (blank lines and ``#`` comments skipped)."""
    if "," not in text and os.path.isfile(text):
        try:
            with open(text, encoding="utf-8") as handle:
                lines = [line.split("#")[0].strip() for line in handle]
        except (OSError, UnicodeDecodeError) as exc:
            raise argparse.ArgumentTypeError(f"cannot read {text}: {exc}") from None
        items, where = [line for line in lines if line], f" in {text}"
    else:
        items, where = [item.strip() for item in text.split(",")], ""
    if not items or items == [""]:
        raise argparse.ArgumentTypeError(f"no numbers{where or ' in ' + repr(text)}")
    try:
        values = tuple(finite(item) for item in items)
    except argparse.ArgumentTypeError as exc:
        hint = "" if where or os.path.exists(text) or "," in text else \
            " (neither a comma list of numbers nor an existing file)"
        raise argparse.ArgumentTypeError(f"{exc}{where}{hint}") from None
    return values


def add_binding_arguments(parser) -> None:
    """The options that bind an optimizer beyond torch's names to a formulation's roles, and the
    explicit per-step sequences (identify and trajectory read them alike)."""
    parser.add_argument("--roles", type=roles, default={}, metavar="KEY=ROLE,...",
                        help="which formulation role each param-group key fills, e.g. beta=momentum,nu=nu "
                             "(a key not named fills the role of its own name)")
    parser.add_argument("--hyper", type=hyper, default={}, metavar="KEY=VALUE,...",
                        help="extra constructor options, e.g. nu=0.7; recorded from the param groups at "
                             "each step, or taken as constants when the groups do not hold them")
    parser.add_argument("--hyper-dtype", choices=HYPER_DTYPES, default="float64",
                        help="the precision the optimizer holds its hyperparameters in (default float64: "
                             "exact as given); float32 makes the reference use the float32-rounded values")
    parser.add_argument("--lr-seq", type=sequence, default=None, metavar="FILE_OR_LIST",
                        help="the lr of every step: a comma list or a file with one number per line; it must "
                             "cover --steps (trajectory: in place of --schedule; identify: one more probe, "
                             "beside its own three)")
    parser.add_argument("--momentum-seq", type=sequence, default=None, metavar="FILE_OR_LIST",
                        help="the momentum of every step, like --lr-seq")
    parser.add_argument("--schedule-offset", type=int, choices=(0, 1), default=0,
                        help="0 (torch's LRScheduler): step t uses entry t of the sequence; 1 (Keras, optax, "
                             "MLX, Paddle: step t uses schedule(t-1)): step 1 uses the constructor's value "
                             "and step t entry t-1")


class Progress:
    """A bar on stderr while it is a terminal (derive.progress); silent otherwise or under --quiet."""

    def __init__(self, description: str, quiet: bool):
        self.description, self.quiet, self.bar, self.done = description, quiet, None, 0

    def __call__(self, done: int, total: int, note: str = "") -> None:
        from derive.progress import bar

        if self.bar is None:
            self.bar = bar(total, self.description, quiet=self.quiet, unit="run")
        self.bar.update(done - self.done)
        self.done = done
        if note:
            self.bar.set_description(f"{self.description} ({note})")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
