"""Both adapters read a body within the limit: refused from Content-Length at once, cut while streaming.

The real-server tests run each framework behind Werkzeug's server on 127.0.0.1 and talk raw HTTP over
a socket: a huge ``Content-Length`` with only a little data behind it, and chunked bodies (the server
de-chunks them and sets ``wsgi.input_terminated``, as gunicorn does). The body bytes the application
read are counted at ``wsgi.input``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIRequest  # type: ignore[import-untyped]
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.test import RequestFactory, override_settings  # type: ignore[import-untyped]
from flask import Flask, Request, request
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from examkit.core.clock import FixedClock
from examkit.core.errors import PayloadTooLargeError
from examkit.core.webhook import DEFAULT_MAX_BODY_SIZE, InMemoryReplayGuard, WebhookRequest
from examkit.integrations.django import verified_webhook as django_webhook
from examkit.integrations.django import webhook_request_from_django
from examkit.integrations.flask import verified_webhook as flask_webhook
from examkit.integrations.flask import webhook_request_from_flask
from examkit.testpress import TestpressWebhookVerifier
from tests.integrations import django_urls
from tests.integrations.toy import BODY, MAX_BODY, NOW, ToyEvent, ToyVerifier, toy_headers
from tests.integrations.vendors import CASES, VendorCase
from tests.integrations.wsgi_harness import Counter, CountingInput, post_chunked, post_declared, serve

HOST = "testserver"  # in the Django test settings' ALLOWED_HOSTS
READ_CHUNK = 64 * 1024  # the most a reader may read past the limit in one go
QUICK = 8.0  # seconds: an answer that did not wait for the body (the client gives up after 10)


@dataclass
class Site:
    """One framework's app on a real server."""

    framework: str
    port: int
    counter: Counter
    path: str
    calls: list[Any]

    @property
    def url(self) -> str:
        return f"http://{HOST}{self.path}"


def flask_app(calls: list[Any]) -> Flask:
    clock = FixedClock(NOW)
    app = Flask("examkit-body-limits")

    @app.post("/webhooks/toy")
    @flask_webhook(ToyVerifier(clock=clock, replay_guard=InMemoryReplayGuard(clock=clock)))
    def hook(event: ToyEvent) -> dict[str, Any]:
        calls.append(event)
        assert request.get_data() == BODY  # still readable after verification
        return {"candidate": event.candidate}

    return app


@pytest.fixture(params=["flask", "django"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    framework: str = request.param
    if framework == "flask":
        calls: list[Any] = []
        with serve(flask_app(calls)) as (port, counter):
            yield Site(framework, port, counter, "/webhooks/toy", calls)
        return
    clock = FixedClock(NOW)
    django_urls.VERIFIER.target = ToyVerifier(clock=clock, replay_guard=InMemoryReplayGuard(clock=clock))
    django_urls.CALLS.clear()
    try:
        with serve(WSGIHandler()) as (port, counter):
            yield Site(framework, port, counter, "/webhooks/toy", django_urls.CALLS)
    finally:
        django_urls.VERIFIER.target = None
        django_urls.CALLS.clear()


# 2 MB is under Django's own DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB); 200 MiB is over everything.
@pytest.mark.parametrize("declared", [2_000_000, 200 * 1024 * 1024])
def test_a_declared_oversize_body_is_refused_at_once_without_reading(site: Site, declared: int) -> None:
    answer = post_declared(
        site.port,
        site.path,
        host=HOST,
        headers=toy_headers(BODY, url=site.url),
        content_length=declared,
        sent=b"x" * 1024,  # the rest never comes: a server that waits for it times the client out
    )
    assert answer.status == 413
    assert answer.seconds < QUICK
    assert answer.body.startswith(b"webhook rejected")
    assert site.counter.read == 0
    assert site.calls == []


def test_an_endless_chunked_body_is_cut_at_the_limit(site: Site) -> None:
    answer = post_chunked(
        site.port, site.path, host=HOST, headers=toy_headers(BODY, url=site.url), body=b"", endless=True
    )
    assert answer.status == 413
    assert answer.seconds < QUICK
    # At most one byte past the limit was read, and never more than a chunk past it.
    assert MAX_BODY < site.counter.read <= MAX_BODY + 1 <= MAX_BODY + READ_CHUNK
    assert site.calls == []


def test_a_signed_chunked_delivery_is_verified(site: Site) -> None:
    answer = post_chunked(
        site.port, site.path, host=HOST, headers=toy_headers(BODY, url=site.url), body=BODY, chunk=7
    )
    assert answer.status == 200, answer.body
    events = site.calls if site.framework == "flask" else [event for _, event, _ in site.calls]
    assert [event.candidate for event in events] == ["Ada Lovelace"]
    environ = site.counter.environs[-1]
    assert "CONTENT_LENGTH" not in environ or not environ["CONTENT_LENGTH"]
    assert environ["wsgi.input_terminated"] is True
    assert site.counter.read == len(BODY)


def test_a_chunked_body_just_over_the_limit_is_413(site: Site) -> None:
    body = b'{"candidate": "' + b"x" * MAX_BODY + b'", "score": 1}'
    answer = post_chunked(site.port, site.path, host=HOST, headers=toy_headers(body, url=site.url), body=body)
    assert answer.status == 413
    assert site.counter.read <= MAX_BODY + 1


# ---- Django without a Content-Length, through Django's own request factory ----------------------


def wsgi_request(body: bytes, *, declared: bool, stream: Any, **extra: Any) -> HttpRequest:
    """A Django request from a WSGI server's environ; without ``declared``, as gunicorn hands over a
    chunked delivery: no ``CONTENT_LENGTH``, and ``wsgi.input_terminated`` set."""
    environ = dict(
        RequestFactory().post("/hook", data=body, content_type="application/json", **extra).environ
    )
    environ["wsgi.input"] = stream
    if not declared:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    return WSGIRequest(environ)


def chunked_django_request(body: bytes, *, stream: Any = None) -> HttpRequest:
    return wsgi_request(
        body,
        declared=False,
        stream=io.BytesIO(body) if stream is None else stream,
        headers=toy_headers(body, url="http://testserver/hook"),
    )


def django_hook(calls: list[ToyEvent]) -> Callable[[HttpRequest], HttpResponse]:
    clock = FixedClock(NOW)

    @django_webhook(ToyVerifier(clock=clock, replay_guard=InMemoryReplayGuard(clock=clock)))
    def hook(request: HttpRequest, event: ToyEvent) -> HttpResponse:
        calls.append(event)
        assert request.body == BODY  # still readable after verification
        return HttpResponse(status=204)

    return hook


def test_django_verifies_a_chunked_delivery() -> None:
    calls: list[ToyEvent] = []
    response = django_hook(calls)(chunked_django_request(BODY))
    assert response.status_code == 204
    assert [event.score for event in calls] == [97]


def test_django_cuts_an_oversize_chunked_delivery() -> None:
    counter = Counter()
    stream = CountingInput(io.BytesIO(b"x" * (10 * MAX_BODY)), counter)
    calls: list[ToyEvent] = []
    response = django_hook(calls)(chunked_django_request(BODY, stream=stream))
    assert response.status_code == 413
    assert counter.read == MAX_BODY + 1
    assert calls == []


def test_django_without_a_terminated_stream_reads_no_body() -> None:
    # A server that neither sends a length nor terminates the stream (wsgiref): Django's rule, nothing.
    request = wsgi_request(BODY, declared=False, stream=io.BytesIO(BODY))
    del request.META["wsgi.input_terminated"]
    request = WSGIRequest(request.META)
    assert webhook_request_from_django(request).body == b""


# ---- the request builders, and the limits they take -----------------------------------------------


def flask_request(body: bytes, *, declared: bool, counter: Counter) -> Request:
    environ = EnvironBuilder(method="POST", path="/hook", data=body).get_environ()
    environ["wsgi.input"] = CountingInput(io.BytesIO(body), counter)
    if not declared:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    return Request(environ)


def django_request(body: bytes, *, declared: bool, counter: Counter) -> HttpRequest:
    return wsgi_request(body, declared=declared, stream=CountingInput(io.BytesIO(body), counter))


def build(framework: str, body: bytes, *, declared: bool, counter: Counter, **options: Any) -> WebhookRequest:
    if framework == "flask":
        return webhook_request_from_flask(flask_request(body, declared=declared, counter=counter), **options)
    return webhook_request_from_django(django_request(body, declared=declared, counter=counter), **options)


@settings(max_examples=40)
@given(
    framework=st.sampled_from(["flask", "django"]),
    declared=st.booleans(),
    limit=st.integers(min_value=1, max_value=3 * READ_CHUNK),
    extra=st.integers(min_value=-3, max_value=2 * READ_CHUNK),
)
def test_builders_accept_up_to_the_limit_and_read_no_more(
    framework: str, declared: bool, limit: int, extra: int
) -> None:
    size = max(0, limit + extra)
    body = bytes(i % 251 for i in range(size))
    counter = Counter()
    if size <= limit:
        webhook = build(framework, body, declared=declared, counter=counter, max_body_size=limit)
        assert webhook.body == body
        return
    with pytest.raises(PayloadTooLargeError) as info:
        build(framework, body, declared=declared, counter=counter, max_body_size=limit)
    assert info.value.limit == limit
    # Declared: refused before reading. Streamed: one byte past the limit at most.
    assert counter.read == (0 if declared else limit + 1)


@pytest.mark.parametrize("framework", ["flask", "django"])
@pytest.mark.parametrize("declared", [True, False])
def test_builders_default_to_the_verifiers_default_limit(framework: str, declared: bool) -> None:
    counter = Counter()
    with pytest.raises(PayloadTooLargeError) as info:
        build(framework, b"x" * (DEFAULT_MAX_BODY_SIZE + 1), declared=declared, counter=counter)
    assert info.value.limit == DEFAULT_MAX_BODY_SIZE
    assert counter.read <= DEFAULT_MAX_BODY_SIZE + 1
    assert (
        build(framework, b"y" * 10, declared=declared, counter=Counter(), max_body_size=None).body
        == b"y" * 10
    )


@pytest.mark.parametrize("framework", ["flask", "django"])
def test_the_framework_limit_applies_when_smaller(framework: str) -> None:
    counter = Counter()
    if framework == "flask":
        app = Flask("limits")
        app.config["MAX_CONTENT_LENGTH"] = 10
        with app.app_context(), pytest.raises(PayloadTooLargeError, match="MAX_CONTENT_LENGTH") as info:
            webhook_request_from_flask(flask_request(b"x" * 11, declared=False, counter=counter))
    else:
        with (
            override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10),
            pytest.raises(PayloadTooLargeError, match="DATA_UPLOAD_MAX_MEMORY_SIZE") as info,
        ):
            webhook_request_from_django(django_request(b"x" * 11, declared=False, counter=counter))
    assert info.value.limit == 10
    assert counter.read <= 11


# ---- the decorators take the verifier's own limit -------------------------------------------------


class NoLimitAttribute:
    """A verifier of the user's own, without ``max_body_size``: the adapters read 1 MiB at most."""

    def verify(self, request: WebhookRequest) -> ToyEvent:
        return ToyEvent(candidate="x", score=len(request.body), nonce="n")


def test_decorators_use_the_limit_the_verifier_exposes() -> None:
    small = TestpressWebhookVerifier(public_key="pub", private_key="priv-123", max_body_size=100)
    large = TestpressWebhookVerifier(public_key="pub", private_key="priv-123", max_body_size=4_000_000)
    assert (small.max_body_size, large.max_body_size) == (100, 4_000_000)
    app = Flask("limits")
    for name, verifier in (("small", small), ("large", large), ("own", NoLimitAttribute())):
        view = flask_webhook(verifier)(lambda event: "")
        app.add_url_rule(f"/{name}", endpoint=name, view_func=view, methods=["POST"])
    client = app.test_client()
    assert client.post("/small", data=b"x" * 101).status_code == 413
    # Over the 1 MiB default but within this verifier's limit: read and verified (unsigned: 400).
    assert client.post("/large", data=b"x" * 2_000_000).status_code == 400
    assert client.post("/own", data=b"x" * (DEFAULT_MAX_BODY_SIZE + 1)).status_code == 413
    assert client.post("/own", data=b"x" * 10).status_code == 200

    factory = RequestFactory()
    own = django_webhook(NoLimitAttribute())(lambda request, event: HttpResponse(str(event.score)))
    over = factory.post("/own", data=b"x" * (DEFAULT_MAX_BODY_SIZE + 1), content_type="text/plain")
    assert own(over).status_code == 413
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None):
        big = django_webhook(large)(lambda request, event: HttpResponse())
        request = factory.post("/large", data=b"x" * 2_000_000, content_type="text/plain")
        assert big(request).status_code == 400


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_vendor_verifier_exposes_its_limit(case: VendorCase) -> None:
    clock = FixedClock(NOW)
    verifier = case.verifier(clock, InMemoryReplayGuard(clock=clock))
    assert verifier.max_body_size == DEFAULT_MAX_BODY_SIZE


def asgi_request(body_file: Any, *, headers: dict[str, str]) -> HttpRequest:
    """A Django request as the ASGI handler builds it; a chunked delivery has no content-length."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/hook",
        "query_string": b"",
        "server": ("testserver", 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return ASGIRequest(scope, body_file)


def test_django_asgi_chunked_deliveries_are_read_within_the_limit() -> None:
    calls: list[ToyEvent] = []
    hook = django_hook(calls)
    signed = toy_headers(BODY, url="http://testserver/hook")
    assert hook(asgi_request(io.BytesIO(BODY), headers=signed)).status_code == 204
    assert [event.score for event in calls] == [97]
    counter = Counter()
    oversize = CountingInput(io.BytesIO(b"x" * (10 * MAX_BODY)), counter)
    assert hook(asgi_request(oversize, headers=signed)).status_code == 413
    assert counter.read == MAX_BODY + 1
