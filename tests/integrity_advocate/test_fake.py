"""FakeIntegrityAdvocate and the callback signer produce only what the real client and verifier accept."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from examkit.core.clock import FixedClock
from examkit.core.errors import ValidationError
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier, ParticipantStatus
from examkit.testing.integrity_advocate import (
    DEMO_API_KEY,
    DEMO_APP_ID,
    DEMO_NOW,
    FakeIntegrityAdvocate,
    make_participant,
    make_session,
    signed_review_callback,
)

IDENTIFIERS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)


@given(course_id=IDENTIFIERS, participant_id=IDENTIFIERS)
@example(course_id=".", participant_id="p-1")  # found by hypothesis: /course/./participants lost its "."
@example(course_id="..", participant_id="..")
def test_every_participant_the_fake_holds_is_read_back_by_the_client(
    course_id: str, participant_id: str
) -> None:
    fake = FakeIntegrityAdvocate()
    try:
        fake.add_participant(make_participant(participant_id, course_id, sessions=[make_session("a-1")]))
    except ValidationError:
        return  # refused up front: the fake never holds a participant the client cannot ask for
    with fake.client() as client:
        assert client.get_participant(participant_id, course_id).participant_identifier == participant_id
        assert [p.participant_identifier for p in client.iter_participants(course_id)] == [participant_id]


@pytest.mark.parametrize("status", [s.value for s in ParticipantStatus])
def test_every_signed_callback_verifies(status: str) -> None:
    participant = make_participant("p-1", "c-1", status=status, sessions=[make_session("a-1", status=status)])
    request = signed_review_callback(participant, url="https://hooks.example.com/ia", timestamp=DEMO_NOW)
    verifier = IntegrityAdvocateWebhookVerifier(
        app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, clock=FixedClock(DEMO_NOW)
    )
    assert verifier.verify(request).participant.status.value == status  # type: ignore[union-attr]


@pytest.mark.parametrize(("participant_id", "course_id"), [("\ud7fc", "c-1"), ("p-1", " "), ("p\n1", "c-1")])
def test_an_id_the_client_cannot_send_is_refused_up_front(participant_id: str, course_id: str) -> None:
    fake = FakeIntegrityAdvocate()
    with pytest.raises(ValidationError, match="printable text"):
        fake.add_participant(make_participant(participant_id, course_id))


@pytest.mark.parametrize("course_id", [".", "..", "a.b", "%2E", "c/1"])
def test_a_course_named_like_a_dot_segment_is_read_by_both_clients(course_id: str) -> None:
    fake = FakeIntegrityAdvocate()
    fake.add_participant(make_participant("p-1", course_id))
    with fake.client() as client:
        assert [p.course_id for p in client.iter_participants(course_id)] == [course_id]

    async def read() -> list[str | None]:
        async with fake.async_client() as client:
            return [p.course_id async for p in client.iter_participants(course_id)]

    assert asyncio.run(read()) == [course_id]
    # What went over the wire names the course: no dot segment was removed on the way.
    for request in fake.adapter.calls("GET"):
        assert request.path.startswith("/api/course/")
        assert request.path.endswith("/participants")
        assert request.path.count("/") == 4
