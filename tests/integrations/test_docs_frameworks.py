"""Code blocks of docs/frameworks.md, executed as written.

The page shows the shipped RedisReplayGuard (it replaced a hand-written recipe): the block runs as
written, and the guard it builds is checked against a real redis-server for the whole protocol the
adapters use (``add`` and ``discard``): without ``discard``, a delivery whose view failed stays
claimed and the vendor's retry is refused as a replay.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from examkit.core.clock import FixedClock
from examkit.core.webhook import ReplayGuard
from examkit.integrations.flask import verified_webhook
from examkit.integrations.redis import RedisReplayGuard
from tests.integrations.toy import BODY, NOW, ToyEvent, ToyVerifier, toy_headers

DOCS = Path(__file__).resolve().parents[2] / "docs" / "frameworks.md"


def block(marker: str) -> str:
    """The one Python block of the page that contains ``marker``."""
    blocks = re.findall(r"^```python\n(.*?)^```", DOCS.read_text(encoding="utf-8"), flags=re.S | re.M)
    found: list[str] = [block for block in blocks if marker in block]
    assert len(found) == 1, f"docs/frameworks.md must show one block with {marker!r}"
    return found[0]


def redis_block() -> str:
    return block("RedisReplayGuard(redis.Redis")


def test_the_body_limit_example_runs_and_prints_what_it_says(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(block("max_body_size=1024"), str(DOCS), "exec"), {"__name__": "frameworks_md_limits"})  # noqa: S102
    assert capsys.readouterr().out == "2048 1024\n"


@pytest.fixture
def guard(redis_url: str, capsys: pytest.CaptureFixture[str]) -> Any:
    namespace: dict[str, Any] = {"__name__": "frameworks_md_redis"}
    exec(compile(redis_block(), str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs, on purpose
    assert capsys.readouterr().out.startswith("RedisReplayGuard(")
    assert isinstance(namespace["guard"], RedisReplayGuard)
    assert namespace["verifier"] is not None
    # The same guard, on the test server instead of the page's 127.0.0.1:6379.
    client = redis.Redis.from_url(redis_url)
    try:
        yield RedisReplayGuard(client, prefix=f"examkit:test:{uuid.uuid4().hex}:")
    finally:
        client.close()


def test_the_shipped_guard_is_a_replay_guard_that_can_release(guard: Any) -> None:
    as_object: object = guard
    assert isinstance(as_object, ReplayGuard)
    assert guard.add("k", ttl=0.2) is True
    assert guard.add("k", ttl=60) is False
    guard.discard("k")
    assert guard.add("k", ttl=60) is True
    guard.discard("never-claimed")  # nothing to forget: no error


@pytest.mark.parametrize("failure", ["raise", "503"])
def test_with_the_shipped_guard_a_failing_view_lets_the_retry_through(guard: Any, failure: str) -> None:
    calls: list[str] = []
    app = Flask("redis-guard")

    @app.post("/hook")
    @verified_webhook(ToyVerifier(clock=FixedClock(NOW), replay_guard=guard))
    def hook(event: ToyEvent) -> tuple[str, int]:
        calls.append(event.candidate)
        if len(calls) == 1:
            if failure == "raise":
                raise RuntimeError("database unavailable")
            return "try again", 503
        return event.candidate, 200

    client = app.test_client()
    headers = toy_headers(BODY, url="http://localhost/hook", nonce=f"shipped-{failure}")
    assert client.post("/hook", data=BODY, headers=headers).status_code in (500, 503)
    assert client.post("/hook", data=BODY, headers=headers).status_code == 200  # the retry
    assert client.post("/hook", data=BODY, headers=headers).status_code == 409  # handled once
    assert calls == ["Ada Lovelace", "Ada Lovelace"]
