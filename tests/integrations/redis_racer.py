"""One racing process of the Redis replay-guard race (a small module, quick to import when spawned)."""

from __future__ import annotations

import threading
import time

import redis

from examkit.integrations.redis import RedisReplayGuard


def race(url: str, prefix: str, key: str, start: float, threads: int) -> int:
    """``threads`` threads of this process claim ``key`` at ``start``; return how many won."""
    connection = redis.Redis.from_url(url, socket_timeout=5)
    guard = RedisReplayGuard(connection, prefix=prefix)
    wins: list[bool] = []
    barrier = threading.Barrier(threads)

    def claim() -> None:
        guard.add("warm-up:" + key, ttl=1)  # every thread holds a connection before the start
        barrier.wait()
        time.sleep(max(0.0, start - time.time()))
        wins.append(guard.add(key, ttl=60))

    workers = [threading.Thread(target=claim) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    connection.close()
    return sum(wins)
