"""What every fake shares: injected failures (status, delay, dropped connection) and a clock that follows.

Each fake (:class:`~examkit.testing.itep.FakeItep` and the others) inherits :class:`FaultInjection`,
so a test makes any of them fail the same way::

    fake.fail_next(status=503)                # the next request is answered 503 (nothing allocated)
    fake.drop_next()                          # the next request never arrives: requests.ConnectionError
    fake.drop_next(after_sending=True)        # it arrives, the answer is lost: requests.ReadTimeout
    fake.delay_next(2.5)                      # the next answer comes 2.5 seconds late (see ``sleep``)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import attrs
import requests
from urllib3.exceptions import NewConnectionError

from examkit.core._checks import check_callable, check_count, check_seconds
from examkit.core.clock import Clock, SystemClock
from examkit.testing.http import FakeRequest, FakeResponse


@attrs.frozen
class _Fault:
    status: int | None = None
    body: str = ""
    drop: bool = False
    after_sending: bool = False
    delay: float = 0.0


class FaultInjection:
    """Failures a test can make a fake answer with; every fake has these methods.

    Injected failures are answered before anything is allocated or recorded, in the order they were
    asked for, one per request.

    Attributes:
        sleep: How a delay waits (``time.sleep``; give a no-op or a fake clock's ``advance`` to keep
            tests fast).
    """

    sleep: Callable[[float], None] = time.sleep

    def _faults(self) -> deque[_Fault]:
        queue: deque[_Fault] | None = self.__dict__.get("_fault_queue")
        if queue is None:
            queue = self.__dict__.setdefault("_fault_queue", deque())
            self.__dict__.setdefault("_fault_lock", threading.Lock())
        return queue

    def _push(self, fault: _Fault, count: int) -> None:
        queue = self._faults()
        with self.__dict__["_fault_lock"]:
            queue.extend([fault] * check_count(count, setting="count", unit="requests"))

    def fail_next(self, count: int = 1, status: int = 500, body: str = "Internal error") -> None:
        """Answer ``status`` with ``body`` to the next ``count`` requests (nothing is allocated)."""
        self._push(_Fault(status=status, body=body), count)

    def drop_next(self, count: int = 1, *, after_sending: bool = False) -> None:
        """Drop the connection of the next ``count`` requests.

        Args:
            count: How many requests.
            after_sending: ``False``: the request never reached the vendor (the client sees
                :class:`requests.ConnectionError`, "nothing was sent"). ``True``: it reached the vendor
                and the answer was lost (:class:`requests.ReadTimeout`); nothing is allocated by the
                fake, but the client cannot know that.
        """
        self._push(_Fault(drop=True, after_sending=after_sending), count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Answer the next ``count`` requests normally, ``seconds`` late (waiting with :attr:`sleep`)."""
        self._push(_Fault(delay=check_seconds(seconds, setting="seconds")), count)

    def clear_failures(self) -> None:
        """Forget every failure injected and not yet answered."""
        queue = self._faults()
        with self.__dict__["_fault_lock"]:
            queue.clear()

    def _injected(self, request: FakeRequest) -> FakeResponse | None:
        """Apply the next injected failure to ``request``: an answer, a raised error, or ``None``."""
        queue = self._faults()
        with self.__dict__["_fault_lock"]:
            fault = queue.popleft() if queue else None
        if fault is None:
            return None
        if fault.delay:
            check_callable(self.sleep, setting="sleep")(fault.delay)
            return None
        if fault.drop:
            if fault.after_sending:
                raise requests.ReadTimeout(f"fake: the answer to {request.method} {request.path} was lost")
            # What requests raises for a refused connection: urllib3's NewConnectionError inside.
            refused = NewConnectionError(None, f"fake: no connection for {request.method} {request.path}")  # type: ignore[arg-type]
            raise requests.ConnectionError(refused)
        assert fault.status is not None  # noqa: S101 - every other fault has a status
        return FakeResponse(fault.status, fault.body)

    def _faulty(
        self, handler: Callable[[FakeRequest], FakeResponse]
    ) -> Callable[[FakeRequest], FakeResponse]:
        """Wrap a route handler so that injected failures come first."""

        def answer(request: FakeRequest) -> FakeResponse:
            return self._injected(request) or handler(request)

        return answer


class _FollowingClock:
    """A fake's default clock: the clock of the last client the fake made, the system clock before.

    A client built by hand reads the system clock, and so does the fake; a client from
    ``fake.client(clock=FixedClock(...))`` makes the fake read that clock too, so signatures and
    timestamps always agree unless a test gives the fake a clock of its own.
    """

    def __init__(self) -> None:
        self.target: Clock = SystemClock()

    def time(self) -> float:
        return self.target.time()

    def follow(self, clock: Clock | None) -> None:
        if clock is not None:
            self.target = clock

    def __repr__(self) -> str:
        return f"following {self.target!r}"
