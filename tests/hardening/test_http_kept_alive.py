"""Faults on a kept-alive connection: the attempt runs in the calling thread, with the same outcomes.

An attempt that finds an open, idle connection in the session's pool is sent from the caller's own
thread (no worker thread, no thread switch), and a watchdog shuts its socket at the deadline. These
tests warm the session up with a good call first, then switch the server to a fault, so that the
faulty attempt is one of those; the send counts, error types and time limits are those of
``test_http_server_faults.py``, where every call opens a new connection.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from examkit.core import _transport_sync
from examkit.core.errors import ApiError, ServerError, TransportError
from tests.hardening.server import FaultServer, serve
from tests.hardening.test_http_server_faults import (
    READ_TIMEOUT,
    SOME,
    SOME_IDS,
    Call,
    _ia,
    _sends,
    retrying_session,
)


@pytest.fixture
def inline(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, int]]:
    """Every attempt's route: (ran inline, the thread it was decided on)."""
    seen: list[tuple[bool, int]] = []
    decide = _transport_sync.Transport._inline

    def spy(*args: object) -> bool:
        verdict = decide(*args)  # type: ignore[arg-type]
        seen.append((verdict, threading.get_ident()))
        return verdict

    monkeypatch.setattr(_transport_sync.Transport, "_inline", staticmethod(spy))
    return seen


def _warm(server: FaultServer, session: requests.Session) -> None:
    """One good call, so that the session's pool holds an open connection to the server."""
    body, server.body = server.body, b'"healthy"'
    try:
        assert _ia(server.base_url, session, {}).ping() is True
    finally:
        server.body = body
    server.counts.clear()


def test_a_call_on_a_kept_alive_connection_runs_in_the_calling_thread(
    inline: list[tuple[bool, int]],
) -> None:
    with serve("ok", body=b'"healthy"') as server:
        client = _ia(server.base_url, None, {})
        for _ in range(5):
            assert client.ping() is True
        assert server.counts["GET"] == 5
    assert [verdict for verdict, _ in inline] == [False, True, True, True, True]  # the first connects
    assert {thread for _, thread in inline} == {threading.get_ident()}


@pytest.mark.parametrize("mode", ["503", "reset"])
@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_sends_on_a_kept_alive_connection_are_counted_as_on_a_new_one(
    call: Call, mode: str, inline: list[tuple[bool, int]]
) -> None:
    session = retrying_session()
    with serve("ok") as server:
        _warm(server, session)
        inline.clear()
        server.mode = mode
        with pytest.raises(ApiError) as info:
            call.run(server.base_url, session, {})
        assert server.counts[call.method] == _sends(call), dict(server.counts)
    assert inline[0][0] is True  # the faulty attempt went out from this thread
    if mode == "503":
        assert type(info.value) is ServerError
    else:
        assert type(info.value) is TransportError
        assert info.value.may_have_been_sent


@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_stall_on_a_kept_alive_connection_times_out_as_on_a_new_one(
    call: Call, inline: list[tuple[bool, int]]
) -> None:
    session = retrying_session()
    with serve("ok") as server:
        _warm(server, session)
        inline.clear()
        server.mode = "stall"
        with pytest.raises(TransportError) as info:
            call.run(server.base_url, session, {"timeout": (2, READ_TIMEOUT)})
        assert server.counts[call.method] == _sends(call), dict(server.counts)
    assert inline[0][0] is True
    assert info.value.may_have_been_sent
    assert "timed out" in str(info.value)


@pytest.mark.parametrize("mode", ["trickle-headers", "trickle-body"])
@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_kept_alive_connection_that_trickles_is_cut_off_at_the_deadline(
    call: Call, mode: str, inline: list[tuple[bool, int]]
) -> None:
    session = requests.Session()
    with serve("ok") as server:
        _warm(server, session)
        inline.clear()
        server.mode = mode
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            call.run(server.base_url, session, {"timeout": (1, 2), "deadline": 0.5})
        took = time.monotonic() - start
        assert server.counts[call.method] == _sends(call), dict(server.counts)
        # Each attempt ends at its deadline (0.5 s), though every byte comes within the read timeout.
        assert took < 0.5 * _sends(call) + 1.0, took
        # The watchdog shut the socket of the cut-off attempt only: the session goes on working.
        server.mode = "ok"
        server.body = b'"healthy"'
        assert _ia(server.base_url, session, {}).ping() is True
    assert inline[0][0] is True
    assert "deadline" in str(info.value)
    assert info.value.may_have_been_sent


def test_calls_that_end_in_time_leave_nothing_with_the_watchdog() -> None:
    with serve("ok", body=b'"healthy"') as server:
        client = _ia(server.base_url, None, {})
        for _ in range(20):
            assert client.ping() is True
        assert server.counts["GET"] == 20
    assert not _transport_sync._WATCHDOG._active  # every attempt that ended was forgotten
    assert [t.name for t in threading.enumerate()].count("examkit-deadline") == 1
