"""The shared header strategies (core.auth), verify_detailed, iTEP's str enums and explain()."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import examkit
from examkit.core import auth as core_auth
from examkit.core.diagnosis import Outcome
from examkit.core.errors import (
    ConfigurationError,
    ExamkitError,
    MalformedSignatureError,
    MissingSignatureError,
    SignatureMismatchError,
)
from examkit.core.webhook import WebhookRequest
from examkit.itep import (
    BasicAuth,
    CefrLevel,
    Education,
    ExamStatus,
    FieldOfStudy,
    Gender,
    HmacBodyAuth,
    ItepWebhookVerifier,
    NoAuthentication,
    ProductFamily,
    TokenHeaderAuth,
    explain,
)

# The vendor's sample results (Integration Guide), form-encoded as iTEP posts them.
BODY = b"data=%7B%22TestID%22%3A%223279B035APR%22%2C%22Status%22%3A%22Complete%22%7D"


def _hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- core.auth: which credential matched ---------------------------------------------------------


@pytest.mark.parametrize("position", [0, 1, 2])
def test_token_match_names_the_position_of_the_token(position: int) -> None:
    tokens = ["token-aaa", "token-bbb", "token-ccc"]
    auth = TokenHeaderAuth(header="X-Token", token=tokens)
    request = WebhookRequest(body=BODY, headers={"X-Token": tokens[position]})
    assert auth.match(request) == position
    assert auth.key_count == 3


def test_basic_and_hmac_match_name_the_position() -> None:
    basic = BasicAuth(username="itep", password=["old-pass", "new-pass"])
    assert basic.match(WebhookRequest(body=BODY, headers={"Authorization": _basic("itep", "new-pass")})) == 1
    signed = HmacBodyAuth(header="X-Sig", secret=["s-old-0123", "s-new-0123"])
    assert signed.match(WebhookRequest(body=BODY, headers={"X-Sig": _hex("s-old-0123", BODY)})) == 0
    assert NoAuthentication().match(WebhookRequest(body=BODY)) is None


def test_core_token_auth_does_assessios_raw_and_bearer_forms_with_its_words() -> None:
    # What Assessio's verifier checks today: the integrator-api-key raw or as "Bearer <token>", a
    # blank header counting as missing, and Assessio's own messages and reasons.
    words = core_auth.TokenMessages(
        missing="the request has no {header} header: Assessio sends the integrator-api-key there",
        missing_reason="no api key",
        mismatch="the {header} header does not match the integrator-api-key",
        mismatch_reason="api key mismatch",
        malformed="the {header} header is not of the form 'Bearer <token>'",
        malformed_reason="not a bearer token",
        empty_is_missing=True,
    )

    def make(scheme: Any) -> core_auth.TokenHeaderAuth:
        return core_auth.TokenHeaderAuth(
            vendor="assessio",
            header="integrator-api-key",
            token=["k-1", "k-2"],
            scheme=scheme,
            messages=words,
        )

    def req(value: str) -> WebhookRequest:
        return WebhookRequest(body=b"{}", headers={"integrator-api-key": value})

    assert make("raw").match(req(" k-2 ")) == 1
    assert make("bearer").match(req("bearer   k-1")) == 0
    with pytest.raises(MalformedSignatureError) as malformed:
        make("bearer").match(req("k-1"))
    assert malformed.value.reason == "not a bearer token"
    assert malformed.value.vendor == "assessio"
    with pytest.raises(MissingSignatureError) as missing:
        make("raw").match(req("  "))
    assert missing.value.reason == "no api key"
    assert "integrator-api-key header" in str(missing.value)
    with pytest.raises(SignatureMismatchError) as mismatch:
        make("raw").match(req("Bearer k-1"))  # the raw scheme compares the whole value
    assert mismatch.value.reason == "api key mismatch"
    with pytest.raises(ConfigurationError):
        make("basic")


def test_itep_strategies_read_as_the_itep_face_and_hide_their_secrets() -> None:
    auth = TokenHeaderAuth(header="X-Token", token="very-secret-token")
    assert type(auth).__module__ == "examkit.itep"
    assert isinstance(auth, core_auth.TokenHeaderAuth)
    assert "very-secret-token" not in repr(auth)
    with pytest.raises(MissingSignatureError) as missing:
        auth.authenticate(WebhookRequest(body=BODY))
    assert missing.value.vendor == "itep"
    assert "tracking code" in str(missing.value)


@given(value=st.text(max_size=90), body=st.binary(max_size=64))
def test_hmac_fast_path_agrees_with_the_general_path(value: str, body: bytes) -> None:
    auth = HmacBodyAuth(header="X-Sig", secret="fast-secret-01", prefix="sha256=")
    fast = auth._fast_candidate(value)
    try:
        general: bytes | type[ExamkitError] = auth._candidate(value)
    except ExamkitError as exc:
        general = type(exc)
    if fast:  # whenever the fast path decides, the general path reads the same digest
        assert general == fast
    expected = "sha256=" + _hex("fast-secret-01", body)
    try:
        found = auth.match(WebhookRequest(body=body, headers={"X-Sig": value}))
    except ExamkitError:
        stripped = value.strip()
        assert not (stripped.startswith("sha256=") and stripped[7:].lower() == expected[7:])
    else:
        assert found == 0
        assert value.strip()[:7] == "sha256="
        assert value.strip()[7:].lower() == expected[7:]


@given(
    sent=st.sampled_from(["", "a", "tok-1", "tok-2", " tok-2 ", "Bearer tok-1"]), data=st.binary(max_size=16)
)
def test_authenticate_and_match_agree(sent: str, data: bytes) -> None:
    auth = TokenHeaderAuth(header="X-Token", token=["tok-1", "tok-2"])
    request = WebhookRequest(body=data, headers={"X-Token": sent})
    try:
        auth.authenticate(request)
    except ExamkitError as exc:
        with pytest.raises(type(exc)):
            auth.match(request)
    else:
        assert auth.match(request) == ["tok-1", "tok-2"].index(sent.strip())


# -- verify_detailed ------------------------------------------------------------------------------


def test_verify_detailed_says_which_secret_matched() -> None:
    verifier = ItepWebhookVerifier(
        auth=HmacBodyAuth(header="X-Sig", secret=["first-secret", "second-secret"])
    )
    request = WebhookRequest(body=BODY, headers={"X-Sig": _hex("second-secret", BODY)})
    verified = verifier.verify_detailed(request)
    assert (verified.key_index, verified.key_count) == (1, 2)
    assert verified.rotation_note == "secret 2 of 2 matched"
    assert verified.event == verifier.verify(request)
    assert verified.event.test_id == "3279B035APR"
    assert verified.event.body_authenticated is True


def test_verify_detailed_without_a_credential_and_with_a_custom_auth() -> None:
    plain = ItepWebhookVerifier(auth=NoAuthentication()).verify_detailed(WebhookRequest(body=BODY))
    assert plain.key_index is None
    assert plain.rotation_note == ""

    class Custom:
        def authenticate(self, request: WebhookRequest) -> None:
            return None

    custom = ItepWebhookVerifier(auth=Custom()).verify_detailed(WebhookRequest(body=BODY))
    assert (custom.key_index, custom.key_count) == (None, 0)


def test_verify_detailed_refuses_what_verify_refuses() -> None:
    verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Token", token="tok-right"))
    wrong = WebhookRequest(body=BODY, headers={"X-Token": "tok-wrong"})
    with pytest.raises(SignatureMismatchError):
        verifier.verify_detailed(wrong)

    class Lenient:
        def authenticate(self, request: WebhookRequest) -> None:
            return None

        def match(self, request: WebhookRequest) -> object:
            return False  # a "no" that does not raise must not let the request in

    with pytest.raises(SignatureMismatchError):
        ItepWebhookVerifier(auth=Lenient()).verify_detailed(WebhookRequest(body=BODY))


# -- str enums ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (ProductFamily.GTX, "GTX"),
        (CefrLevel.C1, "C1"),
        (ExamStatus.TECHNICAL_DIFFICULTY, "Technical Difficulty"),
        (Gender.FEMALE, "Female"),
        (Education.BACHELORS_DEGREE, "Bachelor's Degree"),
        (FieldOfStudy.OTHER_LANGUAGES, "Other Languages"),
    ],
)
def test_itep_enums_print_and_serialise_as_the_vendors_value(member: Any, expected: str) -> None:
    assert str(member) == expected
    assert f"{member}" == expected
    assert member == expected
    assert json.dumps({"v": member}) == json.dumps({"v": expected})


# -- explain --------------------------------------------------------------------------------------


def _no_secret(diagnosis: Any, *secrets: str) -> None:
    text = diagnosis.render() + json.dumps(diagnosis.to_dict())
    for secret in secrets:
        assert secret not in text


def test_explain_hmac_ok_names_the_match_and_shows_no_secret_or_digest() -> None:
    secret = "hmac-secret-0123456789"
    digest = _hex(secret, BODY)
    request = WebhookRequest(body=BODY, headers={"X-Sig": digest})
    diagnosis = explain(request, scheme="hmac", header="X-Sig", secret=secret, labels={"secret": "MY_SECRET"})
    assert diagnosis.outcome is Outcome.OK
    assert diagnosis.verdict == "OK: results for test ID 3279B035APR (status Complete)"
    assert "[MATCH] the body exactly as captured, MY_SECRET as UTF-8 text" in diagnosis.render()
    assert diagnosis.event.test_id == "3279B035APR"
    # Neither the secret nor what a valid signature is (in any encoding) may be shown.
    raw = bytes.fromhex(digest)
    _no_secret(diagnosis, secret, digest, digest.upper(), base64.b64encode(raw).decode())


def test_explain_hmac_names_a_trailing_newline_and_a_sha256_prefix() -> None:
    secret = "hmac-secret-0123456789"
    digest = _hex(secret, BODY)
    request = WebhookRequest(body=BODY + b"\n", headers={"X-Sig": "sha256=" + digest})
    diagnosis = explain(request, scheme="hmac", header="X-Sig", secret=secret)
    assert diagnosis.outcome is Outcome.FAILED
    assert "SignatureMismatchError" in diagnosis.verdict or "MalformedSignatureError" in diagnosis.verdict
    hints = " ".join(diagnosis.hints)
    assert "set the prefix to 'sha256='" in hints
    assert "without the trailing newline" in hints
    assert "--" not in hints  # the library names settings, not the CLI's flags
    _no_secret(diagnosis, secret, digest)


def test_explain_token_hints_at_a_bearer_word_without_showing_the_token() -> None:
    token = "tok-0123456789"
    request = WebhookRequest(body=BODY, headers={"X-Token": f"Bearer {token}"})
    diagnosis = explain(request, scheme="token", header="X-Token", token=token)
    assert diagnosis.outcome is Outcome.FAILED
    assert "set the prefix to 'Bearer '" in " ".join(diagnosis.hints)
    _no_secret(diagnosis, token)
    fixed = explain(request, scheme="token", header="X-Token", token=token, prefix="Bearer ")
    assert fixed.outcome is Outcome.OK


def test_explain_basic_names_the_wrong_part() -> None:
    request = WebhookRequest(body=BODY, headers={"Authorization": _basic("itep", "wrong-pass-1")})
    diagnosis = explain(request, scheme="basic", username="itep", password="right-pass-1")
    assert diagnosis.outcome is Outcome.FAILED
    texts = {check.text: check.passed for check in diagnosis.checks}
    assert texts["user name sent: 'itep' (expected 'itep')"] is True
    assert any(t.startswith("password does not match") and p is False for t, p in texts.items())
    _no_secret(diagnosis, "right-pass-1", "wrong-pass-1")


def test_explain_fulfillment_checks_the_signature_under_the_api_key() -> None:
    # The vendor's example body, signed as sign_body documents it (HMAC-SHA256, lower-case hex).
    body = b'{"product-code":"GTX-Academic-Plus"}'
    digest = hmac.new(b"api-key-xyz", body, hashlib.sha256).hexdigest()
    ok = explain(
        WebhookRequest(body=body, headers={"X-Sig": digest}),
        scheme="fulfillment",
        header="X-Sig",
        secret="api-key-xyz",
    )
    assert ok.outcome is Outcome.OK
    bad = explain(
        WebhookRequest(body=body, headers={"X-Sig": digest[:-1] + ("0" if digest[-1] != "0" else "1")}),
        scheme="fulfillment",
        header="X-Sig",
        secret="api-key-xyz",
    )
    assert bad.outcome is Outcome.FAILED
    _no_secret(bad, "api-key-xyz", digest)


def test_explain_refuses_incomplete_settings() -> None:
    with pytest.raises(ConfigurationError):
        explain(WebhookRequest(body=BODY), scheme="hmac", secret="s")  # no header
    with pytest.raises(ConfigurationError):
        explain(WebhookRequest(body=BODY), scheme="nope")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        explain(WebhookRequest(body=BODY), scheme="token", header="X", token="t", labels=[])  # type: ignore[arg-type]


def test_the_itep_errors_are_importable_from_examkit() -> None:
    from examkit.itep import RegistrationError

    assert examkit.RegistrationError is RegistrationError
    assert issubclass(examkit.RegistrationError, examkit.ValidationError)


def test_importing_the_verifier_loads_neither_explain_nor_requests() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth; "
        "assert 'examkit.itep.diagnose' not in sys.modules, 'diagnose'; "
        "assert 'requests' not in sys.modules, 'requests'; "
        "from examkit.itep import explain; assert explain.__module__ == 'examkit.itep'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
