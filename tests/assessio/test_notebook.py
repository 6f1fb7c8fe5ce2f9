"""Assessio events in a notebook: an escaped HTML table of the scores; unknown events show their payload."""

from __future__ import annotations

import json

import attrs

from examkit.assessio import AssessmentSubmittedEvent, UnknownEvent
from examkit.assessio.webhooks import parse_event
from examkit.testing.assessio import assessment_submitted_body
from tests.integrity_advocate.test_notebook import HOSTILE, tables


def test_the_vendors_example_score_and_sub_score() -> None:
    event = parse_event(assessment_submitted_body(order_reference_id="order-1"))
    assert isinstance(event, AssessmentSubmittedEvent)
    (table,) = tables(event._repr_html_()).tables
    assert (
        table["caption"] == "Assessio ASSESSMENT_SUBMITTED: order order-1, MAP (body not signature-checked)"
    )
    # The vendor's example: MAP_SCORE EX = 10, with sub-score EX1 = 10.
    assert table["rows"] == [
        ["type", "key", "sub-score", "value"],
        ["MAP_SCORE", "EX", "", "10"],
        ["MAP_SCORE", "EX", "EX1", "10"],
    ]
    checked = attrs.evolve(event, body_authenticated=True)
    assert tables(checked._repr_html_()).tables[0]["caption"].endswith("(body signature checked)")


def test_hostile_values_are_escaped() -> None:
    body = assessment_submitted_body(
        order_reference_id=HOSTILE,
        assessment_type="MAP",
        scores=[{"type": HOSTILE, "key": HOSTILE, "value": 1.5, "subScores": [{"key": HOSTILE, "value": 2}]}],
    )
    view = parse_event(body)._repr_html_()
    assert "<script" not in view
    assert "<img" not in view
    (table,) = tables(view).tables
    assert HOSTILE in table["caption"]
    assert table["rows"][1:] == [[HOSTILE, HOSTILE, "", "1.5"], [HOSTILE, HOSTILE, HOSTILE, "2"]]


def test_an_unknown_event_shows_its_payload_escaped() -> None:
    body = json.dumps(
        {"eventType": "LINK_EXPIRED", "payload": {"orderReferenceId": HOSTILE, "tries": [1, 2]}}
    )
    event = parse_event(body)
    assert isinstance(event, UnknownEvent)
    view = event._repr_html_()
    assert "<script" not in view
    (table,) = tables(view).tables
    assert table["caption"] == "Assessio LINK_EXPIRED (not known to examkit; body not signature-checked)"
    assert table["rows"][1:] == [["orderReferenceId", HOSTILE], ["tries", "[1,2]"]]
    scalar = UnknownEvent(event_type="PING", payload=HOSTILE)
    assert tables(scalar._repr_html_()).tables[0]["rows"][1:] == [["payload", HOSTILE]]
