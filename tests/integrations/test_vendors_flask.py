"""Every vendor's real verifier behind Flask's verified_webhook, through Flask's test client.

A valid webhook reaches the view with the typed event; a tampered, stale (where the scheme has a
timestamp), replayed or unsigned one gets its status and never reaches the view.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from examkit.core.clock import FixedClock
from examkit.core.webhook import InMemoryReplayGuard
from examkit.integrations._common import REJECTED_BODY
from examkit.integrations.flask import verified_webhook
from tests.integrations.vendors import CASES, NOW, STALE_CASES, VendorCase

BASE = "http://localhost"

Calls = list[tuple[str, Any]]


def make_app(calls: Calls) -> Flask:
    app = Flask("examkit-vendor-tests")
    app.testing = True
    clock = FixedClock(NOW)
    for case in CASES:
        verifier = case.verifier(clock, InMemoryReplayGuard(clock=clock))

        def view(event: Any, name: str = case.name) -> dict[str, str]:
            calls.append((name, event))
            return {"vendor": name}

        app.add_url_rule(
            case.path, f"{case.name}_webhook", verified_webhook(verifier)(view), methods=["POST"]
        )
    return app


@pytest.fixture
def calls() -> Calls:
    return []


@pytest.fixture
def client(calls: Calls) -> FlaskClient:
    return make_app(calls).test_client()


def post(client: FlaskClient, case: VendorCase, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(case.path, data=body, headers=headers)


def ids(case: VendorCase) -> str:
    return case.name


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_valid_webhook_reaches_the_view_typed(client: FlaskClient, calls: Calls, case: VendorCase) -> None:
    body, headers = case.valid(BASE + case.path)
    response = post(client, case, body, headers)
    assert response.status_code == 200, response.data
    assert response.get_json() == {"vendor": case.name}
    [(name, event)] = calls
    assert name == case.name
    assert case.describe(event) == case.expected


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_replayed_webhook_gets_409(client: FlaskClient, calls: Calls, case: VendorCase) -> None:
    body, headers = case.valid(BASE + case.path)
    assert post(client, case, body, headers).status_code == 200
    response = post(client, case, body, headers)
    assert response.status_code == 409
    assert response.data == REJECTED_BODY.encode()
    assert len(calls) == 1


@pytest.mark.parametrize("case", CASES, ids=ids)
@pytest.mark.parametrize(("kind", "status"), [("tampered", 401), ("unsigned", 400)])
def test_bad_webhook_never_reaches_the_view(
    client: FlaskClient, calls: Calls, case: VendorCase, kind: str, status: int
) -> None:
    body, headers = getattr(case, kind)(BASE + case.path)
    response = post(client, case, body, headers)
    assert response.status_code == status
    assert response.data == REJECTED_BODY.encode()
    assert calls == []


@pytest.mark.parametrize("case", STALE_CASES, ids=ids)
def test_stale_webhook_gets_401(client: FlaskClient, calls: Calls, case: VendorCase) -> None:
    assert case.stale is not None
    body, headers = case.stale(BASE + case.path)
    assert post(client, case, body, headers).status_code == 401
    assert calls == []
