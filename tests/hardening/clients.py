"""Every vendor client built with the canary secret, and one call per HTTP method it makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from examkit.assessio import AssessioClient
from examkit.core.clock import FixedClock
from examkit.core.http import RetryPolicy
from examkit.integrity_advocate import IntegrityAdvocateClient, Overrider, OverrideStatus
from examkit.itep import ItepClient
from examkit.testing.integrity_advocate import DEMO_APP_ID
from tests.hardening.strategies import CANARY
from tests.hardening.vendors import IA_API_KEY, NOW

ITEP_URL = "https://itep.example/requests/ecommerce_webhook.php"
IA_BASE = "https://ia.example"
ASSESSIO_BASE = "https://assessio.example"
ASSESSIO_ORDER = ASSESSIO_BASE + "/development/v1/assessment-link-order"
MAX_ATTEMPTS = 3


def no_sleep(_seconds: float) -> None:
    """Stand-in for time.sleep: the backoff is computed but not waited."""


def itep_client() -> ItepClient:
    """An iTEP client with the canary as its API key."""
    return ItepClient(api_key=CANARY, signature_header="X-Signature", endpoint=ITEP_URL)


def ia_client(sleeps: list[float] | None = None) -> IntegrityAdvocateClient:
    """An Integrity Advocate client whose key spells the canary; sleeps are recorded, not waited."""
    return IntegrityAdvocateClient(
        app_id=DEMO_APP_ID,
        api_key=IA_API_KEY,
        base_url=IA_BASE,
        clock=FixedClock(NOW),
        retry=RetryPolicy(max_attempts=MAX_ATTEMPTS, backoff=0.5),
        sleep=sleeps.append if sleeps is not None else no_sleep,
    )


def assessio_client() -> AssessioClient:
    """An Assessio client with the canary as provider key and (reversed) as integrator secret."""
    return AssessioClient(
        provider_key=CANARY, integrator_secret=CANARY[::-1], base_url=ASSESSIO_BASE, clock=FixedClock(NOW)
    )


@attrs.frozen
class Call:
    """One client call, the method and URL it sends, and whether it may be retried."""

    name: str
    method: str
    url: str
    run: Callable[[], Any]
    retried: bool


def calls(sleeps: list[float] | None = None) -> list[Call]:
    """Every kind of call the three clients make."""
    overrider = Overrider(user_id="u-1", first_name="Ada", last_name="Admin")
    return [
        Call(
            "itep.issue_test_id",
            "POST",
            ITEP_URL,
            lambda: itep_client().issue_test_id(product_code="GTX-Academic-Plus", email="a@example.org"),
            retried=False,
        ),
        Call(
            "assessio.order_assessment_link",
            "POST",
            ASSESSIO_ORDER,
            lambda: assessio_client().order_assessment_link(
                assessment_type="MAP",
                order_reference_id="order-1",
                webhook_callback_url="https://app.example/hook",
                redirect_url="https://app.example/done",
                person={"locale": "en", "email": "a@example.org", "first_name": "A", "last_name": "B"},
            ),
            retried=False,
        ),
        Call(
            "ia.override_participant",
            "PATCH",
            IA_BASE + "/api/participant/p-1-c-1",
            lambda: ia_client(sleeps).override_participant(
                "p-1", "c-1", status=OverrideStatus.VALID, reason="ok", overrider=overrider
            ),
            retried=False,
        ),
        Call(
            "ia.override_sessions",
            "PATCH",
            IA_BASE + "/api/participantsessions",
            lambda: ia_client(sleeps).override_sessions(
                "p-1", "c-1", "a-1", status=OverrideStatus.VALID, reason="ok", overrider=overrider
            ),
            retried=False,
        ),
        Call(
            "ia.get_participant",
            "GET",
            IA_BASE + "/api/participant",
            lambda: ia_client(sleeps).get_participant("p-1", "c-1"),
            retried=True,
        ),
        Call(
            "ia.participant_status",
            "GET",
            IA_BASE + "/api/2-0/participantstatus",
            lambda: ia_client(sleeps).participant_status("p-1", "c-1", "a-1"),
            retried=True,
        ),
    ]
