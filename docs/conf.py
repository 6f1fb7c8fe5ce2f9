"""Sphinx configuration for the examkit documentation."""

from pathlib import Path

from examkit import __version__

project = "examkit"
author = "The examkit developers"
copyright = "2026, The examkit developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# attrs generates __init__ source whose defaults read "attr_dict['oid'].default": show the values.
autodoc_preserve_defaults = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Every cross-reference must resolve (the build runs with -n -W). The standard library resolves offline
# through the inventory of Debian's python3.11-doc package (.ci/run installs it), or online elsewhere.
nitpicky = True
_LOCAL_PYTHON_INVENTORY = Path("/usr/share/doc/python3.11/html/objects.inv")
intersphinx_mapping = {
    "python": (
        "https://docs.python.org/3",
        str(_LOCAL_PYTHON_INVENTORY) if _LOCAL_PYTHON_INVENTORY.exists() else None,
    ),
}
# The libraries examkit builds on publish no inventory that this offline build can read; their names
# are left as plain text. Internal (examkit.*) references are never ignored.
nitpick_ignore_regex = [
    (r"py:.*", r"(requests|urllib3|httpx|attrs?|cattrs?|django|flask|werkzeug|starlette|fastapi|redis|celery|pandas|openpyxl|xlrd|tqdm|pytest|_pytest)(\..*)?"),
]

html_theme = "furo"
html_title = f"examkit {__version__}"
exclude_patterns = ["_build"]
