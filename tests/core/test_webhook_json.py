"""WebhookRequest's JSON-safe form: what a view enqueues and a worker verifies later."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import ValidationError
from examkit.core.webhook import WebhookRequest

header_text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=20)


@given(
    body=st.binary(max_size=512),
    headers=st.lists(st.tuples(header_text.filter(bool), header_text), max_size=6),
    url=st.none() | st.just("https://hooks.example.com/x?a=1&b=%20"),
    method=st.sampled_from(["POST", "put", "Patch"]),
    received_at=st.floats(min_value=0, max_value=4e9, allow_nan=False) | st.integers(0, 2**33),
)
def test_the_json_form_round_trips_exactly(
    body: bytes, headers: list[tuple[str, str]], url: str | None, method: str, received_at: float
) -> None:
    request = WebhookRequest(body=body, headers=headers, url=url, method=method, received_at=received_at)
    form = json.loads(json.dumps(request.to_json_dict()))  # through a queue's JSON
    again = WebhookRequest.from_json_dict(form)
    assert again.body == body
    # Every pair kept, repeats and spelling included, in the order Headers holds them (by name).
    assert list(again.headers.items_all()) == list(request.headers.items_all())
    assert sorted(again.headers.items_all()) == sorted(headers)
    assert again.url == url
    assert again.method == method.upper()
    assert again.received_at == float(received_at)


def test_the_form_is_what_the_docs_say() -> None:
    request = WebhookRequest(
        body=b"\x00\xff{}", headers=[("X-A", "1"), ("x-a", "2")], url="https://h/x", received_at=12.5
    )
    assert request.to_json_dict() == {
        "body": base64.b64encode(b"\x00\xff{}").decode(),  # computed independently
        "headers": [["X-A", "1"], ["x-a", "2"]],
        "url": "https://h/x",
        "method": "POST",
        "received_at": 12.5,
    }


def test_an_unset_received_at_is_recorded_when_enqueued(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.time", lambda: 1_700_000_123.0)
    form = WebhookRequest(body=b"{}").to_json_dict()
    assert form["received_at"] == 1_700_000_123.0


@pytest.mark.parametrize(
    "form",
    [
        [],
        {},
        {"body": "not base64!"},
        {"body": 5},
        {"body": "e30=", "headers": {"a": "b"}},
        {"body": "e30=", "headers": [["a"]]},
        {"body": "e30=", "headers": [["a", 1]]},
        {"body": "e30=", "received_at": "yesterday"},
        {"body": "e30=", "method": ""},
        {"body": "e30=", "url": 7},
    ],
)
def test_a_malformed_form_is_a_validation_error(form: Any) -> None:
    with pytest.raises(ValidationError):
        WebhookRequest.from_json_dict(form)


def test_the_repr_of_a_rebuilt_request_shows_no_header_values() -> None:
    form = WebhookRequest(body=b"{}", headers={"Authorization": "Bearer s3cret"}).to_json_dict()
    assert "s3cret" not in repr(WebhookRequest.from_json_dict(form))
