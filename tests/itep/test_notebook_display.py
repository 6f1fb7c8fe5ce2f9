"""ExamResult shows its sections as an HTML table in notebooks (``_repr_html_``), escaped."""

from __future__ import annotations

from html.parser import HTMLParser

from examkit.itep.webhooks import parse_results_json
from examkit.testing.itep import SAMPLE_RESULT


class Cells(HTMLParser):
    """Collects the text of every row's cells, and the caption."""

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


def test_sections_table_of_the_vendor_sample() -> None:
    parser = Cells()
    parser.feed(parse_results_json(SAMPLE_RESULT)._repr_html_())
    # The vendor's "Webhook Output Sample": Grammar_Level 3.5, Grammar_Score 68, Grammar_Percent 72, B2...
    assert parser.rows == [
        ["Section", "Level", "Score", "Percent", "CEFR"],
        ["Grammar", "3.5", "68", "72", "B2"],
        ["Listening", "5.0", "87", "86", "C1"],
        ["Reading", "6.0", "100", "100", "C2"],
        ["Writing", "4.0", "77", "67", "B2"],
        ["Speaking", "4.0", "77", "67", "B2"],
    ]
    assert parser.caption == "iTEP 3279B035APR: overall level 4.5 (C1), Complete"


def test_values_are_escaped_and_absent_sections_left_out() -> None:
    result = parse_results_json(
        {"TestID": "<script>alert(1)</script>", "Reading_Level": "2.0", "Reading_cefr": "<b>&"}
    )
    text = result._repr_html_()
    assert "<script>" not in text
    assert "<b>" not in text
    parser = Cells()
    parser.feed(text)
    assert parser.rows[1:] == [["Reading", "2.0", "", "", "<b>&"]]
    assert parser.caption.startswith("iTEP <script>alert(1)</script>: overall level  ()")
    assert "no status" in parser.caption
