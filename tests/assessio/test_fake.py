"""The in-process fake and the webhook helpers in examkit.testing.assessio."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from examkit.assessio import AssessioClient, AssessioWebhookVerifier, AssessmentSubmittedEvent, AssessmentType
from examkit.core.clock import FixedClock
from examkit.core.errors import ApiError, AuthenticationError
from examkit.testing.assessio import FakeAssessio, assessment_submitted_webhook, sign_webhook

NOW = 1_700_000_000
PERSON = {"locale": "sv-SE", "email": "a@example.se", "first_name": "Å", "last_name": "Ö"}


def order(c: AssessioClient) -> Any:
    return c.order_assessment_link(
        assessment_type="MAP",
        order_reference_id="ref-1",
        webhook_callback_url="https://hr.example.com/hook",
        redirect_url="https://hr.example.com/done",
        person=PERSON,
    )


def test_order_round_trip() -> None:
    clock = FixedClock(NOW)
    fake = FakeAssessio(provider_key="pk-1", integrator_secret="s-1", clock=clock)
    c = AssessioClient(provider_key="pk-1", integrator_secret="s-1", session=fake.session(), clock=clock)
    result = order(c)
    (received,) = fake.orders
    assert result.link == received.link
    assert received.body == result.request_body
    assert received.data["personDetails"]["firstName"] == "Å"


@pytest.mark.parametrize(
    ("client_settings", "skew"),
    [
        ({"provider_key": "pk-other", "integrator_secret": "s-1"}, 0),
        ({"provider_key": "pk-1", "integrator_secret": "s-other"}, 0),
        ({"provider_key": "pk-1", "integrator_secret": None, "sign_requests": False}, 0),
        ({"provider_key": "pk-1", "integrator_secret": "s-1"}, 301),
        ({"provider_key": "pk-1", "integrator_secret": "s-1"}, -301),
    ],
)
def test_fake_refuses(client_settings: dict[str, Any], skew: int) -> None:
    fake = FakeAssessio(provider_key="pk-1", integrator_secret="s-1", clock=FixedClock(NOW))
    c = AssessioClient(**client_settings, session=fake.session(), clock=FixedClock(NOW + skew))
    with pytest.raises(AuthenticationError):
        order(c)
    assert fake.orders == []


def test_fake_without_signature_requirement() -> None:
    fake = FakeAssessio(provider_key="pk-1", require_signature=False)
    c = AssessioClient(provider_key="pk-1", sign_requests=False, session=fake.session())
    assert order(c).link is not None


def test_fake_link_key_and_client_link_paths() -> None:
    fake = FakeAssessio(provider_key="pk-1", require_signature=False, link_key="assessmentUri")
    c = AssessioClient(provider_key="pk-1", sign_requests=False, session=fake.session())
    result = order(c)
    assert result.link is None
    assert "assessmentUri" in result.data
    c2 = AssessioClient(
        provider_key="pk-1",
        sign_requests=False,
        session=fake.session(),
        link_paths=["assessmentUri"],
    )
    assert order(c2).link == fake.orders[-1].link


def test_fake_checks_body() -> None:
    fake = FakeAssessio(provider_key="pk-1", require_signature=False)
    session = fake.session()
    response = session.post(
        "https://sandbox.api.assessio.systems/development/v1/assessment-link-order",
        data=b'{"assessmentType": "MAP"}',
        headers={"provider-key": "pk-1"},
    )
    assert response.status_code == 400
    assert "orderReferenceId" in response.json()["message"]


def test_webhook_helper_matches_vendor_shape() -> None:
    request = assessment_submitted_webhook(api_key="k", order_reference_id="ref-9")
    data = json.loads(request.body)
    assert data["eventType"] == "ASSESSMENT_SUBMITTED"
    assert data["payload"]["assessmentScores"][0]["subScores"] == [{"key": "EX1", "value": 10}]
    event = AssessioWebhookVerifier(api_key="k").verify(request)
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.order_reference_id == "ref-9"
    assert event.scores[0].value == Decimal(10)


def test_webhook_helper_with_signature_and_bearer() -> None:
    clock = FixedClock(NOW)
    request = assessment_submitted_webhook(
        api_key="k",
        order_reference_id="ref-9",
        assessment_type="MATCH_V_V2",
        scores=[{"type": "VALUES", "key": "V1", "value": "3.5"}],
        header="Authorization",
        scheme="bearer",
        signature_secret="s",
        clock=clock,
    )
    verifier = AssessioWebhookVerifier(
        api_key="k", header="Authorization", scheme="bearer", signature_secret="s", clock=clock
    )
    event = verifier.verify(request)
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.scores[0].value == Decimal("3.5")


def test_sign_webhook_any_body() -> None:
    request = sign_webhook(body=b'{"eventType": "PING"}', api_key="k", signature_secret="s", timestamp=NOW)
    event = AssessioWebhookVerifier(api_key="k", signature_secret="s", clock=FixedClock(NOW)).verify(request)
    assert event.event_type == "PING"


def test_fake_unknown_route() -> None:
    fake = FakeAssessio(provider_key="pk-1", require_signature=False)
    c = AssessioClient(
        provider_key="pk-1",
        sign_requests=False,
        session=fake.session(),
        base_url="https://sandbox.api.assessio.systems/v2",
    )
    with pytest.raises(ApiError):
        order(c)


@pytest.mark.parametrize("assessment_type", [t.value for t in AssessmentType])
def test_every_order_and_webhook_of_the_fake_is_accepted(assessment_type: str) -> None:
    clock = FixedClock(NOW)
    fake = FakeAssessio(provider_key="pk-1", integrator_secret="s-1", clock=clock)
    c = AssessioClient(provider_key="pk-1", integrator_secret="s-1", session=fake.session(), clock=clock)
    result = c.order_assessment_link(
        assessment_type=assessment_type,
        order_reference_id="ref-1",
        webhook_callback_url="https://hr.example.com/hook",
        redirect_url="https://hr.example.com/done",
        person=PERSON,
    )
    assert result.link == fake.orders[0].link
    request = assessment_submitted_webhook(
        api_key="k",
        order_reference_id="ref-1",
        assessment_type=assessment_type,
        signature_secret="s",
        timestamp=NOW,
    )
    event = AssessioWebhookVerifier(api_key="k", signature_secret="s", clock=clock).verify(request)
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.payload.order_reference_id == "ref-1"
