"""Why does a review callback fail to verify? A secret-free account, built from this vendor's signing.

:func:`explain` reads the ``amx`` header, checks the App Id and the API key's shape, judges the clock
skew, rebuilds the signed string for the URL as given and for its likely variants (the other scheme,
the trailing slash toggled) in every canonical form, and says which of them the signature matches.
Then it runs the real :class:`~examkit.integrity_advocate.IntegrityAdvocateWebhookVerifier` for the
verdict. No secret and no expected signature is ever part of the result: variants are reported as
matching or not.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from examkit.core._checks import argument_text, check_clock, check_instance
from examkit.core._diagnosing import Diagnoser, describe_secret, first_header
from examkit.core.clock import DEFAULT_TOLERANCE, Clock, SystemClock, Tolerance, tolerance_seconds
from examkit.core.diagnosis import Diagnosis
from examkit.core.encoding import PercentEncoding
from examkit.core.errors import ConfigurationError, ExamkitError
from examkit.core.signing import Secret, SecretInput
from examkit.core.webhook import WebhookRequest, received, verification_time
from examkit.integrity_advocate.models import VENDOR, AmxAuthorization, ReviewCallback
from examkit.integrity_advocate.signing import (
    DEFAULT_CALLBACK_FORMS,
    CanonicalForm,
    CanonicalStyle,
    api_key_from,
    parse_authorization,
    signing_string,
    validate_app_id,
)
from examkit.integrity_advocate.webhooks import AUTHORIZATION_HEADERS, IntegrityAdvocateWebhookVerifier

__all__ = ["explain"]

_KeyVariant = tuple[str, bytes, "str | None"]
_DEFAULT_LABELS: Final = {
    "app_id": "app_id",
    "api_key": "api_key",
    "url": "the request's url",
    "method": "the request's method",
}


def _url_variants(url: str) -> list[tuple[str, str, str | None]]:
    """The URL as given, with the other scheme, and with the trailing slash toggled (with their hints)."""
    parts = urlsplit(url)
    found: list[tuple[str, str, str | None]] = [("the URL as given", url, None)]
    other = {"https": "http", "http": "https"}.get(parts.scheme)
    if other:
        found.append(
            (
                f"the URL with {other}://",
                urlunsplit(parts._replace(scheme=other)),
                (
                    f"the vendor signed the {other}:// URL: a proxy in front of this server changes the "
                    "scheme; set the public URL explicitly (callback_url, or public_url / trust_forwarded in "
                    "the "
                    "framework adapters)"
                ),
            )
        )
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path + "/"
    found.append(
        (
            "the URL with the trailing slash toggled",
            urlunsplit(parts._replace(path=path)),
            (
                "the vendor signed the URL with a different trailing slash: register the callback URL "
                "exactly as your server sees it (or set callback_url)"
            ),
        )
    )
    return found


def _forms(defaults: Sequence[CanonicalForm]) -> list[tuple[str, CanonicalForm]]:
    """Every canonical form worth trying, labelled; those among ``defaults`` say so."""
    forms: list[tuple[str, CanonicalForm]] = []
    for query in (False, True):
        for style in CanonicalStyle:
            encodings = (
                (PercentEncoding.PHP_URLENCODE,)
                if style is CanonicalStyle.LOWER_ONLY
                else (
                    PercentEncoding.PHP_URLENCODE,
                    PercentEncoding.ENCODE_URI_COMPONENT,
                    PercentEncoding.RFC3986,
                )
            )
            for encoding in encodings:
                form = CanonicalForm(include_query=query, style=style, encoding=encoding)
                default = " (tried by default)" if form in defaults else ""
                what = (
                    style.value if style is CanonicalStyle.LOWER_ONLY else f"{style.value}, {encoding.value}"
                )
                forms.append((f"{what}, {'with' if query else 'without'} query{default}", form))
    return forms


def _signatures(  # noqa: PLR0912 - one branch per variant kind
    diagnoser: Diagnoser,
    auth: AmxAuthorization,
    *,
    url_given: str,
    method: str,
    keys: Sequence[_KeyVariant],
    defaults: Sequence[CanonicalForm],
    labels: Mapping[str, str],
) -> None:
    """Rebuild the amx signed string for every URL variant and canonical form; list the matches."""
    lines: list[str] = []
    signed_lines: list[str] = []
    matched: list[str] = []
    fixes: list[str] = []
    as_configured = False
    forms = _forms(defaults)
    for url_label, url, url_hint in _url_variants(url_given):
        seen: set[str] = set()
        tried = {form.canonicalize(url) for form in defaults}
        for form_label, form in forms:
            canonical = form.canonicalize(url)
            if canonical in seen:
                continue
            seen.add(canonical)
            tried_by_default = canonical in tried
            message = signing_string(
                app_id=auth.app_id,
                method=method.upper(),
                canonical=canonical,
                timestamp=auth.timestamp_text,
                nonce=auth.nonce,
            )
            hit = False
            for _, key, key_hint in keys:
                if not hmac.compare_digest(hmac.digest(key, message, "sha256"), auth.signature):
                    continue
                hit = True
                if url_hint is None and tried_by_default and key_hint is None:
                    as_configured = True
                fixes += [h for h in (url_hint, key_hint) if h]
                if not tried_by_default:
                    fixes.append(
                        "the vendor signed the URL in a form examkit does not try by default "
                        f"({form_label}): add that CanonicalForm to url_forms"
                    )
            if url_label == "the URL as given":
                lines.append(f"[{'MATCH' if hit else 'no match'}] {form_label}: {canonical}")
                if form == CanonicalForm():
                    signed_lines.append(message.decode("utf-8"))
            if hit:
                matched.append(f"{url_label}, {form_label}")
    # Hints name what to change; when the request matches as configured, nothing about it is wrong.
    if not as_configured:
        for fix in fixes:
            diagnoser.hint(fix)
    diagnoser.section(
        "signed string (app id + METHOD + canonical URI + timestamp + nonce; no secret in it)",
        signed_lines,
    )
    diagnoser.section(f"canonical forms tried for {url_given}", lines)
    if not matched:
        diagnoser.hint(
            f"no URL form and key reproduce the signature: check {labels['api_key']}, {labels['url']} (the "
            f"public URL the vendor called, with its query) and {labels['method']}"
        )


def _key_text(api_key: SecretInput) -> str | None:
    if isinstance(api_key, Secret):
        return api_key.reveal()
    if isinstance(api_key, bytes | bytearray):
        return bytes(api_key).decode("utf-8", "replace")
    return api_key if isinstance(api_key, str) else None


def explain(
    request: WebhookRequest,
    *,
    app_id: str,
    api_key: SecretInput,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    clock: Clock | None = None,
    url_forms: Sequence[CanonicalForm] = DEFAULT_CALLBACK_FORMS,
    callback_url: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Diagnosis:
    """Explain, without showing any secret, whether and why a review callback verifies.

    The settings are those of :class:`~examkit.integrity_advocate.IntegrityAdvocateWebhookVerifier`;
    the verdict is that verifier's, run on ``request`` (freshness judged at its ``received_at`` when
    set). The checks list the header, the App Id, the key's shape and the clock skew; the sections show
    the signed string (no secret is in it) and each canonical form of the URL with whether it matches;
    the hints name what to change (the scheme a proxy changed, a trailing slash, a form not tried by
    default, the key's text used instead of its decoded bytes).

    Args:
        request: The callback as received.
        app_id: Your App Id.
        api_key: Your API key.
        tolerance: As the verifier's (default :data:`~examkit.core.DEFAULT_TOLERANCE`).
        clock: As the verifier's (default the system clock).
        url_forms: As the verifier's.
        callback_url: As the verifier's: the public URL to check against instead of ``request.url``.
        labels: How to name the settings in messages: keys ``app_id``, ``api_key``, ``url``, ``method``
            (the CLI passes its environment variables and options).

    >>> from examkit.core.clock import FixedClock
    >>> from examkit.testing.integrity_advocate import DEMO_API_KEY, DEMO_APP_ID, signed_review_callback
    >>> request = signed_review_callback(
    ...     {"ParticipantIdentifier": "p-1", "Course_Id": "c-1", "Status": "Valid"},
    ...     url="https://example.org/ia/callback", timestamp=1_700_000_000)
    >>> now = FixedClock(1_700_000_005)
    >>> diagnosis = explain(request, app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, clock=now)
    >>> diagnosis.verdict
    'OK: review callback for participant p-1 (status Valid)'
    >>> DEMO_API_KEY in diagnosis.render()
    False
    """
    received(request, limit=None, vendor=VENDOR)
    given: Mapping[str, str] = check_instance(
        {} if labels is None else labels,
        Mapping,  # type: ignore[type-abstract]
        setting="labels",
        vendor=VENDOR,
    )
    names = {
        **_DEFAULT_LABELS,
        **{argument_text(k, field="labels"): argument_text(v, field="labels") for k, v in given.items()},
    }
    diagnoser = Diagnoser(VENDOR)
    the_clock: Clock = check_clock(clock, vendor=VENDOR) or SystemClock()
    try:
        tolerance_s: float | None = tolerance_seconds(tolerance)
    except ConfigurationError as exc:
        diagnoser.check(False, str(exc))
        tolerance_s = None
    try:
        validate_app_id(app_id, setting=names["app_id"])
        diagnoser.check(True, f"{names['app_id']} is a GUID: {app_id}")
    except ConfigurationError as exc:
        diagnoser.check(False, str(exc))
    keys: list[_KeyVariant] = []
    try:
        decoded = api_key_from(api_key, setting=names["api_key"])
        diagnoser.check(
            True,
            f"{names['api_key']}: {describe_secret(_key_text(api_key) or '')}, "
            f"{len(decoded.key)} bytes once decoded",
        )
        keys.append(("the API key base64-decoded", decoded.key, None))
    except ConfigurationError as exc:
        diagnoser.check(False, str(exc))
    text = _key_text(api_key)
    if text is not None:
        keys.append(
            (
                "the API key text (not decoded)",
                text.strip().encode("utf-8", "replace"),
                (
                    "the sender used the API key's text as the HMAC key; Integrity Advocate uses its "
                    "base64-decoded bytes: check which key the sender was given"
                ),
            )
        )
    value, header = None, AUTHORIZATION_HEADERS[0]
    for name in AUTHORIZATION_HEADERS:
        found = first_header(request, name)
        if found is not None:
            value, header = found, name
            break
    diagnoser.check(value is not None, f"{header} header {'present' if value else 'missing'}")
    auth = None
    if value is not None:
        try:
            auth = parse_authorization(value, header=header)
        except ExamkitError as exc:
            diagnoser.check(False, str(exc))
    url = callback_url or request.url
    if auth is not None:
        diagnoser.check(
            None, f"header: app id {auth.app_id}, nonce {auth.nonce!r}, timestamp {auth.timestamp_text}"
        )
        same_app = isinstance(app_id, str) and (
            auth.app_id.strip("{}").replace("-", "").lower()
            == app_id.strip().strip("{}").replace("-", "").lower()
        )
        diagnoser.check(same_app, f"app id in the header matches {names['app_id']}")
        if tolerance_s is not None:
            diagnoser.skew(auth.timestamp, verification_time(request, the_clock), tolerance_s)
        if url:
            _signatures(
                diagnoser,
                auth,
                url_given=url,
                method=request.method,
                keys=keys,
                defaults=tuple(url_forms),
                labels=names,
            )
        else:
            diagnoser.check(False, f"no URL to check the signature against: set {names['url']}")

    def verify() -> ReviewCallback:
        return IntegrityAdvocateWebhookVerifier(
            app_id=app_id,
            api_key=api_key,
            tolerance=tolerance,
            clock=the_clock,
            url_forms=url_forms,
            callback_url=callback_url,
        ).verify(request)

    return diagnoser.verdict(
        verify,
        lambda c: (
            f"review callback for participant {c.participant.participant_identifier} "
            f"(status {c.participant.status})"
        ),
    )
