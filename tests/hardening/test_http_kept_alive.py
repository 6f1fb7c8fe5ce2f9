"""Faults on a kept-alive connection give the same outcomes as on a new one.

These tests warm the session up with a good call first, then switch the server to a fault, so that
the faulty attempt goes out on the open, idle connection the session's pool kept; the send counts,
error types and time limits are those of ``test_http_server_faults.py``, where every call opens a
new connection, and the session goes on working after a cut-off attempt.
"""

from __future__ import annotations

import time

import pytest
import requests

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


def _warm(server: FaultServer, session: requests.Session) -> None:
    """One good call, so that the session's pool holds an open connection to the server."""
    body, server.body = server.body, b'"healthy"'
    try:
        assert _ia(server.base_url, session, {}).ping() is True
    finally:
        server.body = body
    server.counts.clear()


@pytest.mark.parametrize("mode", ["503", "reset"])
@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_sends_on_a_kept_alive_connection_are_counted_as_on_a_new_one(call: Call, mode: str) -> None:
    session = retrying_session()
    with serve("ok") as server:
        _warm(server, session)
        server.mode = mode
        with pytest.raises(ApiError) as info:
            call.run(server.base_url, session, {})
        assert server.counts[call.method] == _sends(call), dict(server.counts)
    if mode == "503":
        assert type(info.value) is ServerError
    else:
        assert type(info.value) is TransportError
        assert info.value.may_have_been_sent


@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_stall_on_a_kept_alive_connection_times_out_as_on_a_new_one(call: Call) -> None:
    session = retrying_session()
    with serve("ok") as server:
        _warm(server, session)
        server.mode = "stall"
        with pytest.raises(TransportError) as info:
            call.run(server.base_url, session, {"timeout": (2, READ_TIMEOUT)})
        assert server.counts[call.method] == _sends(call), dict(server.counts)
    assert info.value.may_have_been_sent
    assert "timed out" in str(info.value)


@pytest.mark.parametrize("mode", ["trickle-headers", "trickle-body"])
@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_kept_alive_connection_that_trickles_is_cut_off_at_the_deadline(call: Call, mode: str) -> None:
    session = requests.Session()
    with serve("ok") as server:
        _warm(server, session)
        server.mode = mode
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            call.run(server.base_url, session, {"timeout": (1, 2), "deadline": 0.5})
        took = time.monotonic() - start
        assert server.counts[call.method] == _sends(call), dict(server.counts)
        # Each attempt ends at its deadline (0.5 s), though every byte comes within the read timeout.
        assert took < 0.5 * _sends(call) + 1.0, took
        # Only the cut-off attempt's connection was given up: the session goes on working.
        server.mode = "ok"
        server.body = b'"healthy"'
        assert _ia(server.base_url, session, {}).ping() is True
    assert "deadline" in str(info.value)
    assert info.value.may_have_been_sent
