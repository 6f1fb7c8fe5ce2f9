"""Flip one bit of a valid request: what the scheme covers is refused, what it does not is marked.

Each property starts from a correctly signed request (built with the canary secret) and flips one bit
of the body, the signature, the timestamp or the nonce.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.errors import ExamkitError, PayloadError, WebhookVerificationError
from examkit.core.webhook import WebhookRequest
from examkit.integrity_advocate import ReviewCallback
from examkit.testpress import ExamWebhookEvent
from tests.hardening.vendors import CASES, Case

BY_NAME = {c.name: c for c in CASES}


def _flip(data: bytes, bit: int) -> bytes:
    index, offset = divmod(bit % (8 * len(data)), 8)
    out = bytearray(data)
    out[index] ^= 1 << offset
    return bytes(out)


def _flip_text(text: str, bit: int) -> str:
    # Header values arrive as text; a flipped byte is read back as Latin-1, as WSGI servers do.
    return _flip(text.encode("latin-1"), bit).decode("latin-1")


def _with_header(request: WebhookRequest, name: str, value: str) -> WebhookRequest:
    headers = {k: v for k, v in request.headers.items() if k.lower() != name.lower()}
    headers[name] = value
    return WebhookRequest(body=request.body, headers=headers, url=request.url, method=request.method)


BODY_COVERED = [c for c in CASES if c.covers_body and c.name != "testpress"]


@pytest.mark.parametrize("case", BODY_COVERED, ids=[c.name for c in BODY_COVERED])
@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_any_flipped_body_bit_is_refused_where_the_signature_covers_the_body(case: Case, bit: int) -> None:
    valid = case.valid()
    mutated = WebhookRequest(body=_flip(valid.body, bit), headers=valid.headers, url=valid.url)
    with pytest.raises(WebhookVerificationError):
        case.make().verify(mutated)


# -- the signature ------------------------------------------------------------------------------------

_SIGNATURE_HEADERS = {
    "itep-hmac-hex": ("X-Itep-Signature", "hex"),
    "itep-hmac-base64": ("X-Itep-Signature", "base64"),
}


@pytest.mark.parametrize("name", sorted(_SIGNATURE_HEADERS))
@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_any_flipped_digest_bit_is_refused_itep(name: str, bit: int) -> None:
    case = BY_NAME[name]
    header, encoding = _SIGNATURE_HEADERS[name]
    valid = case.valid()
    text = valid.headers[header]
    digest = bytes.fromhex(text) if encoding == "hex" else base64.b64decode(text)
    flipped = _flip(digest, bit)
    value = flipped.hex() if encoding == "hex" else base64.b64encode(flipped).decode()
    with pytest.raises(WebhookVerificationError):
        case.make().verify(_with_header(valid, header, value))


@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_any_flipped_bit_of_base64_signature_text_is_refused_itep(bit: int) -> None:
    # Base64 text has no case-insensitive form, so every changed character must be refused,
    # including changes to the unused low bits of the last character (a non-canonical encoding).
    case = BY_NAME["itep-hmac-base64"]
    valid = case.valid()
    value = _flip_text(valid.headers["X-Itep-Signature"], bit)
    with pytest.raises(WebhookVerificationError):
        case.make().verify(_with_header(valid, "X-Itep-Signature", value))


@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_any_flipped_hex_signature_character_is_refused_unless_only_its_case_changed(bit: int) -> None:
    case = BY_NAME["itep-hmac-hex"]
    valid = case.valid()
    original = valid.headers["X-Itep-Signature"]
    value = _flip_text(original, bit)
    request = _with_header(valid, "X-Itep-Signature", value)
    if value.lower() == original.lower():
        assert case.make().verify(request) is not None  # hex is case-insensitive: the same digest
        return
    with pytest.raises(WebhookVerificationError):
        case.make().verify(request)


@pytest.mark.parametrize(
    ("name", "header"), [("itep-token", "X-Itep-Token"), ("itep-basic", "Authorization")]
)
@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_any_flipped_credential_bit_is_refused(name: str, header: str, bit: int) -> None:
    case = BY_NAME[name]
    valid = case.valid()
    value = valid.headers[header]
    if name == "itep-basic":  # flip inside the decoded "user:password", which is what is compared
        raw = base64.b64decode(value.split(" ", 1)[1])
        value = "Basic " + base64.b64encode(_flip(raw, bit)).decode()
    else:
        value = _flip_text(value, bit)
    with pytest.raises(WebhookVerificationError):
        case.make().verify(_with_header(valid, header, value))


@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_any_flipped_bit_of_the_assessio_api_key_is_refused(bit: int) -> None:
    case = BY_NAME["assessio-key"]
    valid = case.valid()
    value = _flip_text(valid.headers["integrator-api-key"], bit)
    with pytest.raises(WebhookVerificationError):
        case.make().verify(_with_header(valid, "integrator-api-key", value))


# -- Assessio's Signature header: timestamp and signature -----------------------------------------------


@pytest.mark.parametrize("part", ["t", "signature"])
@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_any_flipped_bit_of_assessio_timestamp_or_signature_is_refused(part: str, bit: int) -> None:
    case = BY_NAME["assessio-signed"]
    valid = case.valid()
    fields = dict(p.split("=", 1) for p in valid.headers["Signature"].split(","))
    if part == "signature":
        fields[part] = _flip(bytes.fromhex(fields[part]), bit).hex()
    else:
        fields[part] = _flip_text(fields[part], bit)
    value = ",".join(f"{k}={v}" for k, v in fields.items())
    with pytest.raises(WebhookVerificationError):
        case.make().verify(_with_header(valid, "Signature", value))


# -- Integrity Advocate: header parts are covered, the body is not ------------------------------------


def _ia_parts(request: WebhookRequest) -> tuple[str, list[str]]:
    scheme, rest = request.headers["Authorization"].split(" ", 1)
    return scheme, rest.split(":")


@pytest.mark.parametrize(("part", "index"), [("signature", 1), ("nonce", 2), ("timestamp", 3), ("app_id", 0)])
@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_any_flipped_bit_of_an_amx_header_part_is_refused(part: str, index: int, bit: int) -> None:
    case = BY_NAME["integrity-advocate"]
    valid = case.valid()
    scheme, parts = _ia_parts(valid)
    parts[index] = _flip_text(parts[index], bit)
    value = f"{scheme} {':'.join(parts)}"
    with pytest.raises(WebhookVerificationError):
        case.make().verify(_with_header(valid, "Authorization", value))


@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_a_flipped_ia_body_bit_is_refused_or_marked_unauthenticated(bit: int) -> None:
    case = BY_NAME["integrity-advocate"]
    valid = case.valid()
    mutated = WebhookRequest(
        body=_flip(valid.body, bit), headers=valid.headers, url=valid.url, method=valid.method
    )
    try:
        event = case.make().verify(mutated)
    except PayloadError:
        return  # authentic header, body no longer a participant
    assert isinstance(event, ReviewCallback)
    # The amx signature never covers the body: the event must say so, whatever the body holds.
    assert event.body_authenticated is False
    assert not event.is_authenticated("Status")


BODY_UNCOVERED = [c for c in CASES if not c.covers_body and c.name != "integrity-advocate"]


@pytest.mark.parametrize("case", BODY_UNCOVERED, ids=[c.name for c in BODY_UNCOVERED])
@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_a_flipped_body_bit_under_credentials_alone_is_marked_unauthenticated(case: Case, bit: int) -> None:
    # iTEP's token and basic credentials and Assessio's API key prove the caller, not the body: a
    # changed body still verifies, and the event must say that its body is not authenticated.
    valid = case.valid()
    mutated = WebhookRequest(
        body=_flip(valid.body, bit), headers=valid.headers, url=valid.url, method=valid.method
    )
    try:
        event = case.make().verify(mutated)
    except PayloadError:
        return  # authentic caller, body no longer readable
    assert getattr(event, "body_authenticated", None) is False


# -- Testpress: the hash covers some fields ----------------------------------------------------------


def _loads(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))


@settings(max_examples=300)
@given(bit=st.integers(min_value=0))
def test_a_flipped_testpress_body_bit_is_refused_or_only_touches_unauthenticated_fields(bit: int) -> None:
    case = BY_NAME["testpress"]
    valid = case.valid()
    body = _flip(valid.body, bit)
    try:
        event = case.make().verify(WebhookRequest(body=body, headers=valid.headers))
    except (WebhookVerificationError, PayloadError):
        return
    assert isinstance(event, ExamWebhookEvent)
    before, after = _loads(valid.body), _loads(body)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    # An empty set means the flip did not change any value (e.g. "\\u00e9" -> "\\u00E9").
    for key in changed:
        # Either the changed key is outside the hash (and marked so), or it is the hash's own text
        # in another letter case (the same digest).
        if key == "hash":
            assert str(before[key]).lower() == str(after[key]).lower()
            continue
        assert not event.is_authenticated(key), key
        assert key not in event.authenticated_fields


def test_mutation_baselines_verify() -> None:
    for case in CASES:
        assert case.make().verify(case.valid()) is not None, case.name
        if case.name == "testpress":
            continue  # its hash travels in the body
        with pytest.raises(ExamkitError):  # and without its credentials it is refused
            case.make().verify(WebhookRequest(body=case.valid().body))


# -- exhaustive flips of short, covered header parts (every bit, no sampling) -------------------------


def _all_flips(text: str) -> list[str]:
    return [_flip_text(text, bit) for bit in range(8 * len(text.encode("latin-1")))]


def test_every_flip_of_every_amx_part_is_refused() -> None:
    case = BY_NAME["integrity-advocate"]
    valid = case.valid()
    scheme, parts = _ia_parts(valid)
    verifier = case.make()  # one verifier: its replay guard never accepts any of these anyway
    for index in range(4):
        for flipped in _all_flips(parts[index]):
            changed = list(parts)
            changed[index] = flipped
            with pytest.raises(WebhookVerificationError):
                verifier.verify(_with_header(valid, "Authorization", f"{scheme} {':'.join(changed)}"))


@pytest.mark.parametrize(
    ("name", "header"), [("itep-hmac-base64", "X-Itep-Signature"), ("itep-token", "X-Itep-Token")]
)
def test_every_flip_of_a_base64_signature_or_token_is_refused(name: str, header: str) -> None:
    case = BY_NAME[name]
    valid = case.valid()
    verifier = case.make()
    for flipped in _all_flips(valid.headers[header]):
        with pytest.raises(WebhookVerificationError):
            verifier.verify(_with_header(valid, header, flipped))


def test_every_flip_of_the_assessio_signature_header_is_refused_unless_only_hex_case_changed() -> None:
    case = BY_NAME["assessio-signed"]
    valid = case.valid()
    original = valid.headers["Signature"]
    verifier = case.make()
    t_part, sig_part = original.split(",")
    for flipped in _all_flips(original):
        same_t = flipped.startswith(t_part + ",")
        if same_t and flipped[len(t_part) + 1 :].lower() == sig_part.lower():
            continue  # hex digits in another case: the same signature
        with pytest.raises(WebhookVerificationError):
            verifier.verify(_with_header(valid, "Signature", flipped))


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _non_canonical(signature: str) -> str:
    """The same 32 digest bytes written with the unused low bits of the last character set."""
    assert signature.endswith("=")
    assert len(signature) == 44
    last = _B64.index(signature[42])
    assert last % 4 == 0  # canonical: the two low bits are zero
    changed = signature[:42] + _B64[last + 1] + "="
    assert base64.b64decode(changed) == base64.b64decode(signature)  # Python ignores those bits
    return changed


def test_a_non_canonical_base64_amx_signature_is_refused() -> None:
    case = BY_NAME["integrity-advocate"]
    valid = case.valid()
    scheme, parts = _ia_parts(valid)
    parts[1] = _non_canonical(parts[1])
    with pytest.raises(WebhookVerificationError):
        case.make().verify(_with_header(valid, "Authorization", f"{scheme} {':'.join(parts)}"))


def test_a_non_canonical_base64_itep_signature_is_refused() -> None:
    case = BY_NAME["itep-hmac-base64"]
    valid = case.valid()
    value = _non_canonical(valid.headers["X-Itep-Signature"])
    with pytest.raises(WebhookVerificationError):
        case.make().verify(_with_header(valid, "X-Itep-Signature", value))
