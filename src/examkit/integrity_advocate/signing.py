"""Integrity Advocate's ``amx`` HMAC authorization: sign requests and verify the header.

Every signed API call, and every review callback Integrity Advocate posts, carries::

    Authorization: amx {app_id}:{signature}:{nonce}:{timestamp}

where ``signature`` is the standard, padded base64 of HMAC-SHA256 over the UTF-8 bytes of::

    app_id + METHOD + canonical_uri + timestamp + nonce

with no separators. The key is the base64-*decoded* API key. The canonical URI is, by default,
the URL without its query string, percent-encoded as PHP ``urlencode`` does, then lower-cased (so
escapes come out lower-case: ``https%3a%2f%2f...``). The query string is never signed, and
neither is the body.

Where the vendor's documents disagree on the canonical URI (see :class:`CanonicalForm`), the form is
a setting.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any, Final

import attrs

from examkit.core._checks import (
    argument_text,
    check_bool,
    check_clock,
    check_instance,
    check_replay_guard,
    check_tuple_of,
    label,
)
from examkit.core._copying import deepcopy_sharing
from examkit.core._repr import safe_repr
from examkit.core.clock import Clock, SystemClock, Tolerance, check_freshness, tolerance_seconds
from examkit.core.encoding import PercentEncoding, percent_encode
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.core.signing import (
    KeyRing,
    Secret,
    SecretInput,
    decode_base64_key,
    decode_signature,
    to_base64,
)
from examkit.core.webhook import ReplayGuard, claim_once

__all__ = [
    "API_KEY_LENGTHS",
    "DEFAULT_CALLBACK_FORMS",
    "DEFAULT_REQUEST_FORM",
    "LOWER_THEN_ENCODE_WITH_QUERY",
    "VENDOR",
    "AmxAuthorization",
    "AmxSigner",
    "AmxVerifier",
    "CanonicalForm",
    "CanonicalStyle",
    "api_key_from",
    "canonical_uri",
    "new_nonce",
    "parse_authorization",
    "sign_request",
    "signing_string",
    "validate_app_id",
    "verify_authorization",
]

VENDOR: Final = "integrity_advocate"
"""The vendor name carried by every examkit error about Integrity Advocate."""

API_KEY_LENGTHS: Final = range(41, 51)
"""Accepted lengths of the API key *as text*: more than 40 and at most 50 characters.

This is the check of the vendor's Moodle plugin (a 32-byte key is 44 base64 characters).
"""

_GUID_RE: Final = re.compile(
    r"\A[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\Z",
    re.IGNORECASE | re.ASCII,
)
_METHOD_RE: Final = re.compile(r"\A[A-Za-z]{1,16}\Z", re.ASCII)
_TIMESTAMP_RE: Final = re.compile(r"\A[0-9]{1,12}\Z", re.ASCII)
# A well-formed header in one match; anything else takes the detailed path for its message. The last
# base64 character of a 32-byte digest carries two unused bits, which must be zero (canonical form).
_FAST_HEADER_RE: Final = re.compile(
    r"\A[aA][mM][xX] ([!-9;-~]+):([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=):([!-9;-~]+):([0-9]{1,12})\Z",
    re.ASCII,
)
_MAX_CACHED_URLS: Final = 256
_COMMON_METHODS: Final = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
_SCHEME: Final = "amx"
_MAX_HEADER: Final = 2048


class CanonicalStyle(enum.Enum):
    """How the URL is turned into the canonical URI that is signed."""

    ENCODE_THEN_LOWER = "encode_then_lower"
    """Percent-encode, then lower-case everything (escapes become ``%3a``): the vendor's plugin."""

    LOWER_THEN_ENCODE = "lower_then_encode"
    """Lower-case, then percent-encode (escapes stay ``%3A``): a public callback handler's order."""

    LOWER_ONLY = "lower_only"
    """Lower-case only, no encoding: the vendor's Postman script for URLs without a query."""


@attrs.frozen
class CanonicalForm:
    """One way of writing the canonical URI that goes into the signed string.

    Attributes:
        include_query: Keep the query string (everything after the first ``?``). Outgoing API calls
            never sign it; the review callback URL the vendor signs is undocumented.
        style: Encode then lower-case (default), lower-case then encode, or lower-case only.
        encoding: The percent-encoding variant (default PHP ``urlencode``, as the vendor's plugin).

    >>> CanonicalForm().canonicalize("https://ca.integrityadvocateserver.com/api/participant?x=1")
    'https%3a%2f%2fca.integrityadvocateserver.com%2fapi%2fparticipant'
    """

    include_query: bool = False
    style: CanonicalStyle = CanonicalStyle.ENCODE_THEN_LOWER
    encoding: PercentEncoding = PercentEncoding.PHP_URLENCODE

    def __attrs_post_init__(self) -> None:
        check_bool(self.include_query, setting="include_query", vendor=VENDOR)
        check_instance(self.style, CanonicalStyle, setting="style", vendor=VENDOR)
        check_instance(self.encoding, PercentEncoding, setting="encoding", vendor=VENDOR)

    def canonicalize(self, url: str) -> str:
        """Return the canonical URI of ``url`` in this form.

        Raises:
            ValidationError: The URL is not text, or holds text that cannot be encoded as UTF-8.
        """
        if not isinstance(url, str):
            raise ValidationError("url must be text", field="url", reason="not text", vendor=VENDOR)
        return _canonicalize(url, self)


@functools.lru_cache(maxsize=512)
def _canonicalize(url: str, form: CanonicalForm) -> str:
    # Callback and API URLs repeat, so the encoded form is cached (the hot path of verification).
    if not form.include_query:
        url = url.split("?", 1)[0]
    url = url.split("#", 1)[0]
    if form.style is CanonicalStyle.ENCODE_THEN_LOWER:
        return percent_encode(url, form.encoding).lower()
    if form.style is CanonicalStyle.LOWER_THEN_ENCODE:
        return percent_encode(url.lower(), form.encoding)
    return url.lower()


DEFAULT_REQUEST_FORM: Final = CanonicalForm()
"""The form used to sign API calls: no query, PHP ``urlencode``, then lower-case."""

DEFAULT_CALLBACK_FORMS: Final = (CanonicalForm(), CanonicalForm(include_query=True))
"""The forms a review callback verifier tries by default: the callback URL without its query, and
with it, both encoded then lower-cased."""

LOWER_THEN_ENCODE_WITH_QUERY: Final = CanonicalForm(
    include_query=True,
    style=CanonicalStyle.LOWER_THEN_ENCODE,
    encoding=PercentEncoding.ENCODE_URI_COMPONENT,
)
"""The form one public callback handler checks (full URL lower-cased, then ``encodeURIComponent``).

Not tried by default; add it to ``url_forms`` if your deliveries only verify this way."""


def canonical_uri(url: str, form: CanonicalForm = DEFAULT_REQUEST_FORM) -> str:
    """Return the canonical URI of ``url`` (see :class:`CanonicalForm`).

    >>> canonical_uri("https://ca.integrityadvocateserver.com/api/course/6120/participants?limit=5")
    'https%3a%2f%2fca.integrityadvocateserver.com%2fapi%2fcourse%2f6120%2fparticipants'

    Raises:
        ValidationError: The URL is not text or cannot be encoded as UTF-8.
    """
    if not _is_text(url) or not url:
        raise ValidationError("url must be a non-empty string", field="url", reason="not text", vendor=VENDOR)
    return check_instance(form, CanonicalForm, setting="form", vendor=VENDOR).canonicalize(url)


def validate_app_id(app_id: object, *, setting: str = "app_id") -> str:
    """Check that ``app_id`` is a GUID; return it as given (surrounding ``{}`` and spaces removed).

    Hex digits in either case, hyphens optional, as the vendor's plugin accepts.

    Raises:
        ConfigurationError: The app id is not a GUID.
    """
    if not isinstance(app_id, str):
        raise ConfigurationError(
            f"{setting} must be text, not {type(app_id).__name__}", setting=setting, vendor=VENDOR
        )
    text = app_id.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if not _GUID_RE.match(text):
        raise ConfigurationError(
            f"{setting} is not a GUID (like 00000000-1111-2222-3333-444444444444): copy the App Id "
            "exactly as Integrity Advocate gave it",
            setting=setting,
            vendor=VENDOR,
        )
    return text


def api_key_from(api_key: SecretInput, *, setting: str = "api_key") -> Secret:
    """Check an API key; return it as a :class:`~examkit.core.signing.Secret` of the decoded bytes.

    The key must be strict, padded base64 text of 41 to 50 characters (see :data:`API_KEY_LENGTHS`).

    Raises:
        ConfigurationError: The key is empty, not base64, or of the wrong length. The message never
            repeats the key.
    """
    if isinstance(api_key, Secret):
        text = api_key.reveal()
    elif isinstance(api_key, bytes | bytearray):
        try:
            text = bytes(api_key).decode("ascii")
        except UnicodeDecodeError:
            raise ConfigurationError(
                f"{setting} is not base64 text", setting=setting, vendor=VENDOR
            ) from None
    elif isinstance(api_key, str):
        text = api_key
    else:
        raise ConfigurationError(
            f"{setting} must be text, not {type(api_key).__name__}", setting=setting, vendor=VENDOR
        )
    text = text.strip()
    if len(text) not in API_KEY_LENGTHS:
        raise ConfigurationError(
            f"{setting} has {len(text)} characters; an Integrity Advocate API key has 41 to 50 "
            "(base64): check that the whole key was copied",
            setting=setting,
            vendor=VENDOR,
        )
    return decode_base64_key(text, name=setting, vendor=VENDOR)


def _api_keys_from(api_key: SecretInput | Sequence[SecretInput], *, setting: str) -> tuple[Secret, ...]:
    if isinstance(api_key, str | bytes | bytearray | Secret):
        return (api_key_from(api_key, setting=setting),)
    if isinstance(api_key, Sequence):
        keys = tuple(api_key_from(k, setting=setting) for k in api_key)  # type: ignore[arg-type]
        if keys:
            return keys
    raise ConfigurationError(
        f"{setting} must be an API key or a non-empty sequence of them",
        setting=setting,
        vendor=VENDOR,
    )


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def new_nonce() -> str:
    """Return a fresh random nonce: 32 lower-case hex characters (never a ``:``)."""
    return uuid.uuid4().hex


def signing_string(*, app_id: str, method: str, canonical: str, timestamp: str, nonce: str) -> bytes:
    """Return the bytes that are signed: ``app_id + METHOD + canonical + timestamp + nonce``.

    Raises:
        ValidationError: A part is not text, or cannot be encoded as UTF-8.
    """
    parts = {
        "app_id": app_id,
        "method": method,
        "canonical": canonical,
        "timestamp": timestamp,
        "nonce": nonce,
    }
    for field, value in parts.items():
        argument_text(value, field=field, vendor=VENDOR)
    try:
        return "".join(parts.values()).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "the signed string cannot be encoded as UTF-8", reason="not UTF-8", vendor=VENDOR
        ) from None


def _check_method(method: object) -> str:
    if not isinstance(method, str) or not _METHOD_RE.match(method):
        raise ValidationError(
            "method must be an HTTP method such as GET or PATCH",
            field="method",
            reason="bad method",
            vendor=VENDOR,
        )
    return method.upper()


def _check_nonce(nonce: object) -> str:
    if (
        not isinstance(nonce, str)
        or not nonce
        or len(nonce) > 256
        or ":" in nonce
        or not nonce.isascii()
        or not nonce.isprintable()
        or nonce.strip() != nonce
    ):
        raise ValidationError(
            "nonce must be 1 to 256 printable ASCII characters without ':' or surrounding spaces",
            field="nonce",
            reason="bad nonce",
            vendor=VENDOR,
        )
    return nonce


def _check_timestamp(timestamp: object) -> str:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp < 10**12:
        raise ValidationError(
            "timestamp must be whole Unix seconds (a non-negative int)",
            field="timestamp",
            reason="bad timestamp",
            vendor=VENDOR,
        )
    return str(timestamp)


class AmxSigner:
    """Signs requests for one app id and API key; the key is decoded once.

    Args:
        app_id: The App Id (a GUID).
        api_key: The API key (base64 text).
        form: The canonical URI form (default: no query, encode then lower-case).

    Raises:
        ConfigurationError: The app id or API key has the wrong form.
    """

    __slots__ = ("_app_id", "_base", "_form", "_secret")

    def __init__(
        self, *, app_id: str, api_key: SecretInput, form: CanonicalForm = DEFAULT_REQUEST_FORM
    ) -> None:
        self._app_id = validate_app_id(app_id)
        self._secret = api_key_from(api_key)
        self._form = check_instance(form, CanonicalForm, setting="form", vendor=VENDOR)
        self._base = hmac.new(self._secret.key, digestmod=hashlib.sha256)

    @property
    def app_id(self) -> str:
        """The App Id this signer signs as."""
        return self._app_id

    def authorization(self, *, method: str, url: str, timestamp: int, nonce: str) -> str:
        """Return the ``Authorization`` header value for one request.

        Raises:
            ValidationError: The method, URL, timestamp or nonce has the wrong form.
        """
        method = _check_method(method)
        ts = _check_timestamp(timestamp)
        nonce = _check_nonce(nonce)
        canonical = canonical_uri(url, self._form)
        mac = self._base.copy()
        mac.update(
            signing_string(app_id=self._app_id, method=method, canonical=canonical, timestamp=ts, nonce=nonce)
        )
        return f"{_SCHEME} {self._app_id}:{to_base64(mac.digest())}:{nonce}:{ts}"

    def __deepcopy__(self, memo: dict[int, Any]) -> AmxSigner:
        # The prepared HMAC state cannot be deep-copied; it is never changed (each request signs a
        # .copy() of it), so the copy shares it.
        return deepcopy_sharing(self, memo, self._base)

    @safe_repr
    def __repr__(self) -> str:
        return f"AmxSigner(app_id={self._app_id!r}, api_key=Secret('***'))"


def sign_request(
    *,
    app_id: str,
    api_key: SecretInput,
    method: str,
    url: str,
    timestamp: int | None = None,
    nonce: str | None = None,
    form: CanonicalForm = DEFAULT_REQUEST_FORM,
) -> str:
    """Return the ``Authorization`` header value ``amx {app_id}:{signature}:{nonce}:{timestamp}``.

    Args:
        app_id: The App Id (a GUID), signed exactly as given.
        api_key: The API key as Integrity Advocate gave it (base64 text); its decoded bytes are
            the key.
        method: The HTTP method; signed upper-cased.
        url: The absolute request URL. Its query string is not signed (with the default ``form``).
        timestamp: Whole Unix seconds; the current time when omitted.
        nonce: A unique value without ``:``; a random one (:func:`new_nonce`) when omitted.
        form: The canonical URI form.

    Raises:
        ConfigurationError: The app id is not a GUID or the API key is not base64 of 41 to 50
            characters.
        ValidationError: The method, URL, timestamp or nonce has the wrong form.

    >>> header = sign_request(
    ...     app_id="00000000-1111-2222-3333-444444444444",
    ...     api_key="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    ...     method="GET",
    ...     url="https://ca.integrityadvocateserver.com/api/course/6120/participants",
    ...     timestamp=1700000000,
    ...     nonce="1700000000123456",
    ... )
    >>> header.split(':')[1]
    '5Vd/DzGOB8f/MlDwDpFhbwv8R4V7a+TKWfnCVrMBUKU='
    """
    api_key = api_key_from(api_key)  # masked from here on: no raw key in this frame's locals
    signer = AmxSigner(app_id=app_id, api_key=api_key, form=form)
    return signer.authorization(
        method=method,
        url=url,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        nonce=new_nonce() if nonce is None else nonce,
    )


@attrs.frozen
class AmxAuthorization:
    """A parsed ``amx`` authorization header.

    Attributes:
        app_id: The App Id the sender claims.
        signature: The decoded signature bytes.
        nonce: The sender's nonce.
        timestamp: The sender's timestamp (Unix seconds).
        timestamp_text: The timestamp exactly as sent (it is signed as text).
    """

    app_id: str
    signature: bytes = attrs.field(repr=False)
    nonce: str
    timestamp: int
    timestamp_text: str = attrs.field(repr=False)


def _fast_parse(value: object) -> AmxAuthorization | None:
    if type(value) is not str:
        return None
    match = _FAST_HEADER_RE.match(value)
    if match is None:
        return None
    app_id, signature, nonce, timestamp = match.groups()
    try:
        digest = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern admits only valid base64
        return None
    return AmxAuthorization(
        app_id=app_id,
        signature=digest,
        nonce=nonce,
        timestamp=int(timestamp),
        timestamp_text=timestamp,
    )


def parse_authorization(value: str | None, *, header: str = "Authorization") -> AmxAuthorization:
    """Read an ``amx {app_id}:{signature}:{nonce}:{timestamp}`` header value.

    Raises:
        MissingSignatureError: There is no value.
        MalformedSignatureError: The value is not in that layout, the signature is not base64 of 32
            bytes, or the timestamp is not whole seconds.
    """
    header = label(header, "Authorization")
    if value is None or (_is_text(value) and not value.strip()):
        raise MissingSignatureError(
            f"the request has no {header} header: Integrity Advocate signs with 'amx ...'",
            vendor=VENDOR,
            reason="no authorization header",
            header=header,
        )

    def malformed(reason: str) -> MalformedSignatureError:
        return MalformedSignatureError(
            f"the {header} header is not an 'amx app_id:signature:nonce:timestamp' value: {reason}",
            vendor=VENDOR,
            reason=reason,
            header=header,
        )

    if not _is_text(value):
        raise malformed("it is not text")
    if len(value) > _MAX_HEADER:
        raise malformed("it is too long")
    if not value.isascii():
        raise malformed("it contains non-ASCII characters")
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != _SCHEME:
        raise malformed("the scheme is not 'amx'")
    parts = rest.split(":")
    if len(parts) != 4:
        raise malformed(f"expected 4 colon-separated parts, got {len(parts)}")
    app_id, signature, nonce, timestamp = parts
    if not app_id or app_id.strip() != app_id:
        raise malformed("the app id is empty or padded")
    if not nonce or not nonce.isprintable() or nonce.strip() != nonce:
        raise malformed("the nonce is empty or not printable")
    if not _TIMESTAMP_RE.match(timestamp):
        raise malformed("the timestamp is not whole Unix seconds")
    digest = decode_signature(signature, encoding="base64", algorithm="sha256", vendor=VENDOR, header=header)
    return AmxAuthorization(
        app_id=app_id,
        signature=digest,
        nonce=nonce,
        timestamp=int(timestamp),
        timestamp_text=timestamp,
    )


def _request_arguments(method: object, url: object) -> None:
    # The request a header is checked against is the caller's to give; a wrong type is API misuse.
    for field, value in (("method", method), ("url", url)):
        if not isinstance(value, str):
            raise ValidationError(
                f"{field} must be text, not {type(value).__name__} (for a request without a URL, set the "
                "callback_url setting)",
                field=field,
                reason="not text",
                vendor=VENDOR,
            )


def _normal_guid(value: str) -> str:
    return value.strip("{}").replace("-", "").lower()


class AmxVerifier:
    """Verifies ``amx`` headers for one app id and one or several API keys (rotation).

    Keys and forms are prepared once; :meth:`verify` does the per-request work only.

    Args:
        app_id: The App Id the header must name (compared as a GUID: case and hyphens ignored).
        api_key: One API key or several (any may match).
        forms: The canonical URI forms to try, in order.
        tolerance: Allowed clock difference either way, in seconds (default 300).
        clock: The clock for the freshness check.
        replay_guard: Remembers nonces so each is accepted once; ``None`` disables the check.

    Raises:
        ConfigurationError: A credential or setting has the wrong form.
    """

    __slots__ = (
        "_app_id",
        "_app_id_text",
        "_canonical",
        "_clock",
        "_forms",
        "_guard",
        "_keys",
        "_tolerance",
        "_ttl",
    )

    def __init__(
        self,
        *,
        app_id: str,
        api_key: SecretInput | Sequence[SecretInput],
        forms: Sequence[CanonicalForm] = (DEFAULT_REQUEST_FORM,),
        tolerance: Tolerance = 300,
        clock: Clock | None = None,
        replay_guard: ReplayGuard | None = None,
    ) -> None:
        self._app_id_text = validate_app_id(app_id)
        self._app_id = _normal_guid(self._app_id_text)
        secrets = _api_keys_from(api_key, setting="api_key")
        self._keys = KeyRing(s.key for s in secrets)
        self._canonical: dict[str, tuple[str, ...] | None] = {}
        self._forms = check_tuple_of(forms, CanonicalForm, setting="url_forms", vendor=VENDOR)
        self._tolerance = tolerance_seconds(tolerance)
        self._ttl = 2 * self._tolerance + 1
        self._clock: Clock = check_clock(clock, vendor=VENDOR) or SystemClock()
        self._guard = check_replay_guard(replay_guard, vendor=VENDOR)

    def verify(
        self, value: str | None, *, method: str, url: str, header: str = "Authorization"
    ) -> AmxAuthorization:
        """Verify one header value for a request ``method url``; return the parsed header.

        Checks, in order: layout, app id, signature (in constant time, against every key, for each
        form until one matches), timestamp (either way), then the nonce against the replay guard.

        Raises:
            MissingSignatureError: No header.
            MalformedSignatureError: The header cannot be read.
            SignatureMismatchError: Another app id, or no key and form reproduce the signature.
            TimestampOutsideToleranceError: The timestamp is outside the tolerance.
            ReplayedRequestError: The nonce was already accepted.
            ValidationError: ``method`` or ``url`` is not text.
        """
        header = label(header, "Authorization")
        auth = self._authentic(value, method=method, url=url, header=header)
        self._claim(auth, header=header)
        return auth

    def _authentic(self, value: str | None, *, method: str, url: str, header: str) -> AmxAuthorization:
        """Check layout, app id, signature and timestamp, without touching the replay guard."""
        if type(method) is not str or type(url) is not str:
            _request_arguments(method, url)
        auth = _fast_parse(value) or parse_authorization(value, header=header)
        if auth.app_id != self._app_id_text and _normal_guid(auth.app_id) != self._app_id:
            raise SignatureMismatchError(
                f"the {header} header is for another App Id: check the app_id setting",
                vendor=VENDOR,
                reason="app id mismatch",
                header=header,
            )
        if method not in _COMMON_METHODS and (not _is_text(method) or not _METHOD_RE.match(method)):
            raise SignatureMismatchError(
                "the request method cannot have been signed",
                vendor=VENDOR,
                reason="bad method",
                header=header,
            )
        prefix = auth.app_id + method.upper()
        suffix = auth.timestamp_text + auth.nonce
        # The keyed work happens inside the KeyRing: no key is a local of this frame.
        found = any(
            self._keys.hmac_matches(auth.signature, (prefix + canonical + suffix).encode("utf-8"))
            for canonical in self._canonical_forms(url)
        )
        if not found:
            raise SignatureMismatchError(
                "the amx signature does not match: check the API key, and that the URL passed is "
                "the "
                "public URL the vendor called (behind a proxy, set the callback URL explicitly)",
                vendor=VENDOR,
                reason="signature mismatch",
                header=header,
            )
        if abs(auth.timestamp - self._clock.time()) > self._tolerance:
            check_freshness(
                auth.timestamp,
                clock=self._clock,
                tolerance=self._tolerance,
                vendor=VENDOR,
                header=header,
            )
        return auth

    def _claim(self, auth: AmxAuthorization, *, header: str) -> None:
        """Claim the nonce of an authentic header in the replay guard (when one is set)."""
        if self._guard is not None:
            claim_once(
                self._guard,
                f"examkit:{VENDOR}:{auth.nonce}",
                ttl=self._ttl,
                vendor=VENDOR,
                message="this request's nonce was already accepted: it is a replay (or a retried delivery)",
                reason="nonce seen before",
                header=header,
            )

    def _canonical_forms(self, url: str) -> tuple[str, ...]:
        cached = self._canonical.get(url)
        if cached is not None:
            return cached
        try:
            forms = tuple(_canonicalize(url, form) for form in self._forms)
        except (ValidationError, TypeError):
            return ()
        if len(self._canonical) >= _MAX_CACHED_URLS:
            self._canonical.clear()
        self._canonical[url] = forms
        return forms

    def __deepcopy__(self, memo: dict[int, Any]) -> AmxVerifier:
        # A new object with its own settings; what it was given to talk to the world (guard, clock) is shared.
        return deepcopy_sharing(
            self,
            memo,
            self._guard,
            self._clock,
        )

    @safe_repr
    def __repr__(self) -> str:
        return f"AmxVerifier(keys={len(self._keys)}, forms={len(self._forms)}, tolerance={self._tolerance:g})"


def verify_authorization(
    value: str | None,
    *,
    app_id: str,
    api_key: SecretInput | Sequence[SecretInput],
    method: str,
    url: str,
    forms: Sequence[CanonicalForm] = (DEFAULT_REQUEST_FORM,),
    tolerance: Tolerance = 300,
    clock: Clock | None = None,
    replay_guard: ReplayGuard | None = None,
) -> AmxAuthorization:
    """Verify an ``amx`` ``Authorization`` value for a request; return the parsed header.

    A one-call form of :class:`AmxVerifier` (which prepares the keys once; prefer it on a hot path).

    Raises:
        ConfigurationError: A credential or setting has the wrong form.
        WebhookVerificationError: A subclass saying why the header must not be trusted.
    """
    api_key = _api_keys_from(api_key, setting="api_key")  # masked from here on
    verifier = AmxVerifier(
        app_id=app_id,
        api_key=api_key,
        forms=forms,
        tolerance=tolerance,
        clock=clock,
        replay_guard=replay_guard,
    )
    return verifier.verify(value, method=method, url=url)
