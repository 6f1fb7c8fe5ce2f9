"""The Starlette/FastAPI adapter through httpx's ASGI transport: every vendor, every failure, the limits.

Every vendor's real verifier, behind a FastAPI path operation and a Starlette endpoint: a valid
webhook reaches the view typed; tampered, stale, replayed, unsigned and oversized ones get their
status and the generic body, and never reach the view.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from examkit.core.clock import FixedClock
from examkit.core.errors import ConfigurationError
from examkit.core.webhook import DEFAULT_MAX_BODY_SIZE, InMemoryReplayGuard, Verified, WebhookRequest
from examkit.integrations._common import REJECTED_BODY
from examkit.integrations.starlette import verified_webhook, webhook_request_from_starlette
from tests.integrations.toy import BODY, MAX_BODY, NOW, ToyEvent, ToyVerifier, failure_cases, toy_headers
from tests.integrations.vendors import CASES, STALE_CASES, VendorCase

BASE = "http://testserver"
Calls = list[tuple[str, Any]]


def fastapi_app(calls: Calls) -> FastAPI:
    app = FastAPI()
    clock = FixedClock(NOW)
    for case in CASES:
        verifier = case.verifier(clock, InMemoryReplayGuard(clock=clock))

        async def view(request: Request, event: Any, name: str = case.name) -> dict[str, str]:
            calls.append((name, event))
            return {"vendor": name}

        app.post(case.path)(verified_webhook(verifier)(view))
    return app


def starlette_app(calls: Calls) -> Starlette:
    clock = FixedClock(NOW)
    routes = []
    for case in CASES:
        verifier = case.verifier(clock, InMemoryReplayGuard(clock=clock))

        def make(name: str) -> Callable[[Request, Any], Awaitable[Response]]:
            async def view(request: Request, event: Any) -> Response:
                calls.append((name, event))
                return JSONResponse({"vendor": name})

            return view

        routes.append(Route(case.path, verified_webhook(verifier)(make(case.name)), methods=["POST"]))
    return Starlette(routes=routes)


APPS = {"fastapi": fastapi_app, "starlette": starlette_app}


def send(app: Any, path: str, body: bytes | AsyncIterator[bytes], headers: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.post(path, content=body, headers=headers)

    return asyncio.run(go())


@pytest.fixture(params=sorted(APPS))
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def calls() -> Calls:
    return []


@pytest.fixture
def app(framework: str, calls: Calls) -> Any:
    return APPS[framework](calls)


def ids(case: VendorCase) -> str:
    return case.name


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_valid_webhook_reaches_the_view_typed(app: Any, calls: Calls, case: VendorCase) -> None:
    body, headers = case.valid(BASE + case.path)
    response = send(app, case.path, body, headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"vendor": case.name}
    [(name, event)] = calls
    assert name == case.name
    assert case.describe(event) == case.expected


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_replayed_webhook_gets_409(app: Any, calls: Calls, case: VendorCase) -> None:
    body, headers = case.valid(BASE + case.path)
    assert send(app, case.path, body, headers).status_code == 200
    response = send(app, case.path, body, headers)
    assert response.status_code == 409
    assert response.text == REJECTED_BODY
    assert len(calls) == 1


@pytest.mark.parametrize("case", CASES, ids=ids)
@pytest.mark.parametrize(("kind", "status"), [("tampered", 401), ("unsigned", 400)])
def test_bad_webhook_never_reaches_the_view(
    app: Any, calls: Calls, case: VendorCase, kind: str, status: int
) -> None:
    body, headers = getattr(case, kind)(BASE + case.path)
    response = send(app, case.path, body, headers)
    assert response.status_code == status
    assert response.text == REJECTED_BODY
    assert response.headers["content-type"].startswith("text/plain")
    assert calls == []


@pytest.mark.parametrize("case", STALE_CASES, ids=ids)
def test_stale_webhook_gets_401(app: Any, calls: Calls, case: VendorCase) -> None:
    assert case.stale is not None
    body, headers = case.stale(BASE + case.path)
    assert send(app, case.path, body, headers).status_code == 401
    assert calls == []


@pytest.mark.parametrize("case", CASES, ids=ids)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_webhook_gets_413(app: Any, calls: Calls, case: VendorCase, chunked: bool) -> None:
    body, headers = case.valid(BASE + case.path)
    big = body + b" " * (DEFAULT_MAX_BODY_SIZE + 1 - len(body))

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    response = send(app, case.path, chunks() if chunked else big, headers)
    assert response.status_code == 413
    assert response.text == REJECTED_BODY
    assert calls == []


# -- the body limit holds before the whole body is read ------------------------------------------


class CountingApp:
    """Wraps an ASGI app and counts the body bytes the app pulled from ``receive``."""

    def __init__(self, app: Any) -> None:
        self.app, self.pulled, self.messages = app, 0, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counting() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.pulled += len(message.get("body", b""))
                self.messages += 1
            return message

        await self.app(scope, counting, send)


def toy_app(verifier: Any, calls: list[ToyEvent]) -> Starlette:
    async def hook(request: Request, event: ToyEvent) -> Response:
        calls.append(event)
        return PlainTextResponse(event.candidate)

    return Starlette(routes=[Route("/hook", verified_webhook(verifier)(hook), methods=["POST"])])


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    calls: list[ToyEvent] = []
    counting = CountingApp(toy_app(ToyVerifier(clock=FixedClock(NOW)), calls))
    body = b"x" * (MAX_BODY + 1)
    response = send(counting, "/hook", body, toy_headers(body, url=BASE + "/hook"))
    assert response.status_code == 413
    assert counting.pulled == 0  # not one byte read
    assert calls == []


def test_a_chunked_body_is_cut_as_soon_as_it_passes_the_limit() -> None:
    calls: list[ToyEvent] = []
    counting = CountingApp(toy_app(ToyVerifier(clock=FixedClock(NOW)), calls))
    piece = b"x" * 1000

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(100):  # 100 kB offered; the limit is 4096 bytes
            yield piece

    response = send(counting, "/hook", endless(), {})
    assert response.status_code == 413
    # 4096 bytes fit in 4 pieces of 1000 and a fifth passes the limit: reading stops there.
    assert counting.pulled <= 5 * len(piece)
    assert calls == []


@pytest.mark.parametrize("case", failure_cases(BASE + "/hook"), ids=lambda c: c.id)
def test_each_failure_has_its_status_and_the_cause_is_logged(
    case: Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[ToyEvent] = []
    app = toy_app(ToyVerifier(clock=FixedClock(NOW)), calls)
    with caplog.at_level(logging.WARNING, logger="examkit.integrations"):
        response = send(app, "/hook", case.body, case.headers)
    assert (response.status_code, response.text) == (case.status, REJECTED_BODY)
    assert [r.examkit_error for r in caplog.records] == [case.error]  # type: ignore[attr-defined]
    assert calls == []


# -- the replay claim is released when the view fails --------------------------------------------


@pytest.mark.parametrize("failure", ["raise", "503"])
@pytest.mark.parametrize("framework_name", sorted(APPS))
def test_a_failing_view_lets_the_retry_through(failure: str, framework_name: str) -> None:
    verifier = ToyVerifier(clock=FixedClock(NOW), replay_guard=InMemoryReplayGuard(clock=FixedClock(NOW)))
    seen: list[str] = []

    async def hook(request: Request, event: ToyEvent) -> Response:
        seen.append(event.candidate)
        if len(seen) == 1:
            if failure == "raise":
                raise RuntimeError("database unavailable")
            return PlainTextResponse("try again", status_code=503)
        return PlainTextResponse(event.candidate)

    wrapped = verified_webhook(verifier)(hook)
    if framework_name == "fastapi":
        app: Any = FastAPI()
        app.post("/hook")(wrapped)
    else:
        app = Starlette(routes=[Route("/hook", wrapped, methods=["POST"])])
    headers = toy_headers(BODY, url=BASE + "/hook", nonce=f"retry-{failure}-{framework_name}")

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return [(await client.post("/hook", content=BODY, headers=headers)).status_code for _ in range(3)]

    first, retry, again = asyncio.run(go())
    assert first in (500, 503)
    assert (retry, again) == (200, 409)
    assert seen == ["Ada Lovelace", "Ada Lovelace"]


def test_a_sync_view_works_and_can_read_the_body_again() -> None:
    def hook(request: Request, event: ToyEvent) -> Response:
        return PlainTextResponse(f"{event.score}")

    async def body_hook(request: Request, event: ToyEvent) -> Response:
        return Response(await request.body())

    app = Starlette(
        routes=[
            Route("/hook", verified_webhook(ToyVerifier(clock=FixedClock(NOW)))(hook), methods=["POST"]),
            Route("/body", verified_webhook(ToyVerifier(clock=FixedClock(NOW)))(body_hook), methods=["POST"]),
        ]
    )
    assert send(app, "/hook", BODY, toy_headers(BODY, url=BASE + "/hook")).text == "97"
    assert send(app, "/body", BODY, toy_headers(BODY, url=BASE + "/body")).content == BODY


def test_fastapi_still_injects_the_views_other_parameters() -> None:
    app = FastAPI()

    @app.post("/hooks/{tenant}")
    @verified_webhook(ToyVerifier(clock=FixedClock(NOW)))
    async def hook(request: Request, event: ToyEvent, tenant: str, verbose: bool = False) -> dict[str, Any]:
        return {"tenant": tenant, "verbose": verbose, "score": event.score}

    url = BASE + "/hooks/acme?verbose=true"
    response = send(app, "/hooks/acme?verbose=true", BODY, toy_headers(BODY, url=url))
    assert response.json() == {"tenant": "acme", "verbose": True, "score": 97}


# -- URLs behind proxies --------------------------------------------------------------------------


def url_seen(headers: dict[str, str], client: tuple[str, int], **options: Any) -> str:
    seen: list[str] = []

    async def endpoint(request: Request) -> Response:
        built = await webhook_request_from_starlette(request, **options)
        seen.append(str(built.url))
        return Response()

    app = Starlette(routes=[Route("/hook", endpoint, methods=["POST"])])

    async def go() -> None:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://internal:8000") as c:
            await c.post("/hook?a=1", content=b"{}", headers=headers)

    asyncio.run(go())
    return seen[0]


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example, hooks.example.com"}


def test_forwarded_headers_are_ignored_by_default() -> None:
    assert url_seen(FORWARDED, ("10.0.0.5", 1)) == "http://internal:8000/hook?a=1"


def test_forwarded_headers_are_used_from_a_trusted_proxy_only() -> None:
    trusted = {"forwarded_allow_ips": "10.0.0.0/8, 192.168.1.1"}
    assert url_seen(FORWARDED, ("10.0.0.5", 1), **trusted) == "https://hooks.example.com/hook?a=1"
    assert url_seen(FORWARDED, ("203.0.113.9", 1), **trusted) == "http://internal:8000/hook?a=1"
    assert url_seen(FORWARDED, ("203.0.113.9", 1), forwarded_allow_ips="*").startswith("https://hooks.")


def test_the_public_url_replaces_scheme_and_host() -> None:
    seen = url_seen(FORWARDED, ("10.0.0.5", 1), public_url="https://hooks.example.com/api")
    assert seen == "https://hooks.example.com/api/hook?a=1"


@pytest.mark.parametrize(
    "options",
    [
        {"forwarded_allow_ips": "not-an-ip"},
        {"public_url": "ftp://x"},
        {"public_url": "https://x", "forwarded_allow_ips": "*"},
    ],
)
def test_bad_url_options_are_refused_when_decorating(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        verified_webhook(ToyVerifier(clock=FixedClock(NOW)), **options)


def test_a_non_verifier_is_refused_when_decorating() -> None:
    with pytest.raises(ConfigurationError, match="verify"):
        verified_webhook(object())  # type: ignore[arg-type]


# -- secret rotation: the matching secret is logged -----------------------------------------------


class Detailed:
    """A verifier with verify_detailed, as the vendor verifiers offer it."""

    max_body_size = MAX_BODY

    def __init__(self) -> None:
        self.inner = ToyVerifier(clock=FixedClock(NOW))

    def verify(self, request: WebhookRequest) -> ToyEvent:
        raise AssertionError("the adapter must prefer verify_detailed")

    def verify_detailed(self, request: WebhookRequest) -> Verified[ToyEvent]:
        return Verified(self.inner.verify(request), key_index=1, key_count=2)


def test_the_adapter_logs_which_secret_matched(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[ToyEvent] = []
    with caplog.at_level(logging.INFO, logger="examkit.integrations"):
        response = send(toy_app(Detailed(), calls), "/hook", BODY, toy_headers(BODY, url=BASE + "/hook"))
    assert response.status_code == 200
    assert [c.candidate for c in calls] == ["Ada Lovelace"]
    assert any("secret 2 of 2 matched" in r.getMessage() for r in caplog.records)
