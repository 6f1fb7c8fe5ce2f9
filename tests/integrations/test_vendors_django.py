"""Every vendor's real verifier behind Django's verified_webhook, through Django's test client.

A valid webhook reaches the view with the typed event; a tampered, stale (where the scheme has a
timestamp), replayed or unsigned one gets its status and never reaches the view.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings  # type: ignore[import-untyped]

from examkit.core.clock import FixedClock
from examkit.core.webhook import InMemoryReplayGuard
from examkit.integrations._common import REJECTED_BODY
from examkit.integrations.django import DjangoCacheReplayGuard
from tests.integrations import vendor_urls
from tests.integrations.vendors import CASES, NOW, STALE_CASES, VendorCase

pytestmark = pytest.mark.usefixtures("verifiers")

BASE = "http://testserver"


@pytest.fixture(params=["memory", "django-cache"])
def verifiers(request: pytest.FixtureRequest) -> Iterator[None]:
    from django.core.cache import caches  # type: ignore[import-untyped]

    clock = FixedClock(NOW)
    caches["default"].clear()
    for case in CASES:
        guard: Any = (
            InMemoryReplayGuard(clock=clock) if request.param == "memory" else DjangoCacheReplayGuard()
        )
        vendor_urls.VERIFIERS[case.name].target = case.verifier(clock, guard)
    vendor_urls.CALLS.clear()
    with override_settings(ROOT_URLCONF="tests.integrations.vendor_urls"):
        yield
    for switch in vendor_urls.VERIFIERS.values():
        switch.target = None
    vendor_urls.CALLS.clear()


def post(case: VendorCase, body: bytes, headers: dict[str, str]) -> Any:
    client = Client(enforce_csrf_checks=True)
    content_type = headers.pop("Content-Type", "application/octet-stream")
    return client.post(case.path, data=body, content_type=content_type, headers=headers)


def ids(case: VendorCase) -> str:
    return case.name


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_valid_webhook_reaches_the_view_typed(case: VendorCase) -> None:
    body, headers = case.valid(BASE + case.path)
    response = post(case, body, headers)
    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {"vendor": case.name}
    [(name, event)] = vendor_urls.CALLS
    assert name == case.name
    assert case.describe(event) == case.expected


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_replayed_webhook_gets_409(case: VendorCase) -> None:
    body, headers = case.valid(BASE + case.path)
    assert post(case, body, dict(headers)).status_code == 200
    response = post(case, body, dict(headers))
    assert response.status_code == 409
    assert response.content == REJECTED_BODY.encode()
    assert len(vendor_urls.CALLS) == 1


@pytest.mark.parametrize("case", CASES, ids=ids)
@pytest.mark.parametrize(("kind", "status"), [("tampered", 401), ("unsigned", 400)])
def test_bad_webhook_never_reaches_the_view(case: VendorCase, kind: str, status: int) -> None:
    body, headers = getattr(case, kind)(BASE + case.path)
    response = post(case, body, headers)
    assert response.status_code == status
    assert response.content == REJECTED_BODY.encode()
    assert vendor_urls.CALLS == []


@pytest.mark.parametrize("case", STALE_CASES, ids=ids)
def test_stale_webhook_gets_401(case: VendorCase) -> None:
    assert case.stale is not None
    body, headers = case.stale(BASE + case.path)
    response = post(case, body, headers)
    assert response.status_code == 401
    assert vendor_urls.CALLS == []
