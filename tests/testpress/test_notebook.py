"""Testpress events in a notebook: an escaped HTML table, which fields the hash covers, no hash or keys."""

from __future__ import annotations

import attrs

from examkit.testing.testpress import exam_webhook_request, sample_exam_webhook_payload
from examkit.testpress import ExamWebhookEvent, TestpressWebhookVerifier
from examkit.testpress.webhooks import parse_unverified_attempt_result
from tests.integrity_advocate.test_notebook import HOSTILE, as_dict, tables

PUB = "sxe7uKykEUT7WSnh"
PRIV = "private-key-1"


def _event(**overrides: object) -> ExamWebhookEvent:
    payload = {**sample_exam_webhook_payload(public_key=PUB), **overrides}
    verifier = TestpressWebhookVerifier(public_key=PUB, private_key=PRIV)
    return verifier.verify(exam_webhook_request(payload, private_key=PRIV))


def test_the_exam_webhook_shows_its_values_and_what_the_hash_covers() -> None:
    event = _event()
    parsed = tables(event._repr_html_())
    fields, subjects = parsed.tables
    # The documented hash covers key, attempt_id, the three answer counts, percentage, score, user_id.
    assert fields["caption"] == "Testpress attempt 130 (completed): 8 fields covered by the hash"
    assert fields["rows"][0] == ["field", "value", "hashed"]
    shown = {row[0]: (row[1], row[2]) for row in fields["rows"][1:]}
    assert shown["attempt_id"] == ("130", "yes")
    assert shown["score"] == ("7.00", "yes")
    assert shown["correct_answers_count"] == ("7", "yes")
    assert shown["email"] == ("student@example.com", "no")
    assert shown["exam.title"] == ("Demo exam", "no")
    assert shown["completed_on"] == ("2023-03-31T16:27:41.151586+05:30", "no")
    assert shown["attempt_start_time"] == ("2023-03-31T10:55:54.968829+00:00", "no")
    assert subjects["rows"][1] == ["Quantitative", "10", "7", "2", "0", "1", "9", "7.00"]


def test_no_hash_or_key_and_hostile_values_escaped() -> None:
    event = _event(email=HOSTILE, username=HOSTILE, exam={"id": 1, "title": HOSTILE})
    view = event._repr_html_()
    assert event.hash not in view
    assert PUB not in view
    assert PRIV not in view
    assert "<script" not in view
    assert "<img" not in view
    shown = {row[0]: row[1] for row in tables(view).tables[0]["rows"][1:]}
    assert shown["email"] == shown["username"] == shown["exam.title"] == HOSTILE


def test_the_completion_result_without_its_hmac() -> None:
    result = parse_unverified_attempt_result(
        {
            "email": HOSTILE,
            "first_name": "Ana",
            "attempt_id": "93",
            "institute_attempt_id": "o/1",
            "score": "7.50",
            "rank": "",
            "status": "completed",
            "hmac": "c0ffee" * 10,
        }
    )
    view = result._repr_html_()
    assert "c0ffee" not in view
    assert "<script" not in view
    (table,) = tables(view).tables
    assert table["caption"] == (
        "Testpress result of attempt 93: completed"
        " (not verified: do not grant anything on these values alone)"
    )
    shown = as_dict(table["rows"])
    assert (shown["email"], shown["score"], shown["rank"], shown["status"]) == (
        HOSTILE,
        "7.50",
        "",
        "completed",
    )
    verified = attrs.evolve(result, verified=True)
    assert tables(verified._repr_html_()).tables[0]["caption"].endswith("(hmac verified)")
