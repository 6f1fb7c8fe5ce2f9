"""Acknowledge at once, verify later: a webhook view that enqueues, and a Celery worker that verifies.

    celery -A examples.celery_worker worker        # with CELERY_BROKER_URL=redis://127.0.0.1:6379/0
    python examples/celery_worker.py               # offline: eager mode, the task runs in process

The view does no verification: it records the request exactly as received
(:meth:`~examkit.core.webhook.WebhookRequest.to_json_dict`: the raw body as base64, the headers, the
URL, the method and ``received_at``, the time it arrived), enqueues it and answers 202. The worker
rebuilds the request with :meth:`~examkit.core.webhook.WebhookRequest.from_json_dict` and verifies it:
freshness is judged at ``received_at``, not when the worker runs, and the replay guard (shared through
Redis in production) still refuses a second delivery of the same webhook. An authentic request that
fails verification is logged and dropped (retrying cannot make it valid); a replay guard that is down
raises, so Celery retries the task and nothing is lost.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

from celery import Celery

from examkit.core.errors import WebhookVerificationError
from examkit.core.webhook import InMemoryReplayGuard, ReplayGuard, WebhookRequest
from examkit.integrations import ReplayGuardUnavailableError
from examkit.itep import ExamResult, HmacBodyAuth, ItepWebhookVerifier
from examkit.testing.itep import build_results_webhook

DEMO_ITEP_HEADER = "X-Itep-Signature"
DEMO_ITEP_SECRET = "demo-itep-webhook-secret"

log = logging.getLogger("examkit.example.worker")

app = Celery("examkit_example", broker=os.environ.get("CELERY_BROKER_URL", "memory://"))
app.conf.task_serializer = "json"  # the request's JSON form needs nothing else
app.conf.accept_content = ["json"]


def replay_guard() -> ReplayGuard:
    """Redis when ``REDIS_URL`` is set (shared by every worker), else this process's memory."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return InMemoryReplayGuard()
    import redis  # noqa: PLC0415 - only with the redis extra

    from examkit.integrations.redis import RedisReplayGuard  # noqa: PLC0415

    return RedisReplayGuard(redis.Redis.from_url(url, socket_timeout=2))


VERIFIER = ItepWebhookVerifier(
    auth=HmacBodyAuth(header=DEMO_ITEP_HEADER, secret=DEMO_ITEP_SECRET), replay_guard=replay_guard()
)
STORED: list[ExamResult] = []


@app.task(bind=True, max_retries=10, default_retry_delay=30)
def verify_itep_result(self: Any, form: dict[str, Any]) -> str:
    """Verify a queued iTEP results webhook, then store it; returns what happened."""
    request = WebhookRequest.from_json_dict(form)
    try:
        result = VERIFIER.verify(request)
    except ReplayGuardUnavailableError as exc:
        raise self.retry(exc=exc) from exc  # Redis is down: try again later, lose nothing
    except WebhookVerificationError as exc:
        log.warning("dropped a queued webhook: %s", exc)  # never valid, whenever it is verified
        return f"rejected: {type(exc).__name__}"
    STORED.append(result)
    return f"stored {result.test_id}"


def enqueue(body: bytes, headers: dict[str, str], url: str) -> Any:
    """What the webhook view does: record the request as it arrived, enqueue it, answer 202."""
    request = WebhookRequest(body=body, headers=headers, url=url, received_at=time.time())
    return verify_itep_result.delay(request.to_json_dict())


def main() -> int:
    app.conf.task_always_eager = True  # offline: the task runs in this process
    webhook = build_results_webhook(hmac=(DEMO_ITEP_HEADER, DEMO_ITEP_SECRET))
    headers = dict(webhook.headers.items())
    url = "https://hooks.example.com/webhooks/itep"
    print(json.dumps(WebhookRequest(body=webhook.body, headers=headers, url=url).to_json_dict())[:60] + "...")
    print(enqueue(webhook.body, headers, url).get())
    print(enqueue(webhook.body, headers, url).get())  # the same delivery again: a replay
    return 0


if __name__ == "__main__":
    sys.exit(main())
