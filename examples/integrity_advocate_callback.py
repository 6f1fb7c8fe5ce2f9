"""Integrity Advocate: verify a review callback in any web framework, then confirm it.

``handle_review`` takes what every framework gives you (raw body bytes, headers, the absolute
URL) and returns an HTTP status. Run as a script, it feeds it a callback signed by examkit's
test helper.
"""

from __future__ import annotations

from collections.abc import Mapping

from examkit.core.clock import FixedClock
from examkit.core.errors import PayloadError, WebhookVerificationError
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier, ReviewCallback


def handle_review(
    verifier: IntegrityAdvocateWebhookVerifier, body: bytes, headers: Mapping[str, str], url: str
) -> tuple[int, ReviewCallback | None]:
    """Return ``(status, callback)``: 200 with the callback, 401 untrusted, 400 malformed."""
    try:
        callback = verifier.verify(WebhookRequest(body=body, headers=headers, url=url, method="POST"))
    except WebhookVerificationError:
        return 401, None
    except PayloadError:
        return 400, None
    # The signature does not cover the body: queue client.confirm_callback(callback)
    # before acting on the status it claims.
    return 200, callback


def main() -> None:
    from examkit.testing.integrity_advocate import (  # noqa: PLC0415 - the fake is for the offline run
        DEMO_API_KEY,
        DEMO_APP_ID,
        DEMO_NOW,
        FakeIntegrityAdvocate,
        make_participant,
        signed_review_callback,
    )

    fake = FakeIntegrityAdvocate(clock=FixedClock(DEMO_NOW))  # the callback below is signed at DEMO_NOW
    fake.add_participant(make_participant("42", "bio-101", status="Invalid (ID)"))
    verifier = IntegrityAdvocateWebhookVerifier(
        app_id=DEMO_APP_ID,
        api_key=DEMO_API_KEY,
        clock=fake.clock,
        replay_guard=InMemoryReplayGuard(clock=fake.clock),
    )
    url = "https://lms.example.org/ia/review?tenant=7"
    request = signed_review_callback(fake.record("42", "bio-101"), url=url, timestamp=DEMO_NOW)
    status, callback = handle_review(verifier, request.body, dict(request.headers), url)
    if callback is None:
        raise SystemExit(f"the callback was refused ({status})")
    print(status, callback.participant.participant_identifier, callback.participant.effective_status)
    print("replayed:", handle_review(verifier, request.body, dict(request.headers), url)[0])
    confirmed = fake.client().confirm_callback(callback)
    print("confirmed status from the API:", confirmed.effective_status)


if __name__ == "__main__":
    main()
