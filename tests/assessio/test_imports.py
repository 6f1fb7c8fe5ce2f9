"""Import rules: verifiers stay free of requests; the package imports only examkit.core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import examkit.assessio

PACKAGE = Path(examkit.assessio.__file__).parent


def test_verifier_does_not_import_requests() -> None:
    code = (
        "import sys\n"
        "from examkit.assessio import AssessioWebhookVerifier, verify_signature_header\n"
        "import examkit.assessio.webhooks, examkit.assessio.signing, examkit.assessio.models\n"
        "assert 'requests' not in sys.modules, 'requests was imported'\n"
        "assert 'examkit.assessio.client' not in sys.modules\n"
        "from examkit.assessio import AssessioClient\n"
        "assert 'requests' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_package_imports_only_core() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: relative import"
                names = [node.module or ""]
            for name in names:
                if name.split(".")[0] != "examkit":
                    continue
                assert name.startswith(("examkit.core", "examkit.assessio")), f"{path.name} imports {name}"


def test_all_names_exist_and_are_documented() -> None:
    for name in examkit.assessio.__all__:
        value = getattr(examkit.assessio, name)
        if isinstance(value, type) or callable(value):
            assert value.__doc__, name
