"""Why an iTEP request fails: a secret-free account built from iTEP's own signing and auth checks.

:func:`explain` rebuilds what the sender must have done (the HMAC of the raw body, the token or the
basic credentials it must carry), tries the usual variants (a trailing newline, a secret with
whitespace or quotes, a base64 secret, a ``Bearer`` word), and ends with the verdict of the real
verifier, configured as given. No secret, token, password or expected digest is ever recorded: only
whether each variant matches and the shape of the secrets.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final, Literal

from examkit.core._checks import check_choice, check_text, config_error
from examkit.core._diagnosing import (
    Diagnoser,
    body_variants,
    combine,
    decode_digest,
    describe_secret,
    first_header,
    secret_variants,
    show_bytes,
)
from examkit.core.auth import basic_credentials
from examkit.core.clock import Clock
from examkit.core.diagnosis import Diagnosis
from examkit.core.webhook import WebhookRequest, received
from examkit.itep.models import VENDOR, ExamResult
from examkit.itep.signing import DigestEncoding, verify_body
from examkit.itep.webhooks import (
    BasicAuth,
    HmacBodyAuth,
    ItepWebhookAuth,
    ItepWebhookVerifier,
    TokenHeaderAuth,
)

__all__ = ["explain"]

Scheme = Literal["hmac", "token", "basic", "fulfillment"]

_SCHEMES: Final = ("hmac", "token", "basic", "fulfillment")


def _labels(labels: object) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise config_error("labels", "a mapping of setting names to labels", labels, vendor=VENDOR)
    found: Mapping[object, object] = labels
    return {
        check_text(k, setting="labels", vendor=VENDOR): check_text(v, setting="labels", vendor=VENDOR)
        for k, v in found.items()
    }


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def explain(
    request: WebhookRequest,
    *,
    scheme: Scheme,
    header: str | None = None,
    secret: str | None = None,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    prefix: str = "",
    encoding: DigestEncoding = "hex",
    field: str = "data",
    clock: Clock | None = None,
    labels: Mapping[str, str] | None = None,
) -> Diagnosis:
    r"""Explain, without showing any secret, whether and why ``request`` passes iTEP's checks.

    The settings are those of the verifier (:class:`HmacBodyAuth`, :class:`TokenHeaderAuth`,
    :class:`BasicAuth`), given as plain values so that variants of them can be tried:

    - ``scheme="hmac"``: ``header`` and ``secret`` (and ``prefix``, ``encoding``) of :class:`HmacBodyAuth`;
    - ``scheme="token"``: ``header``, ``token`` and ``prefix`` of :class:`TokenHeaderAuth`;
    - ``scheme="basic"``: ``username`` and ``password`` (``header`` defaults to ``Authorization``);
    - ``scheme="fulfillment"``: a fulfillment request to iTEP; ``header`` carries the HMAC of the body
      under the API key given as ``secret`` (:func:`sign_body`).

    Args:
        request: The request exactly as received.
        scheme: How the request is authenticated (see above).
        header: The header that carries the signature, token or credentials.
        secret: The webhook's HMAC secret, or the API key for ``scheme="fulfillment"``.
        token: The shared token (``scheme="token"``).
        username: The user name (``scheme="basic"``).
        password: The password (``scheme="basic"``).
        prefix: Text before the digest or token in the header value (``"sha256="``, ``"Bearer "``).
        encoding: How the digest is written (``"hex"``, ``"HEX"`` or ``"base64"``).
        field: The form field that carries the results JSON.
        clock: Accepted for the same call shape as the other vendors; iTEP requests carry no timestamp.
        labels: How to name each secret in the account (``{"secret": "EXAMKIT_ITEP_WEBHOOK_SECRET"}``);
            by default the setting's own name.

    >>> import hashlib, hmac
    >>> from examkit.core.webhook import WebhookRequest
    >>> body = b"data=%7B%22TestID%22%3A%223279B035APR%22%7D"
    >>> sig = hmac.new(b"s3cret-0123456789", body, hashlib.sha256).hexdigest()
    >>> request = WebhookRequest(body=body + b"\n", headers={"X-Sig": sig})
    >>> diagnosis = explain(request, scheme="hmac", header="X-Sig", secret="s3cret-0123456789")
    >>> diagnosis.outcome.value, diagnosis.hints[0][:48]
    ('failed', 'the signature covers the body without the traili')

    Raises:
        ConfigurationError: A setting the scheme needs is missing or malformed.
    """
    del clock  # iTEP signs no timestamp: there is no skew to report
    check_choice(scheme, _SCHEMES, setting="scheme", vendor=VENDOR)
    names = _labels(labels)
    request = received(request, limit=None, vendor=VENDOR)
    report = Diagnoser(VENDOR)
    report.check(None, f"authentication: {scheme}")
    if scheme in ("hmac", "fulfillment"):
        name = names.get("secret", "api_key" if scheme == "fulfillment" else "secret")
        return _explain_hmac(
            report,
            request,
            fulfillment=scheme == "fulfillment",
            header=check_text(header, setting="header", vendor=VENDOR),
            secret=check_text(secret, setting="secret", vendor=VENDOR),
            name=name,
            prefix=prefix,
            encoding=encoding,
            field=field,
        )
    auth: ItepWebhookAuth
    if scheme == "token":
        header = check_text(header, setting="header", vendor=VENDOR)
        token = check_text(token, setting="token", vendor=VENDOR)
        value = first_header(request, header)
        report.check(value is not None, f"{header} header {'present' if value else 'missing'}")
        if value is not None:
            _compare_token(report, value, token, prefix, names.get("token", "token"))
        auth = TokenHeaderAuth(header=header, token=token, prefix=prefix)
    else:
        username = check_text(username, setting="username", vendor=VENDOR)
        password = check_text(password, setting="password", vendor=VENDOR)
        header = header or "Authorization"
        value = first_header(request, header)
        report.check(value is not None, f"{header} header {'present' if value else 'missing'}")
        if value is not None:
            _compare_basic(report, value, username, password)
        auth = BasicAuth(username=username, password=password, header=header)
    return _verdict(report, request, auth, field)


def _verdict(report: Diagnoser, request: WebhookRequest, auth: ItepWebhookAuth, field: str) -> Diagnosis:
    verifier = ItepWebhookVerifier(auth=auth, field=field)

    def describe(result: ExamResult) -> str:
        return f"results for test ID {result.test_id} (status {result.status})"

    return report.verdict(lambda: verifier.verify(request), describe)


def _explain_hmac(
    report: Diagnoser,
    request: WebhookRequest,
    *,
    fulfillment: bool,
    header: str,
    secret: str,
    name: str,
    prefix: str,
    encoding: DigestEncoding,
    field: str,
) -> Diagnosis:
    body = request.body
    report.check(None, f"{name}: {describe_secret(secret)}")
    value = first_header(request, header)
    report.check(value is not None, f"{header} header {'present' if value else 'missing'}")
    digest = None
    unprefixed = value  # what the fulfillment check compares: the prefix applies to it too
    if value is not None:
        text = value.strip()
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :]
            unprefixed = text
        elif not prefix and text.lower().startswith("sha256="):
            text = text[7:]
            report.hint(
                "the signature starts with 'sha256=': set the prefix to 'sha256=' (HmacBodyAuth prefix)"
            )
        digest, shape = decode_digest(text, 32)
        report.check(digest is not None, f"signature format: {shape}")
    report.section(
        "signed string (the raw body)",
        [f"{len(body)} bytes, SHA-256 {hashlib.sha256(body).hexdigest()}", show_bytes(body, 240)],
    )
    report.try_variants(digest, combine(body_variants(body), secret_variants(secret, name), bytes))
    if fulfillment:
        return report.verdict(
            lambda: verify_body(
                api_key=secret, body=body, signature=unprefixed, encoding=encoding, header=header
            ),
            lambda _: "the fulfillment signature matches the body",
        )
    auth = HmacBodyAuth(
        header=header, secret=secret, encoding="base64" if encoding == "base64" else "hex", prefix=prefix
    )
    return _verdict(report, request, auth, field)


def _compare_token(report: Diagnoser, value: str, token: str, prefix: str, name: str) -> None:
    sent = value.strip()
    report.check(None, f"token sent: {describe_secret(value)}; {name}: {describe_secret(token)}")
    if prefix and not sent.startswith(prefix):
        report.check(False, f"the header does not start with the prefix {prefix!r}")
        return
    sent = sent[len(prefix) :]
    same = _same(sent, token)
    report.check(same, "token matches" if same else "token does not match")
    if not same:
        word, _, rest = sent.partition(" ")
        if rest and _same(rest.strip(), token):
            report.hint(f"the header is '{word} <token>': set the prefix to {word + ' '!r}")
        elif _same(sent, token.strip()):
            report.hint(f"{name} has surrounding whitespace: remove it")


def _compare_basic(report: Diagnoser, value: str, username: str, password: str) -> None:
    credentials = basic_credentials(value)
    try:
        user, sep, sent_password = (credentials or b"").decode("utf-8").partition(":")
    except UnicodeDecodeError:
        sep = ""
    if credentials is None or not sep:
        report.check(False, "the header is not 'Basic <base64 of user:password>'")
        return
    report.check(user == username, f"user name sent: {user!r} (expected {username!r})")
    same = _same(sent_password, password)
    report.check(
        same,
        "password matches" if same else f"password does not match ({describe_secret(sent_password)} sent)",
    )
