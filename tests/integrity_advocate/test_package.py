"""Import hygiene, the demo section and the examples."""

from __future__ import annotations

import io
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "examkit" / "integrity_advocate"
EXAMPLES = sorted((ROOT / "examples").glob("integrity_advocate_*.py"))


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


def test_the_vendors_errors_are_importable_from_examkit_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, examkit, examkit.integrity_advocate as ia\n"
        "assert 'requests' not in sys.modules, 'importing the faces loaded requests'\n"
        "from examkit import PageLimitError\n"
        "assert PageLimitError is ia.PageLimitError and issubclass(PageLimitError, examkit.ApiError)\n"
        "assert PageLimitError.__module__ == 'examkit.integrity_advocate', PageLimitError.__module__\n"
        "assert ia.explain.__module__ == 'examkit.integrity_advocate'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_helpers_are_not_on_the_face() -> None:
    import examkit.integrity_advocate as ia

    for helper in ("to_wire", "effective_status", "parse_participant", "parse_authorization", "VENDOR"):
        assert helper not in ia.__all__
    assert ia.AmxVerifier.__module__ == "examkit.integrity_advocate"
    assert "AmxVerifier" not in vars(__import__("examkit.integrity_advocate.signing", fromlist=["x"]))
