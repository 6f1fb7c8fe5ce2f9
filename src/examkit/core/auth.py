"""Shared credential checks on a webhook's headers: a token, HTTP basic credentials, an HMAC of the body.

Vendor-neutral strategies: each takes the ``vendor`` its errors name, checks one header of a
:class:`~examkit.WebhookRequest` in constant time, and reports which configured credential
matched (:meth:`match` returns its position, for secret rotation). ``authenticate`` is the same check
without the position, as the vendors' ``auth`` protocols expect.

The vendor packages export vendor-facing subclasses (``examkit.itep.TokenHeaderAuth`` fixes
``vendor="itep"``), so nothing here is public on its own and the module's ``__all__`` is empty.
A vendor with its own wording passes :class:`TokenMessages` (Assessio's ``integrator-api-key``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import attrs

from examkit.core._checks import check_choice
from examkit.core._repr import safe_repr
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    SignatureMismatchError,
)
from examkit.core.signing import (
    KeyRing,
    SecretInput,
    canonical_b64decode,
    credential_fingerprint,
    decode_signature,
    secrets_from,
)
from examkit.core.webhook import WebhookRequest, received

__all__: list[str] = []

TokenScheme = Literal["raw", "bearer"]


@runtime_checkable
class HeaderAuthentication(Protocol):
    """What every strategy here offers: ``authenticate`` (raise or return) and ``match`` (which key)."""

    covers_body: bool

    def authenticate(self, request: WebhookRequest) -> None:
        """Return when ``request`` is authentic; raise a ``WebhookVerificationError`` otherwise."""
        ...

    def match(self, request: WebhookRequest) -> int | None:
        """Like :meth:`authenticate`, returning the position of the credential that matched."""
        ...


def header_bytes(value: str) -> bytes:
    """A header value as bytes: odd characters (lone surrogates) never raise, they simply never match."""
    return value.encode("utf-8", "replace")


def header_name(value: object, *, setting: str = "header", vendor: str | None, example: str) -> str:
    """A header name as configured: printable ASCII without ``:``, spaces or line breaks; stripped."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or not value.isascii()
        or not value.isprintable()
        or any(c in value for c in ":\r\n ")
    ):
        raise ConfigurationError(
            f"{setting} must be a header name such as {example!r}", setting=setting, vendor=vendor
        )
    return value.strip()


def _prefix(value: object, vendor: str | None) -> str:
    if not isinstance(value, str) or not value.isprintable():
        raise ConfigurationError("prefix must be printable text", setting="prefix", vendor=vendor)
    return value


@attrs.frozen(kw_only=True)
class TokenMessages:
    """The wording of :class:`TokenHeaderAuth`'s errors; ``{header}`` is replaced by the header's name.

    The defaults are generic; a vendor passes its own (iTEP and Assessio do).
    """

    missing: str = "the {header} header is missing"
    missing_reason: str = "missing token"
    mismatch: str = "the token in {header} does not match"
    mismatch_reason: str = "token mismatch"
    malformed: str = "the {header} header is not of the form 'Bearer <token>'"
    malformed_reason: str = "not a bearer token"
    empty_is_missing: bool = False
    """Whether a blank header counts as missing (otherwise it is compared, and does not match)."""


class NoAuthentication:
    """Accept every request: the explicit choice for a webhook set up without credentials."""

    __slots__ = ()
    covers_body = False
    key_count = 0

    def authenticate(self, request: WebhookRequest) -> None:
        """Accept ``request`` as it is."""

    def match(self, request: WebhookRequest) -> int | None:
        """Accept ``request``; no credential, so no position."""
        return None

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class TokenHeaderAuth:
    """A shared token in a named header: raw (``X-Api-Key: <token>``, or after a fixed ``prefix``) or bearer.

    Args:
        vendor: The vendor the errors name.
        header: The header's name (case-insensitive).
        token: The token, or several during a rotation.
        prefix: Text before the token in the header value (raw scheme), compared exactly.
        scheme: ``"raw"``, or ``"bearer"``: ``Bearer <token>`` with the word in any case; anything else
            is a malformed header.
        messages: The errors' wording.

    Raises:
        ConfigurationError: No header name or no token, or an unknown scheme.
    """

    __slots__ = ("_expected", "_header", "_messages", "_scheme", "_vendor")
    covers_body = False

    def __init__(
        self,
        *,
        vendor: str,
        header: str,
        token: SecretInput | Sequence[SecretInput],
        prefix: str = "",
        scheme: TokenScheme = "raw",
        messages: TokenMessages = TokenMessages(),
        example_header: str = "X-Api-Key",
    ) -> None:
        self._vendor = vendor
        self._header = header_name(header, vendor=vendor, example=example_header)
        _prefix(prefix, vendor)
        check_choice(scheme, ("raw", "bearer"), setting="scheme", vendor=vendor)
        self._scheme: TokenScheme = scheme
        self._messages = messages
        secrets = secrets_from(token, name="token", vendor=vendor)
        lead = header_bytes(prefix) if scheme == "raw" else b""
        self._expected = KeyRing(credential_fingerprint(lead + s.key) for s in secrets)

    @property
    def header(self) -> str:
        """The header's name."""
        return self._header

    @property
    def key_count(self) -> int:
        """How many tokens are configured."""
        return len(self._expected)

    def authenticate(self, request: WebhookRequest) -> None:
        """Check the header against the token(s) in constant time (see :meth:`match`)."""
        self.match(request)

    def match(self, request: WebhookRequest) -> int:
        """Check the header and return the position of the token it carries.

        Raises:
            MissingSignatureError: The header is absent.
            MalformedSignatureError: It was sent several times with different values, or is not
                ``Bearer <token>`` in the bearer scheme.
            SignatureMismatchError: It does not match.
        """
        vendor, text = self._vendor, self._messages
        request = received(request, limit=None, vendor=vendor)
        value = request.headers.get_single(self._header, vendor=vendor)
        if value is None or (text.empty_is_missing and not value.strip()):
            raise MissingSignatureError(
                text.missing.format(header=self._header),
                vendor=vendor,
                reason=text.missing_reason,
                header=self._header,
            )
        token = value.strip()
        if self._scheme == "bearer":
            word, _, rest = token.partition(" ")
            if word.lower() != "bearer" or not rest.strip():
                raise MalformedSignatureError(
                    text.malformed.format(header=self._header),
                    vendor=vendor,
                    reason=text.malformed_reason,
                    header=self._header,
                )
            token = rest.strip()
        found = self._expected.index_of(header_bytes(token))
        if found is None:
            raise SignatureMismatchError(
                text.mismatch.format(header=self._header),
                vendor=vendor,
                reason=text.mismatch_reason,
                header=self._header,
            )
        return found

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}(header={self._header!r}, token='***')"


class BasicAuth:
    """HTTP basic credentials (``Basic <base64 of user:password>``) in the ``Authorization`` header.

    Only the canonical base64 of the credentials is accepted: one text per user name and password.

    Args:
        vendor: The vendor the errors name.
        username: The user name the vendor sends.
        password: The password, or several during a rotation.
        header: The header that carries them.

    Raises:
        ConfigurationError: No user name (or one with ``:``) or no password.
    """

    __slots__ = ("_expected", "_header", "_username", "_vendor")
    covers_body = False

    def __init__(
        self,
        *,
        vendor: str,
        username: str,
        password: SecretInput | Sequence[SecretInput],
        header: str = "Authorization",
        example_header: str = "Authorization",
    ) -> None:
        user: object = username  # users pass user names from the environment: a run-time type check
        if not isinstance(user, str) or not user or ":" in user:
            raise ConfigurationError(
                "username must be non-empty text without ':'", setting="username", vendor=vendor
            )
        self._vendor = vendor
        self._header = header_name(header, vendor=vendor, example=example_header)
        self._username = username
        secrets = secrets_from(password, name="password", vendor=vendor)
        self._expected = KeyRing(
            credential_fingerprint(username.encode("utf-8") + b":" + s.key) for s in secrets
        )

    @property
    def header(self) -> str:
        """The header's name."""
        return self._header

    @property
    def username(self) -> str:
        """The expected user name (not a secret)."""
        return self._username

    @property
    def key_count(self) -> int:
        """How many passwords are configured."""
        return len(self._expected)

    def authenticate(self, request: WebhookRequest) -> None:
        """Check the credentials in constant time (see :meth:`match`)."""
        self.match(request)

    def match(self, request: WebhookRequest) -> int | None:
        """Check the credentials and return the position of the password they carry.

        Raises:
            MissingSignatureError: No ``Authorization`` header.
            MalformedSignatureError: Not ``Basic <base64>``.
            SignatureMismatchError: Wrong user name or password.
        """
        vendor = self._vendor
        request = received(request, limit=None, vendor=vendor)
        value = request.headers.get_single(self._header, vendor=vendor)
        if value is None:
            raise MissingSignatureError(
                f"the {self._header} header is missing: basic credentials were expected",
                vendor=vendor,
                reason="missing credentials",
                header=self._header,
            )
        credentials = basic_credentials(value)
        if credentials is None:
            raise MalformedSignatureError(
                f"the {self._header} header is not 'Basic <base64 credentials>'",
                vendor=vendor,
                reason="malformed basic credentials",
                header=self._header,
            ) from None
        found = self._expected.index_of(credentials)
        if found is None:
            raise SignatureMismatchError(
                "the basic credentials do not match",
                vendor=vendor,
                reason="credentials mismatch",
                header=self._header,
            )
        return found

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}(username={self._username!r}, password='***')"


def basic_credentials(value: str) -> bytes | None:
    """The ``user:password`` bytes of a ``Basic <base64>`` header value, or ``None`` when it is not one."""
    scheme, _, encoded = value.strip().partition(" ")
    raw = encoded.strip().encode("ascii", "replace")
    return canonical_b64decode(raw) if scheme.lower() == "basic" and raw else None


class HmacBodyAuth:
    """An HMAC-SHA256 of the raw body in a named header.

    Args:
        vendor: The vendor the errors name.
        header: The header's name.
        secret: The shared secret, or several during a rotation.
        encoding: ``"hex"`` (either case accepted) or ``"base64"``.
        prefix: Text before the digest in the header value, e.g. ``"sha256="``.

    Raises:
        ConfigurationError: No header name or secret, or an unknown encoding.
    """

    __slots__ = ("_encoding", "_fast", "_header", "_keys", "_prefix", "_vendor")
    covers_body = True

    def __init__(
        self,
        *,
        vendor: str,
        header: str,
        secret: SecretInput | Sequence[SecretInput],
        encoding: Literal["hex", "base64"] = "hex",
        prefix: str = "",
        example_header: str = "X-Signature",
    ) -> None:
        self._vendor = vendor
        self._header = header_name(header, vendor=vendor, example=example_header)
        check_choice(encoding, ("hex", "base64"), setting="encoding", vendor=vendor)
        _prefix(prefix, vendor)
        self._encoding: Literal["hex", "base64"] = encoding
        self._prefix = prefix
        self._keys = KeyRing(s.key for s in secrets_from(secret, name="secret", vendor=vendor))
        # Exactly what the general path accepts for hex: surrounding spaces, the prefix, 64 hex digits.
        self._fast = re.compile(r"\A\s*" + re.escape(prefix) + r"([0-9a-fA-F]{64})\s*\Z", re.ASCII)

    @property
    def header(self) -> str:
        """The header's name."""
        return self._header

    @property
    def encoding(self) -> Literal["hex", "base64"]:
        """How the digest is written."""
        return self._encoding

    @property
    def prefix(self) -> str:
        """The text expected before the digest."""
        return self._prefix

    @property
    def key_count(self) -> int:
        """How many secrets are configured."""
        return len(self._keys)

    def authenticate(self, request: WebhookRequest) -> None:
        """Check the header against the HMAC of the raw body, in constant time (see :meth:`match`)."""
        self.match(request)

    def match(self, request: WebhookRequest) -> int | None:
        """Check the header against the HMAC of the raw body and return the matching secret's position.

        Raises:
            MissingSignatureError: The header is absent.
            MalformedSignatureError: It cannot be decoded.
            SignatureMismatchError: It does not match.
        """
        request = received(request, limit=None, vendor=self._vendor)
        value = request.headers.get_single(self._header, vendor=self._vendor)
        candidate = self._fast_candidate(value) or self._candidate(value)
        # The keyed work happens inside the KeyRing: no key is a local of this frame.
        found = self._keys.hmac_index((candidate,), request.body)
        if found is None:
            raise SignatureMismatchError(
                f"the signature in {self._header} does not match the body: check the secret and "
                "pass the body exactly as received",
                vendor=self._vendor,
                reason="signature mismatch",
                header=self._header,
            )
        return found

    def _fast_candidate(self, value: str | None) -> bytes:
        """The hot path: the common hex layout in one precompiled match (``b""`` when it does not apply)."""
        if self._encoding != "hex" or value is None:
            return b""
        found = self._fast.match(value)
        return bytes.fromhex(found.group(1)) if found is not None else b""

    def _candidate(self, value: str | None) -> bytes:
        """The general path: the received digest's bytes, or the error that says why there are none."""
        if value is None:
            raise MissingSignatureError(
                f"the {self._header} header is missing",
                vendor=self._vendor,
                reason="missing signature",
                header=self._header,
            )
        value = value.strip()
        if self._prefix:
            if not value.startswith(self._prefix):
                raise MalformedSignatureError(
                    f"the {self._header} header does not start with {self._prefix!r}",
                    vendor=self._vendor,
                    reason="missing prefix",
                    header=self._header,
                )
            value = value[len(self._prefix) :]
        return decode_signature(value, encoding=self._encoding, vendor=self._vendor, header=self._header)

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}(header={self._header!r}, encoding={self._encoding!r}, secret='***')"
