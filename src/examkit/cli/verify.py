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

from examkit.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    Report,
    SecretSource,
    describe_secret,
    report_from,
)
from examkit.core.clock import FixedClock
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


def verify_integrity_advocate(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check an Integrity Advocate review callback (``amx`` Authorization header)."""
    from examkit.integrity_advocate import explain  # noqa: PLC0415 - load one vendor only

    if not request.url:
        raise CliError("--url is required: the amx signature covers the URL the vendor called")
    app_id = secrets.require("EXAMKIT_IA_APP_ID", "the Integrity Advocate App Id")
    api_key = secrets.require("EXAMKIT_IA_API_KEY", "the Integrity Advocate API key")
    diagnosis = explain(
        request,
        app_id=app_id,
        api_key=api_key,
        tolerance=float(args.tolerance),
        clock=FixedClock(now),
        labels={
            "app_id": "EXAMKIT_IA_APP_ID",
            "api_key": "EXAMKIT_IA_API_KEY",
            "url": "the --url",
            "method": "--method",
        },
    )
    return report_from(diagnosis)


# -- Assessio ---------------------------------------------------------------------------------------


def verify_assessio(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check an Assessio webhook: the integrator-api-key header and, when present, the Signature."""
    from examkit.assessio import explain  # noqa: PLC0415 - load one vendor only

    api_key = secrets.require("EXAMKIT_ASSESSIO_API_KEY", "the Assessio integrator-api-key")
    check_signature = bool(args.require_signature or _header(request, "Signature") is not None)
    secret = (
        secrets.require("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", "the Assessio integrator-secret")
        if check_signature
        else None
    )
    settings: dict[str, Any] = {"header": args.api_key_header} if args.api_key_header else {}
    diagnosis = explain(
        request,
        api_key=api_key,
        scheme="bearer" if args.bearer else "raw",
        signature_secret=secret,
        tolerance=float(args.tolerance),
        provider_key=secrets.optional("EXAMKIT_ASSESSIO_PROVIDER_KEY"),
        clock=FixedClock(now),
        labels={
            "api_key": "EXAMKIT_ASSESSIO_API_KEY",
            "signature_secret": "EXAMKIT_ASSESSIO_INTEGRATOR_SECRET",
            "provider_key": "EXAMKIT_ASSESSIO_PROVIDER_KEY",
        },
        **settings,
    )
    return report_from(diagnosis)


# -- Testpress --------------------------------------------------------------------------------------


def verify_testpress(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check a Testpress exam webhook (the ``hash`` inside the JSON body)."""
    from examkit.testpress import explain  # noqa: PLC0415 - load one vendor only

    del args  # no Testpress-specific options
    public_key = secrets.require("EXAMKIT_TESTPRESS_PUBLIC_KEY", "the Testpress public institute key")
    private_key = secrets.require("EXAMKIT_TESTPRESS_PRIVATE_KEY", "the Testpress private key")
    diagnosis = explain(
        request,
        public_key=public_key,
        private_key=private_key,
        clock=FixedClock(now),
        labels={
            "public_key": "EXAMKIT_TESTPRESS_PUBLIC_KEY",
            "private_key": "EXAMKIT_TESTPRESS_PRIVATE_KEY",
        },
    )
    return report_from(diagnosis)


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
