"""``python -m verify``: one module per subcommand in :mod:`verify.commands`.

* ``sweep``: every valid ``torch.optim.SGD`` flag combination × implementations × dtypes ×
  schedules × devices, then the realistic-loop scenarios.
* ``identify MODULE:CLASS``: which catalogue formulations an optimizer implements.
* ``trajectory``: derive's exact trajectory beside torch's.

Exit status (each subcommand's ``--help`` says it in its own words): 0 the claim holds, 1 it
was checked and does not hold, 2 it could not be checked (bad input, the optimizer or its
constructor raised, exited or hung, an import failed, nothing ran or nothing moved), 130
interrupted. Every exit-2 case prints exactly one ``verify: error:`` line, never a traceback,
and writes no file; an error in verify's own code is a bug and shows its traceback. The parser
is built without importing torch, so ``--help`` works without it.
Every command takes ``--plugin MODULE`` (repeatable), loaded with the installed plugins before
it runs (:mod:`derive.plugins`): a plugin's formulations are candidates for ``identify`` and
names for ``trajectory``.
"""

from __future__ import annotations

import argparse
import sys

from derive.arguments import command_line
from derive.errors import DeriveError
from verify.commands import COMMANDS
from verify.commands.arguments import DEFAULT_TIMEOUT, DTYPE_NAMES, IMPL_NAMES, SCHEDULE_NAMES  # noqa: F401
from verify.errors import VerifyError


def _plugin_option(parser) -> None:
    # derive.plugins.add_argument's option, spelled out: importing derive.plugins' dependencies costs --help
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="load a plugin first: a dotted module name importable from sys.path or the "
                             "current directory, or a path to a .py file, that registers formulations "
                             "and claims (repeatable; installed sgd_derive.plugins entry points load anyway)")


def build_parser() -> argparse.ArgumentParser:
    """The whole CLI; imports nothing heavy, so ``--help`` works without torch."""
    from verify import __version__

    return command_line("verify", "Cross-check torch optimizers against derive's formulations.", __version__,
                        "verify.commands", COMMANDS,
                        epilog="exit status: 0 the claim holds; 1 checked, and it does not hold; 2 could not "
                               "be checked; 130 interrupted. See each command's --help.",
                        each=_plugin_option)


def _expected(exc: BaseException) -> bool:
    """A failure the user can fix (bad input, an entry that cannot follow the run), not verify's bug."""
    if isinstance(exc, (VerifyError, DeriveError, OSError, ImportError)):
        return True
    reference = sys.modules.get("verify.reference")  # loaded whenever a reference was computed
    return reference is not None and isinstance(exc, (reference.UnsupportedRun, reference.NonFiniteReference))


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from derive.plugins import load_plugins

    try:
        load_plugins(args.plugin)
    except DeriveError as exc:  # one line naming the plugin: not found, raised on import, a name taken
        print(f"verify: error: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("verify: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        missing = exc.name or str(exc)
        print(f"verify: error: {missing} is not installed; `verify {args.command}` needs it", file=sys.stderr)
        return 2
    except (ValueError, OSError, ImportError, DeriveError) as exc:
        if not _expected(exc):
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"verify: error: {' '.join(str(message).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
