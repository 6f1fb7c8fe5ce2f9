"""An accepted webhook whose view fails is not lost: the adapters release its replay-guard claim.

Vendors retry a delivery that did not get a 2xx answer. Without the release, that retry would be refused
as a replay (409) and the event never handled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.test import RequestFactory  # type: ignore[import-untyped]
from flask import Flask

from examkit.core.clock import FixedClock
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest, claim_once, replay_scope
from examkit.integrations._common import handle, handle_async
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


# ---- foreign errors: a verifier or view that fails with anything at all -------------------------


class Cancelled(BaseException):
    """Stands for a BaseException that is not an Exception (KeyboardInterrupt, a cancellation)."""


FOREIGN = [RecursionError("maximum recursion depth exceeded"), MemoryError(), Cancelled()]


class ClaimsThenFails:
    """A verifier that claims the nonce (as the toy verifier would) and then fails with ``error``."""

    max_body_size = 4096

    def __init__(self, guard: InMemoryReplayGuard, error: BaseException) -> None:
        self.guard = guard
        self.error = error

    def verify(self, request: WebhookRequest) -> ToyEvent:
        claim_once(self.guard, f"examkit:toy:{request.headers['X-Toy-Nonce']}", ttl=600)
        raise self.error


class Switch:
    """Uses ``first`` for the first delivery, then ``then``."""

    max_body_size = 4096

    def __init__(self, first: Any, then: Any) -> None:
        self.verifiers = [first, then]

    def verify(self, request: WebhookRequest) -> ToyEvent:
        verifier = self.verifiers.pop(0) if len(self.verifiers) > 1 else self.verifiers[0]
        event: ToyEvent = verifier.verify(request)
        return event


@pytest.mark.parametrize("error", FOREIGN, ids=lambda e: type(e).__name__)
def test_flask_releases_the_claim_of_a_verifier_that_raised_a_foreign_error(error: BaseException) -> None:
    guard = InMemoryReplayGuard(clock=FixedClock(NOW))
    verifier = Switch(ClaimsThenFails(guard, error), ToyVerifier(clock=FixedClock(NOW), replay_guard=guard))
    app = Flask("release-foreign")

    @app.post("/hook")
    @flask_webhook(verifier)
    def hook(event: ToyEvent) -> tuple[str, int]:
        return event.candidate, 200

    client = app.test_client()
    headers = toy_headers(BODY, url=FLASK_URL)
    if isinstance(error, Exception):
        assert client.post("/hook", data=BODY, headers=headers).status_code == 500
    else:
        with pytest.raises(Cancelled):
            client.post("/hook", data=BODY, headers=headers)
    assert len(guard) == 0
    genuine = client.post("/hook", data=BODY, headers=headers)
    assert genuine.status_code == 200  # not 409: the claim of the failed attempt was released
    assert client.post("/hook", data=BODY, headers=headers).status_code == 409


@pytest.mark.parametrize("error", FOREIGN, ids=lambda e: type(e).__name__)
def test_django_releases_the_claim_of_a_verifier_that_raised_a_foreign_error(error: BaseException) -> None:
    guard = InMemoryReplayGuard(clock=FixedClock(NOW))
    verifier = Switch(ClaimsThenFails(guard, error), ToyVerifier(clock=FixedClock(NOW), replay_guard=guard))
    url = "http://testserver/hook"

    @django_webhook(verifier)
    def hook(request: HttpRequest, event: ToyEvent) -> HttpResponse:
        return HttpResponse(event.candidate)

    headers = toy_headers(BODY, url=url, nonce=f"foreign-{type(error).__name__}")

    def deliver() -> int:
        request = RequestFactory().post("/hook", data=BODY, content_type="application/json", headers=headers)
        return int(hook(request).status_code)

    with pytest.raises(type(error)):
        deliver()
    assert len(guard) == 0
    assert deliver() == 200
    assert deliver() == 409


@pytest.mark.parametrize("error", FOREIGN, ids=lambda e: type(e).__name__)
def test_async_flow_releases_on_a_foreign_error(error: BaseException) -> None:
    guard = InMemoryReplayGuard()

    async def verify() -> ToyEvent:
        claim_once(guard, "k", ttl=60)
        raise error

    async def view(event: Any) -> Any:
        raise AssertionError("not reached")

    with pytest.raises(type(error)):
        asyncio.run(handle_async(verify, view, lambda exc, status: status))
    assert guard.add("k", ttl=60)  # released


class FailingDiscard(InMemoryReplayGuard):
    """A guard whose ``discard`` fails, like a cache that went down after the claim."""

    def discard(self, key: str) -> None:
        raise ConnectionError("cache unreachable")


def test_a_failing_release_never_hides_the_original_error(caplog: pytest.LogCaptureFixture) -> None:
    guard = FailingDiscard()

    def verify() -> str:
        claim_once(guard, "k", ttl=60)
        return "event"

    def view(event: Any) -> Any:
        raise RuntimeError("the view's own failure")

    with pytest.raises(RuntimeError, match="the view's own failure"):
        handle(verify, view, lambda exc, status: status)
    assert "could not release a replay-guard claim (ConnectionError)" in caplog.text

    class Answer:
        status_code = 503

    answer = Answer()
    assert handle(verify_again(guard), lambda event: answer, lambda exc, status: status) is answer


def verify_again(guard: InMemoryReplayGuard) -> Any:
    def verify() -> str:
        claim_once(guard, "k2", ttl=60)
        return "event"

    return verify


def test_release_tries_every_claim_before_raising() -> None:
    working, failing = InMemoryReplayGuard(), FailingDiscard()
    with replay_scope() as scope:
        claim_once(working, "a", ttl=60)
        claim_once(failing, "b", ttl=60)
        with pytest.raises(ConnectionError):
            scope.release()  # the failing guard's claim is released first (last in, first out)
    assert working.add("a", ttl=60)  # still released
