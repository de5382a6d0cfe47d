"""Subcommands of ``python -m derive``; each module defines NAME, HELP, add_arguments, run."""

COMMANDS = ("catalogue", "unroll", "appendix", "notebooks", "report", "claims", "opcount", "map")
