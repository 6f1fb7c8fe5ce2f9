"""DjangoCacheReplayGuard with Django's local-memory and database caches and a real Redis server."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import caches  # type: ignore[import-untyped]
from django.core.cache.backends.redis import RedisCache  # type: ignore[import-untyped]
from django.core.management import call_command  # type: ignore[import-untyped]
from django.db import connections  # type: ignore[import-untyped]
from django.test import Client, override_settings  # type: ignore[import-untyped]

from examkit.core.clock import FixedClock
from examkit.core.errors import ConfigurationError
from examkit.core.webhook import ReplayGuard
from examkit.integrations.django import DjangoCacheReplayGuard
from tests.integrations import django_urls
from tests.integrations.toy import BODY, NOW, ToyVerifier, toy_headers


class RecordingCache:
    """Stands for a cache backend and records what the guard asks of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, object]] = []

    def add(self, key: str, value: object, timeout: object = None) -> bool:
        self.calls.append((key, value, timeout))
        return True


def _memcached_safe(key: str) -> bool:
    return len(key) <= 250 and all(33 <= ord(c) <= 126 for c in key)


def _close_redis_cache(cache: Any) -> None:
    # Django's RedisCache keeps connection pools open for the process; close them for the test run.
    for pool in cache._cache._pools.values():
        pool.disconnect()


class TestKeysAndTimeouts:
    @pytest.mark.parametrize(
        "key",
        ["examkit:toy:n1", "examkit:toy:" + "with space\tand\nnewline" * 20, "examkit:toy:é✓\ud800"],
    )
    def test_keys_are_the_prefixed_sha256_and_memcached_safe(self, key: str) -> None:
        cache = RecordingCache()
        assert DjangoCacheReplayGuard(cache, prefix="app:replay:").add(key, ttl=60)
        stored, value, _ = cache.calls[0]
        expected = "app:replay:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        assert stored == expected
        assert value == 1
        assert _memcached_safe(stored)

    @pytest.mark.parametrize(
        ("ttl", "timeout"),
        [(600, 600), (600.0, 600), (1.5, 2), (0.2, 1), (0, 1), (-5, 1), (math.inf, None), (1e300, 315360000)],
    )
    def test_timeouts(self, ttl: float, timeout: int | None) -> None:
        cache = RecordingCache()
        DjangoCacheReplayGuard(cache).add("k", ttl=ttl)
        assert cache.calls[0][2] == timeout

    @pytest.mark.parametrize("ttl", [math.nan, "60", None, True])
    def test_bad_ttl(self, ttl: Any) -> None:
        with pytest.raises(ConfigurationError) as info:
            DjangoCacheReplayGuard(RecordingCache()).add("k", ttl=ttl)
        assert info.value.setting == "ttl"

    @pytest.mark.parametrize("prefix", ["with space", "x" * 101, "tab\t", "é", 5])
    def test_bad_prefix(self, prefix: Any) -> None:
        with pytest.raises(ConfigurationError) as info:
            DjangoCacheReplayGuard(prefix=prefix)
        assert info.value.setting == "prefix"

    def test_bad_cache(self) -> None:
        with pytest.raises(ConfigurationError) as info:
            DjangoCacheReplayGuard(5)
        assert info.value.setting == "cache"

    def test_unknown_alias_fails_on_use(self) -> None:
        guard = DjangoCacheReplayGuard("nope")
        with pytest.raises(ConfigurationError, match=r"'nope' is not in settings\.CACHES"):
            guard.add("k", ttl=1)

    def test_the_dummy_cache_is_refused(self) -> None:
        with override_settings(CACHES={"dummy": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
            for guard in (DjangoCacheReplayGuard("dummy"), DjangoCacheReplayGuard(caches["dummy"])):
                with pytest.raises(ConfigurationError, match="dummy cache") as info:
                    guard.add("k", ttl=1)
                assert info.value.setting == "cache"

    def test_repr_and_protocol(self) -> None:
        guard = DjangoCacheReplayGuard()
        assert isinstance(guard, ReplayGuard)
        assert repr(guard) == "DjangoCacheReplayGuard(cache='default', prefix='examkit:replay:')"
        assert "RecordingCache" in repr(DjangoCacheReplayGuard(RecordingCache()))


class TestLocalMemoryCache:
    def test_once_only(self) -> None:
        caches["default"].clear()
        guard = DjangoCacheReplayGuard()  # the "default" alias: local memory in these settings
        assert guard.add("examkit:toy:a", ttl=60)
        assert not guard.add("examkit:toy:a", ttl=60)
        assert guard.add("examkit:toy:b", ttl=60)
        # A second guard on the same cache sees the same keys; another prefix does not.
        assert not DjangoCacheReplayGuard("default").add("examkit:toy:a", ttl=60)
        assert DjangoCacheReplayGuard("default", prefix="other:").add("examkit:toy:a", ttl=60)

    def test_threads_race_for_one_key(self) -> None:
        caches["default"].clear()
        assert _race(DjangoCacheReplayGuard(), threads=16, rounds=10) == [1] * 10


class TestDatabaseCache:
    @pytest.fixture(autouse=True)
    def table(self) -> Iterator[None]:
        call_command("createcachetable", "examkit_cache", verbosity=0)
        caches["db"].clear()
        yield
        connections.close_all()

    def test_once_only(self) -> None:
        guard = DjangoCacheReplayGuard("db")
        assert guard.add("examkit:toy:a", ttl=60)
        assert not guard.add("examkit:toy:a", ttl=60)
        assert guard.add("examkit:toy:b", ttl=60)
        assert caches["db"].get("examkit:replay:" + hashlib.sha256(b"examkit:toy:a").hexdigest()) == 1

    def test_through_the_django_view(self) -> None:
        clock = FixedClock(NOW)
        django_urls.VERIFIER.target = ToyVerifier(clock=clock, replay_guard=DjangoCacheReplayGuard("db"))
        django_urls.CALLS.clear()
        try:
            headers = toy_headers(BODY, url="http://testserver/webhooks/toy", nonce="db-1")
            client = Client()
            first = client.post("/webhooks/toy", BODY, content_type="application/json", headers=headers)
            second = client.post("/webhooks/toy", BODY, content_type="application/json", headers=headers)
            assert (first.status_code, second.status_code) == (200, 409)
            assert len(django_urls.CALLS) == 1
        finally:
            django_urls.VERIFIER.target = None
            django_urls.CALLS.clear()


def _race(guard: DjangoCacheReplayGuard, *, threads: int, rounds: int) -> list[int]:
    """For each round, ``threads`` threads add the same new key at once; return the winners' counts."""
    return [_race_once(guard, f"examkit:toy:race-{n}-{time.time_ns()}", threads) for n in range(rounds)]


def _race_once(guard: DjangoCacheReplayGuard, key: str, threads: int) -> int:
    barrier = threading.Barrier(threads)
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            won = guard.add(key, ttl=60)
        except BaseException as exc:  # collected, reported by the main thread
            errors.append(exc)
            return
        with lock:
            results.append(won)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == threads
    return sum(results)


class TestRedis:
    @pytest.fixture
    def redis_cache(self, redis_url: str) -> Iterator[Any]:
        cache = RedisCache(redis_url, {})
        cache.clear()
        yield cache
        _close_redis_cache(cache)

    def test_once_only_and_the_key_expires(self, redis_cache: Any, redis_url: str) -> None:
        guard = DjangoCacheReplayGuard(redis_cache)
        assert guard.add("examkit:toy:a", ttl=1)
        assert not guard.add("examkit:toy:a", ttl=1)
        # The key lives in Redis itself, with its TTL, under Django's ":<version>:" key layout.
        raw_key = ":1:examkit:replay:" + hashlib.sha256(b"examkit:toy:a").hexdigest()
        client = redis.Redis.from_url(redis_url)
        try:
            assert client.exists(raw_key) == 1
            assert 0 < client.pttl(raw_key) <= 1000
        finally:
            client.close()
        time.sleep(1.2)
        assert guard.add("examkit:toy:a", ttl=60)

    def test_two_workers_share_one_view(self, redis_url: str) -> None:
        # Two guards on two cache clients, like two processes behind a load balancer.
        worker_a, worker_b = RedisCache(redis_url, {}), RedisCache(redis_url, {})
        try:
            worker_a.clear()
            assert DjangoCacheReplayGuard(worker_a).add("examkit:toy:shared", ttl=60)
            assert not DjangoCacheReplayGuard(worker_b).add("examkit:toy:shared", ttl=60)
        finally:
            _close_redis_cache(worker_a)
            _close_redis_cache(worker_b)

    def test_many_threads_exactly_one_wins(self, redis_cache: Any) -> None:
        assert _race(DjangoCacheReplayGuard(redis_cache), threads=32, rounds=20) == [1] * 20

    def test_through_the_django_view_by_alias(self, redis_url: str) -> None:
        caches_setting = {
            "redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
        }
        django_urls.CALLS.clear()
        with override_settings(CACHES=caches_setting):
            try:
                caches["redis"].clear()
                headers = toy_headers(BODY, url="http://testserver/webhooks/toy", nonce="redis-1")
                responses = []
                for _ in range(2):
                    # A fresh verifier and guard per request: only the shared cache remembers.
                    django_urls.VERIFIER.target = ToyVerifier(
                        clock=FixedClock(NOW), replay_guard=DjangoCacheReplayGuard("redis")
                    )
                    responses.append(
                        Client().post("/webhooks/toy", BODY, content_type="application/json", headers=headers)
                    )
                assert [r.status_code for r in responses] == [200, 409]
                assert len(django_urls.CALLS) == 1
            finally:
                _close_redis_cache(caches["redis"])
                django_urls.VERIFIER.target = None
                django_urls.CALLS.clear()
