"""Verification in a queue: the view enqueues the request's JSON form, a worker verifies it later.

Freshness is judged at ``received_at`` (when the request arrived), not when the worker runs; the
replay guard still refuses a second delivery. The Celery example runs in Celery's eager mode, with
its JSON serializer, so the request really goes through JSON.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from examkit.core.clock import FixedClock
from examkit.core.errors import ReplayedRequestError, TimestampOutsideToleranceError
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrations import ReplayGuardUnavailableError
from tests.integrations.toy import BODY, NOW, TOLERANCE, ToyVerifier, toy_headers

ROOT = Path(__file__).resolve().parents[2]
URL = "https://hooks.example.com/hook"


def queued(received_at: float, nonce: str = "q-1") -> dict[str, Any]:
    request = WebhookRequest(
        body=BODY, headers=toy_headers(BODY, url=URL, nonce=nonce), url=URL, received_at=received_at
    )
    form: dict[str, Any] = json.loads(json.dumps(request.to_json_dict()))
    return form


def test_a_worker_an_hour_later_judges_freshness_at_arrival() -> None:
    worker_clock = FixedClock(NOW + 3600)  # the queue was slow
    verifier = ToyVerifier(clock=worker_clock, replay_guard=InMemoryReplayGuard(clock=worker_clock))
    event = verifier.verify(WebhookRequest.from_json_dict(queued(received_at=NOW + 5)))
    assert event.candidate == "Ada Lovelace"


def test_a_request_already_stale_when_it_arrived_is_still_refused() -> None:
    verifier = ToyVerifier(clock=FixedClock(NOW + 3600))
    late = queued(received_at=NOW + TOLERANCE + 1)
    with pytest.raises(TimestampOutsideToleranceError):
        verifier.verify(WebhookRequest.from_json_dict(late))


def test_replay_protection_still_applies_in_the_worker() -> None:
    clock = FixedClock(NOW + 60)
    verifier = ToyVerifier(clock=clock, replay_guard=InMemoryReplayGuard(clock=clock))
    form = queued(received_at=NOW)
    verifier.verify(WebhookRequest.from_json_dict(form))
    with pytest.raises(ReplayedRequestError):
        verifier.verify(WebhookRequest.from_json_dict(form))  # the vendor delivered it twice


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "examkit_celery_example", ROOT / "examples" / "celery_worker.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.delenv("REDIS_URL", raising=False)
    module = load_example()
    module.app.conf.task_always_eager = True
    module.app.conf.task_eager_propagates = True
    return module


def test_the_celery_example_stores_once_and_drops_the_replay(example: ModuleType) -> None:
    from examkit.testing.itep import build_results_webhook

    webhook = build_results_webhook(hmac=(example.DEMO_ITEP_HEADER, example.DEMO_ITEP_SECRET))
    headers = dict(webhook.headers.items())
    assert example.enqueue(webhook.body, headers, URL).get() == "stored 3279B035APR"
    assert example.enqueue(webhook.body, headers, URL).get() == "rejected: ReplayedRequestError"
    tampered = webhook.body.replace(b"3279B035APR", b"3279B035APS")
    assert example.enqueue(tampered, headers, URL).get() == "rejected: SignatureMismatchError"
    assert [r.test_id for r in example.STORED] == ["3279B035APR"]


def test_the_celery_example_retries_when_the_guard_is_down(
    example: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery.exceptions import Retry  # type: ignore[import-untyped]

    from examkit.testing.itep import build_results_webhook

    class Down:
        def add(self, key: str, *, ttl: float) -> bool:
            raise ReplayGuardUnavailableError("Redis is down")

    verifier = example.ItepWebhookVerifier(
        auth=example.HmacBodyAuth(header=example.DEMO_ITEP_HEADER, secret=example.DEMO_ITEP_SECRET),
        replay_guard=Down(),
    )
    monkeypatch.setattr(example, "VERIFIER", verifier)
    webhook = build_results_webhook(hmac=(example.DEMO_ITEP_HEADER, example.DEMO_ITEP_SECRET))
    with pytest.raises((Retry, ReplayGuardUnavailableError)):
        example.enqueue(webhook.body, dict(webhook.headers.items()), URL).get()
    assert example.STORED == []
