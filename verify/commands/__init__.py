"""Subcommands of ``python -m verify``; each module defines NAME, HELP, EPILOG, add_arguments, run.

The layout is derive's (:mod:`derive.commands`), and both CLIs are built by
:func:`derive.arguments.command_line`.  Building the parser imports no torch, so ``--help``
works without it.
"""

COMMANDS = ("sweep", "identify", "trajectory")
