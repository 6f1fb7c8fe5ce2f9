"""Package boundaries: imports, laziness, the demo section and the examples."""

from __future__ import annotations

import contextlib
import io
import runpy
import sys
from pathlib import Path

import pytest

import examkit.itep

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "examkit" / "itep"
EXAMPLES = sorted((ROOT / "examples").glob("itep_*.py"))


def test_public_names_resolve_and_have_docstrings() -> None:
    for name in examkit.itep.__all__:
        value = getattr(examkit.itep, name)
        if callable(value) or isinstance(value, type):
            assert value.__doc__, name
    with pytest.raises(AttributeError):
        examkit.itep.NoSuchThing  # noqa: B018


def test_demo_section_runs_offline() -> None:
    from examkit.demo import DemoOutput
    from examkit.demo.itep import run

    stream = io.StringIO()
    run(DemoOutput(stream))
    text = stream.getvalue()
    assert "FAIL" not in text
    assert "Out of range Birth Day [1955]" in text
    assert "3279B035APR" in text


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_run_offline(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(path)])
    with pytest.raises(SystemExit) if "from_csv" in path.name else contextlib.nullcontext():
        runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert out
    if "from_csv" in path.name:
        assert "5 candidates: 2 issued, 3 failed" in out
        written = (tmp_path / "itep_outcomes.csv").read_text(encoding="utf-8").splitlines()
        assert len(written) == 6


def test_examples_exist() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "itep_issue_from_csv.py",
        "itep_results_webhook.py",
        "itep_inventory.py",
    }
    assert (ROOT / "examples" / "itep_candidates.csv").is_file()


def test_the_results_example_names_the_matching_token_and_logs_no_secret(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level("WARNING", logger="itep-webhook"):
        runpy.run_path(str(ROOT / "examples" / "itep_results_webhook.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "[secret 2 of 2 matched]" in out  # the new token
    assert "[secret 1 of 2 matched]" in out  # the old one, still accepted during the rotation
    assert "(401, 'unauthorised')" in out
    logged = caplog.text
    assert "token does not match" in logged
    assert "shared-token" not in logged
