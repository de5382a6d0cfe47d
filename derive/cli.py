"""``python -m derive``: one module per subcommand in :mod:`derive.commands`.

Every expected failure (an unknown name, a bad horizon, malformed options, a
plugin that cannot be loaded) is a one-line ``derive: error: ...`` and a non-zero
exit, never a traceback.  Plugins (:mod:`derive.plugins`: the built-in one, the
installed ``sgd_derive.plugins`` entry points, then each ``--plugin MODULE``) are
loaded after the arguments are read and before the command runs.
"""

from __future__ import annotations

import argparse
import sys

from derive import plugins
from derive.arguments import command_line
from derive.commands import COMMANDS
from derive.errors import DeriveError


def build_parser() -> argparse.ArgumentParser:
    from derive import __version__

    return command_line("derive", "Symbolic derivations for SGD and its momentum variants: "
                        "the catalogue, closed forms, claims, operation counts and the appendix.",
                        __version__, "derive.commands", COMMANDS, each=plugins.add_argument)


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
