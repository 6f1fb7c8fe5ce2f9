"""Import hygiene, the demo section and the examples."""

from __future__ import annotations

import ast
import io
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "examkit" / "integrity_advocate"
EXAMPLES = sorted((ROOT / "examples").glob("integrity_advocate_*.py"))


def test_importing_the_verifier_does_not_import_requests() -> None:
    code = (
        "import sys\n"
        "from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier, sign_request\n"
        "import examkit.integrity_advocate.webhooks, examkit.integrity_advocate.embed\n"
        "print('requests' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_client_loads_lazily() -> None:
    code = (
        "import sys\n"
        "import examkit.integrity_advocate as ia\n"
        "before = 'requests' in sys.modules\n"
        "ia.IntegrityAdvocateClient\n"
        "print(before, 'requests' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False True"


def test_package_imports_only_core_and_itself() -> None:
    allowed = ("examkit.core", "examkit.integrity_advocate", "examkit._version")
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("examkit"):
                    assert name.startswith(allowed), f"{path.name} imports {name}"


def test_public_names_are_documented() -> None:
    import examkit.integrity_advocate as ia

    for name in ia.__all__:
        obj = getattr(ia, name)
        if callable(obj) and not isinstance(obj, type(ia)):
            assert getattr(obj, "__doc__", None), name


def test_demo_section_runs() -> None:
    from examkit.demo import DemoOutput
    from examkit.demo.integrity_advocate import run

    stream = io.StringIO()
    run(DemoOutput(stream))
    assert "FAIL" not in stream.getvalue()
    assert stream.getvalue().count("  ok  ") >= 9


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 2
