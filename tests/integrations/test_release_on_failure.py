"""An accepted webhook whose view fails is not lost: the adapters release its replay-guard claim.

Vendors retry a delivery that did not get a 2xx answer. Without the release, that retry would be refused
as a replay (409) and the event never handled.
"""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.test import RequestFactory  # type: ignore[import-untyped]
from flask import Flask

from examkit.core.clock import FixedClock
from examkit.core.webhook import InMemoryReplayGuard, claim_once, replay_scope
from examkit.integrations.django import DjangoCacheReplayGuard
from examkit.integrations.django import verified_webhook as django_webhook
from examkit.integrations.flask import verified_webhook as flask_webhook
from examkit.testing.testpress import exam_webhook_request, sample_exam_webhook_payload
from examkit.testpress import TestpressWebhookVerifier
from tests.integrations.toy import BODY, NOW, ToyEvent, ToyVerifier, toy_headers

FLASK_URL = "http://localhost/hook"


class Flaky:
    """A view body that fails in a chosen way on its first call, then works."""

    def __init__(self, failure: str) -> None:
        self.failure = failure
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.calls == 1 and self.failure == "raise":
            raise RuntimeError("database unavailable")
        if self.calls == 1 and self.failure == "503":
            return 503
        return 200


@pytest.mark.parametrize("failure", ["raise", "503"])
def test_flask_view_failure_lets_the_retry_through(failure: str) -> None:
    flaky = Flaky(failure)
    guard = InMemoryReplayGuard(clock=FixedClock(NOW))
    app = Flask("release-tests")

    @app.post("/hook")
    @flask_webhook(ToyVerifier(clock=FixedClock(NOW), replay_guard=guard))
    def hook(event: ToyEvent) -> tuple[str, int]:
        return event.candidate, flaky()

    client = app.test_client()
    headers = toy_headers(BODY, url=FLASK_URL)
    first = client.post("/hook", data=BODY, headers=headers)
    assert first.status_code in (500, 503)
    retry = client.post("/hook", data=BODY, headers=headers)
    assert retry.status_code == 200
    assert flaky.calls == 2
    # Handled once: the same delivery again is a replay.
    assert client.post("/hook", data=BODY, headers=headers).status_code == 409


@pytest.mark.parametrize("failure", ["raise", "503"])
def test_django_view_failure_lets_the_retry_through(failure: str) -> None:
    flaky = Flaky(failure)
    guard = DjangoCacheReplayGuard()  # the test settings' local-memory cache
    url = "http://testserver/hook"

    @django_webhook(ToyVerifier(clock=FixedClock(NOW), replay_guard=guard))
    def hook(request: HttpRequest, event: ToyEvent) -> HttpResponse:
        return HttpResponse(event.candidate, status=flaky())

    factory = RequestFactory()
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in toy_headers(BODY, url=url, nonce=f"django-{failure}").items()
    }

    def deliver() -> int:
        request = factory.post("/hook", data=BODY, content_type="application/json", **headers)
        try:
            return int(hook(request).status_code)
        except RuntimeError:
            return 500

    assert deliver() in (500, 503)
    assert deliver() == 200
    assert flaky.calls == 2
    assert deliver() == 409


def test_a_real_verifier_claims_through_the_scope() -> None:
    verifier = TestpressWebhookVerifier(
        public_key="pub", private_key="priv-123", replay_guard=InMemoryReplayGuard()
    )
    request = exam_webhook_request(sample_exam_webhook_payload(public_key="pub"), private_key="priv-123")
    with replay_scope() as scope:
        verifier.verify(request)
        assert len(scope) == 1
        scope.release()
    verifier.verify(request)  # released: accepted again


def test_claims_outside_a_scope_are_simply_kept() -> None:
    guard = InMemoryReplayGuard()
    claim_once(guard, "k", ttl=60)
    with replay_scope() as scope:
        assert len(scope) == 0
    assert not guard.add("k", ttl=60)


def test_guards_without_discard_are_left_alone() -> None:
    class AddOnly:
        def __init__(self) -> None:
            self.keys: set[str] = set()

        def add(self, key: str, *, ttl: float) -> bool:
            if key in self.keys:
                return False
            self.keys.add(key)
            return True

    guard = AddOnly()
    with replay_scope() as scope:
        claim_once(guard, "k", ttl=60)
        scope.release()
    assert guard.keys == {"k"}
