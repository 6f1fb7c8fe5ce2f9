"""Regression tests for the defects an independent review found (each failed before its fix)."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
import responses

from examkit.assessio import SignatureVerifier
from examkit.core._transport_sync import Transport
from examkit.core.errors import (
    ConfigurationError,
    PayloadError,
    RateLimitError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.core.http import RetryPolicy
from examkit.core.serde import PayloadConverter
from examkit.core.signing import KeyRing
from examkit.core.webhook import Headers, WebhookRequest
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier
from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth
from examkit.testing.integrity_advocate import DEMO_API_KEY, DEMO_APP_ID
from examkit.testing.itep import build_results_webhook
from examkit.testpress import TestpressWebhookVerifier
from examkit.testpress.signing import PRIVATE_KEY

URL = "https://vendor.example/v1/orders"


@pytest.mark.parametrize("retry_after", ["²", "1¹", "٣"])
@responses.activate
def test_non_ascii_digits_in_retry_after_do_not_escape(retry_after: str) -> None:
    # http.client decodes header bytes as latin-1: byte 0xB2 arrives as "²", for which isdigit() is true.
    responses.post(URL, status=429, headers={"Retry-After": retry_after})
    transport = Transport(vendor="demo", retry=RetryPolicy.none())
    with pytest.raises(RateLimitError) as info:
        transport.request("POST", URL, body=b"{}")
    assert info.value.retry_after is None


def test_prepared_key_material_refuses_pickling() -> None:
    with pytest.raises(ConfigurationError, match="cannot be pickled"):
        pickle.dumps(KeyRing([b"k"]))
    with pytest.raises(ConfigurationError, match="cannot be pickled"):
        pickle.dumps(SignatureVerifier(secret="integrator-secret"))


def test_itep_auth_that_returns_instead_of_raising_does_not_let_requests_in() -> None:
    class ReturnsFalse:
        def authenticate(self, request: WebhookRequest) -> None:
            return False  # type: ignore[return-value]

    verifier = ItepWebhookVerifier(auth=ReturnsFalse())
    with pytest.raises(SignatureMismatchError, match="returned a value"):
        verifier.verify(build_results_webhook())


def test_itep_auth_class_instead_of_instance_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="auth"):
        ItepWebhookVerifier(auth=TokenHeaderAuth)  # type: ignore[arg-type]


def test_testpress_hash_must_cover_a_payload_field() -> None:
    with pytest.raises(ConfigurationError, match="at least one payload key"):
        TestpressWebhookVerifier(public_key="pub", private_key="priv", hash_fields=(PRIVATE_KEY,))


def test_headers_lookup_with_a_non_text_name_is_a_plain_miss() -> None:
    headers = Headers({"A": "1"})
    with pytest.raises(KeyError):
        headers[5]  # type: ignore[index]
    assert headers.get(5) is None  # type: ignore[call-overload]


@pytest.mark.parametrize("value", ["1e99999999", Decimal("1e99999999"), "-1E-5000"])
def test_decimal_magnitudes_beyond_reason_are_refused(value: object) -> None:
    import attrs

    @attrs.frozen
    class Score:
        value: Decimal

    conv = PayloadConverter(vendor="x")
    conv.register(Score)
    with pytest.raises(PayloadError, match="decimal number"):
        conv.structure({"value": value}, Score)
    assert conv.structure({"value": "1e3"}, Score).value == Decimal(1000)


def test_every_verifier_refuses_a_non_request_with_validation_error() -> None:
    verifier = IntegrityAdvocateWebhookVerifier(app_id=DEMO_APP_ID, api_key=DEMO_API_KEY)
    with pytest.raises(ValidationError):
        verifier.verify(b"raw")  # type: ignore[arg-type]
