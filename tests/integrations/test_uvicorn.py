"""End to end under a real uvicorn server on 127.0.0.1: every vendor's verifier, every outcome, over HTTP.

The app is the one of ``test_starlette`` (FastAPI), plus ``examples/fastapi_app.py``. Valid webhooks
reach the view typed; tampered, stale, replayed, unsigned and oversized ones get their status and the
generic body. Forwarded headers are honoured from a trusted proxy only.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
import uvicorn
from fastapi import FastAPI, Request

from examkit.core.clock import FixedClock
from examkit.core.webhook import DEFAULT_MAX_BODY_SIZE
from examkit.integrations._common import REJECTED_BODY
from examkit.integrations.starlette import verified_webhook
from tests.integrations.test_starlette import fastapi_app
from tests.integrations.toy import BODY, NOW, ToyEvent, ToyVerifier, toy_headers
from tests.integrations.vendors import CASES, STALE_CASES, VendorCase

ROOT = Path(__file__).resolve().parents[2]


def serve(app: Any) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", forwarded_allow_ips="")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def vendor_server() -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    calls: list[tuple[str, Any]] = []
    yield from ((base, calls) for base in serve(fastapi_app(calls)))


def ids(case: VendorCase) -> str:
    return case.name


def post(url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=10)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_valid_then_replayed(vendor_server: tuple[str, list[tuple[str, Any]]], case: VendorCase) -> None:
    base, calls = vendor_server
    # The servers' own URL is what the vendor signed (Integrity Advocate signs it).
    body, headers = case.valid(base + case.path)
    answer = post(base + case.path, body, headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"vendor": case.name}
    name, event = calls[-1]
    assert name == case.name
    assert case.describe(event) == case.expected
    replay = post(base + case.path, body, headers)
    assert (replay.status_code, replay.text) == (409, REJECTED_BODY)


@pytest.mark.parametrize("case", CASES, ids=ids)
@pytest.mark.parametrize(("kind", "status"), [("tampered", 401), ("unsigned", 400)])
def test_tampered_and_unsigned(
    vendor_server: tuple[str, list[tuple[str, Any]]], case: VendorCase, kind: str, status: int
) -> None:
    base, calls = vendor_server
    before = len(calls)
    body, headers = getattr(case, kind)(base + case.path)
    answer = post(base + case.path, body, headers)
    assert (answer.status_code, answer.text) == (status, REJECTED_BODY)
    assert len(calls) == before


@pytest.mark.parametrize("case", STALE_CASES, ids=ids)
def test_stale(vendor_server: tuple[str, list[tuple[str, Any]]], case: VendorCase) -> None:
    base, calls = vendor_server
    before = len(calls)
    assert case.stale is not None
    body, headers = case.stale(base + case.path)
    assert post(base + case.path, body, headers).status_code == 401
    assert len(calls) == before


@pytest.mark.parametrize("case", CASES, ids=ids)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized(vendor_server: tuple[str, list[tuple[str, Any]]], case: VendorCase, chunked: bool) -> None:
    base, calls = vendor_server
    before = len(calls)
    body, headers = case.valid(base + case.path)
    big = body + b" " * (DEFAULT_MAX_BODY_SIZE + 1 - len(body))

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    try:
        answer = requests.post(
            base + case.path, data=pieces() if chunked else big, headers=headers, timeout=10
        )
    except requests.ConnectionError:  # pragma: no cover - the server may close before all is sent
        pytest.fail("the server closed the connection instead of answering 413")
    assert (answer.status_code, answer.text) == (413, REJECTED_BODY)
    assert len(calls) == before


def test_forwarded_headers_only_from_a_trusted_proxy() -> None:
    seen: list[str] = []
    app = FastAPI()

    @app.post("/hook")
    @verified_webhook(ToyVerifier(clock=FixedClock(NOW)), forwarded_allow_ips="127.0.0.1")
    async def hook(request: Request, event: ToyEvent) -> dict[str, str]:
        seen.append(event.candidate)
        return {"ok": "yes"}

    untrusted_app = FastAPI()

    @untrusted_app.post("/hook")
    @verified_webhook(ToyVerifier(clock=FixedClock(NOW)), forwarded_allow_ips="10.0.0.0/8")
    async def untrusted(request: Request, event: ToyEvent) -> dict[str, str]:
        seen.append("untrusted")
        return {"ok": "yes"}

    public = "https://hooks.example.com/hook"
    headers = {
        **toy_headers(BODY, url=public),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "hooks.example.com",
    }
    for base in serve(app):
        assert post(base + "/hook", BODY, headers).status_code == 200  # 127.0.0.1 is trusted
    for base in serve(untrusted_app):
        assert post(base + "/hook", BODY, headers).status_code == 401  # its own URL was not signed
    assert seen == ["Ada Lovelace"]


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "examkit_fastapi_example", ROOT / "examples" / "fastapi_app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fastapi_example_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    example = load_example()
    app = example.create_app()
    for base in serve(app):
        for vendor, (body, headers) in example.signed_demo_webhooks(base).items():
            answer = post(f"{base}/webhooks/{vendor}", body, headers)
            assert answer.status_code == 200, (vendor, answer.text)
        again = example.signed_demo_webhooks(base)["itep"]
        assert post(f"{base}/webhooks/itep", *again).status_code == 409
    kinds = [vendor for vendor, _ in app.state.received]
    assert kinds == ["itep", "integrity-advocate", "assessio", "testpress"]
