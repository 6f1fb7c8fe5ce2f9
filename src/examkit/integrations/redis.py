"""Replay guards shared through Redis, for every adapter and for plain code.

Needs redis-py (``pip install 'examkit[redis]'``)::

    import redis
    from examkit.integrations.redis import RedisReplayGuard

    guard = RedisReplayGuard(redis.Redis.from_url("redis://127.0.0.1:6379/0"))
    verifier = SomeVendorWebhookVerifier(..., replay_guard=guard)

Each claim is one atomic ``SET key 1 NX PX ttl``: when the same delivery reaches several workers
(processes, hosts) at once, exactly one of them wins. Keys are the SHA-256 of the verifier's key
behind a prefix. The time a key is kept is the verifier's ttl (its tolerance) plus ``margin``, so a
key never expires while its request could still be accepted as fresh, even with some clock skew
between the hosts.

The guards fail closed: when Redis cannot be reached (or answers with an error), the claim raises
:class:`~examkit.integrations.ReplayGuardUnavailableError`, which the adapters answer with 503. The
request is then neither accepted unguarded nor lost: the vendor delivers it again later.
:class:`AsyncRedisReplayGuard` does the same on ``redis.asyncio`` for async code.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Final

try:
    import redis
    import redis.asyncio
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without redis-py
    if exc.name is None or exc.name.partition(".")[0] != "redis":
        raise
    raise ImportError(
        "examkit.integrations.redis needs redis-py: install it with pip install 'examkit[redis]'"
    ) from exc

from examkit.core._checks import argument_number, argument_text, check_instance, check_seconds
from examkit.core._repr import safe_repr
from examkit.core.errors import ConfigurationError
from examkit.integrations._common import ReplayGuardUnavailableError

__all__ = ["AsyncRedisReplayGuard", "RedisReplayGuard"]

DEFAULT_PREFIX: Final = "examkit:replay:"
DEFAULT_MARGIN: Final = 60.0
_MAX_TTL_MS: Final = 10 * 365 * 24 * 3600 * 1000


def _prefix(value: object) -> str:
    if not isinstance(value, str) or len(value) > 100 or not value.isprintable():
        raise ConfigurationError("prefix must be at most 100 printable characters", setting="prefix")
    return value


def _ttl_ms(ttl: float, margin: float) -> int:
    seconds = argument_number(ttl, field="ttl")
    if seconds == math.inf:
        return _MAX_TTL_MS
    return min(max(1, math.ceil((max(seconds, 0.0) + margin) * 1000)), _MAX_TTL_MS)


def _unavailable(exc: Exception, operation: str) -> ReplayGuardUnavailableError:
    # The Redis error's text can hold the URL (with a password): name its class only.
    return ReplayGuardUnavailableError(
        f"Redis could not {operation} the replay-guard key ({type(exc).__name__}): the request was "
        "not accepted unguarded; answer 503 so that the vendor delivers it again"
    )


class _Settings:
    __slots__ = ("_client", "_margin", "_prefix")

    def __init__(self, client: Any, cls: type[Any], *, prefix: str, margin: float) -> None:
        self._client = check_instance(client, cls, setting="client")
        self._prefix = _prefix(prefix)
        self._margin = check_seconds(margin, setting="margin", allow_zero=True)

    def key(self, key: str) -> str:
        text = argument_text(key, field="key")
        return self._prefix + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self._prefix!r}, margin={self._margin!r})"


class RedisReplayGuard(_Settings):
    """A :class:`~examkit.core.ReplayGuard` shared by every worker through Redis (redis-py).

    Args:
        client: A ``redis.Redis`` client (``redis.Redis.from_url(...)``). Give it a
            ``socket_timeout`` so that a hung server fails the claim instead of the request hanging.
        prefix: Put in front of every key, to keep them apart from the application's own.
        margin: Seconds added to the verifier's ttl before a key expires (default 60).

    Raises:
        ConfigurationError: ``client`` is not a ``redis.Redis``, ``prefix`` or ``margin`` is malformed.

    Use a Redis whose eviction policy does not drop these keys early (``noeviction`` or
    ``volatile-*`` rather than ``allkeys-lru``).
    """

    def __init__(
        self, client: redis.Redis, *, prefix: str = DEFAULT_PREFIX, margin: float = DEFAULT_MARGIN
    ) -> None:
        super().__init__(client, redis.Redis, prefix=prefix, margin=margin)

    def add(self, key: str, *, ttl: float) -> bool:
        """Claim ``key`` for ``ttl`` seconds plus the margin; ``False`` when it is claimed already.

        Raises:
            ReplayGuardUnavailableError: Redis could not be reached or refused the command.
        """
        name, px = self.key(key), _ttl_ms(ttl, self._margin)
        try:
            return bool(self._client.set(name, b"1", nx=True, px=px))
        except redis.RedisError as exc:
            raise _unavailable(exc, "store") from None

    def discard(self, key: str) -> None:
        """Forget ``key``, so that the vendor's retry of a delivery that was not handled is accepted.

        Raises:
            ReplayGuardUnavailableError: Redis could not be reached.
        """
        name = self.key(key)
        try:
            self._client.delete(name)
        except redis.RedisError as exc:
            raise _unavailable(exc, "delete") from None


class AsyncRedisReplayGuard(_Settings):
    """:class:`RedisReplayGuard` on ``redis.asyncio``, for async code: ``await guard.add(...)``.

    Verifiers call their guard synchronously, so this guard serves async code that claims keys itself
    (a worker, a custom adapter) and the Starlette adapter's ``await`` path; behind a sync verifier, use
    :class:`RedisReplayGuard`.

    Args:
        client: A ``redis.asyncio.Redis`` client.
        prefix: See :class:`RedisReplayGuard`.
        margin: See :class:`RedisReplayGuard`.

    Raises:
        ConfigurationError: ``client`` is not a ``redis.asyncio.Redis``, ``prefix`` or ``margin`` is
            malformed.
    """

    def __init__(
        self, client: redis.asyncio.Redis, *, prefix: str = DEFAULT_PREFIX, margin: float = DEFAULT_MARGIN
    ) -> None:
        super().__init__(client, redis.asyncio.Redis, prefix=prefix, margin=margin)

    async def add(self, key: str, *, ttl: float) -> bool:
        """Claim ``key`` for ``ttl`` seconds plus the margin; ``False`` when it is claimed already.

        Raises:
            ReplayGuardUnavailableError: Redis could not be reached or refused the command.
        """
        name, px = self.key(key), _ttl_ms(ttl, self._margin)
        try:
            return bool(await self._client.set(name, b"1", nx=True, px=px))
        except redis.RedisError as exc:
            raise _unavailable(exc, "store") from None

    async def discard(self, key: str) -> None:
        """Forget ``key`` (see :meth:`RedisReplayGuard.discard`).

        Raises:
            ReplayGuardUnavailableError: Redis could not be reached.
        """
        name = self.key(key)
        try:
            await self._client.delete(name)
        except redis.RedisError as exc:
            raise _unavailable(exc, "delete") from None
