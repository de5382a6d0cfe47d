"""Sphinx configuration for the Markdown appendix (MyST), used by the tests to build it with warnings as errors.

The HTML shows the formulas with MathJax.  The test (``tests/render/test_publishable.py``) also
collects every math node MyST parsed from the built doctrees and compiles them all with pdflatex,
so a formula that does not render fails the test.  Build with:

    python -m derive appendix --no-pdf --out docs/   # writes docs/appendix.md
    python -m sphinx -W -b html docs docs/_build
"""

project = "sgd-derive"
extensions = ["myst_parser"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "images", "reference", "README.md"]
html_theme = "alabaster"
