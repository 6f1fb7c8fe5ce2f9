"""Every client call against a real HTTP server on 127.0.0.1: send counts, deadlines, size caps, 3xx.

The user's own session carries a urllib3 ``Retry`` (a common production setup); examkit's calls must
still reach the server at most once when they are not idempotent, and a GET exactly as often as
examkit's RetryPolicy says, never multiplied by the adapter's retries.
"""

from __future__ import annotations

import base64
import multiprocessing
import multiprocessing.queues
import os
import threading
import time
import traceback
import tracemalloc
from collections.abc import Callable
from typing import Any

import attrs
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from examkit.assessio import AssessioClient
from examkit.core.clock import FixedClock
from examkit.core.errors import ApiError, AuthenticationError, ServerError, TransportError
from examkit.core.http import RetryPolicy
from examkit.integrity_advocate import IntegrityAdvocateClient, Overrider, OverrideStatus
from examkit.itep import ItepClient
from examkit.testing.integrity_advocate import DEMO_APP_ID
from tests.hardening.server import MIB, closed_port, serve
from tests.hardening.strategies import CANARY
from tests.hardening.vendors import IA_API_KEY, IA_KEY_BYTES, NOW

ATTEMPTS = 3
READ_TIMEOUT = 0.4


def _no_sleep(_seconds: float) -> None:
    """Backoff is computed, not waited."""


def retrying_session() -> requests.Session:
    """A session as production code often builds it: urllib3 retries on every method, and on 503."""
    session = requests.Session()
    adapter = HTTPAdapter(
        max_retries=Retry(total=3, allowed_methods=None, status_forcelist=[503], backoff_factor=0)
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@attrs.frozen
class Call:
    name: str
    method: str
    retried: bool
    run: Callable[[str, requests.Session | None, dict[str, Any]], Any]


def _itep(base: str, session: requests.Session | None, settings: dict[str, Any]) -> ItepClient:
    return ItepClient(
        api_key=CANARY,
        signature_header="X-Signature",
        endpoint=base + "/requests/ecommerce_webhook.php",
        session=session,
        **settings,
    )


def _ia(base: str, session: requests.Session | None, settings: dict[str, Any]) -> IntegrityAdvocateClient:
    return IntegrityAdvocateClient(
        app_id=DEMO_APP_ID,
        api_key=IA_API_KEY,
        base_url=base,
        session=session,
        clock=FixedClock(NOW),
        retry=RetryPolicy(max_attempts=ATTEMPTS, backoff=0),
        sleep=_no_sleep,
        **settings,
    )


def _assessio(base: str, session: requests.Session | None, settings: dict[str, Any]) -> AssessioClient:
    return AssessioClient(
        provider_key=CANARY,
        integrator_secret=CANARY[::-1],
        base_url=base,
        session=session,
        clock=FixedClock(NOW),
        **settings,
    )


_WHO = Overrider(user_id="u-1", first_name="Ada", last_name="Admin")
_PERSON = {"locale": "en", "email": "a@example.org", "first_name": "A", "last_name": "B"}

CALLS = [
    Call(
        "itep.issue_test_id",
        "POST",
        False,
        lambda b, s, k: _itep(b, s, k).issue_test_id(product_code="GTX-Academic-Plus", email="a@example.org"),
    ),
    Call(
        "itep.send_test_id",
        "POST",
        False,
        lambda b, s, k: _itep(b, s, k).send_test_id(product_code="STX-Academic-Plus", email="a@example.org"),
    ),
    Call(
        "assessio.order_assessment_link",
        "POST",
        False,
        lambda b, s, k: _assessio(b, s, k).order_assessment_link(
            assessment_type="MAP",
            order_reference_id="order-1",
            webhook_callback_url="https://app.example/hook",
            redirect_url="https://app.example/done",
            person=_PERSON,
        ),
    ),
    Call(
        "ia.override_participant",
        "PATCH",
        False,
        lambda b, s, k: _ia(b, s, k).override_participant(
            "p-1", "c-1", status=OverrideStatus.VALID, reason="ok", overrider=_WHO
        ),
    ),
    Call(
        "ia.override_sessions",
        "PATCH",
        False,
        lambda b, s, k: _ia(b, s, k).override_sessions(
            "p-1", "c-1", "a-1", status=OverrideStatus.VALID, reason="ok", overrider=_WHO
        ),
    ),
    Call("ia.end_session", "GET", False, lambda b, s, k: _ia(b, s, k).end_session("p-1", "c-1")),
    Call("ia.get_participant", "GET", True, lambda b, s, k: _ia(b, s, k).get_participant("p-1", "c-1")),
    Call(
        "ia.participant_status",
        "GET",
        True,
        lambda b, s, k: _ia(b, s, k).participant_status("p-1", "c-1", "a-1"),
    ),
    Call("ia.iter_participants", "GET", True, lambda b, s, k: list(_ia(b, s, k).iter_participants("c-1"))),
    Call("ia.ping", "GET", True, lambda b, s, k: _ia(b, s, k).ping()),
]
IDS = [c.name for c in CALLS]
# One call of each kind, for the slower faults.
_SLOW = {"itep.issue_test_id", "ia.override_sessions", "ia.end_session", "ia.ping"}
SOME = [c for c in CALLS if c.name in _SLOW]
SOME_IDS = [c.name for c in SOME]


def _sends(call: Call) -> int:
    return ATTEMPTS if call.retried else 1


@pytest.mark.parametrize("mode", ["503", "reset"])
@pytest.mark.parametrize("call", CALLS, ids=IDS)
def test_a_users_retrying_session_never_multiplies_sends(call: Call, mode: str) -> None:
    with serve(mode) as server:
        with pytest.raises(ApiError) as info:
            call.run(server.base_url, retrying_session(), {})
        assert server.counts[call.method] == _sends(call), dict(server.counts)
    if mode == "503":
        assert type(info.value) is ServerError
    else:
        assert type(info.value) is TransportError
        assert info.value.may_have_been_sent


@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_stall_past_the_read_timeout_is_sent_as_often_as_examkit_says(call: Call) -> None:
    with serve("stall") as server:
        with pytest.raises(TransportError) as info:
            call.run(server.base_url, retrying_session(), {"timeout": (2, READ_TIMEOUT)})
        assert server.counts[call.method] == _sends(call), dict(server.counts)
    assert info.value.may_have_been_sent
    assert "timed out" in str(info.value)


def test_the_users_adapter_still_serves_the_request_and_is_left_unchanged() -> None:
    session = retrying_session()
    adapter = session.get_adapter("http://127.0.0.1/")
    with serve("ok", body=b'"healthy"') as server:
        assert _ia(server.base_url, session, {}).ping() is True
        assert server.counts["GET"] == 1
        # the view shared the user's connection pool: the connection is back in it
        assert adapter.poolmanager.pools  # type: ignore[attr-defined]
    assert adapter.max_retries.total == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["trickle-body", "trickle-headers"])
def test_a_trickling_server_is_cut_off_at_the_deadline(mode: str) -> None:
    with serve(mode) as server:
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            _itep(server.base_url, None, {"timeout": (1, 2), "deadline": 1.0}).issue_test_id(
                product_code="GTX-Academic-Plus"
            )
        took = time.monotonic() - start
        assert server.counts["POST"] == 1
    assert took < 2.5, took
    assert "deadline" in str(info.value)
    assert info.value.may_have_been_sent
    assert "AVAILABLE TESTS" in str(info.value)  # the iTEP advice: a test ID may exist


def test_a_get_past_its_deadline_is_retried_by_examkit_only() -> None:
    with serve("trickle-body") as server:
        with pytest.raises(TransportError, match="deadline"):
            _ia(server.base_url, retrying_session(), {"deadline": 0.3}).ping()
        assert server.counts["GET"] == ATTEMPTS


def test_nothing_was_sent_to_a_closed_port() -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(TransportError) as info:
        _itep(base, retrying_session(), {}).issue_test_id(product_code="GTX-Academic-Plus")
    assert info.value.may_have_been_sent is False
    assert "safe to send it again" in str(info.value)
    assert "AVAILABLE TESTS" not in str(info.value)
    with pytest.raises(TransportError) as info:
        _assessio(base, None, {}).order_assessment_link(
            assessment_type="MAP",
            order_reference_id="order-1",
            webhook_callback_url="https://app.example/hook",
            redirect_url="https://app.example/done",
            person=_PERSON,
        )
    assert info.value.may_have_been_sent is False
    assert "nothing was sent" in str(info.value)


def test_a_stalled_request_may_have_been_sent() -> None:
    with serve("stall") as server, pytest.raises(TransportError) as info:
        _itep(server.base_url, None, {"timeout": (2, READ_TIMEOUT)}).issue_test_id(
            product_code="GTX-Academic-Plus"
        )
    assert info.value.may_have_been_sent is True
    assert "AVAILABLE TESTS" in str(info.value)


@pytest.mark.parametrize("mode", ["big", "gzip-bomb"])
@pytest.mark.parametrize("call", [CALLS[0], CALLS[6]], ids=[CALLS[0].name, CALLS[6].name])
def test_an_oversize_answer_is_refused_in_bounded_memory(call: Call, mode: str) -> None:
    with serve(mode) as server:
        tracemalloc.start()
        try:
            with pytest.raises(TransportError) as info:
                call.run(server.base_url, None, {})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert server.counts[call.method] == 1  # the same answer again would not help: not retried
    assert peak < 40 * MIB, f"peak {peak / MIB:.0f} MiB"
    assert "max_response_bytes" in str(info.value)
    assert info.value.status_code == 200
    assert info.value.may_have_been_sent


def test_a_declared_length_past_the_cap_is_refused_before_reading() -> None:
    with serve("ok", body=b'{"x": "' + b"y" * 5000 + b'"}') as server:
        with pytest.raises(TransportError, match="max_response_bytes"):
            _ia(server.base_url, None, {"max_response_bytes": 1000}).ping()
        assert _ia(server.base_url, None, {"max_response_bytes": 6000}).ping() is False  # fits: read


@pytest.mark.parametrize("call", CALLS, ids=IDS)
def test_a_redirect_is_an_api_error_for_every_call(call: Call) -> None:
    with serve("redirect") as server:
        with pytest.raises(ApiError) as info:
            call.run(server.base_url, None, {})
        assert server.counts[call.method] == 1  # neither followed nor retried
    exc = info.value
    assert type(exc) is ApiError
    assert exc.status_code == 301
    text = str(exc)
    assert "redirect" in text
    assert "https://elsewhere.example/new/path" in text
    assert "token" not in text
    assert "abc" not in text
    assert "pw" not in text


def _canary_forms() -> list[str]:
    texts = [CANARY, CANARY[::-1], IA_API_KEY, IA_KEY_BYTES.decode("ascii")]
    forms = list(texts)
    for text in texts:
        raw = text.encode("ascii")
        forms += [base64.b64encode(raw).decode(), raw.hex(), repr(raw)[2:-1]]
    forms.append(base64.b64encode(f"user:{CANARY}".encode()).decode()[8:])
    return forms


def test_the_canary_forms_are_distinctive() -> None:
    assert all(len(form) >= 20 for form in _canary_forms())


@pytest.mark.parametrize("mode", ["401", "reset", "redirect", "gzip-bomb"])
@pytest.mark.parametrize("call", CALLS, ids=IDS)
def test_no_frame_on_an_error_traceback_holds_a_secret(call: Call, mode: str) -> None:
    with serve(mode) as server, pytest.raises(ApiError) as info:
        call.run(server.base_url, None, {})
    exc = info.value
    if mode == "401":
        assert isinstance(exc, AuthenticationError)
    text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert "Transport" in text or "client.py" in text  # the client's frames are there, with locals
    for form in _canary_forms():
        assert form not in text, (call.name, mode, form)


# --- the threads that carry attempts --------------------------------------------------------------------


def _examkit_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "examkit-http"]


def test_attempts_reuse_their_threads() -> None:
    # Starting a thread per request cost about 2 ms each; one waiting thread carries call after call.
    # (Threads left idle by earlier tests, for up to 30 s, are counted apart.)
    before = set(_examkit_threads())
    with serve("ok") as server:
        client = _ia(server.base_url, None, {})
        for _ in range(50):
            client.ping()
        assert server.counts["GET"] == 50
    assert _examkit_threads()
    assert len(set(_examkit_threads()) - before) <= 2, _examkit_threads()


def test_a_thread_stuck_past_its_deadline_delays_no_other_call() -> None:
    with serve("trickle-headers") as stuck, serve("ok") as fine:
        with pytest.raises(TransportError, match="deadline"):
            _ia(stuck.base_url, None, {"deadline": 0.3}).ping()
        start = time.monotonic()
        for _ in range(5):
            _ia(fine.base_url, None, {"deadline": 2.0}).ping()
        assert time.monotonic() - start < 2.0
        assert fine.counts["GET"] == 5


def _call_in_child(base_url: str, results: multiprocessing.queues.Queue[str]) -> None:
    try:
        _ia(base_url, None, {"deadline": 5.0}).ping()
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(f"{type(exc).__name__}: {exc}")
    else:
        results.put("ok")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
# Python 3.12+ warns that forking a process with threads may deadlock: forking such a process is exactly
# what this test is about (the server and examkit's waiting thread run here).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_calls_without_its_parents_threads() -> None:
    # Celery's prefork pool and multiprocessing fork: the parent's waiting threads do not exist in the
    # child, so the child must start its own rather than hand its call to a thread that is not there.
    with serve("ok") as server:
        _ia(server.base_url, None, {}).ping()  # the parent now has a waiting thread
        assert _examkit_threads()
        context = multiprocessing.get_context("fork")
        results: multiprocessing.queues.Queue[str] = context.Queue()
        child = context.Process(target=_call_in_child, args=(server.base_url, results))
        start = time.monotonic()
        child.start()
        child.join(10)
        assert child.exitcode == 0
        assert results.get(timeout=1) == "ok"
        assert time.monotonic() - start < 4.0
