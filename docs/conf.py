"""Sphinx configuration of the autograd_lite docs (`make docs`; the test suite builds them too).

The pages must work opened from disk with no network: MathJax and the widget manager are served from
_static/vendor/ (docs/vendor.py fetches them from the npm registry), never from a CDN.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import autograd_lite  # noqa: E402  (after the path: the package itself is installed)

VENDOR = HERE / "_static" / "vendor"
if not (VENDOR / ".fetched").exists():
    raise RuntimeError("docs/_static/vendor is missing: run `python3 docs/vendor.py` (make docs does)")

project = "autograd_lite"
copyright = "the autograd_lite authors"
release = version = autograd_lite.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.mathjax", "optable"]
exclude_patterns = ["_build", "_static", "_screens", "notebooks/conftest.py", "**.ipynb_checkpoints"]
nitpicky = False  # autodoc's own type-hint targets (numpy, graphviz) are not ours to document

html_theme = "furo"
html_title = f"autograd_lite {release}"
html_static_path = ["_static"]
html_last_updated_fmt = None

# Formulas: MathJax 3's SVG output needs no font files (a font from file:// is blocked by the browser).
mathjax_path = "vendor/mathjax/es5/tex-svg.js"
# Widgets (explore, progress bars): the standalone widget manager; it renders the state saved in the notebook.
nb_ipywidgets_js = {"vendor/html-manager/dist/embed.js": {}}

nb_execution_mode = "off"  # the notebooks are committed with their outputs, which the suite checks by running them
myst_enable_extensions = ["dollarmath", "amsmath"]  # $$…$$ in markdown cells and in explain's output
nb_render_markdown_format = "myst"  # markdown outputs (explain's) parsed like cells, so their $$…$$ is a formula
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False}
default_role = "literal"  # the docstrings write `name` for code, as Markdown does
suppress_warnings = ["myst.header"]  # the notebooks' headings start at their own level
