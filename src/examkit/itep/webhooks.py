"""The iTEP results webhook: authenticate the raw request, then read the ``data`` form field.

iTEP posts one form-encoded field named ``data`` whose value is a JSON string with the results. How
the request is authenticated is set per tracking code by iTEP staff and is not documented, so
:class:`ItepWebhookVerifier` takes an explicit ``auth`` setting: a shared token in a header
(:class:`TokenHeaderAuth`), HTTP basic credentials (:class:`BasicAuth`), an HMAC of the body in a
header (:class:`HmacBodyAuth`), or :class:`NoAuthentication`, which has to be chosen on purpose.
Every comparison is on bytes and in constant time.

Nothing here imports :mod:`requests`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final, Literal, Protocol, runtime_checkable
from urllib.parse import parse_qsl

import attrs

from examkit.core._checks import check_choice, check_replay_guard, check_seconds, check_text
from examkit.core._copying import deepcopy_sharing
from examkit.core._repr import safe_repr
from examkit.core.env import env_setting
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.core.serde import load_json
from examkit.core.signing import (
    KeyRing,
    Secret,
    SecretInput,
    canonical_b64decode,
    credential_fingerprint,
    credential_matches,
    decode_signature,
    secrets_from,
)
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    ReplayGuard,
    WebhookRequest,
    body_size_limit,
    claim_once,
    received,
)
from examkit.itep.models import CONVERTER, SECTION_PREFIXES, VENDOR, ExamResult

__all__ = [
    "BasicAuth",
    "HmacBodyAuth",
    "ItepWebhookAuth",
    "ItepWebhookVerifier",
    "NoAuthentication",
    "TokenHeaderAuth",
    "parse_results_body",
    "parse_results_json",
]

_SECTION_KEYS: Final = frozenset({"Level", "Score", "Percent", "cefr", "Question_Count"})
_TEST_DATE_RE: Final = re.compile(r"\A([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\Z", re.ASCII)
_MAX_FORM_FIELDS: Final = 64
# Section fields are gathered under "<prefix><mark>" before structuring. The mark is a control character
# no real key uses (a payload key spelled that way is still kept, in ``extra``), and not NUL: cattrs before
# 26.2 writes renamed keys into generated source, which cannot hold a NUL.
_SECTION_MARK: Final = "\x1f"


def _header_bytes(value: str) -> bytes:
    # Header values are text; odd characters must not raise, they simply will not match.
    return value.encode("utf-8", "replace")


@runtime_checkable
class ItepWebhookAuth(Protocol):
    """How a results webhook proves it comes from iTEP; implement it for a scheme of your own.

    An implementation whose check covers the body's bytes (a MAC of the body) may set a
    ``covers_body = True`` attribute; the verifier then marks results ``body_authenticated``.
    """

    def authenticate(self, request: WebhookRequest) -> None:
        """Return when ``request`` is authentic.

        Raises:
            WebhookVerificationError: It is not (use the subclass that names the cause).
        """
        ...


class NoAuthentication:
    """Accept every request: the explicit choice for a tracking code set up without credentials.

    Only sensible behind another safeguard (a secret URL, an IP allow-list at the proxy).
    """

    __slots__ = ()
    covers_body = False

    def authenticate(self, request: WebhookRequest) -> None:
        """Accept ``request`` as it is."""

    @safe_repr
    def __repr__(self) -> str:
        return "NoAuthentication()"


class TokenHeaderAuth:
    """A shared token in a named header, e.g. ``X-Api-Key: <token>``.

    Args:
        header: The header's name (case-insensitive).
        token: The token, or several during a rotation.
        prefix: Text before the token in the header value, e.g. ``"Bearer "``.

    Raises:
        ConfigurationError: No header name or no token.
    """

    __slots__ = ("_expected", "_header")
    covers_body = False

    def __init__(self, *, header: str, token: SecretInput | Sequence[SecretInput], prefix: str = "") -> None:
        self._header = _header_name(header, "header")
        _prefix(prefix)
        secrets = secrets_from(token, name="token", vendor=VENDOR)
        self._expected = KeyRing(credential_fingerprint(_header_bytes(prefix) + s.key) for s in secrets)

    def authenticate(self, request: WebhookRequest) -> None:
        """Check the header against the token(s) in constant time.

        Raises:
            MissingSignatureError: The header is absent.
            MalformedSignatureError: It was sent several times with different values.
            SignatureMismatchError: It does not match.
        """
        request = received(request, limit=None, vendor=VENDOR)
        value = request.headers.get_single(self._header, vendor=VENDOR)
        if value is None:
            raise MissingSignatureError(
                f"the {self._header} header is missing: the request is not from iTEP, or the "
                "tracking code uses another authentication",
                vendor=VENDOR,
                reason="missing token",
                header=self._header,
            )
        if not credential_matches(_header_bytes(value.strip()), self._expected):
            raise SignatureMismatchError(
                f"the token in {self._header} does not match",
                vendor=VENDOR,
                reason="token mismatch",
                header=self._header,
            )

    @safe_repr
    def __repr__(self) -> str:
        return f"TokenHeaderAuth(header={self._header!r}, token='***')"


class BasicAuth:
    """HTTP basic credentials in the ``Authorization`` header.

    Args:
        username: The user name iTEP sends.
        password: The password, or several during a rotation.
        header: The header that carries them.

    Raises:
        ConfigurationError: No user name or password.
    """

    __slots__ = ("_expected", "_header", "_username")
    covers_body = False

    def __init__(
        self,
        *,
        username: str,
        password: SecretInput | Sequence[SecretInput],
        header: str = "Authorization",
    ) -> None:
        user: object = username
        if not isinstance(user, str) or not user or ":" in user:
            raise ConfigurationError(
                "username must be non-empty text without ':'", setting="username", vendor=VENDOR
            )
        self._header = _header_name(header, "header")
        self._username = username
        secrets = secrets_from(password, name="password", vendor=VENDOR)
        self._expected = KeyRing(
            credential_fingerprint(username.encode("utf-8") + b":" + s.key) for s in secrets
        )

    def authenticate(self, request: WebhookRequest) -> None:
        """Check the credentials in constant time.

        Raises:
            MissingSignatureError: No ``Authorization`` header.
            MalformedSignatureError: Not ``Basic <base64>``.
            SignatureMismatchError: Wrong user name or password.
        """
        request = received(request, limit=None, vendor=VENDOR)
        value = request.headers.get_single(self._header, vendor=VENDOR)
        if value is None:
            raise MissingSignatureError(
                f"the {self._header} header is missing: basic credentials were expected",
                vendor=VENDOR,
                reason="missing credentials",
                header=self._header,
            )
        scheme, _, encoded = value.strip().partition(" ")
        raw = encoded.strip().encode("ascii", "replace")
        # Only the canonical base64 of the credentials: one accepted text per user name and password.
        credentials = canonical_b64decode(raw) if scheme.lower() == "basic" and raw else None
        if credentials is None:
            raise MalformedSignatureError(
                f"the {self._header} header is not 'Basic <base64 credentials>'",
                vendor=VENDOR,
                reason="malformed basic credentials",
                header=self._header,
            ) from None
        if not credential_matches(credentials, self._expected):
            raise SignatureMismatchError(
                "the basic credentials do not match",
                vendor=VENDOR,
                reason="credentials mismatch",
                header=self._header,
            )

    @safe_repr
    def __repr__(self) -> str:
        return f"BasicAuth(username={self._username!r}, password='***')"


class HmacBodyAuth:
    """An HMAC-SHA256 of the raw body in a named header.

    Args:
        header: The header's name.
        secret: The shared secret, or several during a rotation.
        encoding: ``"hex"`` (either case accepted) or ``"base64"``.
        prefix: Text before the digest in the header value, e.g. ``"sha256="``.

    Raises:
        ConfigurationError: No header name or secret, or an unknown encoding.
    """

    __slots__ = ("_encoding", "_fast", "_header", "_keys", "_prefix")
    covers_body = True

    def __init__(
        self,
        *,
        header: str,
        secret: SecretInput | Sequence[SecretInput],
        encoding: Literal["hex", "base64"] = "hex",
        prefix: str = "",
    ) -> None:
        self._header = _header_name(header, "header")
        check_choice(encoding, ("hex", "base64"), setting="encoding", vendor=VENDOR)
        _prefix(prefix)
        self._encoding: Literal["hex", "base64"] = encoding
        self._prefix = prefix
        self._keys = KeyRing(s.key for s in secrets_from(secret, name="secret", vendor=VENDOR))
        # Exactly what the detailed path accepts for hex: surrounding spaces, the prefix, 64 hex digits.
        self._fast = re.compile(r"\A\s*" + re.escape(prefix) + r"([0-9a-fA-F]{64})\s*\Z", re.ASCII)

    def authenticate(self, request: WebhookRequest) -> None:
        """Check the header against the HMAC of the raw body, in constant time.

        Raises:
            MissingSignatureError: The header is absent.
            MalformedSignatureError: It cannot be decoded.
            SignatureMismatchError: It does not match.
        """
        request = received(request, limit=None, vendor=VENDOR)
        value = request.headers.get_single(self._header, vendor=VENDOR)
        if self._encoding == "hex" and value is not None:
            # Hot path: the common layout in one precompiled match, then one-shot C HMACs.
            match = self._fast.match(value)
            if match is not None:
                # The keyed work happens inside the KeyRing: no key is a local of this frame.
                if self._keys.hmac_matches(bytes.fromhex(match.group(1)), request.body):
                    return
                raise self._mismatch()
        if value is None:
            raise MissingSignatureError(
                f"the {self._header} header is missing",
                vendor=VENDOR,
                reason="missing signature",
                header=self._header,
            )
        value = value.strip()
        if self._prefix:
            if not value.startswith(self._prefix):
                raise MalformedSignatureError(
                    f"the {self._header} header does not start with {self._prefix!r}",
                    vendor=VENDOR,
                    reason="missing prefix",
                    header=self._header,
                )
            value = value[len(self._prefix) :]
        candidate = decode_signature(value, encoding=self._encoding, vendor=VENDOR, header=self._header)
        if not self._keys.hmac_matches(candidate, request.body):
            raise self._mismatch()

    def _mismatch(self) -> SignatureMismatchError:
        return SignatureMismatchError(
            f"the signature in {self._header} does not match the body: check the secret and "
            "pass the body exactly as received",
            vendor=VENDOR,
            reason="signature mismatch",
            header=self._header,
        )

    @safe_repr
    def __repr__(self) -> str:
        return f"HmacBodyAuth(header={self._header!r}, encoding={self._encoding!r}, secret='***')"


def _prefix(value: object) -> str:
    if not isinstance(value, str) or not value.isprintable():
        raise ConfigurationError("prefix must be printable text", setting="prefix", vendor=VENDOR)
    return value


def _header_name(value: object, setting: str) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or not value.isascii()
        or not value.isprintable()
        or any(c in value for c in ":\r\n ")
    ):
        raise ConfigurationError(
            f"{setting} must be a header name such as 'X-Itep-Token'",
            setting=setting,
            vendor=VENDOR,
        )
    return value.strip()


def _form_data(body: bytes, field: str) -> str:
    try:
        text = body.decode("utf-8")
        # parse_qsl refuses an empty string under strict parsing before Python 3.11 and accepts it
        # after; an empty body simply has no fields, on every version.
        pairs = (
            []
            if not text
            else parse_qsl(
                text,
                keep_blank_values=True,
                strict_parsing=True,
                encoding="utf-8",
                errors="strict",
                max_num_fields=_MAX_FORM_FIELDS,
            )
        )
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not a form body"
        raise PayloadError(
            "the body is not a form-encoded body (application/x-www-form-urlencoded) with one "
            f"'{field}' field: pass the raw request bytes, not a parsed form",
            reason=reason,
            vendor=VENDOR,
        ) from None
    values = [value for name, value in pairs if name == field]
    if not values:
        raise PayloadError(
            f"the body has no '{field}' form field; iTEP sends the results as {field}=<json>",
            field=field,
            reason="missing",
            vendor=VENDOR,
        )
    if len(values) > 1:
        raise PayloadError(
            f"the body has the '{field}' form field {len(values)} times; iTEP sends it once",
            field=field,
            reason="duplicated",
            vendor=VENDOR,
        )
    return values[0]


def _test_date(value: object) -> str | None:
    if value is None or value == "":
        return None
    match = _TEST_DATE_RE.match(value) if isinstance(value, str) else None
    if match:
        month, day, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            pass
    shown = value if isinstance(value, str) and len(value) <= 32 else type(value).__name__
    raise PayloadError(
        f"TestDate: expected a date as M/D/YYYY, got {shown!r}",
        field="TestDate",
        reason="expected M/D/YYYY",
        vendor=VENDOR,
    )


def parse_results_json(data: Mapping[str, Any] | bytes | str) -> ExamResult:
    """Read the results JSON (the value of the ``data`` field) into an :class:`ExamResult`.

    Numbers sent as strings or as numbers are both accepted; empty strings mean "absent"; unknown
    keys are kept in :attr:`ExamResult.extra`.

    Raises:
        PayloadError: The JSON is malformed or a value does not fit; ``field`` is the vendor's key.
    """
    decoded = data if isinstance(data, Mapping) else load_json(data, vendor=VENDOR)
    if not isinstance(decoded, Mapping):
        raise PayloadError("the results JSON must be an object", reason="not an object", vendor=VENDOR)
    shaped: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    marked: dict[str, Any] = {}
    for key, value in decoded.items():
        prefix, sep, rest = key.partition("_") if isinstance(key, str) else ("", "", "")
        if sep and rest in _SECTION_KEYS and prefix in SECTION_PREFIXES:
            sections.setdefault(prefix + _SECTION_MARK, {})[rest] = value
        elif isinstance(key, str) and _SECTION_MARK in key:
            marked[key] = value
        else:
            shaped[key] = value
    if "TestDate" in shaped:
        shaped["TestDate"] = _test_date(shaped["TestDate"])
    shaped.update(sections)
    try:
        result = CONVERTER.structure(shaped, ExamResult)
    except PayloadError as exc:
        field = exc.field.replace(_SECTION_MARK + ".", "_") if exc.field else None
        where = field or "the payload"
        raise PayloadError(f"{where}: {exc.reason}", field=field, reason=exc.reason, vendor=VENDOR) from None
    if marked:  # keys spelled like the internal section keys are unknown keys, kept like any other
        result = attrs.evolve(result, extra={**result.extra, **marked})
    return result


def parse_results_body(body: bytes, *, field: str = "data") -> ExamResult:
    """Read a results webhook body (``data=<json>``, form-encoded) without authenticating it.

    Use :class:`ItepWebhookVerifier` for requests from the network; this is for bodies already
    authenticated (for example stored ones).

    Raises:
        PayloadError: Not a form body, ``data`` missing or repeated, or bad JSON.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise PayloadError(
            f"the body must be the raw request bytes, not {type(body).__name__}",
            reason="not bytes",
            vendor=VENDOR,
        )
    if not isinstance(field, str) or not field:
        raise ValidationError(
            "field must be a form field name", field="field", reason="wrong type", vendor=VENDOR
        )
    return parse_results_json(_form_data(bytes(body), field))


class ItepWebhookVerifier:
    """Verifies an iTEP results webhook and returns its typed :class:`ExamResult`.

    The request is authenticated first (with ``auth``), then the body is read; an authentic request
    with a malformed body raises :class:`~examkit.core.errors.PayloadError`.

    Args:
        auth: How the requests are authenticated. Required: iTEP configures this per tracking code
            and does not document it. Use :class:`NoAuthentication` to accept unauthenticated
            requests on purpose.
        max_body_size: Bodies larger than this many bytes are refused before anything is read.
        replay_guard: When given, a delivery whose exact body was already accepted within
            ``replay_ttl`` seconds is refused (the vendor sends no nonce, so the body's SHA-256 is
            the key). Off by default: iTEP may legitimately resend the same result.
        replay_ttl: How long accepted bodies are remembered, in seconds.
        field: The form field that carries the JSON (``data``).

    Raises:
        ConfigurationError: ``auth`` is missing or not an authentication setting.

    >>> from examkit.core.webhook import WebhookRequest
    >>> verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Token", token="s3cret-token"))
    >>> body = b"data=%7B%22TestID%22%3A%223279B035APR%22%2C%22Status%22%3A%22Complete%22%7D"
    >>> verifier.verify(WebhookRequest(body=body, headers={"X-Token": "s3cret-token"})).test_id
    '3279B035APR'
    """

    __slots__ = ("_auth", "_field", "_guard", "_limit", "_ttl")

    def __init__(
        self,
        *,
        auth: ItepWebhookAuth,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        replay_guard: ReplayGuard | None = None,
        replay_ttl: float = 86_400.0,
        field: str = "data",
    ) -> None:
        given: object = auth
        size: object = max_body_size
        ttl: object = replay_ttl
        name: object = field
        if isinstance(given, type) or not isinstance(given, ItepWebhookAuth):
            raise ConfigurationError(
                "auth is required: pass TokenHeaderAuth(...), BasicAuth(...), HmacBodyAuth(...) "
                "or, on purpose, NoAuthentication()",
                setting="auth",
                vendor=VENDOR,
            )
        limit = body_size_limit(size, vendor=VENDOR)
        self._ttl = check_seconds(ttl, setting="replay_ttl", vendor=VENDOR)
        self._field = check_text(name, setting="field", vendor=VENDOR)
        self._auth = auth
        self._limit = limit
        self._guard = check_replay_guard(replay_guard, vendor=VENDOR)

    @classmethod
    def from_env(
        cls,
        *,
        scheme: Literal["token", "basic", "hmac"],
        header: str | None = None,
        environ: Mapping[str, str] | None = None,
        **settings: Any,
    ) -> ItepWebhookVerifier:
        """Build a verifier whose credentials come from environment variables.

        ``scheme="token"`` reads ``EXAMKIT_ITEP_WEBHOOK_TOKEN`` (``header`` required);
        ``scheme="basic"`` reads ``EXAMKIT_ITEP_WEBHOOK_USERNAME`` and
        ``EXAMKIT_ITEP_WEBHOOK_PASSWORD``; ``scheme="hmac"`` reads ``EXAMKIT_ITEP_WEBHOOK_SECRET``
        (``header`` required). Other keyword arguments go to the constructor.

        Raises:
            ConfigurationError: A variable is missing (the message names it), or a setting is bad.
        """

        def need(name: str) -> str:
            return env_setting(name, vendor=VENDOR, environ=environ)

        auth: ItepWebhookAuth
        if scheme == "basic":
            auth = BasicAuth(
                username=need("EXAMKIT_ITEP_WEBHOOK_USERNAME"),
                password=Secret(need("EXAMKIT_ITEP_WEBHOOK_PASSWORD"), name="password"),
                **({"header": header} if header else {}),
            )
        elif scheme in ("token", "hmac"):
            if header is None:
                raise ConfigurationError(
                    f"header is required for scheme={scheme!r}", setting="header", vendor=VENDOR
                )
            if scheme == "token":
                auth = TokenHeaderAuth(header=header, token=need("EXAMKIT_ITEP_WEBHOOK_TOKEN"))
            else:
                auth = HmacBodyAuth(header=header, secret=need("EXAMKIT_ITEP_WEBHOOK_SECRET"))
        else:
            raise ConfigurationError(
                "scheme must be 'token', 'basic' or 'hmac'", setting="scheme", vendor=VENDOR
            )
        return cls(auth=auth, **settings)

    @property
    def max_body_size(self) -> int | None:
        """The largest body accepted, in bytes (``None``: no limit); the framework adapters read no more."""
        return self._limit

    def verify(self, request: WebhookRequest) -> ExamResult:
        """Authenticate ``request`` and return its results.

        Raises:
            PayloadTooLargeError: The body is over ``max_body_size``.
            MissingSignatureError: The credentials are absent.
            MalformedSignatureError: They cannot be read.
            SignatureMismatchError: They do not match.
            ReplayedRequestError: The same body was already accepted (with a replay guard).
            PayloadError: The request is authentic but the body is malformed.
            ValidationError: ``request`` is not a :class:`~examkit.core.webhook.WebhookRequest`.
        """
        body = received(request, limit=self._limit, vendor=VENDOR).body
        outcome: object = self._auth.authenticate(request)  # type: ignore[func-returns-value]
        if outcome is not None:
            # An authenticate() that returns (False, say) instead of raising must not let a request in.
            raise SignatureMismatchError(
                "the configured auth returned a value instead of raising: authentication refused",
                vendor=VENDOR,
                reason="auth returned a value",
            )
        # Parsed before the replay claim: a body that does not parse must not be remembered as accepted.
        result = parse_results_body(body, field=self._field)
        if self._guard is not None:
            claim_once(
                self._guard,
                f"examkit:{VENDOR}:{hashlib.sha256(body).hexdigest()}",
                ttl=self._ttl,
                vendor=VENDOR,
                message="this exact results delivery was already accepted",
                reason="replayed body",
            )
        if getattr(self._auth, "covers_body", False) is True:
            result = attrs.evolve(result, body_authenticated=True)
        return result

    def __deepcopy__(self, memo: dict[int, Any]) -> ItepWebhookVerifier:
        # A new object with its own settings; what it was given to talk to the world (guard) is shared.
        return deepcopy_sharing(
            self,
            memo,
            self._guard,
        )

    @safe_repr
    def __repr__(self) -> str:
        return f"ItepWebhookVerifier(auth={self._auth!r}, max_body_size={self._limit!r})"
