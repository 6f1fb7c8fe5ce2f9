"""examples/notebook_issue_test_ids.py runs offline, cell by cell, and shows the outcomes as a table."""

from __future__ import annotations

import csv
import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notebook_issue_test_ids.py"


def test_cells_are_marked() -> None:
    cells = [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.startswith("# %%")]
    assert len(cells) >= 5


def test_notebook_runs_and_shows_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    # examples/itep_candidates.csv: Michael's birthday has month 13, George's e-mail is "not-an-email".
    assert "5 candidates: 3 issued, 2 failed" in out
    header = out.index(next(line for line in out if line.startswith("email")))
    rows = {line.split()[0]: line.split() for line in out[header + 2 : header + 7]}
    assert [
        rows[e][1] for e in ("mary.poppins@example.com", "bert@example.com", "jane.banks@example.com")
    ] == ["issued"] * 3
    assert rows["michael.banks@example.com"][1:3] == ["failed", "Birthday"]
    assert rows["not-an-email"][1] == "failed"
    issued_ids = {rows[e][2] for e in rows if rows[e][1] == "issued"}
    assert issued_ids == {i.test_id for i in namespace["fake"].issued}
    written = list(csv.DictReader((tmp_path / "itep_outcomes.csv").read_text(encoding="utf-8").splitlines()))
    assert [r["status"] for r in written].count("issued") == 3
    # The last cell's result renders as an HTML table of sections in a notebook.
    assert "<caption>iTEP 3279B035APR" in namespace["result"]._repr_html_()
