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
