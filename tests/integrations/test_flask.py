"""The Flask adapter, through Flask's test client, on app routes, blueprints and add_url_rule."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Blueprint, Flask, request
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder

from examkit.core.clock import FixedClock
from examkit.core.errors import ConfigurationError, PayloadTooLargeError, ValidationError
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrations import BodyAlreadyReadError
from examkit.integrations._common import REJECTED_BODY
from examkit.integrations.flask import verified_webhook, webhook_request_from_flask
from tests.integrations.toy import BODY, NOW, SECRET, Case, ToyEvent, ToyVerifier, failure_cases, toy_headers

URL = "http://localhost/webhooks/toy"

Calls = list[tuple[str, ToyEvent, dict[str, Any]]]


def make_app(verifier: Any, calls: Calls) -> Flask:
    app = Flask("examkit-tests")
    app.testing = True

    def record(name: str, event: ToyEvent, **kwargs: Any) -> dict[str, Any]:
        calls.append((name, event, kwargs))
        return {"candidate": event.candidate, "score": event.score, **kwargs}

    @app.post("/webhooks/toy")
    @verified_webhook(verifier)
    def plain(event: ToyEvent) -> dict[str, Any]:
        # The body stays readable after verification (get_data(cache=True)).
        assert request.get_json(force=True)["candidate"] == event.candidate
        return record("plain", event)

    @app.post("/async/toy")
    @verified_webhook(verifier)
    async def asynchronous(event: ToyEvent) -> dict[str, Any]:
        return record("async", event)

    @app.post("/public/toy")
    @verified_webhook(verifier, public_url="https://hooks.example.com")
    def public(event: ToyEvent) -> dict[str, Any]:
        return record("public", event)

    @app.post("/prefixed/toy")
    @verified_webhook(verifier, public_url="https://example.com/api")
    def prefixed(event: ToyEvent) -> dict[str, Any]:
        return record("prefixed", event)

    @app.post("/forwarded/toy")
    @verified_webhook(verifier, trust_forwarded=True)
    def forwarded(event: ToyEvent) -> dict[str, Any]:
        return record("forwarded", event)

    @app.post("/consumed/toy")
    @verified_webhook(verifier)
    def consumed(event: ToyEvent) -> dict[str, Any]:
        return record("consumed", event)

    @app.before_request
    def read_form_too_early() -> None:
        if request.path == "/consumed/toy":
            _ = request.form

    blueprint = Blueprint("tenants", __name__, url_prefix="/tenants/<tenant>")

    @blueprint.post("/toy")
    @verified_webhook(verifier)
    def tenant(event: ToyEvent, tenant: str) -> dict[str, Any]:
        return record("tenant", event, tenant=tenant)

    app.register_blueprint(blueprint)

    def by_rule(event: ToyEvent) -> tuple[str, int]:
        record("rule", event)
        return "", 204

    app.add_url_rule("/rule/toy", view_func=verified_webhook(verifier)(by_rule), methods=["POST"])
    return app


@pytest.fixture
def calls() -> Calls:
    return []


@pytest.fixture
def client(calls: Calls) -> FlaskClient:
    clock = FixedClock(NOW)
    verifier = ToyVerifier(clock=clock, replay_guard=InMemoryReplayGuard(clock=clock))
    return make_app(verifier, calls).test_client()


def test_a_valid_webhook_reaches_the_view_with_the_typed_event(client: FlaskClient, calls: Calls) -> None:
    response = client.post("/webhooks/toy", data=BODY, headers=toy_headers(BODY, url=URL))
    assert response.status_code == 200
    assert response.get_json() == {"candidate": "Ada Lovelace", "score": 97}
    assert len(calls) == 1
    assert calls[0][1] == ToyEvent(candidate="Ada Lovelace", score=97, nonce="nonce-1")


@pytest.mark.parametrize("case", failure_cases(URL), ids=lambda c: c.id)
def test_a_bad_webhook_gets_its_status_and_never_reaches_the_view(
    client: FlaskClient, calls: Calls, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="examkit.integrations"):
        response = client.post("/webhooks/toy", data=case.body, headers=case.headers)
    assert response.status_code == case.status
    assert response.get_data() == REJECTED_BODY.encode()
    assert response.mimetype == "text/plain"
    assert calls == []
    records = [r for r in caplog.records if r.name == "examkit.integrations"]
    assert len(records) == 1
    assert records[0].examkit_error == case.error  # type: ignore[attr-defined]
    text = records[0].getMessage()
    assert case.error in text
    assert SECRET.decode() not in text
    signature = case.headers.get("X-Toy-Signature")
    if signature:
        assert signature not in text


def test_a_replay_gets_409_and_the_view_runs_once(client: FlaskClient, calls: Calls) -> None:
    headers = toy_headers(BODY, url=URL)
    assert client.post("/webhooks/toy", data=BODY, headers=headers).status_code == 200
    second = client.post("/webhooks/toy", data=BODY, headers=headers)
    assert second.status_code == 409
    assert second.get_data() == REJECTED_BODY.encode()
    assert len(calls) == 1


def test_blueprint_route_with_url_variables(client: FlaskClient, calls: Calls) -> None:
    url = "http://localhost/tenants/acme/toy"
    response = client.post("/tenants/acme/toy", data=BODY, headers=toy_headers(BODY, url=url))
    assert response.status_code == 200
    assert response.get_json()["tenant"] == "acme"
    assert calls[0][0] == "tenant"
    tampered = client.post(
        "/tenants/acme/toy", data=BODY + b" ", headers=toy_headers(BODY, url=url, nonce="n2")
    )
    assert tampered.status_code == 401
    assert len(calls) == 1


def test_add_url_rule(client: FlaskClient, calls: Calls) -> None:
    url = "http://localhost/rule/toy"
    assert client.post("/rule/toy", data=BODY, headers=toy_headers(BODY, url=url)).status_code == 204
    assert client.post("/rule/toy", data=BODY).status_code == 400
    assert [c[0] for c in calls] == ["rule"]


def test_async_view(client: FlaskClient, calls: Calls) -> None:
    url = "http://localhost/async/toy"
    assert client.post("/async/toy", data=BODY, headers=toy_headers(BODY, url=url)).status_code == 200
    stale = toy_headers(BODY, url=url, timestamp=NOW - 301, nonce="n2")
    assert client.post("/async/toy", data=BODY, headers=stale).status_code == 401
    assert [c[0] for c in calls] == ["async"]


def test_the_view_keeps_its_name() -> None:
    def results(event: object) -> str:
        """Doc."""
        return ""

    wrapped = verified_webhook(ToyVerifier(clock=FixedClock(NOW)))(results)
    assert wrapped.__name__ == "results"
    assert wrapped.__doc__ == "Doc."


class TestProxies:
    def test_without_configuration_a_rewritten_url_is_a_mismatch(self, client: FlaskClient) -> None:
        headers = toy_headers(BODY, url="https://hooks.example.com/webhooks/toy")
        response = client.post("/webhooks/toy", data=BODY, headers=headers, base_url="http://internal:8000")
        assert response.status_code == 401

    def test_public_url_replaces_scheme_and_host(self, client: FlaskClient) -> None:
        headers = toy_headers(BODY, url="https://hooks.example.com/public/toy?attempt=2&x=a%20b")
        response = client.post(
            "/public/toy?attempt=2&x=a%20b", data=BODY, headers=headers, base_url="http://internal:8000"
        )
        assert response.status_code == 200

    def test_public_url_with_a_path_is_a_prefix(self, client: FlaskClient) -> None:
        headers = toy_headers(BODY, url="https://example.com/api/prefixed/toy")
        response = client.post("/prefixed/toy", data=BODY, headers=headers, base_url="http://internal")
        assert response.status_code == 200

    def test_trusted_forwarded_headers(self, client: FlaskClient) -> None:
        headers = toy_headers(BODY, url="https://hooks.example.com/forwarded/toy")
        headers["X-Forwarded-Proto"] = "https"
        headers["X-Forwarded-Host"] = "spoofed.example, hooks.example.com"
        response = client.post("/forwarded/toy", data=BODY, headers=headers, base_url="http://internal")
        assert response.status_code == 200

    def test_trusted_forwarding_without_headers_uses_the_request(self, client: FlaskClient) -> None:
        headers = toy_headers(BODY, url="http://localhost/forwarded/toy")
        assert client.post("/forwarded/toy", data=BODY, headers=headers).status_code == 200

    @pytest.mark.parametrize(
        ("name", "value"),
        [("X-Forwarded-Host", "hooks.example.com/evil"), ("X-Forwarded-Proto", "ftp")],
    )
    def test_malformed_forwarded_headers_get_400(
        self, client: FlaskClient, calls: Calls, name: str, value: str
    ) -> None:
        headers = toy_headers(BODY, url="https://hooks.example.com/forwarded/toy")
        headers[name] = value
        assert client.post("/forwarded/toy", data=BODY, headers=headers).status_code == 400
        assert calls == []


class TestWebhookRequestFromFlask:
    def test_raw_body_headers_method_and_url(self) -> None:
        app = Flask("examkit-tests")
        body = b'\xff\x00{"not": "utf-8"}\r\n'
        with app.test_request_context(
            "/some/path?b=%20x&a=1",
            method="PUT",
            data=body,
            content_type="application/octet-stream",
            headers={"X-Toy-Signature": "abc"},
            base_url="https://hooks.example.com:8443",
        ):
            webhook = webhook_request_from_flask()
            assert isinstance(webhook, WebhookRequest)
            assert webhook.body == body
            assert webhook.method == "PUT"
            assert webhook.url == "https://hooks.example.com:8443/some/path?b=%20x&a=1"
            assert webhook.headers["x-toy-signature"] == "abc"
            assert request.get_data() == body  # still readable afterwards

    def test_form_encoded_bodies_are_read_raw(self) -> None:
        app = Flask("examkit-tests")
        body = b"candidate=Ada+Lovelace&score=97"
        with app.test_request_context(
            "/x", method="POST", data=body, content_type="application/x-www-form-urlencoded"
        ):
            assert webhook_request_from_flask().body == body
            assert request.form["candidate"] == "Ada Lovelace"  # the form still parses after

    def test_an_explicit_request_object(self) -> None:
        environ = EnvironBuilder(path="/x", method="POST", data=b"{}").get_environ()
        from flask import Request

        assert webhook_request_from_flask(Request(environ)).body == b"{}"

    def test_a_consumed_body_is_a_clear_error(self, client: FlaskClient, calls: Calls) -> None:
        with pytest.raises(BodyAlreadyReadError, match=r"request\.form") as info:
            client.post("/consumed/toy", data={"candidate": "Ada"})
        assert isinstance(info.value, ConfigurationError)
        assert calls == []

    def test_a_body_over_flask_limit(self, calls: Calls) -> None:
        app = make_app(ToyVerifier(clock=FixedClock(NOW)), calls)
        app.config["MAX_CONTENT_LENGTH"] = 10
        with app.test_request_context("/x", method="POST", data=b"x" * 11):
            with pytest.raises(PayloadTooLargeError, match="MAX_CONTENT_LENGTH") as info:
                webhook_request_from_flask()
            assert (info.value.size, info.value.limit) == (11, 10)
        response = app.test_client().post("/webhooks/toy", data=BODY, headers=toy_headers(BODY, url=URL))
        assert response.status_code == 413
        assert calls == []

    @pytest.mark.parametrize("public_url", ["hooks.example.com", "ftp://h", "https://h/#frag", "https://:x"])
    def test_invalid_public_url(self, public_url: str) -> None:
        with pytest.raises(ConfigurationError):
            verified_webhook(ToyVerifier(clock=FixedClock(NOW)), public_url=public_url)

    def test_public_url_and_trust_forwarded_exclude_each_other(self) -> None:
        app = Flask("examkit-tests")
        with (
            app.test_request_context("/x", method="POST", data=b"{}"),
            pytest.raises(ConfigurationError, match="not both"),
        ):
            webhook_request_from_flask(public_url="https://h.example", trust_forwarded=True)

    def test_malformed_forwarded_host_is_a_validation_error(self) -> None:
        app = Flask("examkit-tests")
        with (
            app.test_request_context("/x", method="POST", data=b"{}", headers={"X-Forwarded-Host": "a b"}),
            pytest.raises(ValidationError) as info,
        ):
            webhook_request_from_flask(trust_forwarded=True)
        assert info.value.field == "X-Forwarded-Host"

    def test_a_verifier_is_required(self) -> None:
        with pytest.raises(ConfigurationError, match="verifier"):
            verified_webhook(None)  # type: ignore[arg-type]


class _Misconfigured:
    def verify(self, request: WebhookRequest) -> ToyEvent:
        raise ConfigurationError("the secret is not base64", setting="api_key")


def test_configuration_errors_are_not_answered_as_bad_requests(calls: Calls) -> None:
    client = make_app(_Misconfigured(), calls).test_client()
    with pytest.raises(ConfigurationError, match="base64"):
        client.post("/webhooks/toy", data=BODY, headers=toy_headers(BODY, url=URL))
    assert calls == []


def test_json_body_is_what_the_vendor_sent(client: FlaskClient) -> None:
    # Key order and spacing are kept: a re-serialised body would not verify.
    body = json.dumps({"score": 97, "candidate": "Ada Lovelace"}, indent=3).encode()
    assert client.post("/webhooks/toy", data=body, headers=toy_headers(body, url=URL)).status_code == 200


def test_werkzeug_proxy_fix_is_honoured_by_default(calls: Calls) -> None:
    app = make_app(ToyVerifier(clock=FixedClock(NOW)), calls)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
    headers = toy_headers(BODY, url="https://hooks.example.com/webhooks/toy")
    headers.update({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"})
    response = app.test_client().post("/webhooks/toy", data=BODY, headers=headers, base_url="http://internal")
    assert response.status_code == 200


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
    calls: Calls = []
    app = make_app(ToyVerifier(clock=FixedClock(NOW)), calls)
    response = app.test_client().post(path, data=body, headers=headers)
    assert response.status_code in {400, 401, 409, 413}
    assert response.get_data() == REJECTED_BODY.encode()
    assert calls == []
