"""The README stays true: it names every catalogue entry and exactly two commands."""

import re
from pathlib import Path

from derive.catalogue import CATALOGUE

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_catalogue_table_names_every_entry():
    table = README[README.index("## Catalogue"):README.index("## Claims")]
    named = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))
    assert named == set(CATALOGUE), f"README lists {sorted(named ^ set(CATALOGUE))} wrongly"


def test_readme_quick_start_gives_exactly_two_commands():
    quick = README[README.index("## Quick start"):README.index("## Layout")]
    commands = re.findall(r"```bash\n(.*?)```", quick, flags=re.S)
    assert [c.strip() for c in commands] == ["bash scripts/main.sh", "bash scripts/test.sh"]


def test_every_file_the_readme_cites_is_in_the_repository():
    """A path in backticks or a link that names a file (has a suffix) must exist in the checkout."""
    root = Path(__file__).resolve().parents[1]
    cited = set(re.findall(r"`((?:[\w.-]+/)+[\w.-]+\.\w+)`", README))
    cited |= set(re.findall(r"\]\(((?:[\w.-]+/)*[\w.-]+\.\w+)\)", README))
    generated = {"appendix.tex", "appendix-body.tex", "appendix.md", "appendix.pdf"}
    upstream = ("torch/",)  # files of the frameworks whose code is cited, not ours
    missing = sorted(p for p in cited if Path(p).name not in generated and not p.startswith(upstream)
                     and not (root / p).exists())
    assert cited, "the pattern found no path at all: it would pass vacuously"
    assert not missing, f"the README cites files that are not in the repository: {missing}"
