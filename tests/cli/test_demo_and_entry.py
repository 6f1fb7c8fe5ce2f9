"""Tests for the ``examkit`` command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from examkit import __version__
from examkit.cli import main
from examkit.demo import SECTIONS, DemoError, DemoOutput


def test_demo_runs_offline_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "All demo sections passed" in out
    assert "FAIL" not in out
    assert out.count("\n== ") == len(SECTIONS)
    assert {"core", "itep", "integrity_advocate", "assessio", "testpress"} <= set(SECTIONS)


def test_demo_never_prints_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo"])
    out = capsys.readouterr().out
    assert "demo-shared-secret" not in out
    assert "Secret('***')" in out


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_alone(section: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--only", section]) == 0
    out = capsys.readouterr().out
    assert out.count("\n== ") == 1
    assert "All demo sections passed" in out


def test_failing_step_makes_the_demo_fail(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    out = DemoOutput(io.StringIO())
    with pytest.raises(DemoError, match="must hold"):
        out.expect(False, "must hold")


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_version_and_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examkit", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"examkit {__version__}"
