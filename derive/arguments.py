"""Checks at the top of derive's public functions: a wrong argument is one sentence naming it.

Without them ``claims("B7")`` reads the ids ``"B"`` and ``"7"``, ``closed_form("plain_gd", 3)``
fails deep inside with ``'str' object has no attribute 'state'`` and ``get(None)`` with
``'NoneType' object is not iterable``.  Each check raises
:class:`~derive.errors.InvalidArgument` (a ``DeriveError`` and a ``TypeError``).
"""

from __future__ import annotations

import argparse
import importlib

from derive.errors import InvalidArgument


class CommandParser(argparse.ArgumentParser):
    """argparse with terse errors: one ``PROGRAM: error: MESSAGE`` line and exit 2 (no usage block)."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog.split()[0]}: error: {message}\n")


def command_line(prog: str, description: str, version: str, package: str, commands, *,
                 epilog: str | None = None, each=None) -> CommandParser:
    """The parser of a CLI whose subcommands are modules of *package* (``derive.commands``, ``verify.commands``).

    Each module in *commands* defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args)``
    (an exit status), and may define ``EPILOG``; its docstring is the subcommand's description.
    Both ``derive`` and ``verify`` are built here, so they parse, report errors and print
    ``--version`` the same way.  *each*, if given, is called on every subcommand's parser
    after its own arguments (``--plugin`` is added this way).
    """
    parser = CommandParser(prog=prog, description=description, epilog=epilog)
    parser.add_argument("--version", action="version", version=f"{prog} (sgd-derive) {version}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    sub.required = True
    for module_name in commands:
        module = importlib.import_module(f"{package}.{module_name}")
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__,
                           epilog=getattr(module, "EPILOG", None))
        module.add_arguments(p)
        if each is not None:
            each(p)
        p.set_defaults(run=module.run)
    return parser


def formulation(value, argument: str, function: str):
    """*value* if it is a :class:`~derive.formulation.Formulation`; a catalogue name is refused with the fix."""
    from derive.formulation import Formulation

    if isinstance(value, Formulation):
        return value
    if isinstance(value, str):
        raise InvalidArgument(f"{function}: {argument} must be a Formulation, got the name {value!r}; "
                              f"build it first: {function}(derive.get({value!r}), ...)")
    raise InvalidArgument(f"{function}: {argument} must be a Formulation, got {type(value).__name__} {value!r}")


def integer(value, argument: str, function: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """*value* as an ``int`` in ``[minimum, maximum]``; bools, floats and text are refused."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgument(f"{function}: {argument} must be an integer, got {argument}={value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidArgument(f"{function}: {argument} must be {bound}, got {argument}={value}")
    return value


def names(value, argument: str, function: str, *, what: str) -> list[str] | None:
    """A list of names (claim ids, catalogue names), or ``None``; a single string is refused, not split."""
    if value is None:
        return None
    if isinstance(value, str):
        raise InvalidArgument(f"{function}: {argument} must be a list of {what}s, got the string {value!r}; "
                              f"write {function}([{value!r}])")
    try:
        items = list(value)
    except TypeError:
        raise InvalidArgument(f"{function}: {argument} must be a list of {what}s, "
                              f"got {type(value).__name__} {value!r}") from None
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        raise InvalidArgument(f"{function}: {argument} must hold {what}s (strings), got {bad[0]!r}")
    return items
