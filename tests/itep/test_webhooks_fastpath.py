"""The HMAC header fast path of HmacBodyAuth gives the same verdicts as the detailed path."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import ExamkitError, MalformedSignatureError, SignatureMismatchError
from examkit.core.webhook import WebhookRequest
from examkit.itep.webhooks import HmacBodyAuth

SECRET = "fast-path-secret"


def _sig(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("shape", ["{}", "{}".upper(), " {} ", "sha256={}"])
def test_accepts_hex_in_either_case_with_spaces_and_prefix(shape: str) -> None:
    body = b"data=%7B%22TestID%22%3A%22X1%22%7D"
    prefix = "sha256=" if shape.startswith("sha256=") else ""
    value = shape.replace("{}", _sig(body)) if shape != "{}".upper() else _sig(body).upper()
    HmacBodyAuth(header="X-Sig", secret=SECRET, prefix=prefix).authenticate(
        WebhookRequest(body=body, headers={"X-Sig": value})
    )


def test_rotation_any_key_matches() -> None:
    body = b"data=x"
    auth = HmacBodyAuth(header="X-Sig", secret=["old-secret", SECRET])
    auth.authenticate(WebhookRequest(body=body, headers={"X-Sig": _sig(body)}))


def test_mismatch_and_malformed_keep_their_errors() -> None:
    auth = HmacBodyAuth(header="X-Sig", secret=SECRET)
    with pytest.raises(SignatureMismatchError):
        auth.authenticate(WebhookRequest(body=b"data=y", headers={"X-Sig": _sig(b"data=x")}))
    with pytest.raises(MalformedSignatureError):
        auth.authenticate(WebhookRequest(body=b"data=y", headers={"X-Sig": _sig(b"data=x")[:-1] + "g"}))
    with pytest.raises(MalformedSignatureError):
        auth.authenticate(WebhookRequest(body=b"data=y", headers={"X-Sig": _sig(b"data=x")[:-2]}))


@given(body=st.binary(max_size=200), value=st.text(max_size=80))
def test_arbitrary_headers_raise_only_examkit_errors(body: bytes, value: str) -> None:
    auth = HmacBodyAuth(header="X-Sig", secret=SECRET)
    try:
        auth.authenticate(WebhookRequest(body=body, headers={"X-Sig": value}))
    except ExamkitError:
        return
    assert hmac.compare_digest(value.strip().lower(), _sig(body))
