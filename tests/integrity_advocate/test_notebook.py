"""Integrity Advocate's notebook views: HTML tables (escaped, no secrets), to_records() and to_pandas().

Expected values come from the vendor page's samples (tests/integrity_advocate/samples.py): epochs are
converted by hand here (1586808802 is 2020-04-13T20:13:22Z).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any

import attrs
import pytest

from examkit import ConfigurationError
from examkit.integrity_advocate import (
    ParticipantPage,
    ParticipantSession,
    SessionPage,
)
from examkit.integrity_advocate.models import parse_participant, parse_participant_page, parse_session_page
from examkit.testing.integrity_advocate import FakeIntegrityAdvocate, make_participant, make_session
from tests.integrity_advocate.samples import PARTICIPANTS_PAGE, REVIEW_CALLBACK, SESSIONS_PAGE

HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'


class Tables(HTMLParser):
    """Every table's caption and rows of cell texts, and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self.tags: set[str] = set()
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        if tag in ("td", "th", "caption"):
            self._in = tag
            if tag != "caption":
                self.tables[-1]["rows"][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "caption":
            self.tables[-1]["caption"] += data
        elif self._in:
            self.tables[-1]["rows"][-1][-1] += data


def tables(text: str) -> Tables:
    parsed = Tables()
    parsed.feed(text)
    parsed.close()
    return parsed


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def as_dict(rows: list[list[str]]) -> dict[str, str]:
    return {row[0]: row[1] for row in rows[1:]}


def test_a_participant_with_its_sessions_and_flags() -> None:
    participant = parse_participant(json.loads(REVIEW_CALLBACK))
    parsed = tables(participant._repr_html_())
    fields, sessions, flags = parsed.tables
    assert fields["caption"] == "Integrity Advocate participant XXXXXXXXXXXXX: Invalid (ID)"
    shown = as_dict(fields["rows"])
    assert shown["email"] == "jean.grey@xaviersschoolforthegifted.org"
    assert shown["created"] == "2020-04-13T20:13:22+00:00"
    assert shown["status"] == "Invalid (ID)"
    assert shown["override_date"] == ""  # the vendor's "-1": never overridden
    assert shown["session_count"] == "1"
    assert shown["flag_count"] == "1"
    assert sessions["caption"] == "1 session"
    assert sessions["rows"][1][:4] == [
        "XXXXXXXXXXXXXXXXXXXX",
        "AAAAAAAA",
        "2020-04-13T20:13:22+00:00",
        "2020-04-13T20:20:46+00:00",
    ]
    assert flags["caption"] == "1 flag"
    assert flags["rows"][0] == [
        "session_id",
        "id",
        "flag_type_id",
        "flag_type_name",
        "comment",
        "created",
        "capture_date",
    ]
    session_id, flag_id, type_id, type_name, comment, created, captured = flags["rows"][1]
    assert (session_id, flag_id, type_id) == (
        "XXXXXXXXXXXXXXXXXXXX",
        "34ee9b1a-5d42-4446-8616-096540e03830",
        "7",
    )
    assert type_name == "Name on ID does not match account name"
    assert comment.startswith('Name on account is "Madelyne Pryor".')
    assert (created, captured) == ("2020-04-13T21:33:23+00:00", "2020-04-13T20:14:12+00:00")


def test_a_session_shows_its_flags_and_its_override() -> None:
    session = parse_participant(json.loads(REVIEW_CALLBACK)).sessions[0]
    overridden = ParticipantSession(id="s-1", status="Invalid (Rules)", override_status="Valid")
    assert tables(overridden._repr_html_()).tables[0]["caption"] == (
        "Integrity Advocate session s-1: Valid (overridden)"
    )
    parsed = tables(session._repr_html_())
    assert [t["caption"] for t in parsed.tables] == [
        "Integrity Advocate session XXXXXXXXXXXXXXXXXXXX: Invalid (ID)",
        "1 flag",
    ]


def test_pages_show_one_row_per_item_and_say_whether_more_follow() -> None:
    page = parse_participant_page(json.loads(PARTICIPANTS_PAGE))
    parsed = tables(page._repr_html_())
    (table,) = parsed.tables
    assert table["caption"] == "Integrity Advocate: 1 participant; more pages follow"
    header, row = table["rows"]
    assert dict(zip(header, row, strict=True))["email"] == "scottsummers@email.com"
    assert dict(zip(header, row, strict=True))["modified"] == "2020-04-16T16:50:18+00:00"

    sessions = parse_session_page(json.loads(SESSIONS_PAGE))
    (table,) = tables(sessions._repr_html_()).tables
    assert table["caption"] == "Integrity Advocate: 1 session; more pages follow"
    assert dict(zip(*table["rows"], strict=True))["activity_id"] == "35555491"
    assert tables(SessionPage(next_token="null")._repr_html_()).tables[0]["caption"] == (
        "Integrity Advocate: 0 sessions"
    )


def test_no_position_token_photo_resubmit_link_or_evidence_in_any_view() -> None:
    participant = parse_participant(
        {
            **json.loads(REVIEW_CALLBACK),
            "Participant_Photo": "data:image/png;base64,UEhPVE8=",
            "Token": "row-token-1",
        }
    )
    session = participant.sessions[0]
    evidence = attrs.evolve(session.flags[0], capture_data="data:image/png;base64,RVZJREVOQ0U=")
    session = attrs.evolve(
        session, flags=(evidence,), resubmit_url="https://ia.example/resubmit?v=SESSIONSECRET"
    )
    participant = attrs.evolve(participant, sessions=(session,))
    page = parse_participant_page(json.loads(PARTICIPANTS_PAGE))
    views = [participant._repr_html_(), participant.sessions[0]._repr_html_(), page._repr_html_()]
    views.append(parse_session_page(json.loads(SESSIONS_PAGE))._repr_html_())
    for view in views:
        for secret in (
            "UEhPVE8",
            "RVZJREVOQ0U",
            "SESSIONSECRET",
            "ResubmitIDLanding",
            "row-token-1",
            "App_Id",
            "URI",
        ):
            assert secret not in view
    for record in [participant.to_record(), participant.sessions[0].to_record(), *page.to_records()]:
        assert not {"participant_photo", "resubmit_url", "token", "sort_value", "extra"} & record.keys()


def test_hostile_values_are_escaped_everywhere() -> None:
    record = make_participant(
        HOSTILE,
        HOSTILE,
        first_name=HOSTILE,
        status=HOSTILE,
        sessions=[make_session(HOSTILE, session_id=HOSTILE, Flags=[{"Id": HOSTILE, "Comment": HOSTILE}])],
        Override_Reason=HOSTILE,
    )
    participant = parse_participant(record)
    page = ParticipantPage(participants=(participant,))
    session_page = SessionPage(sessions=participant.sessions)
    for view in (
        participant._repr_html_(),
        participant.sessions[0]._repr_html_(),
        page._repr_html_(),
        session_page._repr_html_(),
    ):
        assert "<script" not in view
        assert "<img" not in view
        parsed = tables(view)
        assert parsed.tags <= {"div", "table", "caption", "thead", "tbody", "tr", "th", "td"}
        texts = [cell for t in parsed.tables for row in t["rows"] for cell in row]
        texts += [t["caption"] for t in parsed.tables]
        assert any(HOSTILE in text for text in texts)  # shown as text, intact


def test_records_have_the_vendors_values_as_plain_python() -> None:
    participant = parse_participant(json.loads(REVIEW_CALLBACK))
    record = participant.to_record()
    assert record == {
        "participant_identifier": "XXXXXXXXXXXXX",
        "course_id": "ZZZZ",
        "email": "jean.grey@xaviersschoolforthegifted.org",
        "first_name": "Jean",
        "last_name": "Grey",
        "created": utc(1586808802),
        "modified": utc(1586813617),
        "status": "Invalid (ID)",
        "override_status": None,
        "effective_status": "Invalid (ID)",
        "override_date": None,
        "override_reason": None,
        "override_lms_user_id": None,
        "override_lms_user_first_name": None,
        "override_lms_user_last_name": None,
        "session_count": 1,
        "flag_count": 1,
    }
    assert type(record["status"]) is str  # the enum's value, not the enum
    session = participant.sessions[0].to_record()
    assert session["start"] == utc(1586808802)
    assert session["end"] == utc(1586809246)
    assert (session["click_iamhere_count"], session["exit_fullscreen_count"], session["flag_count"]) == (
        0,
        0,
        1,
    )
    assert type(session["status"]) is str


def test_pages_from_the_clients_listing_give_records_and_frames() -> None:
    fake = FakeIntegrityAdvocate()
    fake.add_participants(
        [
            make_participant("p-1", "c-1", status="Valid", modified=1_700_000_000),
            make_participant("p-2", "c-1", status="Invalid (Rules)", modified=1_700_000_100),
        ]
    )
    with fake.client() as client:
        pages = list(client.iter_participant_pages("c-1"))
        everyone = ParticipantPage(participants=tuple(client.iter_participants("c-1")))
    records = [r for page in pages for r in page.to_records()]
    assert sorted((r["participant_identifier"], r["status"], r["modified"]) for r in records) == [
        ("p-1", "Valid", utc(1_700_000_000)),
        ("p-2", "Invalid (Rules)", utc(1_700_000_100)),
    ]
    assert sorted(r["participant_identifier"] for r in everyone.to_records()) == ["p-1", "p-2"]
    pandas = pytest.importorskip("pandas")
    frame = everyone.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(everyone.to_records()[0])
    assert sorted(frame["participant_identifier"]) == ["p-1", "p-2"]
    assert pandas.api.types.is_datetime64_any_dtype(frame["modified"])  # ns or us, by pandas version
    assert str(frame["modified"].dt.tz) == "UTC"
    empty = SessionPage().to_pandas()
    assert len(empty) == 0
    assert "flag_count" in empty.columns


def test_to_pandas_without_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    for page in (ParticipantPage(), SessionPage()):
        with pytest.raises(ConfigurationError, match=r"pip install 'examkit\[notebook\]'") as caught:
            page.to_pandas()
        assert caught.value.vendor == "integrity_advocate"


def test_pandas_is_not_imported_until_to_pandas_is_called() -> None:
    code = (
        "import sys, json\n"
        "from examkit.integrity_advocate.models import parse_participant_page\n"
        f"page = parse_participant_page(json.loads({PARTICIPANTS_PAGE.decode()!r}))\n"
        "page._repr_html_(); page.to_records()\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
