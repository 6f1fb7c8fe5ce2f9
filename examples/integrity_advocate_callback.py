"""Integrity Advocate: verify a review callback in any web framework, then confirm it.

``handle_review`` takes what every framework gives you (raw body bytes, headers, the absolute
URL) and returns an HTTP status. It logs which API key matched (during a key rotation), and, for a
refused request, the secret-free diagnosis of :func:`examkit.integrity_advocate.explain`. Run as a
script, it feeds it a callback signed by examkit's test helper.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from examkit import PayloadError, WebhookRequest, WebhookVerificationError
from examkit.core.clock import FixedClock
from examkit.core.webhook import InMemoryReplayGuard
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier, ReviewCallback

logger = logging.getLogger("ia_callback")


def handle_review(
    verifier: IntegrityAdvocateWebhookVerifier, body: bytes, headers: Mapping[str, str], url: str
) -> tuple[int, ReviewCallback | None]:
    """Return ``(status, callback)``: 200 with the callback, 401 untrusted, 400 malformed."""
    request = WebhookRequest(body=body, headers=headers, url=url, method="POST")
    try:
        verified = verifier.verify_detailed(request)
    except WebhookVerificationError as exc:
        logger.warning("review callback refused: %s", exc)
        return 401, None
    except PayloadError:
        return 400, None
    logger.info("review callback verified (%s)", verified.rotation_note)
    callback = verified.event
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
    # Why would a request fail? explain() says so without showing the key (here: a proxy's http://).
    from examkit.integrity_advocate import explain  # noqa: PLC0415

    seen = WebhookRequest(body=request.body, headers=request.headers, url=url.replace("https:", "http:"))
    diagnosis = explain(seen, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, clock=fake.clock)
    print(diagnosis.verdict)
    print(diagnosis.hints[0])
    confirmed = fake.client().confirm_callback(callback)
    print("confirmed status from the API:", confirmed.effective_status)


if __name__ == "__main__":
    main()
