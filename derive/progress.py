"""Progress bars on stderr for the long commands: shown on a terminal, silent otherwise or under ``--quiet``."""

from __future__ import annotations

import sys


class Silent:
    """The bar's interface, doing nothing (stderr is a file or a pipe, or ``--quiet``)."""

    def update(self, n: int = 1) -> None:
        pass

    def set_description(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def bar(total: int, description: str, *, quiet: bool = False, unit: str = "claim"):
    """A tqdm bar on stderr when stderr is a terminal and not *quiet*; else :class:`Silent`."""
    if quiet or not sys.stderr.isatty():
        return Silent()
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: claims are judged in forked workers (see derive.claims)
    # every update drawn (updates are seconds apart, never thousands a second): "1/N" always shows
    return tqdm(total=total, desc=description, file=sys.stderr, leave=False, unit=unit, dynamic_ncols=True,
                mininterval=0, miniters=1)


def add_arguments(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--no-cache", action="store_true",
                        help="judge every claim afresh, neither reading nor writing the verdict cache")
