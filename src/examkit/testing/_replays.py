"""Forget what replay guards remembered during a test, so the next test may reuse the same sample."""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from types import TracebackType
from typing import Any, Final

_GUARDS: Final = (
    ("examkit.core.webhook", "InMemoryReplayGuard"),
    ("examkit.integrations.django", "DjangoCacheReplayGuard"),
    ("examkit.integrations.redis", "RedisReplayGuard"),
)


class ReplayForgetting:
    """Started by :func:`forget_replays`; :meth:`stop` (or leaving the ``with`` block) forgets.

    Every key a replay guard of examkit accepted since the start is discarded from that guard, so a
    cache shared by all tests (Django's, Redis) holds none of them afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._remembered: list[tuple[Any, str]] = []
        self._patched: list[tuple[type, Any]] = []
        for module_name, class_name in _GUARDS:
            cls = getattr(sys.modules.get(module_name), class_name, None)
            original = cls.__dict__.get("add") if isinstance(cls, type) else None
            if cls is None or original is None or not callable(getattr(cls, "discard", None)):
                continue  # not loaded by this process: nothing of it to forget
            cls.add = self._recording(original)
            self._patched.append((cls, original))

    def _recording(self, original: Any) -> Any:
        @functools.wraps(original)
        def add(guard: Any, key: str, *args: Any, **kwargs: Any) -> Any:
            accepted = original(guard, key, *args, **kwargs)
            if accepted is True:
                with self._lock:
                    self._remembered.append((guard, key))
            return accepted

        return add

    def stop(self) -> None:
        """Stop recording and discard every key recorded (safe to call twice)."""
        for cls, original in reversed(self._patched):
            cls.add = original
        self._patched.clear()
        with self._lock:
            remembered, self._remembered = self._remembered, []
        for guard, key in reversed(remembered):
            with contextlib.suppress(Exception):  # a cache gone away has nothing left to forget
                guard.discard(key)

    def __enter__(self) -> ReplayForgetting:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def forget_replays() -> ReplayForgetting:
    """Start remembering what examkit's replay guards accept, to forget it at the end of a test.

    A verifier with a shared replay guard (``DjangoCacheReplayGuard``, ``RedisReplayGuard``) refuses
    the second delivery of a request (409), which is right in production and wrong across tests: a
    suite that posts the same sample webhook in two tests gets 409 in the second. Use it as a context
    manager, or stop it in a clean-up::

        with forget_replays():
            ...  # post webhooks

        # Django's TestCase / unittest
        def setUp(self):
            self.addCleanup(forget_replays().stop)

    The pytest plugin (``examkit[testing]``) does this around every test. Guards whose module is
    loaded when it starts are covered: examkit's in-memory, Django-cache and Redis guards. A guard of
    your own is not (clear it yourself).
    """
    return ReplayForgetting()
