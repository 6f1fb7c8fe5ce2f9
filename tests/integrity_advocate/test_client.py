"""The API client against the in-process fake (and `responses` for failure modes)."""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import weakref
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from examkit.core.clock import FixedClock
from examkit.core.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PayloadError,
    ServerError,
    TransportError,
    ValidationError,
)
from examkit.core.http import RetryPolicy
from examkit.integrity_advocate import (
    ByEmail,
    ByExternalUserId,
    ByName,
    ByParticipant,
    ByStatus,
    EndSessionResult,
    IntegrityAdvocateClient,
    ModifiedSince,
    Overrider,
    OverrideStatus,
    PageLimitError,
    Participant,
    ParticipantStatus,
)
from examkit.testing.http import FakeResponse
from examkit.testing.integrity_advocate import (
    DEMO_API_KEY,
    DEMO_APP_ID,
    DEMO_NOW,
    FakeIntegrityAdvocate,
    make_participant,
    make_session,
    signed_review_callback,
)

BASE = "https://ca.integrityadvocateserver.com"
KEY = bytes(range(32))
OVERRIDER = Overrider(user_id="t-9", first_name="Ada", last_name="Teacher")


@pytest.fixture
def fake() -> FakeIntegrityAdvocate:
    fake = FakeIntegrityAdvocate(clock=FixedClock(DEMO_NOW))  # its own clock: a client may disagree
    fake.add_participants(
        make_participant(
            f"p{i}",
            "590",
            last_name="Smith" if i % 2 else "Jones",
            first_name=f"F{i}",
            status="Valid" if i % 3 else "Invalid (Rules)",
            modified=DEMO_NOW - 100 * i,
            sessions=[make_session("quiz-1", status="Valid"), make_session("quiz-2")],
        )
        for i in range(23)
    )
    return fake


def queries(fake: FakeIntegrityAdvocate) -> list[list[tuple[str, str]]]:
    return [parse_qsl(urlsplit(r.url).query) for r in fake.adapter.requests]


def test_construction_checks_credentials() -> None:
    with pytest.raises(ConfigurationError):
        IntegrityAdvocateClient(app_id="XXXXX-XXXXX-XXXXX", api_key=DEMO_API_KEY)
    with pytest.raises(ConfigurationError):
        IntegrityAdvocateClient(app_id=DEMO_APP_ID, api_key="not base64!")
    with pytest.raises(ConfigurationError):
        IntegrityAdvocateClient(app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, max_pages=0)
    client = IntegrityAdvocateClient(app_id=DEMO_APP_ID, api_key=DEMO_API_KEY)
    assert DEMO_API_KEY not in repr(client)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXAMKIT_IA_API_KEY", raising=False)
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", DEMO_APP_ID)
    with pytest.raises(ConfigurationError) as info:
        IntegrityAdvocateClient.from_env()
    assert info.value.setting == "EXAMKIT_IA_API_KEY"
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", DEMO_API_KEY)
    assert IntegrityAdvocateClient.from_env(base_url="https://x.example").base_url == "https://x.example"


def test_requests_carry_a_hand_checkable_amx_header(fake: FakeIntegrityAdvocate) -> None:
    client = fake.client(nonce_factory=lambda: "fixed-nonce")
    client.get_participant("p1", "590")
    (sent,) = fake.adapter.requests
    canonical = "https%3a%2f%2fca.integrityadvocateserver.com%2fapi%2fparticipant"
    message = f"{DEMO_APP_ID}GET{canonical}{DEMO_NOW}fixed-nonce".encode()
    signature = base64.b64encode(hmac.new(KEY, message, hashlib.sha256).digest()).decode()
    assert sent.headers["Authorization"] == f"amx {DEMO_APP_ID}:{signature}:fixed-nonce:{DEMO_NOW}"
    assert dict(parse_qsl(urlsplit(sent.url).query)) == {
        "participantidentifier": "p1",
        "courseid": "590",
    }


def test_fake_rejects_wrong_key_and_stale_clock(fake: FakeIntegrityAdvocate) -> None:
    other = base64.b64encode(bytes(range(5, 37))).decode()
    client = IntegrityAdvocateClient(
        app_id=DEMO_APP_ID, api_key=other, session=fake.session(), clock=fake.clock
    )
    with pytest.raises(AuthenticationError):
        client.get_participant("p1", "590")
    late = fake.client(clock=FixedClock(DEMO_NOW + 1000))
    with pytest.raises(AuthenticationError):
        late.get_participant("p1", "590")


def test_paging_all_participants(fake: FakeIntegrityAdvocate) -> None:
    client = fake.client()
    ids = [p.participant_identifier for p in client.iter_participants("590", page_size=10)]
    assert ids == [f"p{i}" for i in range(23)]
    sent = queries(fake)
    assert len(sent) == 3
    assert sent[0] == [("limit", "10")]
    assert [k for k, _ in sent[1]] == ["limit", "nexttoken"]


def test_backward_and_page_objects(fake: FakeIntegrityAdvocate) -> None:
    pages = list(fake.client().iter_participant_pages("590", page_size=5, backward=True))
    assert [len(p.participants) for p in pages] == [5, 5, 5, 5, 3]
    assert pages[0].participants[0].participant_identifier == "p22"
    assert pages[0].is_first_page is True
    assert queries(fake)[0] == [("limit", "5"), ("backwardsearch", "true")]


@pytest.mark.parametrize(
    ("where", "expected_query", "count"),
    [
        (ModifiedSince(DEMO_NOW - 450), [("lastmodified", str(DEMO_NOW - 450))], 5),
        (ByName("smith"), [("lastname", "smith")], 11),
        (ByName("Smith", "F3"), [("lastname", "Smith"), ("firstname", "F3")], 1),
        (ByStatus(ParticipantStatus.INVALID_RULES), [("status", "Invalid (Rules)")], 8),
        (ByEmail("p4@example.org"), [("email", "p4@example.org")], 1),
        (ByExternalUserId("ext-1"), [("externaluserid", "ext-1")], 1),
    ],
)
def test_participant_filters(
    fake: FakeIntegrityAdvocate, where: object, expected_query: list[tuple[str, str]], count: int
) -> None:
    fake.add_participant(make_participant("p-ext", "other"), external_user_id="ext-0")
    fake.add_participant(make_participant("p-ext2", "590"), external_user_id="ext-1")
    found = list(fake.client().iter_participants("590", where=where))  # type: ignore[arg-type]
    assert len(found) == count
    assert queries(fake)[0] == expected_query


def test_impossible_filters_fail_before_any_request(fake: FakeIntegrityAdvocate) -> None:
    client = fake.client()
    with pytest.raises(ValidationError):
        client.iter_participants("590", where=ByParticipant("p1"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        client.iter_sessions("590", where=ModifiedSince(1))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        client.iter_participants("590", where=[ByName("a"), ByEmail("b")])  # type: ignore[arg-type]
    for size in (0, 11, True):
        with pytest.raises(ValidationError):
            client.iter_participants("590", page_size=size)
    with pytest.raises(ValidationError):
        client.iter_participants("")
    with pytest.raises(ValidationError):
        client.iter_participants("590", max_pages=0)
    assert fake.adapter.requests == []


def test_sessions_listing(fake: FakeIntegrityAdvocate) -> None:
    client = fake.client()
    sessions = list(client.iter_sessions("590", activity_id="quiz-1", where=ByParticipant("p3")))
    assert len(sessions) == 1
    assert sessions[0].participant_identifier == "p3"
    assert sessions[0].activity_id == "quiz-1"
    assert queries(fake)[0] == [("activityid", "quiz-1"), ("participantidentifier", "p3")]
    assert len(list(client.iter_sessions("590"))) == 46
    before = len(fake.adapter.requests)
    assert len(list(client.iter_sessions("590", where=ByStatus(ParticipantStatus.IN_PROGRESS)))) == 23
    assert queries(fake)[before] == [("status", "InProgress")]


@pytest.mark.parametrize("marker", ["empty", "null", "none", "repeat"])
def test_end_markers(marker: str) -> None:
    fake = FakeIntegrityAdvocate(end_marker=marker)  # type: ignore[arg-type]
    fake.add_participants(make_participant(f"p{i}", "c") for i in range(25))
    found = list(fake.client().iter_participants("c"))
    assert [p.participant_identifier for p in found] == [f"p{i}" for i in range(25)]
    assert len(fake.adapter.requests) == 3


def test_repeated_token_stops_without_duplicates() -> None:
    fake = FakeIntegrityAdvocate(end_marker="repeat")
    fake.add_participants(make_participant(f"p{i}", "c") for i in range(20))
    assert len(list(fake.client().iter_participants("c"))) == 20
    last = queries(fake)[-1]
    assert dict(last)["nexttoken"]


def test_page_cap() -> None:
    fake = FakeIntegrityAdvocate()
    fake.add_participants(make_participant(f"p{i}", "c") for i in range(100))
    client = fake.client(max_pages=3)
    seen: list[Participant] = []
    with pytest.raises(PageLimitError) as info:
        seen.extend(client.iter_participants("c"))
    assert len(seen) == 30
    assert info.value.pages == 3
    assert len(list(client.iter_participants("c", max_pages=10))) == 100


def test_thousand_participants_lazily_in_constant_memory() -> None:
    fake = FakeIntegrityAdvocate(end_marker="null")
    fake.add_participants(make_participant(f"p{i:04d}", "big") for i in range(1000))
    iterator: Iterator[Participant] = fake.client().iter_participants("big")
    assert fake.adapter.requests == []  # nothing fetched before the first item is asked for
    first = next(iterator)
    assert len(fake.adapter.requests) == 1
    first_ref = weakref.ref(first)
    del first
    for _ in range(15):
        next(iterator)
    gc.collect()
    assert first_ref() is None  # the first page is no longer held
    assert len(fake.adapter.requests) == 2
    count = 16 + sum(1 for _ in iterator)
    assert count == 1000
    assert len(fake.adapter.requests) == 100


def test_get_participant_and_not_found(fake: FakeIntegrityAdvocate) -> None:
    client = fake.client()
    p = client.get_participant("p3", "590")
    assert len(p.sessions) == 2
    with pytest.raises(NotFoundError):
        client.get_participant("nobody", "590")


@responses.activate
def test_empty_object_is_not_found() -> None:
    responses.get(f"{BASE}/api/participant", json={})
    client = IntegrityAdvocateClient(app_id=DEMO_APP_ID, api_key=DEMO_API_KEY)
    with pytest.raises(NotFoundError):
        client.get_participant("p", "c")


def test_participant_status(fake: FakeIntegrityAdvocate) -> None:
    result = fake.client().participant_status("p1", "590", "quiz-2")
    assert result.status is ParticipantStatus.IN_PROGRESS
    assert result.effective_status is ParticipantStatus.IN_PROGRESS
    assert dict(queries(fake)[0]) == {
        "participantidentifier": "p1",
        "courseid": "590",
        "activityid": "quiz-2",
    }
    assert fake.adapter.requests[0].path == "/api/2-0/participantstatus"


def test_override_participant(fake: FakeIntegrityAdvocate) -> None:
    updated = fake.client().override_participant(
        "p1", "590", status=OverrideStatus.INVALID, reason="Notes seen on desk", overrider=OVERRIDER
    )
    assert updated is not None
    assert updated.override_status is OverrideStatus.INVALID
    assert updated.effective_status is ParticipantStatus.INVALID
    (sent,) = fake.adapter.requests
    assert sent.method == "PATCH"
    assert sent.path == "/api/participant/p1-590"
    assert json.loads(sent.body) == {
        "Override_Date": str(DEMO_NOW),
        "Override_Status": "Invalid",
        "Override_Reason": "Notes seen on desk",
        "Override_LMSUser_FirstName": "Ada",
        "Override_LMSUser_LastName": "Teacher",
        "Override_LMSUser_Id": "t-9",
    }
    assert fake.record("p1", "590")["Override_Status"] == "Invalid"


def test_override_sessions(fake: FakeIntegrityAdvocate) -> None:
    fake.client().override_sessions(
        "p2", "590", "quiz-2", status=OverrideStatus.VALID, reason="ok", overrider=OVERRIDER
    )
    (sent,) = fake.adapter.requests
    assert sent.path == "/api/participantsessions"
    assert dict(parse_qsl(urlsplit(sent.url).query)) == {
        "courseid": "590",
        "activityid": "quiz-2",
        "participantidentifier": "p2",
    }
    sessions = fake.record("p2", "590")["Sessions"]
    assert [s["Override_Status"] for s in sessions] == [None, "Valid"]


def test_override_validation_before_request(fake: FakeIntegrityAdvocate) -> None:
    client = fake.client()
    with pytest.raises(ValidationError):
        client.override_participant("p1", "590", status="Valid", reason="x", overrider=OVERRIDER)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        client.override_participant("p1", "590", status=OverrideStatus.VALID, reason="", overrider=OVERRIDER)
    assert fake.adapter.requests == []


def test_patch_is_never_retried_and_get_is(fake: FakeIntegrityAdvocate) -> None:
    calls: list[str] = []

    def failing(request: object) -> FakeResponse:
        calls.append("x")
        return FakeResponse(503, {"Message": "busy"})

    fake.adapter.route("PATCH", "/api/participant/p1-590", failing)
    fake.adapter.route("GET", "/api/participant", failing)
    client = fake.client(retry=RetryPolicy(max_attempts=3, backoff=0))
    with pytest.raises(ServerError):
        client.override_participant("p1", "590", status=OverrideStatus.VALID, reason="x", overrider=OVERRIDER)
    assert len(calls) == 1
    with pytest.raises(ServerError):
        client.get_participant("p1", "590")
    assert len(calls) == 4


def test_end_session_is_unsigned_and_reports_404_distinctly(fake: FakeIntegrityAdvocate) -> None:
    client = fake.client()
    fake.open_session("p1", "590", "quiz-1")
    assert client.end_session("p1", "590", "quiz-1") is EndSessionResult.CLOSED
    assert client.end_session("p1", "590", "quiz-1") is EndSessionResult.NOTHING_TO_CLOSE
    sent = fake.adapter.requests[0]
    assert "Authorization" not in sent.headers
    assert sent.path == "/participants/endsession"
    assert dict(parse_qsl(urlsplit(sent.url).query)) == {
        "appid": DEMO_APP_ID,
        "courseid": "590",
        "participantidentifier": "p1",
        "activityid": "quiz-1",
    }
    assert fake.ended == [("p1", "590", "quiz-1")]


@responses.activate
def test_end_session_500_and_not_retried() -> None:
    responses.get(f"{BASE}/participants/endsession", status=500, body="boom")
    client = IntegrityAdvocateClient(app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, sleep=lambda _: None)
    with pytest.raises(ServerError):
        client.end_session("p", "c")
    assert len(responses.calls) == 1


@responses.activate
def test_end_session_500_says_the_input_was_wrong_as_the_vendor_documents() -> None:
    # The vendor's integration guide: "500 - Internal Server Error. There was a problem with your
    # request. Please ensure the input variables are correct and are URL encoded."
    responses.get(f"{BASE}/participants/endsession", status=500, body="boom")
    client = IntegrityAdvocateClient(app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, sleep=lambda _: None)
    with pytest.raises(ServerError) as info:
        client.end_session("p", "c", "a-1")
    message = str(info.value)
    assert "failed on its side" not in message
    assert "problem with the request" in message
    assert "participant identifier and activity id" in message
    assert info.value.status_code == 500
    assert info.value.__context__ is None  # raised afresh, not chained to the generic error


@responses.activate
def test_transport_failures_are_api_errors() -> None:
    responses.get(f"{BASE}/api/participant", body=requests.ConnectionError("refused"))
    responses.get(f"{BASE}/api/2-0/participantstatus", status=401, body=f"bad key {DEMO_API_KEY}")
    responses.get(f"{BASE}/api/course/c/participants", body="<html>not json</html>")
    client = IntegrityAdvocateClient(
        app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, sleep=lambda _: None, retry=RetryPolicy.none()
    )
    with pytest.raises(TransportError):
        client.get_participant("p", "c")
    with pytest.raises(AuthenticationError) as info:
        client.participant_status("p", "c", "a")
    assert DEMO_API_KEY not in str(info.value)
    assert DEMO_API_KEY not in (info.value.response_excerpt or "")
    with pytest.raises(PayloadError):
        list(client.iter_participants("c"))


def test_confirm_callback(fake: FakeIntegrityAdvocate) -> None:
    client = fake.client()
    claimed = fake.record("p3", "590")
    claimed["Status"] = "Valid"  # a forged body: the signature does not cover it
    callback_request = signed_review_callback(claimed, url="https://lms.example/cb", timestamp=DEMO_NOW)
    from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier

    callback = IntegrityAdvocateWebhookVerifier(
        app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, clock=fake.clock
    ).verify(callback_request)
    assert callback.participant.status is ParticipantStatus.VALID
    confirmed = client.confirm_callback(callback)
    assert confirmed.status is ParticipantStatus.INVALID_RULES
    assert fake.adapter.requests[-1].path == "/api/participant"


def test_ping(fake: FakeIntegrityAdvocate) -> None:
    assert fake.client().ping() is True
    assert "Authorization" not in fake.adapter.requests[0].headers
