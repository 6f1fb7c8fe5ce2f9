"""examples/notebook_issue_test_ids.ipynb runs on a real Jupyter kernel, from examples/ as Jupyter does.

The notebook is executed with nbclient on an ipykernel kernel, and what it displays is checked: the
HTML table of the bulk report, its counts, the progress widget (not text on stderr), and the
results webhook's table.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOK = EXAMPLES / "notebook_issue_test_ids.ipynb"


class Table(HTMLParser):
    """Collects the caption and each row's cell texts of the first table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.caption = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th", "caption"):
            self._in = tag
            if tag != "caption":
                self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "caption":
            self.caption += data
        elif self._in:
            self.rows[-1][-1] += data


def table(html: str) -> Table:
    parsed = Table()
    parsed.feed(html)
    return parsed


@pytest.fixture(scope="module")
def executed() -> Any:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells), "ship the notebook without outputs"
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    )
    client.execute()
    return notebook


def outputs(notebook: Any) -> list[list[dict[str, Any]]]:
    return [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]


def html_of(cell_outputs: list[dict[str, Any]]) -> str:
    return str(next(o["data"]["text/html"] for o in cell_outputs if "text/html" in o.get("data", {})))


def stdout_of(cell_outputs: list[dict[str, Any]]) -> str:
    return "".join(o["text"] for o in cell_outputs if o.get("name") == "stdout")


def test_the_notebook_shows_the_report_as_a_table(executed: Any) -> None:
    cells = outputs(executed)
    assert stdout_of(cells[1]) == "5 candidates\n"
    # The dry run: examples/itep_candidates.csv has Michael's birthday in month 13 and George's
    # e-mail "not-an-email"; nothing was sent.
    dry = table(html_of(cells[2]))
    assert dry.caption == "5 candidates: 3 valid, 2 invalid (dry run: nothing was sent)"
    run = cells[3]
    assert "5 candidates: 3 issued, 2 failed" in stdout_of(run)
    shown = table(html_of(run))
    assert shown.caption == "5 candidates: 3 issued, 2 failed"
    assert shown.rows[0] == ["#", "email", "name", "status", "test_id", "allocated", "error"]
    status = {row[1]: row[3] for row in shown.rows[1:]}
    assert status == {
        "mary.poppins@example.com": "issued",
        "bert@example.com": "issued",
        "jane.banks@example.com": "issued",
        "michael.banks@example.com": "failed",
        "not-an-email": "failed",
    }
    michael = next(row for row in shown.rows if row[1] == "michael.banks@example.com")
    assert "Birthday" in michael[6]
    assert all(row[4].startswith("NB") for row in shown.rows[1:] if row[3] == "issued")


def test_progress_is_a_widget_not_red_text(executed: Any) -> None:
    run = outputs(executed)[3]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in run)
    assert not [o for o in run if o.get("name") == "stderr"]


def test_records_frame_outcomes_and_resume(executed: Any) -> None:
    cells = outputs(executed)
    record = next(o["data"]["text/plain"] for o in cells[4] if "data" in o)
    assert "'status': 'issued'" in record
    assert "'http_status': 200" in record
    frame = table(html_of(cells[5]))
    assert frame.rows[0][1:] == ["email", "status", "test_id", "error_field"]
    assert len(frame.rows) == 6
    assert stdout_of(cells[6]) == "outcomes written to itep_outcomes.csv\n"
    assert stdout_of(cells[7]) == (
        "5 candidates: 3 issued, 2 failed (3 issued in an earlier run, not sent again)\n0 sent again\n"
    )
    assert "<caption>iTEP 3279B035APR" in html_of(cells[8])


def test_the_notebook_writes_nothing_into_examples(executed: Any) -> None:
    assert not (EXAMPLES / "itep_outcomes.csv").exists()


def test_the_candidates_file_is_what_the_notebook_expects() -> None:
    rows = list(csv.DictReader(io.StringIO((EXAMPLES / "itep_candidates.csv").read_text(encoding="utf-8"))))
    assert [r["email"] for r in rows][-1] == "not-an-email"
    assert rows[3]["Birthday"] == "13/1/2001"
