"""Why a Testpress exam webhook verifies or fails: :func:`explain`, a secret-free diagnosis.

The verdict comes from :class:`~examkit.testpress.TestpressWebhookVerifier` configured with the
settings given. Around it, the hashed string is rebuilt with this package's own signing functions,
under every percent-encoding (and with the private key as given or without surrounding whitespace or
quotes), so that an encoding setting that differs from Testpress's shows up by name. No private key and
no expected hash is ever recorded: only whether each variant matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from examkit.core._checks import check_instance, check_text
from examkit.core._diagnosing import Diagnoser, Variant, decode_digest, describe_secret, secret_variants
from examkit.core.clock import Clock
from examkit.core.diagnosis import Diagnosis
from examkit.core.encoding import PercentEncoding
from examkit.core.errors import ConfigurationError, ExamkitError, PayloadError
from examkit.core.signing import Secret, SecretInput, secrets_from
from examkit.core.webhook import DEFAULT_MAX_BODY_SIZE, WebhookRequest, received
from examkit.testpress._literals import literal_text, load_json_with_literals
from examkit.testpress.models import VENDOR, ExamWebhookEvent
from examkit.testpress.signing import (
    DEFAULT_ENCODING,
    DEFAULT_WEBHOOK_HASH_FIELDS,
    PRIVATE_KEY,
    Encoding,
    encoded_private_key,
    join_webhook_message,
    webhook_parts,
)
from examkit.testpress.webhooks import TestpressWebhookVerifier

__all__ = ["explain"]

_HASH_SIZE = 64  # HMAC-SHA512


def explain(
    request: WebhookRequest,
    *,
    public_key: str,
    private_key: SecretInput | Sequence[SecretInput],
    encoding: Encoding = DEFAULT_ENCODING,
    hash_fields: Sequence[str] = DEFAULT_WEBHOOK_HASH_FIELDS,
    max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
    clock: Clock | None = None,
    labels: Mapping[str, str] | None = None,
) -> Diagnosis:
    """Explain, without showing any secret, why an exam webhook verifies or fails.

    The settings are those of :class:`~examkit.testpress.TestpressWebhookVerifier` (no replay guard:
    a diagnosis never uses up a delivery). The scheme carries no timestamp, so ``clock`` is accepted
    for the same call shape as the other vendors' ``explain`` and is not read.

    Args:
        request: The captured request, body exactly as received.
        public_key: Your public institute key.
        private_key: The private key, or several during a rotation.
        encoding: The percent-encoding the verifier is configured with.
        hash_fields: The hashed payload keys the verifier is configured with.
        max_body_size: The verifier's body size limit.
        clock: Unused (the scheme has no timestamp).
        labels: How to name the settings in the text, e.g.
            ``{"public_key": "EXAMKIT_TESTPRESS_PUBLIC_KEY"}`` (default: the setting names).

    Returns:
        A diagnosis, with ``diagnosis.ok``, ``diagnosis.render()`` and ``diagnosis.to_dict()``. Settings
        the verifier refuses give the outcome ``CANNOT_VERIFY``.

    Raises:
        ValidationError: ``request`` is not a :class:`~examkit.WebhookRequest`.
        ConfigurationError: ``labels`` is not a mapping of names to text.

    >>> from examkit.core.webhook import WebhookRequest
    >>> from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook
    >>> body = sign_exam_webhook(sample_exam_webhook_payload(public_key="pub"), private_key="priv")
    >>> explain(WebhookRequest(body=body), public_key="pub", private_key="priv").verdict
    'OK: exam webhook for attempt 130 (score 7.00)'
    >>> explain(WebhookRequest(body=body), public_key="pub", private_key="other").outcome
    <Outcome.FAILED: 'failed'>
    """
    del clock  # no timestamp in this scheme
    received(request, limit=None, vendor=VENDOR)
    names = _labels(labels)
    public_label = names.get("public_key", "public_key")
    private_label = names.get("private_key", "private_key")
    diagnoser = Diagnoser(VENDOR)
    settings: dict[str, Any] = {
        "public_key": public_key,
        "private_key": private_key,
        "encoding": encoding,
        "hash_fields": hash_fields,
        "max_body_size": max_body_size,
    }
    try:
        verifier = TestpressWebhookVerifier(**settings)
        secrets = secrets_from(private_key, name="private_key", vendor=VENDOR)
    except ConfigurationError as exc:
        error = exc
        return diagnoser.verdict(lambda: _raise(error), _describe)
    del private_key  # only the masked forms stay among this frame's locals
    for position, secret in enumerate(secrets):
        which = private_label if len(secrets) == 1 else f"{private_label} ({position + 1})"
        diagnoser.check(None, f"{which}: {_describe_secret(secret)}")
    _rebuild(
        diagnoser,
        request,
        public_key=public_key,
        public_label=public_label,
        secrets=secrets,
        encoding=encoding,
        hash_fields=tuple(hash_fields),
    )
    return diagnoser.verdict(lambda: verifier.verify(request), _describe)


def _labels(labels: object) -> dict[str, str]:
    if labels is None:
        return {}
    found: Mapping[object, object] = check_instance(
        labels,
        Mapping,  # type: ignore[type-abstract]
        setting="labels",
        vendor=VENDOR,
    )
    return {
        check_text(k, setting="labels", vendor=VENDOR): check_text(v, setting="labels", vendor=VENDOR)
        for k, v in found.items()
    }


def _raise(exc: Exception) -> Any:
    raise exc


def _describe(event: ExamWebhookEvent) -> str:
    return f"exam webhook for attempt {event.attempt_id} (score {event.score})"


def _describe_secret(secret: Secret) -> str:
    try:
        return describe_secret(secret.reveal())
    except ConfigurationError:
        return f"{len(secret.key)} bytes, not UTF-8 text"


def _rebuild(
    diagnoser: Diagnoser,
    request: WebhookRequest,
    *,
    public_key: str,
    public_label: str,
    secrets: Sequence[Secret],
    encoding: Encoding,
    hash_fields: tuple[str, ...],
) -> None:
    """Add the checks on the payload and the encodings tried (the verdict comes afterwards)."""
    try:
        payload = load_json_with_literals(request.body)
    except PayloadError as exc:
        diagnoser.check(False, f"the body is not JSON: {exc}")
        return
    if not isinstance(payload, dict):
        diagnoser.check(False, "the body is not a JSON object")
        return
    received_text = payload.get("hash")
    has_hash = isinstance(received_text, str) and bool(received_text)
    diagnoser.check(has_hash, "the payload has a hash")
    received = None
    if isinstance(received_text, str) and received_text:
        received, shape = decode_digest(received_text, _HASH_SIZE)
        diagnoser.check(received is not None, f"hash format: {shape}")
    key = literal_text(payload.get("key"))
    diagnoser.check(key == public_key, f"payload key {key!r} equals {public_label} {public_key!r}")
    encodings: list[PercentEncoding | None] = [encoding]
    encodings += [e for e in PercentEncoding if e is not encoding]
    if encoding is not None:
        encodings.append(None)
    variants: list[Variant] = []
    shown: list[str] = []
    for candidate in encodings:
        name = "no encoding" if candidate is None else candidate.value
        try:
            parts = webhook_parts(payload, hash_fields, candidate)
        except ExamkitError as exc:
            diagnoser.check(False, str(exc))
            break
        if candidate is encoding:
            masked = join_webhook_message(parts, PRIVATE_KEY.encode("ascii"))
            shown.append(masked.decode("utf-8", "backslashreplace"))
        hint = None
        if candidate is not encoding:
            setting = "None" if candidate is None else f"PercentEncoding.{candidate.name}"
            hint = f"the hash matches with {name}: set encoding={setting} on TestpressWebhookVerifier"
        variants += _key_variants(parts, secrets=secrets, encoding=candidate, name=name, hint=hint)
    title = "no encoding" if encoding is None else encoding.value
    diagnoser.section(f"signed string ({title}, the private key masked)", shown)
    diagnoser.try_variants(received, variants, algorithm="sha512", title="encodings tried")


def _key_variants(
    parts: list[bytes | None],
    *,
    secrets: Sequence[Secret],
    encoding: Encoding,
    name: str,
    hint: str | None,
) -> list[Variant]:
    """The private key as given and its first usual mistake, each also in its place in the message."""
    variants: list[Variant] = []
    for position, secret in enumerate(secrets):
        who = "the private key" if len(secrets) == 1 else f"private key {position + 1}"
        try:
            text = secret.reveal()
        except ConfigurationError:
            continue  # bytes that are not text cannot be part of the hashed string
        for key_label, key_bytes, key_hint in secret_variants(text, who)[:2]:
            try:
                key_text = key_bytes.decode("utf-8")
                message = join_webhook_message(parts, encoded_private_key(key_text, encoding))
            except (UnicodeDecodeError, ExamkitError):
                continue
            variants.append((f"{name}, {key_label}", key_bytes, message, hint or key_hint))
    return variants
