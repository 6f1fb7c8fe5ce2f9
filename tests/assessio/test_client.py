"""The Assessio client: validated, signed, never-retried link orders."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import requests
import responses

from examkit.assessio import AssessioClient, AssessmentType, PersonDetails, SignatureHeaderFormat
from examkit.core.clock import FixedClock
from examkit.core.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    PayloadError,
    ServerError,
    TransportError,
    ValidationError,
)

NOW = 1_700_000_000
SANDBOX = "https://sandbox.api.assessio.systems/development/v1/assessment-link-order"
PRODUCTION = "https://api.assessio.online/development/v1/assessment-link-order"
PERSON = {
    "locale": "en-US",
    "email": "user@example.com",
    "first_name": "string",
    "last_name": "string",
}

# The vendor page's request example, with the two URLs from its field table, compact, in the
# documented key order.
EXPECTED_BODY = (
    b'{"assessmentType":"MAP","orderReferenceId":"string",'
    b'"webhookCallbackUrl":"https://hr.example.com/hook","redirectUrl":"https://hr.example.com/done",'
    b'"personDetails":{"locale":"en-US","email":"user@example.com","firstName":"string",'
    b'"lastName":"string"}}'
)


def client(**settings: Any) -> AssessioClient:
    base: dict[str, Any] = {
        "provider_key": "pk-123456",
        "integrator_secret": "secret-abcdef",
        "clock": FixedClock(NOW),
    }
    base.update(settings)
    return AssessioClient(**base)


def order(c: AssessioClient, **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "assessment_type": "MAP",
        "order_reference_id": "string",
        "webhook_callback_url": "https://hr.example.com/hook",
        "redirect_url": "https://hr.example.com/done",
        "person": PERSON,
    }
    args.update(overrides)
    return c.order_assessment_link(**args)


@responses.activate
def test_request_bytes_headers_and_signature() -> None:
    responses.post(SANDBOX, json={"assessmentLink": "https://app.assessio.online/a/1"})
    result = order(client())
    (call,) = responses.calls
    sent = call.request
    assert sent.body == EXPECTED_BODY
    assert result.request_body == EXPECTED_BODY
    assert sent.headers["provider-key"] == "pk-123456"
    assert sent.headers["Content-Type"] == "application/json"
    mac = hmac.new(b"secret-abcdef", b"1700000000." + EXPECTED_BODY, hashlib.sha256).hexdigest()
    assert sent.headers["Signature"] == f"t=1700000000,signature={mac}"
    assert result.link == "https://app.assessio.online/a/1"
    assert result.data == {"assessmentLink": "https://app.assessio.online/a/1"}
    assert result.status_code == 200
    assert result.order.person == PersonDetails(
        locale="en-US", email="user@example.com", first_name="string", last_name="string"
    )


@responses.activate
def test_production_and_base_url() -> None:
    responses.post(PRODUCTION, json={"link": "https://x.example/1"})
    responses.post("https://proxy.example/assessio/development/v1/assessment-link-order", json={})
    assert order(client(environment="production")).link == "https://x.example/1"
    result = order(client(base_url="https://proxy.example/assessio/"))
    assert result.link is None
    with pytest.raises(PayloadError):
        result.require_link()


@responses.activate
def test_unsigned_sandbox() -> None:
    responses.post(SANDBOX, json={"url": "https://x.example/1"})
    result = order(client(integrator_secret=None, sign_requests=False))
    assert "Signature" not in responses.calls[0].request.headers
    assert result.link == "https://x.example/1"


@responses.activate
def test_header_format_setting() -> None:
    responses.post(SANDBOX, json={})
    order(client(header_format=SignatureHeaderFormat(separator=";", signature_label="v1")))
    header = responses.calls[0].request.headers["Signature"]
    assert header.startswith("t=1700000000;v1=")


@pytest.mark.parametrize(
    ("data", "paths", "link"),
    [
        ({"assessmentLink": "https://a.example/x"}, None, "https://a.example/x"),
        ({"data": {"link": "https://a.example/y"}}, None, "https://a.example/y"),
        (
            {"result": {"links": [{"href": "https://a.example/z"}]}},
            ["result.links.0.href"],
            "https://a.example/z",
        ),
        ({"result": {"links": []}}, ["result.links.0.href"], None),
        (
            {"result": {"links": [{"href": "https://a.example/z"}]}},
            [("result", "links", 0, "href")],
            "https://a.example/z",
        ),
        (
            {"assessmentLink": "not a url", "link": "https://a.example/w"},
            None,
            "https://a.example/w",
        ),
        ({"assessmentLink": 5}, None, None),
        ("https://a.example/bare", None, "https://a.example/bare"),
        ([1, 2], None, None),
    ],
)
@responses.activate
def test_configurable_link_lookup(data: Any, paths: Any, link: str | None) -> None:
    responses.post(SANDBOX, body=json.dumps(data), content_type="application/json")
    c = client() if paths is None else client(link_paths=paths)
    result = order(c)
    assert result.link == link
    assert result.data == data


@responses.activate
def test_plain_text_link_and_non_json() -> None:
    responses.post(SANDBOX, body="https://a.example/text\n", content_type="text/plain")
    result = order(client())
    assert result.link == "https://a.example/text"
    assert result.data is None
    responses.replace(responses.POST, SANDBOX, body="<html>ok</html>")
    result = order(client())
    assert result.link is None
    assert result.body == b"<html>ok</html>"


@responses.activate
def test_never_retried() -> None:
    responses.post(SANDBOX, status=503, json={"error": "busy"})
    with pytest.raises(ServerError):
        order(client())
    assert len(responses.calls) == 1
    responses.replace(responses.POST, SANDBOX, body=requests.ConnectionError("reset"))
    with pytest.raises(TransportError):
        order(client())
    assert len(responses.calls) == 2


@responses.activate
def test_error_statuses() -> None:
    responses.post(SANDBOX, status=401, json={"error": "bad key pk-123456"})
    with pytest.raises(AuthenticationError) as info:
        order(client())
    assert "pk-123456" not in str(info.value)
    assert "secret-abcdef" not in str(info.value)
    responses.replace(responses.POST, SANDBOX, status=400, json={"error": "bad"})
    with pytest.raises(ApiError) as api:
        order(client())
    assert api.value.status_code == 400


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"assessment_type": ""}, "assessmentType"),
        ({"assessment_type": "MAP TYPE"}, "assessmentType"),
        ({"assessment_type": 3}, "assessmentType"),
        ({"order_reference_id": ""}, "orderReferenceId"),
        ({"order_reference_id": "a\nb"}, "orderReferenceId"),
        ({"webhook_callback_url": "/hook"}, "webhookCallbackUrl"),
        ({"webhook_callback_url": "ftp://x.example/hook"}, "webhookCallbackUrl"),
        ({"webhook_callback_url": "https://"}, "webhookCallbackUrl"),
        ({"redirect_url": "hr.example.com/done"}, "redirectUrl"),
        ({"redirect_url": "https://[::1"}, "redirectUrl"),
        ({"person": {**PERSON, "email": "no-at-sign"}}, "email"),
        ({"person": {**PERSON, "email": "a@b"}}, "email"),
        ({"person": {**PERSON, "locale": "english"}}, "locale"),
        ({"person": {**PERSON, "locale": "en_US"}}, "locale"),
        ({"person": {**PERSON, "first_name": " "}}, "firstName"),
        ({"person": {**PERSON, "last_name": None}}, "lastName"),
        ({"person": {"email": "a@b.c"}}, "personDetails"),
        ({"person": {**PERSON, "extra": 1}}, "personDetails"),
        ({"person": "user@example.com"}, "personDetails"),
    ],
)
@responses.activate
def test_validated_before_sending(override: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        order(client(), **override)
    assert info.value.field == field
    assert len(responses.calls) == 0


@responses.activate
def test_new_assessment_types_pass_through() -> None:
    responses.post(SANDBOX, json={})
    order(client(), assessment_type="MATCH_V_V3")
    order(client(), assessment_type=AssessmentType.MATCH_V_V2)
    bodies = [json.loads(c.request.body or b"") for c in responses.calls]
    assert [b["assessmentType"] for b in bodies] == ["MATCH_V_V3", "MATCH_V_V2"]


def test_settings_validated() -> None:
    with pytest.raises(ConfigurationError) as info:
        AssessioClient(provider_key="pk")
    assert info.value.setting == "integrator_secret"
    with pytest.raises(ConfigurationError):
        AssessioClient(provider_key="", integrator_secret="s")
    with pytest.raises(ConfigurationError):
        AssessioClient(provider_key="pk\n", integrator_secret="s")
    with pytest.raises(ConfigurationError):
        AssessioClient(provider_key="pk", integrator_secret="s", environment="staging")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        AssessioClient(provider_key="pk", integrator_secret="s", base_url="not a url")
    with pytest.raises(ConfigurationError):
        AssessioClient(provider_key="pk", integrator_secret="s", link_paths=[])
    with pytest.raises(ConfigurationError):
        AssessioClient(provider_key="pk", integrator_secret="s", link_paths="link")
    with pytest.raises(ConfigurationError):
        AssessioClient(provider_key="pk", integrator_secret="s", link_paths=[("a", None)])  # type: ignore[list-item]


def test_secrets_not_in_repr() -> None:
    c = client()
    assert "pk-123456" not in repr(c)
    assert "secret-abcdef" not in repr(c)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXAMKIT_ASSESSIO_PROVIDER_KEY", raising=False)
    monkeypatch.delenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", raising=False)
    with pytest.raises(ConfigurationError) as info:
        AssessioClient.from_env()
    assert info.value.setting == "EXAMKIT_ASSESSIO_PROVIDER_KEY"
    monkeypatch.setenv("EXAMKIT_ASSESSIO_PROVIDER_KEY", "pk-env")
    with pytest.raises(ConfigurationError) as info:
        AssessioClient.from_env()
    assert info.value.setting == "EXAMKIT_ASSESSIO_INTEGRATOR_SECRET"
    assert not AssessioClient.from_env(sign_requests=False).sign_requests
    monkeypatch.setenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", "s-env")
    with AssessioClient.from_env(environment="production") as c:
        assert c.base_url == "https://api.assessio.online"


def test_the_provider_key_is_kept_only_inside_a_secret() -> None:
    # No attribute of the client holds the provider key as plain text (debuggers and vars() show them).
    from examkit.assessio import AssessioClient

    client = AssessioClient(provider_key="pk-plain-text-canary", integrator_secret="is-canary-value")
    assert all("pk-plain-text-canary" not in repr(value) for value in vars(client).values())
