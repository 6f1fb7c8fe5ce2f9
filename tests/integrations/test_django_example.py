"""The example Django project (examples/django_project) driven by Django's test client."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.cache import caches  # type: ignore[import-untyped]
from django.test import Client, override_settings  # type: ignore[import-untyped]

from examkit.testing.assessio import assessment_submitted_webhook
from examkit.testing.integrity_advocate import make_participant, signed_review_callback
from examkit.testing.itep import build_results_webhook
from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "django_project"


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, ModuleType]]:
    monkeypatch.syspath_prepend(str(PROJECT))
    caches["default"].clear()
    with override_settings(ROOT_URLCONF="examkit_django_example.urls", EXAMKIT_DEMO_SECRETS=True):
        views = importlib.import_module("examkit_django_example.views")
        constants = importlib.import_module("examkit_django_example.verifiers")
        views.RECEIVED.clear()
        yield views, constants
        views.RECEIVED.clear()


def webhooks(c: ModuleType) -> dict[str, tuple[bytes, dict[str, str]]]:
    itep = build_results_webhook(hmac=(c.DEMO_ITEP_HEADER, c.DEMO_ITEP_SECRET))
    ia = signed_review_callback(
        make_participant("learner-9", "course-1", status="Invalid Identity"),
        url="http://testserver/webhooks/integrity-advocate",
        app_id=c.DEMO_IA_APP_ID,
        api_key=c.DEMO_IA_API_KEY,
    )
    assessio = assessment_submitted_webhook(
        api_key=c.DEMO_ASSESSIO_API_KEY, order_reference_id="order-7", signature_secret=c.DEMO_ASSESSIO_SECRET
    )
    testpress = sign_exam_webhook(
        sample_exam_webhook_payload(public_key=c.DEMO_TESTPRESS_PUBLIC_KEY, attempt_id=55),
        private_key=c.DEMO_TESTPRESS_PRIVATE_KEY,
    )
    return {
        "itep": (itep.body, dict(itep.headers.items())),
        "integrity-advocate": (ia.body, dict(ia.headers.items())),
        "assessio": (assessio.body, dict(assessio.headers.items())),
        "testpress": (testpress, {"Content-Type": "application/json"}),
    }


def post(vendor: str, body: bytes, headers: dict[str, str]) -> Any:
    headers = dict(headers)
    content_type = headers.pop("Content-Type", "application/octet-stream")
    client = Client(enforce_csrf_checks=True)
    return client.post(f"/webhooks/{vendor}", data=body, content_type=content_type, headers=headers)


def test_the_project_receives_all_four_vendors(project: tuple[ModuleType, ModuleType]) -> None:
    views, constants = project
    signed = webhooks(constants)
    answers = {vendor: post(vendor, *request) for vendor, request in signed.items()}
    assert {vendor: a.status_code for vendor, a in answers.items()} == dict.fromkeys(signed, 200)
    assert json.loads(answers["itep"].content)["test_id"] == "3279B035APR"
    assert json.loads(answers["integrity-advocate"].content) == {
        "participant": "learner-9",
        "status": "Invalid Identity",
    }
    assert json.loads(answers["assessio"].content) == {"order": "order-7"}
    assert json.loads(answers["testpress"].content) == {"attempt_id": 55, "score": "7.00"}
    assert [vendor for vendor, _ in views.RECEIVED] == list(signed)
    # Replays are refused through the Django cache the project configures.
    for vendor, request in signed.items():
        assert post(vendor, *request).status_code == 409, vendor
    # Tampered and unsigned requests never reach a view.
    body, headers = signed["assessio"]
    assert post("assessio", body.replace(b"order-7", b"order-8"), headers).status_code == 401
    assert post("itep", signed["itep"][0], {}).status_code == 400
    assert len(views.RECEIVED) == 4


def test_the_project_passes_django_checks() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
