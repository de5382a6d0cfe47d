"""``python -m derive``: one module per subcommand in :mod:`derive.commands`.

Every expected failure (an unknown name, a bad horizon, malformed options, a
plugin that cannot be loaded) is a one-line ``derive: error: ...`` and a non-zero
exit, never a traceback.  Plugins (:mod:`derive.plugins`: the built-in one, the
installed ``sgd_derive.plugins`` entry points, then each ``--plugin MODULE``) are
loaded after the arguments are read and before the command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from derive import plugins
from derive.commands import COMMANDS
from derive.errors import DeriveError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like argparse but terse
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="derive",
        description="Symbolic derivations for SGD and its momentum variants: "
        "the catalogue, closed forms, claims, operation counts and the appendix.",
    )
    from derive import __version__

    parser.add_argument("--version", action="version", version=f"derive (sgd-derive) {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module_name in COMMANDS:
        module = importlib.import_module(f"derive.commands.{module_name}")
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        plugins.add_argument(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        plugins.load_plugins(args.plugin)
        return int(args.run(args) or 0)
    except DeriveError as exc:
        print(f"derive: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
