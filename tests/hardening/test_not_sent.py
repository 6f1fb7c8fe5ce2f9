"""TransportError.may_have_been_sent: False only when no connection could be made (nothing left)."""

from __future__ import annotations

import socket

import pytest
import requests
import responses

from examkit.core._transport_sync import Transport
from examkit.core.errors import TransportError
from examkit.core.http import RetryPolicy


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_connection_sent_nothing(method: str) -> None:
    transport = Transport(vendor="itep", retry=RetryPolicy.none(), timeout=2.0)
    with pytest.raises(TransportError) as info:
        transport.request(method, f"http://127.0.0.1:{_closed_port()}/x", body=b"{}")
    assert info.value.may_have_been_sent is False
    assert "nothing was sent" in str(info.value)


@pytest.mark.parametrize(
    ("fault", "sent"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), False),
        (requests.exceptions.ReadTimeout("read timed out"), True),
        (requests.exceptions.ConnectionError("connection reset by peer"), True),
        (requests.exceptions.ChunkedEncodingError("cut short"), True),
    ],
)
@responses.activate
def test_only_a_failed_connect_is_known_unsent(fault: Exception, sent: bool) -> None:
    responses.post("https://vendor.example/x", body=fault)
    with pytest.raises(TransportError) as info:
        Transport(vendor="itep").request("POST", "https://vendor.example/x", body=b"{}")
    assert info.value.may_have_been_sent is sent
    assert ("nothing was sent" in str(info.value)) is not sent


def test_the_default_is_may_have_been_sent() -> None:
    assert TransportError("no answer").may_have_been_sent is True
    assert TransportError("refused", may_have_been_sent=False).may_have_been_sent is False
