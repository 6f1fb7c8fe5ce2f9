"""End to end: examples/flask_app.py on a real WSGI server, webhooks for all four vendors over HTTP."""

from __future__ import annotations

import importlib.util
import runpy
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examkit_flask_example", ROOT / "examples" / "flask_app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = load_example()


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[str, object]]]]:
    app = EXAMPLE.create_app(EXAMPLE.demo_verifiers())
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="examkit-e2e", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", app.extensions["examkit_received"]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_all_four_vendors_over_http(server: tuple[str, list[tuple[str, object]]]) -> None:
    base, received = server
    webhooks = EXAMPLE.signed_demo_webhooks(base)
    with requests.Session() as http:
        answers = {
            vendor: http.post(f"{base}/webhooks/{vendor}", data=body, headers=headers, timeout=10)
            for vendor, (body, headers) in webhooks.items()
        }
        for answer in answers.values():
            assert answer.status_code == 200, answer.text
        # Values from the vendor samples the helpers send.
        assert answers["itep"].json()["test_id"] == "3279B035APR"
        assert answers["itep"].json()["sections"]["reading"] == "6.0"
        assert answers["integrity-advocate"].json() == {"participant": "learner-1", "status": "Valid"}
        assert answers["assessio"].json() == {"order": "order-42", "scores": 1}
        assert answers["testpress"].json() == {"attempt_id": 130, "score": "7.00"}
        assert [vendor for vendor, _ in received] == ["itep", "integrity-advocate", "assessio", "testpress"]

        # The same deliveries again: replays.
        for vendor, (body, headers) in webhooks.items():
            again = http.post(f"{base}/webhooks/{vendor}", data=body, headers=headers, timeout=10)
            assert again.status_code == 409, vendor
            assert again.text == "webhook rejected\n"

        # Fresh but bad ones: tampered, or without credentials.
        fresh = EXAMPLE.signed_demo_webhooks(base)
        itep_body, itep_headers = fresh["itep"]
        assert (
            http.post(
                f"{base}/webhooks/itep", data=itep_body + b"x", headers=itep_headers, timeout=10
            ).status_code
            == 401
        )
        assessio_body, assessio_headers = fresh["assessio"]
        tampered = assessio_body.replace(b"order-42", b"order-43")
        assert (
            http.post(
                f"{base}/webhooks/assessio", data=tampered, headers=assessio_headers, timeout=10
            ).status_code
            == 401
        )
        testpress_body, _ = fresh["testpress"]
        tampered = testpress_body.replace(b'"score":"7.00"', b'"score":"9.00"')
        assert http.post(f"{base}/webhooks/testpress", data=tampered, timeout=10).status_code == 401
        ia_body, _ia_headers = fresh["integrity-advocate"]
        # Signed for another URL: the path the vendor called is part of the amx signature.
        other = EXAMPLE.signed_demo_webhooks(base + "/elsewhere")["integrity-advocate"][1]
        assert (
            http.post(
                f"{base}/webhooks/integrity-advocate", data=ia_body, headers=other, timeout=10
            ).status_code
            == 401
        )
        for vendor in ("itep", "integrity-advocate", "assessio"):
            unsigned = http.post(f"{base}/webhooks/{vendor}", data=fresh[vendor][0], timeout=10)
            assert unsigned.status_code == 400, vendor
        assert len(received) == 4


def test_example_runs_offline_as_a_script(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["flask_app.py"])
    monkeypatch.delenv("EXAMKIT_EXAMPLE_SECRETS", raising=False)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(ROOT / "examples" / "flask_app.py"), run_name="__main__")
    assert info.value.code == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["itep", "integrity-advocate", "assessio", "testpress"]
    assert all(" 200 " in line and line.endswith("the same again: 409") for line in out)
