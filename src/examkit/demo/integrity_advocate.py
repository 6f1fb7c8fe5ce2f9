"""Demo section: Integrity Advocate against the in-process fake.

Builds an embed URL, pages through a course, overrides a ruling and verifies a signed callback.
"""

from __future__ import annotations

from examkit.core.errors import SignatureMismatchError
from examkit.demo import DemoOutput
from examkit.integrity_advocate import (
    ByStatus,
    EndSessionResult,
    IntegrityAdvocateWebhookVerifier,
    Overrider,
    OverrideStatus,
    ParticipantStatus,
    build_script_tag,
    build_script_url,
    sign_request,
)
from examkit.testing.integrity_advocate import (
    DEMO_API_KEY,
    DEMO_APP_ID,
    DEMO_NOW,
    FakeIntegrityAdvocate,
    make_participant,
    make_session,
    signed_review_callback,
)

__all__: list[str] = []  # run by examkit.demo.run; the demo has no public face of its own

_CALLBACK = "https://lms.example.org/integrity-advocate/review?tenant=7"


def run(out: DemoOutput) -> None:
    """Show every Integrity Advocate feature offline, raising ``DemoFailure`` on a surprise."""
    out.section("Integrity Advocate: proctoring script, signed API, review callback")

    url = build_script_url(
        app_id=DEMO_APP_ID,
        participant_identifier="learner 42",
        course_id="bio-101",
        first_name="Zoë",
        last_name="O'Neil",
        email="zoe+ia@example.org",
        activity_id="quiz-1",
        review_callback=_CALLBACK,
    )
    out.expect(
        "participantidentifier=learner%2042" in url and "%40example.org" in url,
        "built the proctoring script URL with every value percent-encoded",
    )
    out.detail(url)
    tag = build_script_tag(
        app_id=DEMO_APP_ID,
        participant_identifier="42",
        course_id="bio-101",
        first_name="Zoë",
        last_name="Smith",
        email="zoe@example.org",
    )
    out.expect(tag.startswith("<script src=") and "&amp;" in tag, "built an HTML-escaped <script> tag")

    header = sign_request(
        app_id=DEMO_APP_ID,
        api_key=DEMO_API_KEY,
        method="GET",
        url="https://ca.integrityadvocateserver.com/api/course/6120/participants",
        timestamp=1_700_000_000,
        nonce="1700000000123456",
    )
    out.expect(
        header == f"amx {DEMO_APP_ID}:5Vd/DzGOB8f/MlDwDpFhbwv8R4V7a+TKWfnCVrMBUKU="
        ":1700000000123456:1700000000",
        "signed a request with amx; it matches the test vector of the vendor plugin's algorithm",
    )
    out.detail(header)

    fake = FakeIntegrityAdvocate(end_marker="null")
    fake.add_participants(
        make_participant(
            str(1000 + i),
            "bio-101",
            last_name=f"Learner{i}",
            status="Valid" if i % 3 else "Invalid (Rules)",
            sessions=[make_session("quiz-1", status="Valid", end=DEMO_NOW - 60)],
        )
        for i in range(37)
    )
    client = fake.client()
    count = sum(1 for _ in client.iter_participants("bio-101", page_size=10))
    pages = len(fake.adapter.calls("GET"))
    out.expect(
        count == 37 and pages == 4,
        "paged lazily through 37 participants (4 signed GETs, 10 per page)",
    )
    out.detail('the last page ended with NextToken "null", one of the three end markers')
    flagged = list(client.iter_participants("bio-101", where=ByStatus(ParticipantStatus.INVALID_RULES)))
    out.expect(
        len(flagged) == 13,
        f"filtered by status: {len(flagged)} participants ruled 'Invalid (Rules)'",
    )

    target = flagged[0]
    updated = client.override_participant(
        target.participant_identifier,
        "bio-101",
        status=OverrideStatus.VALID,
        reason="Reviewed the recording: the flag was a false positive",
        overrider=Overrider(user_id="t-9", first_name="Ada", last_name="Teacher"),
    )
    out.expect(
        updated is not None and updated.effective_status is ParticipantStatus.VALID,
        "overrode a ruling with PATCH (never retried); effective_status now prefers the override",
    )

    fake.open_session(target.participant_identifier, "bio-101", "quiz-1")
    first = client.end_session(target.participant_identifier, "bio-101", "quiz-1")
    second = client.end_session(target.participant_identifier, "bio-101", "quiz-1")
    out.expect(
        first is EndSessionResult.CLOSED and second is EndSessionResult.NOTHING_TO_CLOSE,
        "ended a session (unsigned call): 200 closed, then 404 reported as nothing to close",
    )

    verifier = IntegrityAdvocateWebhookVerifier(app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, clock=fake.clock)
    request = signed_review_callback(
        fake.record(target.participant_identifier, "bio-101"), url=_CALLBACK, timestamp=DEMO_NOW
    )
    callback = verifier.verify(request)
    out.expect(
        callback.participant.participant_identifier == target.participant_identifier,
        "verified a signed review callback and read the participant from it",
    )
    confirmed = client.confirm_callback(callback)
    out.expect(
        confirmed.effective_status == callback.participant.effective_status,
        "confirmed the callback's claim by re-fetching the participant (the signature omits the body)",
    )

    forged = signed_review_callback(
        fake.record(target.participant_identifier, "bio-101"),
        url="https://attacker.example/x",
        timestamp=DEMO_NOW,
    )
    try:
        verifier.verify(type(forged)(body=forged.body, headers=forged.headers, url=_CALLBACK))
    except SignatureMismatchError as exc:
        out.step("a header signed for another URL is rejected")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a header signed for another URL is rejected")
