"""Import rules: the verifier does not import requests; the package imports only examkit.core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import examkit.testpress

PACKAGE = Path(examkit.testpress.__file__).parent


def test_importing_the_verifier_does_not_import_requests() -> None:
    code = (
        "import sys; from examkit.testpress import TestpressWebhookVerifier; print('requests' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_package_imports_only_core_and_itself() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("examkit"):
                    assert name.startswith(("examkit.core", "examkit.testpress")), (path.name, name)
                assert not name.startswith("requests"), (path.name, name)


def test_public_names_have_docstrings() -> None:
    for name in examkit.testpress.__all__:
        obj = getattr(examkit.testpress, name)
        if callable(obj) and not isinstance(obj, type(examkit.testpress.PRIVATE_KEY)):
            assert obj.__doc__, name
