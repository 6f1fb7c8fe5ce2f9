"""``examkit verify <vendor>``: check a captured webhook and explain exactly why it fails.

The verdict always comes from the vendor's real verifier, configured as the documented defaults
(plus the options given). Around it, the command rebuilds what was signed with the vendor's public
signing helpers and tries the usual variants (URL forms, encodings, a trailing newline, a secret in
another format), so that a proxy rewriting the URL or a secret in the wrong format shows up by name.
No secret and no expected signature is ever printed: only whether each variant matches.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
from collections.abc import Callable, Sequence
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from examkit.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    Report,
    SecretSource,
    describe_secret,
    report_from,
    show_bytes,
)
from examkit.core.clock import FixedClock
from examkit.core.encoding import PercentEncoding
from examkit.core.errors import ConfigurationError, ExamkitError
from examkit.core.webhook import WebhookRequest

__all__ = ["VENDOR_VERIFIERS", "verify_request"]

_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_MASK: Final = "EXAMKITMASKEDPRIVATEKEY"  # letters only: every percent-encoding keeps it as is

# (label, HMAC key, signed message, hint shown when only this variant matches)
Variant = tuple[str, bytes, bytes, str | None]


def _decode_digest(value: str, size: int) -> tuple[bytes | None, str]:
    """Decode a received signature as hex or base64; return it and a description of its format."""
    text = value.strip()
    if len(text) == 2 * size and set(text) <= _HEX_DIGITS:
        case = (
            "lower-case" if text == text.lower() else ("upper-case" if text == text.upper() else "mixed-case")
        )
        return bytes.fromhex(text), f"{case} hex, {size} bytes"
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == size:
        return raw, f"base64, {size} bytes"
    return None, f"neither {2 * size} hex digits nor base64 of {size} bytes ({len(text)} characters)"


def _try_variants(
    report: Report,
    received: bytes | None,
    variants: Sequence[Variant],
    *,
    algorithm: str = "sha256",
    title: str = "variants tried",
) -> list[Variant]:
    """Compute every variant's HMAC, compare it with ``received`` and list the outcome."""
    lines: list[str] = []
    matches: list[Variant] = []
    for variant in variants:
        label, key, message, _ = variant
        found = received is not None and hmac.compare_digest(hmac.digest(key, message, algorithm), received)
        lines.append(f"[{'MATCH' if found else 'no match'}] {label}")
        if found:
            matches.append(variant)
    report.section(title, lines)
    # A variant without a hint is the request as configured: when it matches, the signature is right
    # and no other variant's change would fix anything.
    if not any(hint is None for _, _, _, hint in matches):
        for _, _, _, hint in matches:
            if hint:
                report.hint(hint)
    return matches


def _body_variants(body: bytes) -> list[tuple[str, bytes, str | None]]:
    stripped = body.rstrip(b"\r\n")
    if stripped != body:
        return [
            ("the body exactly as captured", body, None),
            (
                "the body without its trailing newline",
                stripped,
                (
                    "the signature covers the body without the trailing newline: the capture (or an editor) "
                    "added it; pass the body file exactly as received"
                ),
            ),
        ]
    return [
        ("the body exactly as captured", body, None),
        (
            "the body with a trailing newline",
            body + b"\n",
            "the sender signed the body with a trailing newline that is not in the capture",
        ),
    ]


def _secret_variants(secret: str, name: str) -> list[tuple[str, bytes, str | None]]:
    found: list[tuple[str, bytes, str | None]] = [(f"{name} as UTF-8 text", secret.encode("utf-8"), None)]
    if secret.strip() != secret:
        found.append(
            (
                f"{name} without surrounding whitespace",
                secret.strip().encode("utf-8"),
                f"{name} has surrounding whitespace that the sender does not use: remove it",
            )
        )
    if len(secret) > 1 and secret[0] in "\"'" and secret[-1] == secret[0]:
        found.append(
            (
                f"{name} without its quotes",
                secret[1:-1].encode("utf-8"),
                f"{name} is wrapped in quotes: remove them",
            )
        )
    try:
        decoded = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) >= 16:
        found.append(
            (
                f"{name} base64-decoded",
                decoded,
                f"the sender uses the base64-decoded bytes of {name} as the key",
            )
        )
    return found


def _combine(
    bodies: Sequence[tuple[str, bytes, str | None]],
    keys: Sequence[tuple[str, bytes, str | None]],
    message: Callable[[bytes], bytes],
) -> list[Variant]:
    variants: list[Variant] = []
    for body_label, body, body_hint in bodies:
        for key_label, key, key_hint in keys:
            hint = "; and ".join(h for h in (body_hint, key_hint) if h) or None
            variants.append((f"{body_label}, {key_label}", key, message(body), hint))
    return variants


def _verdict(report: Report, verify: Callable[[], Any], describe: Callable[[Any], str]) -> None:
    try:
        event = verify()
    except ConfigurationError as exc:
        report.verdict = f"CANNOT VERIFY ({type(exc).__name__}): {exc}"
        report.code = EXIT_USAGE
    except ExamkitError as exc:
        report.verdict = f"FAILED ({type(exc).__name__}): {exc}"
        report.code = EXIT_FAILED
    else:
        report.verdict = f"OK: {describe(event)}"
        report.code = EXIT_OK


def _skew(report: Report, timestamp: int, now: float, tolerance: float) -> None:
    skew = now - timestamp
    where = "old" if skew >= 0 else "in the future"
    inside = abs(skew) <= tolerance
    report.check(inside, f"timestamp {timestamp}: {abs(skew):.0f} s {where} (tolerance {tolerance:g} s)")
    if not inside:
        report.hint(
            "the timestamp is outside the tolerance: if the request is fresh, check this machine's clock "
            "(NTP); a captured request replayed later is stale by design (use --now to check it as of "
            "the time it was received)"
        )


def _header(request: WebhookRequest, name: str) -> str | None:
    values = request.headers.get_all(name)
    return values[0] if values else None


# -- iTEP -------------------------------------------------------------------------------------------


def _itep_auth(args: argparse.Namespace, secrets: SecretSource) -> str:
    if args.auth:
        return str(args.auth)
    for name, kind in (
        ("EXAMKIT_ITEP_WEBHOOK_SECRET", "hmac"),
        ("EXAMKIT_ITEP_WEBHOOK_TOKEN", "token"),
        ("EXAMKIT_ITEP_WEBHOOK_PASSWORD", "basic"),
    ):
        if secrets.optional(name):
            return kind
    # Only what this command's --auth accepts: `sign` has no fulfillment mode.
    kinds = (
        "hmac, token or basic"
        if getattr(args, "command", None) == "sign"
        else "hmac, token, basic or fulfillment"
    )
    raise CliError(
        f"iTEP webhooks are authenticated as set up for your tracking code: pass --auth {kinds} "
        "(or set EXAMKIT_ITEP_WEBHOOK_SECRET, _TOKEN or _PASSWORD)"
    )


def _itep_header(args: argparse.Namespace, secrets: SecretSource, kind: str) -> str:
    header = args.auth_header or (
        secrets.optional("EXAMKIT_ITEP_SIGNATURE_HEADER") if kind in ("hmac", "fulfillment") else None
    )
    if not header:
        raise CliError(f"--auth-header is required with --auth {kind} (the header iTEP sends it in)")
    return str(header)


def verify_itep(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check an iTEP results webhook (or, with ``--auth fulfillment``, a fulfillment request)."""
    from examkit.itep import explain  # noqa: PLC0415 - load one vendor only

    kind = _itep_auth(args, secrets)
    secret = token = username = password = None
    if kind in ("hmac", "fulfillment"):
        header = _itep_header(args, secrets, kind)
        var = "EXAMKIT_ITEP_WEBHOOK_SECRET" if kind == "hmac" else "EXAMKIT_ITEP_API_KEY"
        secret = secrets.require(var, "the iTEP webhook secret" if kind == "hmac" else "the iTEP API key")
        labels = {"secret": var}
    elif kind == "token":
        header = _itep_header(args, secrets, kind)
        token = secrets.require("EXAMKIT_ITEP_WEBHOOK_TOKEN", "the iTEP webhook token")
        labels = {"token": "EXAMKIT_ITEP_WEBHOOK_TOKEN"}
    else:
        username = secrets.require("EXAMKIT_ITEP_WEBHOOK_USERNAME", "the iTEP webhook user name")
        password = secrets.require("EXAMKIT_ITEP_WEBHOOK_PASSWORD", "the iTEP webhook password")
        header = args.auth_header or "Authorization"
        labels = {"password": "EXAMKIT_ITEP_WEBHOOK_PASSWORD"}
    diagnosis = explain(
        request,
        scheme=kind,  # type: ignore[arg-type]  # one of _itep_auth's kinds
        header=header,
        secret=secret,
        token=token,
        username=username,
        password=password,
        prefix=args.prefix or "",
        encoding=args.encoding or "hex",
        clock=FixedClock(now),
        labels=labels,
    )
    return report_from(diagnosis)


def _compare_token(report: Report, value: str, token: str, prefix: str, name: str) -> None:
    sent = value.strip()
    report.check(None, f"token sent: {describe_secret(value)}; {name}: {describe_secret(token)}")
    if prefix and not sent.startswith(prefix):
        report.check(False, f"the header does not start with the prefix {prefix!r}")
        return
    sent = sent[len(prefix) :]
    same = hmac.compare_digest(sent.encode("utf-8", "replace"), token.encode("utf-8", "replace"))
    report.check(same, "token matches" if same else "token does not match")
    if not same:
        word, _, rest = sent.partition(" ")
        if rest and hmac.compare_digest(
            rest.strip().encode("utf-8", "replace"), token.encode("utf-8", "replace")
        ):
            report.hint(f"the header is '{word} <token>': set the prefix to {word + ' '!r} (--prefix)")
        elif hmac.compare_digest(sent.encode("utf-8", "replace"), token.strip().encode("utf-8", "replace")):
            report.hint(f"{name} has surrounding whitespace: remove it")


def _compare_basic(report: Report, value: str, username: str, password: str) -> None:
    scheme, _, encoded = value.strip().partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError
        user, sep, sent_password = (
            base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        )
        if not sep:
            raise ValueError
    except (ValueError, binascii.Error):
        report.check(False, "the header is not 'Basic <base64 of user:password>'")
        return
    report.check(user == username, f"user name sent: {user!r} (expected {username!r})")
    same = hmac.compare_digest(sent_password.encode("utf-8"), password.encode("utf-8"))
    report.check(
        same,
        "password matches" if same else f"password does not match ({describe_secret(sent_password)} sent)",
    )


# -- Integrity Advocate ----------------------------------------------------------------------------


def _url_variants(url: str) -> list[tuple[str, str, str | None]]:
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


def _ia_forms() -> list[tuple[str, Any]]:
    from examkit.integrity_advocate.signing import (  # noqa: PLC0415
        DEFAULT_CALLBACK_FORMS,
        CanonicalForm,
        CanonicalStyle,
    )

    forms: list[tuple[str, Any]] = []
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
                default = " (tried by default)" if form in DEFAULT_CALLBACK_FORMS else ""
                what = (
                    style.value if style is CanonicalStyle.LOWER_ONLY else f"{style.value}, {encoding.value}"
                )
                forms.append((f"{what}, {'with' if query else 'without'} query{default}", form))
    return forms


def _ia_signatures(  # noqa: PLR0912 - one branch per variant kind
    report: Report, auth: Any, request: WebhookRequest, keys: Sequence[tuple[str, bytes, str | None]]
) -> None:
    """Rebuild the amx signed string for every URL variant and canonical form; list the matches."""
    from examkit.integrity_advocate.signing import DEFAULT_CALLBACK_FORMS, signing_string  # noqa: PLC0415

    url_given = request.url or ""
    method = request.method
    lines: list[str] = []
    signed_lines: list[str] = []
    matched: list[str] = []
    fixes: list[str] = []
    as_configured = False
    forms = _ia_forms()
    for url_label, url, url_hint in _url_variants(url_given):
        seen: set[str] = set()
        defaults = {form.canonicalize(url) for form in DEFAULT_CALLBACK_FORMS}
        for form_label, form in forms:
            canonical = form.canonicalize(url)
            if canonical in seen:
                continue
            seen.add(canonical)
            tried_by_default = canonical in defaults
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
                if form == DEFAULT_CALLBACK_FORMS[0]:
                    signed_lines.append(message.decode("utf-8"))
            if hit:
                matched.append(f"{url_label}, {form_label}")
    # Hints name what to change; when the request matches as configured, nothing about it is wrong.
    if not as_configured:
        for fix in fixes:
            report.hint(fix)
    report.section(
        "signed string (app id + METHOD + canonical URI + timestamp + nonce; no secret in it)",
        signed_lines,
    )
    report.section(f"canonical forms tried for {request.url}", lines)
    if not matched:
        report.hint(
            "no URL form and key reproduce the signature: check EXAMKIT_IA_API_KEY, the --url (the "
            "public URL the vendor called, with its query) and --method"
        )


def verify_integrity_advocate(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check an Integrity Advocate review callback (``amx`` Authorization header)."""
    from examkit.integrity_advocate.signing import (  # noqa: PLC0415 - load one vendor only
        api_key_from,
        parse_authorization,
        validate_app_id,
    )
    from examkit.integrity_advocate.webhooks import (  # noqa: PLC0415
        AUTHORIZATION_HEADERS,
        IntegrityAdvocateWebhookVerifier,
    )

    report = Report("integrity_advocate")
    if not request.url:
        raise CliError("--url is required: the amx signature covers the URL the vendor called")
    app_id = secrets.require("EXAMKIT_IA_APP_ID", "the Integrity Advocate App Id")
    api_key = secrets.require("EXAMKIT_IA_API_KEY", "the Integrity Advocate API key")
    try:
        validate_app_id(app_id, setting="EXAMKIT_IA_APP_ID")
        report.check(True, f"EXAMKIT_IA_APP_ID is a GUID: {app_id}")
    except ConfigurationError as exc:
        report.check(False, str(exc))
    keys: list[tuple[str, bytes, str | None]] = []
    try:
        decoded = api_key_from(api_key, setting="EXAMKIT_IA_API_KEY")
        report.check(
            True, f"EXAMKIT_IA_API_KEY: {describe_secret(api_key)}, {len(decoded.key)} bytes once decoded"
        )
        keys.append(("the API key base64-decoded", decoded.key, None))
    except ConfigurationError as exc:
        report.check(False, str(exc))
    keys.append(
        (
            "the API key text (not decoded)",
            api_key.strip().encode("utf-8"),
            (
                "the sender used the API key's text as the HMAC key; Integrity Advocate uses its "
                "base64-decoded bytes: check which key the sender was given"
            ),
        )
    )
    value, header = None, AUTHORIZATION_HEADERS[0]
    for name in AUTHORIZATION_HEADERS:
        found = _header(request, name)
        if found is not None:
            value, header = found, name
            break
    report.check(value is not None, f"{header} header {'present' if value else 'missing'}")
    auth = None
    if value is not None:
        try:
            auth = parse_authorization(value, header=header)
        except ExamkitError as exc:
            report.check(False, str(exc))
    tolerance = float(args.tolerance)
    if auth is not None:
        report.check(
            None, f"header: app id {auth.app_id}, nonce {auth.nonce!r}, timestamp {auth.timestamp_text}"
        )
        same_app = (
            auth.app_id.strip("{}").replace("-", "").lower()
            == app_id.strip().strip("{}").replace("-", "").lower()
        )
        report.check(same_app, "app id in the header matches EXAMKIT_IA_APP_ID")
        _skew(report, auth.timestamp, now, tolerance)
        _ia_signatures(report, auth, request, keys)
    _verdict(
        report,
        lambda: IntegrityAdvocateWebhookVerifier(
            app_id=app_id, api_key=api_key, tolerance=tolerance, clock=FixedClock(now)
        ).verify(request),
        lambda c: (
            f"review callback for participant {c.participant.participant_identifier} "
            f"(status {getattr(c.participant.status, 'value', c.participant.status)})"
        ),
    )
    return report


# -- Assessio ---------------------------------------------------------------------------------------


def verify_assessio(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check an Assessio webhook: the integrator-api-key header and, when present, the Signature."""
    from examkit.assessio.signing import SIGNATURE_HEADER, parse_signature_header, signed_message  # noqa: PLC0415
    from examkit.assessio.webhooks import DEFAULT_API_KEY_HEADER, AssessioWebhookVerifier  # noqa: PLC0415

    report = Report("assessio")
    header = args.api_key_header or DEFAULT_API_KEY_HEADER
    api_key = secrets.require("EXAMKIT_ASSESSIO_API_KEY", "the Assessio integrator-api-key")
    value = _header(request, header)
    report.check(value is not None, f"{header} header {'present' if value else 'missing'}")
    authorization = _header(request, "Authorization")
    if value is None and authorization is not None and header.lower() != "authorization":
        # Suggest --bearer only when the header is 'Bearer <key>': otherwise it would not verify.
        bearer = authorization.strip().lower().startswith("bearer ")
        report.hint(
            "the request has an Authorization header: try --api-key-header Authorization"
            + (" --bearer" if bearer else "")
        )
    if value is not None:
        _compare_token(report, value, api_key, "Bearer " if args.bearer else "", "EXAMKIT_ASSESSIO_API_KEY")
    signature_value = _header(request, SIGNATURE_HEADER)
    check_signature = bool(args.require_signature or signature_value is not None)
    secret = None
    tolerance = float(args.tolerance)
    if check_signature:
        secret = secrets.require("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", "the Assessio integrator-secret")
        report.check(None, f"EXAMKIT_ASSESSIO_INTEGRATOR_SECRET: {describe_secret(secret)}")
        report.check(
            signature_value is not None,
            f"{SIGNATURE_HEADER} header {'present' if signature_value else 'missing'}",
        )
        parsed = None
        if signature_value is not None:
            try:
                parsed = parse_signature_header(signature_value)
            except ExamkitError as exc:
                report.check(False, str(exc))
        if parsed is not None:
            _skew(report, parsed.timestamp, now, tolerance)
            received, shape = _decode_digest(parsed.signatures[0], 32)
            report.check(received is not None, f"signature format: {shape}")
            report.section(
                "signed string (<t>.<raw body>; no secret in it)",
                [show_bytes(signed_message(parsed.timestamp, request.body), 240)],
            )
            keys = _secret_variants(secret, "EXAMKIT_ASSESSIO_INTEGRATOR_SECRET")
            provider = secrets.optional("EXAMKIT_ASSESSIO_PROVIDER_KEY")
            if provider and provider != secret:
                keys.append(
                    (
                        "EXAMKIT_ASSESSIO_PROVIDER_KEY",
                        provider.encode("utf-8"),
                        (
                            "the request is signed with the provider key, not the integrator-secret: "
                            "put the integrator-secret in EXAMKIT_ASSESSIO_INTEGRATOR_SECRET"
                        ),
                    )
                )
            _try_variants(
                report,
                received,
                _combine(_body_variants(request.body), keys, lambda b: signed_message(parsed.timestamp, b)),
            )
    _verdict(
        report,
        lambda: AssessioWebhookVerifier(
            api_key=api_key,
            header=header,
            scheme="bearer" if args.bearer else "raw",
            signature_secret=secret,
            tolerance=tolerance,
            clock=FixedClock(now),
        ).verify(request),
        lambda e: (
            f"{getattr(e.event_type, 'value', e.event_type)} event"
            + (f" for order {e.order_reference_id}" if getattr(e, "order_reference_id", None) else "")
        ),
    )
    return report


# -- Testpress --------------------------------------------------------------------------------------


def verify_testpress(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check a Testpress exam webhook (the ``hash`` inside the JSON body)."""
    from examkit.testpress.signing import (  # noqa: PLC0415 - load one vendor only
        DEFAULT_ENCODING,
        JsonLiteralError,
        load_json_with_literals,
        webhook_message,
    )
    from examkit.testpress.webhooks import TestpressWebhookVerifier  # noqa: PLC0415

    report = Report("testpress")
    public_key = secrets.require("EXAMKIT_TESTPRESS_PUBLIC_KEY", "the Testpress public institute key")
    private_key = secrets.require("EXAMKIT_TESTPRESS_PRIVATE_KEY", "the Testpress private key")
    report.check(None, f"EXAMKIT_TESTPRESS_PRIVATE_KEY: {describe_secret(private_key)}")
    payload: Any = None
    try:
        payload = load_json_with_literals(request.body)
    except JsonLiteralError as exc:
        report.check(False, f"the body is not JSON: {exc}")
    if payload is not None and not isinstance(payload, dict):
        report.check(False, "the body is not a JSON object")
        payload = None
    if payload is not None:
        received_text = payload.get("hash")
        report.check(isinstance(received_text, str) and bool(received_text), "the payload has a hash")
        received = None
        if isinstance(received_text, str) and received_text:
            received, shape = _decode_digest(received_text, 64)
            report.check(received is not None, f"hash format: {shape}")
        key = payload.get("key")
        report.check(
            key == public_key, f"payload key {str(key)!r} equals EXAMKIT_TESTPRESS_PUBLIC_KEY {public_key!r}"
        )
        encodings: list[PercentEncoding | None] = [DEFAULT_ENCODING]
        encodings += [e for e in PercentEncoding if e is not DEFAULT_ENCODING]
        encodings.append(None)
        variants: list[Variant] = []
        shown: list[str] = []
        for encoding in encodings:
            name = "no encoding" if encoding is None else encoding.value
            try:
                masked = webhook_message(payload, private_key=_MASK, encoding=encoding)
                message = webhook_message(payload, private_key=private_key, encoding=encoding)
            except ExamkitError as exc:
                report.check(False, str(exc))
                break
            if encoding is DEFAULT_ENCODING:
                shown.append(show_bytes(masked, 400).replace(_MASK, "<private_key>"))
            hint = None
            if encoding is not DEFAULT_ENCODING:
                setting = "None" if encoding is None else f"PercentEncoding.{encoding.name}"
                hint = f"the hash matches with {name}: set encoding={setting} on TestpressWebhookVerifier"
            for key_label, key_bytes, key_hint in _secret_variants(private_key, "the private key")[:2]:
                variants.append((f"{name}, {key_label}", key_bytes, message, hint or key_hint))
        report.section(f"signed string ({DEFAULT_ENCODING.value}, the private key masked)", shown)
        _try_variants(report, received, variants, algorithm="sha512", title="encodings tried")
    _verdict(
        report,
        lambda: TestpressWebhookVerifier(public_key=public_key, private_key=private_key).verify(request),
        lambda e: f"exam webhook for attempt {e.attempt_id} (score {e.score})",
    )
    return report


VENDOR_VERIFIERS: Final[
    dict[str, Callable[[argparse.Namespace, WebhookRequest, SecretSource, float], Report]]
] = {
    "itep": verify_itep,
    "integrity-advocate": verify_integrity_advocate,
    "assessio": verify_assessio,
    "testpress": verify_testpress,
}
"""The check for each vendor name the CLI accepts."""


def verify_request(
    vendor: str, args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Run the check of ``vendor`` on ``request`` and return the report."""
    return VENDOR_VERIFIERS[vendor](args, request, secrets, now)
