"""The shared machinery of every vendor's ``explain()``: a builder and the variants worth trying.

A vendor's ``diagnose`` module makes a :class:`Diagnoser`, adds checks, sections and hints while it
rebuilds what was signed with its own ``signing`` functions, and finishes with :meth:`Diagnoser.verdict`,
which runs the vendor's real verifier. Nothing here ever records a secret or an expected signature:
variants are reported as matching or not, secrets only by their length and shape.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Sequence
from typing import Any, Final

from examkit.core._tabular import terminal_safe
from examkit.core.diagnosis import Check, Diagnosis, Outcome, Section
from examkit.core.errors import ConfigurationError, ExamkitError
from examkit.core.webhook import WebhookRequest

__all__ = [
    "Diagnoser",
    "Variant",
    "body_variants",
    "combine",
    "decode_digest",
    "describe_secret",
    "first_header",
    "secret_variants",
    "show_bytes",
]

_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")

Variant = tuple[str, bytes, bytes, str | None]
"""(label, HMAC key, signed message, hint shown when only this variant matches)."""


def show_bytes(data: bytes, limit: int = 160) -> str:
    """Return bytes as readable text: UTF-8 with escapes for anything else, cut to ``limit``."""
    text = terminal_safe(data.decode("utf-8", "backslashreplace"))
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def describe_secret(value: str) -> str:
    """Describe a secret without showing it: its length and anything odd about its shape."""
    notes = [f"{len(value)} characters"]
    if value != value.strip():
        notes.append("with surrounding whitespace")
    if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) > 1:
        notes.append("wrapped in quotes")
    return ", ".join(notes)


def first_header(request: WebhookRequest, name: str) -> str | None:
    """The first value of header ``name``, or ``None``."""
    values = request.headers.get_all(name)
    return values[0] if values else None


def decode_digest(value: str, size: int) -> tuple[bytes | None, str]:
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


def body_variants(body: bytes) -> list[tuple[str, bytes, str | None]]:
    """The body as captured, and with its trailing newline removed (or one added)."""
    stripped = body.rstrip(b"\r\n")
    if stripped != body:
        return [
            ("the body exactly as captured", body, None),
            (
                "the body without its trailing newline",
                stripped,
                (
                    "the signature covers the body without the trailing newline: the capture (or an editor) "
                    "added it; pass the body exactly as received"
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


def secret_variants(secret: str, name: str) -> list[tuple[str, bytes, str | None]]:
    """The secret as given, and the usual mistakes: whitespace, quotes, base64 text of the key."""
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


def combine(
    bodies: Sequence[tuple[str, bytes, str | None]],
    keys: Sequence[tuple[str, bytes, str | None]],
    message: Callable[[bytes], bytes],
) -> list[Variant]:
    """Every body variant with every key variant, signed as ``message(body)``."""
    variants: list[Variant] = []
    for body_label, body, body_hint in bodies:
        for key_label, key, key_hint in keys:
            hint = "; and ".join(h for h in (body_hint, key_hint) if h) or None
            variants.append((f"{body_label}, {key_label}", key, message(body), hint))
    return variants


class Diagnoser:
    """Collects the checks, sections and hints of one diagnosis, then runs the verifier."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self._checks: list[Check] = []
        self._sections: list[Section] = []
        self._hints: list[str] = []

    def check(self, passed: bool | None, text: str) -> None:
        """Add a check: ``True`` passed, ``False`` failed, ``None`` informational."""
        self._checks.append(Check(passed, terminal_safe(text)))

    def section(self, title: str, lines: Sequence[str]) -> None:
        """Add a titled block of lines."""
        self._sections.append(Section(terminal_safe(title), tuple(terminal_safe(line) for line in lines)))

    def hint(self, text: str) -> None:
        """Add a hint about what to change (kept once)."""
        text = terminal_safe(text)
        if text not in self._hints:
            self._hints.append(text)

    def skew(self, timestamp: float, now: float, tolerance: float) -> None:
        """Check a signed timestamp against the clock and the tolerance."""
        skew = now - timestamp
        where = "old" if skew >= 0 else "in the future"
        inside = abs(skew) <= tolerance
        self.check(
            inside, f"timestamp {timestamp:.0f}: {abs(skew):.0f} s {where} (tolerance {tolerance:g} s)"
        )
        if not inside:
            self.hint(
                "the timestamp is outside the tolerance: if the request is fresh, check this machine's "
                "clock (NTP); a captured request replayed later is stale by design (diagnose it as of the "
                "time it was received)"
            )

    def try_variants(
        self,
        received: bytes | None,
        variants: Sequence[Variant],
        *,
        algorithm: str = "sha256",
        title: str = "variants tried",
    ) -> list[Variant]:
        """Compute every variant's HMAC, compare it with ``received`` in constant time, list outcomes."""
        lines: list[str] = []
        matches: list[Variant] = []
        for variant in variants:
            label, key, message, _ = variant
            found = received is not None and hmac.compare_digest(
                hmac.digest(key, message, algorithm), received
            )
            lines.append(f"[{'MATCH' if found else 'no match'}] {label}")
            if found:
                matches.append(variant)
        self.section(title, lines)
        # A variant without a hint is the request as configured: when it matches, the signature is right
        # and no other variant's change would fix anything.
        if not any(hint is None for _, _, _, hint in matches):
            for _, _, _, hint in matches:
                if hint:
                    self.hint(hint)
        return matches

    def verdict(self, verify: Callable[[], Any], describe: Callable[[Any], str]) -> Diagnosis:
        """Run the vendor's verifier and return the finished diagnosis."""
        event = None
        try:
            event = verify()
        except ConfigurationError as exc:
            outcome, text = Outcome.CANNOT_VERIFY, f"CANNOT VERIFY ({type(exc).__name__}): {exc}"
        except ExamkitError as exc:
            outcome, text = Outcome.FAILED, f"FAILED ({type(exc).__name__}): {exc}"
        else:
            outcome, text = Outcome.OK, f"OK: {describe(event)}"
        return Diagnosis(
            vendor=self.vendor,
            outcome=outcome,
            verdict=terminal_safe(text),
            checks=tuple(self._checks),
            sections=tuple(self._sections),
            hints=tuple(self._hints),
            event=event,
        )
