"""Why an Assessio webhook does not verify: a secret-free diagnosis built from the vendor's signing.

:func:`explain` runs the real :class:`~examkit.assessio.AssessioWebhookVerifier` for the verdict and,
around it, compares the integrator-api-key header with the configured key(s) and rebuilds the signed
``<t>.<raw body>`` with ``signed_message``, trying the usual mistakes (a
trailing newline, a secret with spaces or quotes, the provider key used as the signing secret). No
secret and no expected signature ever appears in the result: only lengths, shapes and whether each
variant matches.

>>> from examkit.core.clock import FixedClock
>>> from examkit.core.webhook import WebhookRequest
>>> request = WebhookRequest(
...     body=b'{"eventType": "PING", "payload": {}}', headers={"integrator-api-key": "token-12345"}
... )
>>> diagnosis = explain(request, api_key="token-1234", clock=FixedClock(1_700_000_000))
>>> diagnosis.ok, diagnosis.checks[-1].text
(False, 'token does not match')
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any, Final

from examkit.assessio.models import VENDOR
from examkit.assessio.signing import (
    DEFAULT_HEADER_FORMAT,
    SIGNATURE_HEADER,
    SignatureHeaderFormat,
    parse_signature_header,
    signed_message,
)
from examkit.assessio.webhooks import (
    DEFAULT_API_KEY_HEADER,
    ApiKeyScheme,
    AssessioWebhookVerifier,
)
from examkit.core._checks import argument_error, check_clock, label
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
from examkit.core.clock import DEFAULT_TOLERANCE, Clock, FixedClock, SystemClock, Tolerance, tolerance_seconds
from examkit.core.diagnosis import Diagnosis
from examkit.core.errors import ConfigurationError, ExamkitError
from examkit.core.signing import Secret, SecretInput, secrets_from
from examkit.core.webhook import WebhookRequest, received, verification_time

__all__ = ["explain"]

_DIGEST_SIZE: Final = 32
_LABELS: Final[Mapping[str, str]] = {
    "api_key": "api_key",
    "signature_secret": "signature_secret",
    "provider_key": "provider_key",
}


def _secrets(value: object, name: str) -> tuple[Secret, ...]:
    """The configured secrets, or none when they are unusable (the verdict then says why)."""
    if value is None:
        return ()
    try:
        return secrets_from(value, name=name, vendor=VENDOR)  # type: ignore[arg-type]
    except ConfigurationError:
        return ()


def _numbered(label: str, position: int, count: int) -> str:
    return label if count == 1 else f"{label} #{position + 1}"


def _compare_token(d: Diagnoser, value: str, tokens: Sequence[Secret], bearer: bool, name: str) -> None:
    prefix = "Bearer " if bearer else ""
    sent = value.strip()
    described = "; ".join(
        f"{_numbered(name, i, len(tokens))}: {describe_secret(t.reveal())}" for i, t in enumerate(tokens)
    )
    d.check(None, f"token sent: {describe_secret(value)}; {described}")
    if prefix and not sent.startswith(prefix):
        d.check(False, f"the header does not start with the prefix {prefix!r}")
        return
    sent = sent[len(prefix) :]
    presented = sent.encode("utf-8", "replace")
    same = [hmac.compare_digest(presented, t.reveal().encode("utf-8", "replace")) for t in tokens]
    matched = any(same)
    where = f" ({_numbered(name, same.index(True), len(tokens))})" if matched and len(tokens) > 1 else ""
    d.check(matched, f"token matches{where}" if matched else "token does not match")
    if matched:
        return
    word, _, rest = sent.partition(" ")
    for token in tokens:
        expected = token.reveal().encode("utf-8", "replace")
        if rest and hmac.compare_digest(rest.strip().encode("utf-8", "replace"), expected):
            d.hint(f"the header is '{word} <token>': set the prefix to {word + ' '!r} (--prefix)")
        elif hmac.compare_digest(presented, token.reveal().strip().encode("utf-8", "replace")):
            d.hint(f"{name} has surrounding whitespace: remove it")


def _describe(event: Any) -> str:
    order = getattr(event, "order_reference_id", None)
    return f"{event.event_type} event" + (f" for order {order}" if order else "")


def explain(
    request: WebhookRequest,
    *,
    api_key: SecretInput | Sequence[SecretInput],
    header: str = DEFAULT_API_KEY_HEADER,
    scheme: ApiKeyScheme = "raw",
    signature_secret: SecretInput | Sequence[SecretInput] | None = None,
    header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    provider_key: SecretInput | None = None,
    clock: Clock | None = None,
    labels: Mapping[str, str] | None = None,
) -> Diagnosis:
    """Explain, without any secret, why ``request`` does (or does not) verify as an Assessio webhook.

    Takes the settings of :class:`~examkit.assessio.AssessioWebhookVerifier` (the verdict is that
    verifier's, configured with them). With ``signature_secret``, the ``Signature`` header is checked
    and the signed ``<t>.<body>`` is shown (it holds no secret), with the variants tried.

    Args:
        request: The request as received.
        api_key: The integrator-api-key, or several.
        header: The header that carries it.
        scheme: ``"raw"`` or ``"bearer"``.
        signature_secret: The integrator-secret, or several; ``None``: no ``Signature`` check.
        header_format: The labels of the ``Signature`` header.
        tolerance: Allowed clock skew for ``t``, either way (default 300 s).
        provider_key: Also tried as the signing key, since a request signed with it by mistake is
            a common error; named in a hint when only it matches.
        clock: The clock for the freshness check; the request's ``received_at`` wins when set.
        labels: How the secrets are named in the text: keys ``"api_key"``, ``"signature_secret"``
            and ``"provider_key"`` (``examkit verify`` names its environment variables).

    Returns:
        The diagnosis; its ``outcome`` is the verifier's verdict.

    Raises:
        ValidationError: ``request`` is not a :class:`~examkit.WebhookRequest`, or
            ``labels`` is not a mapping.
        ConfigurationError: ``clock`` is not a clock.
    """
    request = received(request, limit=None, vendor=VENDOR)
    if labels is not None and not isinstance(labels, Mapping):
        raise argument_error("labels", "a mapping of setting names to labels", labels, vendor=VENDOR)
    names = {key: label((labels or {}).get(key), default) for key, default in _LABELS.items()}
    now = verification_time(request, check_clock(clock, vendor=VENDOR) or SystemClock())
    d = Diagnoser(VENDOR)
    header_name = header if isinstance(header, str) else DEFAULT_API_KEY_HEADER
    value = first_header(request, header_name)
    d.check(value is not None, f"{header_name} header {'present' if value else 'missing'}")
    authorization = first_header(request, "Authorization")
    if value is None and authorization is not None and header_name.lower() != "authorization":
        # Suggest --bearer only when the header is 'Bearer <key>': otherwise it would not verify.
        bearer = authorization.strip().lower().startswith("bearer ")
        d.hint(
            "the request has an Authorization header: try --api-key-header Authorization"
            + (" --bearer" if bearer else "")
        )
    tokens = _secrets(api_key, "api_key")
    if value is not None and tokens:
        _compare_token(d, value, tokens, scheme == "bearer", names["api_key"])
    secrets = _secrets(signature_secret, "signature_secret")
    if secrets:
        _explain_signature(
            d,
            request,
            secrets=secrets,
            header_format=header_format,
            tolerance=tolerance,
            now=now,
            provider_key=provider_key,
            names=names,
        )
    return d.verdict(
        lambda: AssessioWebhookVerifier(
            api_key=api_key,
            header=header,
            scheme=scheme,
            signature_secret=signature_secret,
            header_format=header_format,
            tolerance=tolerance,
            clock=FixedClock(now),
        ).verify(request),
        _describe,
    )


def _explain_signature(
    d: Diagnoser,
    request: WebhookRequest,
    *,
    secrets: Sequence[Secret],
    header_format: SignatureHeaderFormat,
    tolerance: Tolerance,
    now: float,
    provider_key: SecretInput | None,
    names: Mapping[str, str],
) -> None:
    name = names["signature_secret"]
    for i, secret in enumerate(secrets):
        d.check(None, f"{_numbered(name, i, len(secrets))}: {describe_secret(secret.reveal())}")
    signature_value = first_header(request, SIGNATURE_HEADER)
    d.check(
        signature_value is not None,
        f"{SIGNATURE_HEADER} header {'present' if signature_value else 'missing'}",
    )
    if signature_value is None:
        return
    try:
        parsed = parse_signature_header(signature_value, header_format=header_format)
    except ExamkitError as exc:
        d.check(False, str(exc))
        return
    timestamp = parsed.timestamp
    with contextlib.suppress(ConfigurationError):  # a bad tolerance: the verdict names it
        d.skew(timestamp, now, tolerance_seconds(tolerance))
    received, shape = decode_digest(parsed.signatures[0], _DIGEST_SIZE)
    d.check(received is not None, f"signature format: {shape}")
    d.section(
        "signed string (<t>.<raw body>; no secret in it)",
        [show_bytes(signed_message(timestamp, request.body), 240)],
    )
    keys: list[tuple[str, bytes, str | None]] = []
    for i, secret in enumerate(secrets):
        keys += secret_variants(secret.reveal(), _numbered(name, i, len(secrets)))
    provider = _secrets(provider_key, "provider_key")
    if provider and not any(hmac.compare_digest(provider[0].key, s.key) for s in secrets):
        keys.append(
            (
                names["provider_key"],
                provider[0].key,
                (
                    "the request is signed with the provider key, not the integrator-secret: "
                    f"put the integrator-secret in {name}"
                ),
            )
        )
    d.try_variants(
        received, combine(body_variants(request.body), keys, lambda body: signed_message(timestamp, body))
    )
