"""Deep nesting never escapes as RecursionError, and a refused payload never uses up a replay claim.

Every verifier with a replay guard checks the signature and freshness, then parses, and only then
claims the delivery in the guard: a body refused while parsing leaves the guard as it was, so the
genuine delivery (and the vendor's retries) are still accepted afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.errors import ExamkitError, PayloadError, ReplayedRequestError
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import TestpressWebhookVerifier
from examkit.testpress._literals import load_json_with_literals, plain_json
from tests.hardening.hostile import TARGETS, Raw, Target, put

LIMIT = 64  # examkit.core.serde.MAX_JSON_DEPTH
GUARDED = [t for t in TARGETS if t.name != "assessio-key"]  # key-only Assessio has no replay guard
DEPTHS = [LIMIT - 3, LIMIT - 1, LIMIT, LIMIT + 1, 600, 990, 1_100, 5_000]


class CountingGuard(InMemoryReplayGuard):
    """The in-memory guard, counting the keys claimed."""

    def __init__(self) -> None:
        super().__init__()
        self.claimed: list[str] = []

    def add(self, key: str, *, ttl: float) -> bool:
        added = super().add(key, ttl=ttl)
        if added:
            self.claimed.append(key)
        return added


def test_the_reported_testpress_repro() -> None:
    guard = InMemoryReplayGuard()
    verifier = TestpressWebhookVerifier(public_key="pk", private_key="sk", replay_guard=guard)
    body = sign_exam_webhook(sample_exam_webhook_payload(public_key="pk"), private_key="sk")
    hostile = body[:-1] + b',"note":' + b"[" * 600 + b"]" * 600 + b"}"
    with pytest.raises(ExamkitError) as info:
        verifier.verify(WebhookRequest(body=hostile))
    assert "too deep" in str(getattr(info.value, "reason", ""))
    assert verifier.verify(WebhookRequest(body=body)).attempt_id == 130  # the genuine delivery


def _deep(depth: int) -> Raw:
    return Raw(b"[" * depth + b"1" + b"]" * depth)


def _fields(target: Target) -> list[tuple[str | int, ...]]:
    """A field outside any signature, and for Testpress one the hash covers."""
    fields: list[tuple[str | int, ...]] = [target.free_path, ("examkit_unknown_note",)]
    if target.signed:
        fields.append(("score",))
    return fields


def _attempt(target: Target, payload: Any, guard: CountingGuard, serial: int) -> None:
    verifier = target.verifier(guard)
    request = target.request(payload, serial)
    try:
        verifier.verify(request)
    except ExamkitError:
        assert guard.claimed == [], "a refused body was claimed in the replay guard"
    except BaseException as exc:
        pytest.fail(f"{type(exc).__name__} escaped verify(): {exc!r}")
    else:
        return  # accepted (an unknown key may nest within the limit): claimed, as it should be
    # The genuine delivery, with the same nonce or signature slot, is accepted afterwards, once.
    genuine = target.request(target.sample(), serial)
    verifier = target.verifier(guard)
    verifier.verify(genuine)
    with pytest.raises(ReplayedRequestError):
        verifier.verify(target.request(target.sample(), serial))


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("target", GUARDED, ids=[t.name for t in GUARDED])
def test_deep_fields_only_raise_examkit_errors_and_leave_the_guard(target: Target, depth: int) -> None:
    for path in _fields(target):
        payload = target.sample()
        put(payload, path, _deep(max(1, depth - len(path))))
        _attempt(target, payload, CountingGuard(), serial=depth)


@pytest.mark.parametrize("target", GUARDED, ids=[t.name for t in GUARDED])
@settings(max_examples=15)
@given(depth=st.integers(min_value=1, max_value=2_000), where=st.integers(min_value=0, max_value=2))
def test_property_nesting_at_any_depth(target: Target, depth: int, where: int) -> None:
    fields = _fields(target)
    payload = target.sample()
    put(payload, fields[where % len(fields)], _deep(depth))
    _attempt(target, payload, CountingGuard(), serial=depth)


def test_a_payload_that_does_not_fit_leaves_the_guard_unclaimed() -> None:
    for target in TARGETS:
        if target.name == "assessio-key":
            continue
        payload = target.sample()
        put(payload, target.free_path, {"not": "text"})
        guard = CountingGuard()
        with pytest.raises(PayloadError):
            target.verifier(guard).verify(target.request(payload, 7))
        assert guard.claimed == [], target.name
        target.verifier(guard).verify(target.request(target.sample(), 7))
        assert len(guard.claimed) == 1


# --- Testpress's literal decoder and plain_json -------------------------------------------------


def test_literal_decoder_refuses_deep_nesting_as_a_payload_error() -> None:
    with pytest.raises(PayloadError) as info:
        load_json_with_literals(b'{"a":' + b"[" * 1_100 + b"]" * 1_100 + b"}")
    assert info.value.reason == "too deep"
    assert info.value.vendor == "testpress"
    nested = b'{"a":' + b"[" * (LIMIT - 1) + b"]" * (LIMIT - 1) + b"}"
    assert load_json_with_literals(nested) == json.loads(nested)


def test_plain_json_walks_any_depth() -> None:
    value: Any = 1
    for _ in range(10_000):  # far past Python's recursion limit
        value = [value]
    plain = plain_json({"a": value})
    for _ in range(10_000):
        plain = plain[0] if isinstance(plain, list) else plain["a"][0]
    assert plain == 1
