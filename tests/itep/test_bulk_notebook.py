"""The bulk report in notebooks: an escaped HTML table, plain records, a DataFrame, a tqdm.auto bar."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from typing import Any

import pytest

from examkit.core.errors import ConfigurationError
from examkit.itep import BulkOutcome, BulkReport, Candidate, OutcomeStatus
from examkit.testing.itep import FakeItep

GTX = "GTX-Academic-Plus"


class Table(HTMLParser):
    """Collects the caption and the text of every cell, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.caption = ""
        self.tags: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
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


def report() -> BulkReport:
    fake = FakeItep(api_key="k" * 16, signature_header="X-Sig", inventory={"Academic-Plus": ["NB0001AP"]})
    fake.fail_for("bob@example.com", status=400)
    candidates = [
        Candidate(email="ann@example.com", name="<script>alert(1)</script>", candidate_id="1"),
        Candidate(email="bob@example.com", name="Bob & Co", candidate_id="2"),
    ]
    return fake.client().issue_bulk(candidates, product_code=GTX, max_workers=1)


def test_html_view_is_a_table_with_every_value_escaped() -> None:
    html = report()._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    table = Table()
    table.feed(html)
    assert set(table.tags) <= {"table", "caption", "thead", "tbody", "tr", "th", "td"}
    assert table.caption == "2 candidates: 1 issued, 1 failed"
    assert table.rows[0] == ["#", "email", "name", "status", "test_id", "allocated", "error"]
    assert table.rows[1] == [
        "1",
        "ann@example.com",
        "<script>alert(1)</script>",
        "issued",
        "NB0001AP",
        "yes",
        "",
    ]
    assert table.rows[2][:6] == ["2", "bob@example.com", "Bob & Co", "failed", "", "no"]
    assert "400" in table.rows[2][6]


def test_records_are_plain_dicts_with_the_vendor_values() -> None:
    records = report().to_records()
    assert records[0] == {
        "email": "ann@example.com",
        "name": "<script>alert(1)</script>",
        "candidate_id": "1",
        "test_id": "NB0001AP",
        "status": "issued",
        "error": "",
        "error_field": "",
        "http_status": 200,
        "allocated": "yes",
    }
    assert type(records[0]["status"]) is str  # not the enum: plain values for json, pandas, csv
    assert records[1]["http_status"] == 400
    assert records[1]["status"] == "failed"


def test_to_pandas_gives_a_dataframe_and_pandas_loads_only_when_called() -> None:
    pandas = pytest.importorskip("pandas")
    frame = report().to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == [
        "email",
        "name",
        "candidate_id",
        "test_id",
        "status",
        "error",
        "error_field",
        "http_status",
        "allocated",
    ]
    assert list(frame["status"]) == ["issued", "failed"]
    code = (
        "import sys, examkit.itep\n"
        "from examkit.itep import BulkReport, issue_bulk\n"
        "assert 'pandas' not in sys.modules, 'pandas imported too early'\n"
        "assert 'tqdm' not in sys.modules, 'tqdm imported too early'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ConfigurationError, match=r"examkit\[notebook\]"):
        report().to_pandas()


def test_progress_bar_uses_tqdm_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    tqdm_auto = pytest.importorskip("tqdm.auto")
    seen: list[Any] = []

    class Recorder:
        def __init__(self, **kwargs: Any) -> None:
            seen.append(("init", kwargs["total"]))

        def update(self, n: int) -> None:
            seen.append(("update", n))

        def close(self) -> None:
            seen.append(("close",))

    monkeypatch.setattr(tqdm_auto, "tqdm", Recorder)
    fake = FakeItep(
        api_key="k" * 16, signature_header="X-Sig", inventory={"Academic-Plus": ["A1AP0001", "A2AP0002"]}
    )
    fake.client().issue_bulk(
        [Candidate(email="a@example.com"), Candidate(email="b@example.com")],
        product_code=GTX,
        progress_bar=True,
    )
    assert seen == [("init", 2), ("update", 1), ("update", 1), ("close",)]


def test_outcome_records_an_earlier_run_without_an_error_object() -> None:
    carried = BulkOutcome(
        index=0,
        candidate=Candidate(email="a@example.com"),
        status=OutcomeStatus.CHECK_IN_ITEP,
        note="check it",
    )
    assert carried.allocated == "maybe"
    assert carried.error_message == "check it"
    assert BulkReport((carried,)).summary() == "1 candidates: 0 issued, 0 failed, 1 to check in iTEP"
