"""Hostile requests against every webhook verifier: only examkit errors, and never an event unsigned."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.errors import ExamkitError, PayloadError, ValidationError, WebhookVerificationError
from examkit.core.webhook import WebhookRequest
from examkit.itep import ExamResult
from tests.hardening import strategies as hs
from tests.hardening.vendors import CASE_IDS, CASES, ITEP_NO_AUTH, Case


def _request(
    body: bytes, headers: list[tuple[str, str]], url: str | None, method: str
) -> WebhookRequest | None:
    try:
        return WebhookRequest(body=body, headers=headers, url=url, method=method)
    except ValidationError:
        return None  # refused at the door, which is fine: nothing reached a verifier


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@settings(max_examples=150)  # x8 configurations (1 200 in all); some bodies are 1 MB
@given(body=hs.bodies, headers=hs.headers, url=hs.urls, method=hs.methods)
def test_unsigned_requests_raise_only_examkit_errors(
    case: Case, body: bytes, headers: list[tuple[str, str]], url: str | None, method: str
) -> None:
    request = _request(body, headers, url, method)
    if request is None:
        return
    verifier = case.make()
    with pytest.raises(ExamkitError) as info:
        verifier.verify(request)
    # Nothing random is correctly signed, so the refusal is a verification failure, not a parse error.
    assert isinstance(info.value, WebhookVerificationError), repr(info.value)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@settings(max_examples=100)  # x8 configurations; each example verifies a full valid request
@given(extra=hs.headers, url=hs.urls)
def test_a_valid_request_with_hostile_extra_headers_never_crashes(
    case: Case, extra: list[tuple[str, str]], url: str | None
) -> None:
    valid = case.valid()
    pairs = [*valid.headers.items_all(), *extra]
    request = _request(valid.body, pairs, url if url is not None else valid.url, valid.method)
    if request is None:
        return
    try:
        event = case.make().verify(request)
    except ExamkitError:
        return
    assert event is not None


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_conflicting_duplicate_auth_headers_are_refused(case: Case) -> None:
    valid = case.valid()
    pairs = list(valid.headers.items_all())
    doubled = [*pairs, *((name, value + "x") for name, value in pairs if name.lower() != "content-type")]
    if doubled == pairs:
        pytest.skip("the scheme carries no header (the signature is in the body)")
    with pytest.raises(WebhookVerificationError):
        case.make().verify(WebhookRequest(body=valid.body, headers=doubled, url=valid.url))


@settings(max_examples=300)
@given(body=hs.bodies, headers=hs.headers)
def test_itep_without_authentication_reads_or_refuses_cleanly(
    body: bytes, headers: list[tuple[str, str]]
) -> None:
    request = _request(body, headers, None, "POST")
    if request is None:
        return
    try:
        result = ITEP_NO_AUTH().verify(request)
    except (PayloadError, WebhookVerificationError):
        return
    assert isinstance(result, ExamResult)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@settings(max_examples=60)  # x8; a type check at the door, the input space is small
@given(value=hs.json_values)
def test_verify_refuses_things_that_are_not_requests(case: Case, value: Any) -> None:
    with pytest.raises(ExamkitError):
        case.make().verify(value)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_valid_requests_verify(case: Case) -> None:
    # The baseline the properties rest on: each builder really produces an accepted request.
    assert case.make().verify(case.valid()) is not None


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@settings(max_examples=50)  # x8; three kinds of non-text value, little to explore
@given(data=st.data())
def test_headers_as_non_text_are_refused_before_any_verifier(case: Case, data: st.DataObject) -> None:
    value = data.draw(st.one_of(st.integers(), st.binary(), st.none()))
    with pytest.raises(ValidationError):
        WebhookRequest(body=b"{}", headers=[("Authorization", value)])  # type: ignore[list-item]
