"""HTTP faults for every client call: the right ApiError, GETs retried with backoff, POST/PATCH once."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import responses

from examkit.core.errors import (
    ApiError,
    AuthenticationError,
    ExamkitError,
    NotFoundError,
    PayloadError,
    RateLimitError,
    ServerError,
    TransportError,
)
from tests.hardening.clients import MAX_ATTEMPTS, Call, calls

CALLS = calls()
IDS = [c.name for c in CALLS]

HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def _expected_attempts(call: Call, retryable: bool) -> int:
    return MAX_ATTEMPTS if call.retried and retryable else 1


def _add(call: Call, **kwargs: object) -> None:
    responses.add(call.method, re.compile(re.escape(call.url) + r"(\?.*)?$"), **kwargs)  # type: ignore[arg-type]


def _count(call: Call) -> int:
    return sum(1 for c in responses.calls if c.request.method == call.method)


FAULTS: dict[str, tuple[dict[str, Any], type[ApiError], bool]] = {
    "timeout": ({"body": requests.exceptions.ReadTimeout("read timed out")}, TransportError, True),
    "connect-timeout": ({"body": requests.exceptions.ConnectTimeout("connect")}, TransportError, True),
    # requests wraps socket errors: a reset before the answer, and one in the middle of the body.
    "reset": (
        {"body": requests.exceptions.ConnectionError(ConnectionResetError(104, "reset by peer"))},
        TransportError,
        True,
    ),
    "reset-mid-body": ({"body": requests.exceptions.ChunkedEncodingError("reset")}, TransportError, True),
    "conn-error": ({"body": requests.exceptions.ConnectionError("refused")}, TransportError, True),
    "500": ({"status": 500, "body": b'{"error":"boom"}'}, ServerError, True),
    "502-html": ({"status": 502, "body": HTML, "content_type": "text/html"}, ServerError, True),
    "503": ({"status": 503, "body": b""}, ServerError, True),
    "429-no-retry-after": ({"status": 429, "body": b"slow down"}, RateLimitError, True),
    "429-retry-after": (
        {"status": 429, "body": b"slow down", "headers": {"Retry-After": "7"}},
        RateLimitError,
        True,
    ),
    "401": ({"status": 401, "body": b"bad key"}, AuthenticationError, False),
    "403-html": ({"status": 403, "body": HTML, "content_type": "text/html"}, AuthenticationError, False),
    "404": ({"status": 404, "body": b"{}"}, NotFoundError, False),
    "400": ({"status": 400, "body": b'{"message":"bad"}'}, ApiError, False),
    # Redirects are not followed, and not a success either: a wrong base URL must not pass as done.
    "301-redirect": (
        {"status": 301, "body": b"", "headers": {"Location": "https://elsewhere.example/x?k=v"}},
        ApiError,
        False,
    ),
    "302-no-location": ({"status": 302, "body": b""}, ApiError, False),
    "304": ({"status": 304, "body": b""}, ApiError, False),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("call", CALLS, ids=IDS)
@responses.activate
def test_faults_map_to_the_right_error_and_retries_follow_the_method(call: Call, fault: str) -> None:
    kwargs, error, retryable = FAULTS[fault]
    _add(call, **kwargs)
    if call.name == "ia.get_participant" and fault == "404":
        pytest.skip("get_participant reads 404 as an answer; covered by the vendor suite")
    with pytest.raises(error) as info:
        call.run()
    exc = info.value
    assert type(exc) is error or (error is ApiError and isinstance(exc, ApiError)), repr(exc)
    assert exc.vendor is not None
    assert call.method in str(exc) or "iTEP" in str(exc) or exc.method == call.method
    if error is TransportError:
        assert exc.status_code is None
        assert isinstance(exc, TransportError)
        # Only a connection never established proves nothing was sent; a bare "refused" with no
        # urllib3 reason behind it is not proof, so it counts as possibly sent.
        assert exc.may_have_been_sent is (fault != "connect-timeout")
    else:
        assert exc.status_code == int(fault[:3])
    if fault[0] == "3":
        assert type(exc) is ApiError
        assert "redirect" in str(exc)
        assert "k=v" not in str(exc)
    if fault == "429-retry-after":
        assert isinstance(exc, RateLimitError)
        assert exc.retry_after == 7
    if fault.endswith("html"):
        assert "<" in (exc.response_excerpt or "")  # the page is shown, truncated, for diagnosis
    assert _count(call) == _expected_attempts(call, retryable), f"{call.name}: {len(responses.calls)} calls"


@pytest.mark.parametrize("call", [c for c in CALLS if c.retried], ids=[c.name for c in CALLS if c.retried])
@responses.activate
def test_a_get_is_retried_with_growing_backoff_and_honours_retry_after(call: Call) -> None:
    sleeps: list[float] = []
    run = next(c for c in calls(sleeps) if c.name == call.name).run
    _add(call, status=503, body=b"")
    with pytest.raises(ServerError):
        run()
    assert len(sleeps) == MAX_ATTEMPTS - 1
    assert 0.5 <= sleeps[0] <= 0.75
    assert 1.0 <= sleeps[1] <= 1.5

    sleeps.clear()
    responses.reset()
    _add(call, status=429, body=b"", headers={"Retry-After": "9"})
    with pytest.raises(RateLimitError):
        run()
    assert sleeps == [9.0, 9.0]


@pytest.mark.parametrize("call", [c for c in CALLS if c.retried], ids=[c.name for c in CALLS if c.retried])
@responses.activate
def test_a_get_recovers_when_a_retry_succeeds(call: Call) -> None:
    _add(call, status=503, body=b"")
    _add(call, body=requests.exceptions.ConnectionError("reset"))
    _add(call, status=200, body=b"{not json")  # third answer: readable status, unreadable body
    with pytest.raises(ExamkitError) as info:
        call.run()
    assert isinstance(info.value, PayloadError | ApiError)
    assert _count(call) == 3


BAD_BODIES = {
    "truncated": b'{"Participant_Id": "p-1", "Status": "Val',
    "malformed": b"{'single': quotes}",
    "html": HTML,
    "empty": b"",
    "not-utf8": b"\xff\xfe{}",
    "deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("body", sorted(BAD_BODIES))
@pytest.mark.parametrize("call", CALLS, ids=IDS)
@responses.activate
def test_a_2xx_with_an_unreadable_body_is_an_examkit_error_and_is_not_resent(call: Call, body: str) -> None:
    _add(call, status=200, body=BAD_BODIES[body])
    try:
        call.run()
    except (PayloadError, ApiError) as exc:
        assert str(exc)
    assert _count(call) == 1
