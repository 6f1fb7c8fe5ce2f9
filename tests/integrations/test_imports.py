"""Importing examkit never imports a framework; a missing framework names the extra to install."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import examkit.integrations

PACKAGE = Path(examkit.integrations.__file__).parent
FRAMEWORKS = ("django", "flask", "werkzeug", "asgiref")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_importing_examkit_imports_no_framework() -> None:
    code = (
        "import sys, examkit, examkit.core, examkit.integrations\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("adapter", "other"), [("django", "flask"), ("flask", "django")])
def test_one_adapter_does_not_import_the_other_framework(adapter: str, other: str) -> None:
    result = _run(f"import sys, examkit.integrations.{adapter}; print({other!r} in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("framework", ["django", "flask"])
def test_a_missing_framework_names_the_extra(framework: str) -> None:
    # None in sys.modules makes "import <framework>" fail as if it were not installed.
    code = f"import sys; sys.modules[{framework!r}] = None; import examkit.integrations.{framework}"
    result = _run(code)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError:")
    assert f"pip install 'examkit[{framework}]'" in last_line


def _examkit_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {name for name in found if name.startswith("examkit")}


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_integrations_import_only_core_and_themselves(path: Path) -> None:
    allowed = ("examkit.core", "examkit.integrations")
    # Integrations sit on top of the vendor packages (ARCHITECTURE.md), so a module may import vendor
    # faces when it is vendor-specific by design: routing's routers are `WebhookRouter[ExamResult]`
    # and so on (a base class needs the type at run time) and read `EventType` values. Only the faces,
    # never a vendor's submodule, and only where listed here.
    vendor_faces = {
        "routing.py": {"examkit.itep", "examkit.integrity_advocate", "examkit.assessio", "examkit.testpress"}
    }
    permitted = vendor_faces.get(path.name, set())
    bad = sorted(m for m in _examkit_imports(path) if not m.startswith(allowed) and m not in permitted)
    assert not bad, f"{path.name} imports {bad}"


def test_only_routing_imports_vendor_faces() -> None:
    # The exception above is deliberate and narrow: the framework adapters stay vendor-neutral.
    vendors = ("examkit.itep", "examkit.integrity_advocate", "examkit.assessio", "examkit.testpress")
    importing = sorted(
        path.name
        for path in PACKAGE.glob("*.py")
        if any(m.startswith(vendors) for m in _examkit_imports(path))
    )
    assert importing == ["routing.py"]
