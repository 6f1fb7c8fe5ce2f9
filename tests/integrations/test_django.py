"""The Django adapter, through Django's test client with CSRF checks on."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, RequestFactory, override_settings  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.clock import FixedClock
from examkit.core.errors import ConfigurationError, PayloadTooLargeError, ValidationError
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrations import BodyAlreadyReadError
from examkit.integrations._common import REJECTED_BODY
from examkit.integrations.django import verified_webhook, webhook_request_from_django
from tests.integrations import django_urls
from tests.integrations.toy import (
    BODY,
    NOW,
    SECRET,
    Case,
    ToyEvent,
    ToyVerifier,
    failure_cases,
    toy_headers,
)

URL = "http://testserver/webhooks/toy"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(autouse=True)
def verifier(clock: FixedClock) -> Iterator[ToyVerifier]:
    target = ToyVerifier(clock=clock, replay_guard=InMemoryReplayGuard(clock=clock))
    django_urls.VERIFIER.target = target
    django_urls.CALLS.clear()
    yield target
    django_urls.VERIFIER.target = None
    django_urls.CALLS.clear()


@pytest.fixture
def client() -> Client:
    # CSRF checks on, as in production: the decorator must exempt the view.
    return Client(enforce_csrf_checks=True)


def post(client: Client, path: str, body: bytes, headers: dict[str, str], **extra: str) -> Any:
    return client.post(path, data=body, content_type="application/json", headers=headers, **extra)


def test_a_valid_webhook_reaches_the_view_with_the_typed_event(client: Client) -> None:
    response = post(client, "/webhooks/toy", BODY, toy_headers(BODY, url=URL))
    assert response.status_code == 200
    assert json.loads(response.content) == {"candidate": "Ada Lovelace", "score": 97}
    assert len(django_urls.CALLS) == 1
    name, event, kwargs = django_urls.CALLS[0]
    assert (name, kwargs) == ("plain", {})
    assert event == ToyEvent(candidate="Ada Lovelace", score=97, nonce="nonce-1")


@pytest.mark.parametrize("case", failure_cases(URL), ids=lambda c: c.id)
def test_a_bad_webhook_gets_its_status_and_never_reaches_the_view(
    client: Client, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="examkit.integrations"):
        response = post(client, "/webhooks/toy", case.body, case.headers)
    assert response.status_code == case.status
    assert response.content == REJECTED_BODY.encode()
    assert response["Content-Type"].startswith("text/plain")
    assert django_urls.CALLS == []
    records = [r for r in caplog.records if r.name == "examkit.integrations"]
    assert len(records) == 1
    record = records[0]
    assert record.examkit_error == case.error  # type: ignore[attr-defined]
    assert record.examkit_status == case.status  # type: ignore[attr-defined]
    text = record.getMessage()
    assert case.error in text
    assert "/webhooks/toy" in text
    assert SECRET.decode() not in text
    signature = case.headers.get("X-Toy-Signature")
    if signature:
        assert signature not in text


def test_a_replay_gets_409_and_the_view_runs_once(client: Client) -> None:
    headers = toy_headers(BODY, url=URL)
    assert post(client, "/webhooks/toy", BODY, headers).status_code == 200
    second = post(client, "/webhooks/toy", BODY, headers)
    assert second.status_code == 409
    assert second.content == REJECTED_BODY.encode()
    assert len(django_urls.CALLS) == 1


def test_the_view_is_csrf_exempt_and_keeps_its_name() -> None:
    def results(request: object, event: object) -> None:
        """Doc."""

    wrapped = verified_webhook(ToyVerifier(clock=FixedClock(NOW)))(results)
    assert wrapped.csrf_exempt is True  # type: ignore[attr-defined]
    assert wrapped.__name__ == "results"
    assert wrapped.__doc__ == "Doc."


def test_url_arguments_follow_the_event(client: Client) -> None:
    url = "http://testserver/tenants/acme/toy"
    response = post(client, "/tenants/acme/toy", BODY, toy_headers(BODY, url=url))
    assert response.status_code == 200
    assert django_urls.CALLS[0][0] == "tenant"
    assert django_urls.CALLS[0][2] == {"tenant": "acme"}


def test_async_views(client: Client) -> None:
    url = "http://testserver/async/toy"
    ok = post(client, "/async/toy", BODY, toy_headers(BODY, url=url))
    assert ok.status_code == 200
    assert json.loads(ok.content)["candidate"] == "Ada Lovelace"
    stale = post(client, "/async/toy", BODY, toy_headers(BODY, url=url, timestamp=NOW - 999, nonce="n2"))
    assert stale.status_code == 401
    assert [name for name, _, _ in django_urls.CALLS] == ["async"]


class TestProxies:
    def test_without_configuration_a_rewritten_url_is_a_mismatch(self, client: Client) -> None:
        headers = toy_headers(BODY, url="https://hooks.example.com/webhooks/toy")
        response = post(client, "/webhooks/toy", BODY, headers, HTTP_HOST="internal")
        assert response.status_code == 401
        assert django_urls.CALLS == []

    def test_public_url_replaces_scheme_and_host(self, client: Client) -> None:
        headers = toy_headers(BODY, url="https://hooks.example.com/public/toy?attempt=2")
        response = post(client, "/public/toy?attempt=2", BODY, headers, HTTP_HOST="internal:8000")
        assert response.status_code == 200

    def test_public_url_with_a_path_is_a_prefix(self, client: Client) -> None:
        headers = toy_headers(BODY, url="https://example.com/api/prefixed/toy")
        response = post(client, "/prefixed/toy", BODY, headers, HTTP_HOST="internal")
        assert response.status_code == 200

    def test_trusted_forwarded_headers(self, client: Client) -> None:
        headers = toy_headers(BODY, url="https://hooks.example.com/forwarded/toy")
        headers["X-Forwarded-Proto"] = "https"
        # The nearest proxy appends its value: the last one counts.
        headers["X-Forwarded-Host"] = "spoofed.example, hooks.example.com"
        response = post(client, "/forwarded/toy", BODY, headers, HTTP_HOST="internal")
        assert response.status_code == 200

    def test_trusted_forwarding_without_headers_uses_the_request(self, client: Client) -> None:
        headers = toy_headers(BODY, url="http://testserver/forwarded/toy")
        assert post(client, "/forwarded/toy", BODY, headers).status_code == 200

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("X-Forwarded-Host", "hooks.example.com/evil"),
            ("X-Forwarded-Host", "user@hooks.example.com"),
            ("X-Forwarded-Proto", "gopher"),
        ],
    )
    def test_malformed_forwarded_headers_get_400(self, client: Client, name: str, value: str) -> None:
        headers = toy_headers(BODY, url="https://hooks.example.com/forwarded/toy")
        headers[name] = value
        response = post(client, "/forwarded/toy", BODY, headers)
        assert response.status_code == 400
        assert django_urls.CALLS == []

    def test_django_proxy_settings_are_honoured_by_default(self) -> None:
        request = RequestFactory().post(
            "/webhooks/toy",
            data=b"{}",
            content_type="application/json",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"},
        )
        with override_settings(
            SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), USE_X_FORWARDED_HOST=True
        ):
            webhook = webhook_request_from_django(request)
        assert webhook.url == "https://hooks.example.com/webhooks/toy"


class TestWebhookRequestFromDjango:
    def test_raw_body_headers_method_and_url(self) -> None:
        body = b'\xff\x00{"not": "utf-8"}\r\n'
        request = RequestFactory().put(
            "/some/path?b=%20x&a=1",
            data=body,
            content_type="application/octet-stream",
            headers={"X-Toy-Signature": "abc", "X-Repeated": "1"},
        )
        webhook = webhook_request_from_django(request)
        assert isinstance(webhook, WebhookRequest)
        assert webhook.body == body
        assert webhook.method == "PUT"
        assert webhook.url == "http://testserver/some/path?b=%20x&a=1"
        assert webhook.headers["x-toy-signature"] == "abc"
        assert webhook.headers["content-type"] == "application/octet-stream"

    def test_a_consumed_body_is_a_clear_error(self) -> None:
        request = RequestFactory().post("/x", data={"field": "value"})  # multipart
        _ = request.POST
        with pytest.raises(BodyAlreadyReadError, match=r"request\.POST") as info:
            webhook_request_from_django(request)
        assert isinstance(info.value, ConfigurationError)

    def test_a_consumed_body_propagates_from_the_decorator(self, client: Client) -> None:
        with pytest.raises(BodyAlreadyReadError, match="verified_webhook"):
            client.post("/consumed/toy", data={"field": "value"})
        assert django_urls.CALLS == []

    def test_a_body_over_django_limit(self, client: Client) -> None:
        request = RequestFactory().post("/x", data=b"x" * 11, content_type="application/json")
        with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10):
            with pytest.raises(PayloadTooLargeError, match="DATA_UPLOAD_MAX_MEMORY_SIZE") as info:
                webhook_request_from_django(request)
            assert (info.value.size, info.value.limit) == (11, 10)
            response = post(client, "/webhooks/toy", BODY, toy_headers(BODY, url=URL))
        assert response.status_code == 413
        assert django_urls.CALLS == []

    @pytest.mark.parametrize(
        "public_url",
        ["hooks.example.com", "ftp://hooks.example.com", "https://hooks.example.com/?a=1", "https://"],
    )
    def test_invalid_public_url(self, public_url: str) -> None:
        request = RequestFactory().post("/x", data=b"{}", content_type="application/json")
        with pytest.raises(ConfigurationError) as info:
            webhook_request_from_django(request, public_url=public_url)
        assert info.value.setting == "public_url"
        with pytest.raises(ConfigurationError):
            verified_webhook(ToyVerifier(clock=FixedClock(NOW)), public_url=public_url)

    def test_public_url_and_trust_forwarded_exclude_each_other(self) -> None:
        with pytest.raises(ConfigurationError, match="not both"):
            verified_webhook(
                ToyVerifier(clock=FixedClock(NOW)),
                public_url="https://hooks.example.com",
                trust_forwarded=True,
            )

    def test_malformed_forwarded_host_is_a_validation_error(self) -> None:
        request = RequestFactory().post(
            "/x", data=b"{}", content_type="application/json", headers={"X-Forwarded-Host": "a b"}
        )
        with pytest.raises(ValidationError) as info:
            webhook_request_from_django(request, trust_forwarded=True)
        assert info.value.field == "X-Forwarded-Host"

    def test_a_verifier_is_required(self) -> None:
        with pytest.raises(ConfigurationError, match="verifier"):
            verified_webhook(object())  # type: ignore[arg-type]


class _Misconfigured:
    def verify(self, request: WebhookRequest) -> ToyEvent:
        raise ConfigurationError("the secret is not base64", setting="api_key")


def test_configuration_errors_are_not_answered_as_bad_requests(client: Client) -> None:
    django_urls.VERIFIER.target = _Misconfigured()
    with pytest.raises(ConfigurationError, match="base64"):
        post(client, "/webhooks/toy", BODY, toy_headers(BODY, url=URL))
    assert django_urls.CALLS == []


_HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@settings(max_examples=60)
@given(
    body=st.binary(max_size=300),
    headers=st.dictionaries(
        st.sampled_from(
            ["X-Toy-Signature", "X-Toy-Timestamp", "X-Toy-Nonce", "X-Forwarded-Proto", "X-Forwarded-Host"]
        ),
        _HEADER_TEXT,
    ),
    path=st.sampled_from(["/webhooks/toy", "/forwarded/toy", "/public/toy", "/async/toy"]),
)
def test_arbitrary_requests_are_answered_never_crash(body: bytes, headers: dict[str, str], path: str) -> None:
    django_urls.CALLS.clear()
    response = Client().post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code in {400, 401, 409, 413}
    assert response.content == REJECTED_BODY.encode()
    assert django_urls.CALLS == []
