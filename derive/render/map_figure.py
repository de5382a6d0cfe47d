"""The map as a figure: a matrix of classes, one row per source, one column per target (matplotlib, Agg).

The PNG is deterministic: the Agg backend, the bundled DejaVu font, fixed size and
resolution, and no metadata that varies (matplotlib writes ``Software`` with its
version unless told not to; it is written as ``sgd-derive``).  Same verdicts, same bytes.
"""

from __future__ import annotations

import io

from derive.equivalence_map import CLASSES, ERROR, UNDECIDED
from derive.errors import DeriveError

# One colour per class, strongest (dark) to never (light grey); readable in grey scale.
COLOURS = {"identical": "#08306b", "change of variables": "#2171b5", "translation": "#6baed6",
           "condition": "#fdae6b", "never": "#f0f0f0", UNDECIDED: "#756bb1", ERROR: "#cb181d"}
METADATA = {"Software": "sgd-derive", "Title": "derive map"}


def png(verdicts: dict, names: list[str]) -> bytes:
    """The matrix of *verdicts* (``{(source, target): PairVerdict}``) over *names*, as PNG bytes."""
    try:
        import matplotlib
    except ImportError:
        raise DeriveError("--figure needs matplotlib (pip install matplotlib)") from None
    matplotlib.use("Agg", force=True)
    from matplotlib import colors, pyplot
    from matplotlib.patches import Patch

    n = len(names)
    # an undecided pair, or one whose judging failed, gets its own colour, and a legend entry only when there is one
    present = {verdicts[(a, b)].kind for a in names for b in names}
    kinds = CLASSES + tuple(kind for kind in (UNDECIDED, ERROR) if kind in present)
    index = {kind: k for k, kind in enumerate(kinds)}
    matrix = [[index[verdicts[(a, b)].kind] for b in names] for a in names]
    cmap = colors.ListedColormap([COLOURS[kind] for kind in kinds])
    size = 2.5 + 0.42 * n
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 8, "svg.hashsalt": "sgd-derive"}):
        figure, axes = pyplot.subplots(figsize=(size + 1.5, size), dpi=100)
        try:
            axes.imshow(matrix, cmap=cmap, vmin=-0.5, vmax=len(kinds) - 0.5, interpolation="nearest")
            axes.set_xticks(range(n), names, rotation=60, ha="right", rotation_mode="anchor")
            axes.set_yticks(range(n), names)
            axes.set_xticks([k - 0.5 for k in range(1, n)], minor=True)
            axes.set_yticks([k - 0.5 for k in range(1, n)], minor=True)
            axes.grid(which="minor", color="white", linewidth=1)
            axes.tick_params(which="minor", length=0)
            axes.set_xlabel("target (follows the source)")
            axes.set_ylabel("source")
            axes.set_title("Who equals whom: derive map (row = source, column = target)")
            axes.legend(handles=[Patch(facecolor=COLOURS[kind], edgecolor="#808080", label=kind) for kind in kinds],
                        loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", metadata=METADATA, bbox_inches="tight")
        finally:
            pyplot.close(figure)
    return buffer.getvalue()
