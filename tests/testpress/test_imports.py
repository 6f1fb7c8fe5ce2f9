"""Testpress-only import rules (the shared ones are in tests/test_public_api.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import examkit.testpress

PACKAGE = Path(examkit.testpress.__file__).parent


def test_no_testpress_module_imports_requests() -> None:
    # Testpress has no client, so no module of the package needs requests at all. (The import
    # direction and the lazy-loading checks for every vendor live in tests/test_public_api.py.)
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("requests"), (path.name, name)


def test_public_names_have_docstrings() -> None:
    for name in examkit.testpress.__all__:
        obj = getattr(examkit.testpress, name)
        if callable(obj) and not isinstance(obj, type(examkit.testpress.PRIVATE_KEY)):
            assert obj.__doc__, name
