"""RedisReplayGuard and AsyncRedisReplayGuard on a real redis-server started by the tests.

32 racers in several processes replaying one nonce: exactly one wins. Keys expire after the ttl plus
the margin. Redis unreachable (or stopped in the middle of a test): the guard fails closed and the
adapters answer 503, never 200; once Redis is back, the vendor's retry is accepted.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from examkit.core.clock import FixedClock
from examkit.core.errors import ConfigurationError
from examkit.core.webhook import ReplayGuard, WebhookRequest
from examkit.integrations import ReplayGuardUnavailableError, status_for_error
from examkit.integrations.flask import verified_webhook as flask_webhook
from examkit.integrations.redis import AsyncRedisReplayGuard, RedisReplayGuard
from examkit.integrations.starlette import verified_webhook as starlette_webhook
from tests.integrations.conftest import _free_port, _start_redis
from tests.integrations.redis_racer import race
from tests.integrations.toy import BODY, NOW, ToyEvent, ToyVerifier, toy_headers


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def prefix() -> str:
    return f"examkit:test:{uuid.uuid4().hex}:"


def test_it_is_a_replay_guard_that_claims_once_and_can_release(client: redis.Redis, prefix: str) -> None:
    guard = RedisReplayGuard(client, prefix=prefix)
    as_object: object = guard
    assert isinstance(as_object, ReplayGuard)
    assert guard.add("k", ttl=60) is True
    assert guard.add("k", ttl=60) is False
    guard.discard("k")
    assert guard.add("k", ttl=60) is True
    guard.discard("never-claimed")


def test_keys_are_the_sha256_of_the_key_behind_the_prefix_with_ttl_plus_margin(
    client: redis.Redis, prefix: str
) -> None:
    RedisReplayGuard(client, prefix=prefix, margin=60).add("examkit:itep:abc", ttl=300)
    expected = prefix + hashlib.sha256(b"examkit:itep:abc").hexdigest()  # computed here, independently
    assert client.keys(prefix + "*") == [expected.encode()]
    assert 359_000 < client.pttl(expected) <= 360_000


def test_the_key_expires(client: redis.Redis, prefix: str) -> None:
    guard = RedisReplayGuard(client, prefix=prefix, margin=0)
    assert guard.add("short", ttl=0.1) is True
    assert guard.add("short", ttl=0.1) is False
    time.sleep(0.3)
    assert guard.add("short", ttl=0.1) is True


def test_32_racers_in_4_processes_one_winner(redis_url: str, prefix: str) -> None:
    context = multiprocessing.get_context("spawn")  # fresh interpreters: nothing shared but Redis
    with context.Pool(4) as pool:
        pool.map(time.sleep, [0.0] * 4)  # every process is up
        for round_ in range(5):
            start = time.time() + 0.5
            wins = pool.starmap(race, [(redis_url, prefix, f"nonce-{round_}", start, 8)] * 4)
            assert sum(wins) == 1, wins


def test_the_async_guard(redis_url: str, prefix: str) -> None:
    async def go() -> list[bool]:
        connection = redis.asyncio.Redis.from_url(redis_url)
        guard = AsyncRedisReplayGuard(connection, prefix=prefix)
        try:
            results = await asyncio.gather(*(guard.add("k", ttl=60) for _ in range(32)))
            await guard.discard("k")
            results.append(await guard.add("k", ttl=60))
            return list(results)
        finally:
            # redis-py 5.0.1 renamed close() to aclose(); the lowest version declared (5.0.0) has close().
            close = getattr(connection, "aclose", None) or connection.close
            await close()

    results = asyncio.run(go())
    assert results[:32].count(True) == 1
    assert results[32] is True


def test_an_async_guard_behind_a_sync_verifier_is_refused_not_silently_open(
    redis_url: str, prefix: str
) -> None:
    connection = redis.asyncio.Redis.from_url(redis_url)
    verifier = ToyVerifier(
        clock=FixedClock(NOW),
        replay_guard=AsyncRedisReplayGuard(connection, prefix=prefix),  # type: ignore[arg-type]  # mypy refuses it too
    )
    request = WebhookRequest(body=BODY, headers=toy_headers(BODY, url="http://h/x"), url="http://h/x")
    with pytest.raises(ConfigurationError, match="AsyncRedisReplayGuard"):
        verifier.verify(request)


@pytest.mark.parametrize(
    "options",
    [{"prefix": 1}, {"prefix": "x" * 101}, {"margin": -1}, {"margin": float("nan")}],
)
def test_bad_settings_are_refused(client: redis.Redis, options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RedisReplayGuard(client, **options)


def test_a_client_that_is_not_redis_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="client"):
        RedisReplayGuard(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="client"):
        AsyncRedisReplayGuard(redis.Redis())  # type: ignore[arg-type]


def test_unreachable_redis_fails_closed_without_showing_the_password() -> None:
    port = _free_port()  # nothing listens there
    connection = redis.Redis.from_url(f"redis://:hunter2-secret@127.0.0.1:{port}/0", socket_timeout=1)
    guard = RedisReplayGuard(connection)
    with pytest.raises(ReplayGuardUnavailableError) as info:
        guard.add("k", ttl=60)
    assert status_for_error(info.value) == 503
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value)
    assert "hunter2" not in repr(guard)
    with pytest.raises(ReplayGuardUnavailableError):
        guard.discard("k")


# -- Redis stopped in the middle of a test: 503, not 200; back again: the retry is accepted ---------


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    process, port = _start_redis(binary, tmp_path)
    try:
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.communicate(timeout=10)


def _restart(binary_dir: Path, url: str) -> Any:
    import subprocess

    port = url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]
    process = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", ""],
        cwd=binary_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    connection = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if connection.ping():
                break
        except redis.RedisError:
            time.sleep(0.05)
    connection.close()
    return process


def _stop(process: Any) -> None:
    process.kill()
    process.communicate(timeout=10)


def test_flask_answers_503_when_redis_stops_and_accepts_the_retry_after(
    private_redis: tuple[Any, str], tmp_path: Path
) -> None:
    process, url = private_redis
    connection = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    guard = RedisReplayGuard(connection, prefix="flask:")
    app = Flask("redis-outage")
    seen: list[str] = []

    @app.post("/hook")
    @flask_webhook(ToyVerifier(clock=FixedClock(NOW), replay_guard=guard))
    def hook(event: ToyEvent) -> str:
        seen.append(event.nonce)
        return "ok"

    client = app.test_client()
    first = toy_headers(BODY, url="http://localhost/hook", nonce="before")
    assert client.post("/hook", data=BODY, headers=first).status_code == 200
    _stop(process)  # Redis goes away in the middle of the test
    during = toy_headers(BODY, url="http://localhost/hook", nonce="during")
    response = client.post("/hook", data=BODY, headers=during)
    assert response.status_code == 503
    assert seen == ["before"]
    restarted = _restart(tmp_path, url)  # an empty Redis on the same port
    try:
        assert client.post("/hook", data=BODY, headers=during).status_code == 200  # the vendor's retry
        assert client.post("/hook", data=BODY, headers=during).status_code == 409
        assert seen == ["before", "during"]
    finally:
        _stop(restarted)
        connection.close()


def test_starlette_answers_503_when_redis_stops(private_redis: tuple[Any, str]) -> None:
    process, url = private_redis
    connection = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    guard = RedisReplayGuard(connection, prefix="asgi:")
    seen: list[str] = []

    async def hook(request: Request, event: ToyEvent) -> Response:
        seen.append(event.nonce)
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route(
                "/hook",
                starlette_webhook(ToyVerifier(clock=FixedClock(NOW), replay_guard=guard))(hook),
                methods=["POST"],
            )
        ]
    )

    async def post(nonce: str) -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            headers = toy_headers(BODY, url="http://testserver/hook", nonce=nonce)
            return (await c.post("/hook", content=BODY, headers=headers)).status_code

    assert asyncio.run(post("before")) == 200
    _stop(process)
    assert asyncio.run(post("during")) == 503
    assert seen == ["before"]
    connection.close()
