"""Integrity Advocate's ``amx`` HMAC authorization, as pure functions: sign, canonicalise, parse.

Every signed API call, and every review callback Integrity Advocate posts, carries::

    Authorization: amx {app_id}:{signature}:{nonce}:{timestamp}

where ``signature`` is the standard, padded base64 of HMAC-SHA256 over the UTF-8 bytes of::

    app_id + METHOD + canonical_uri + timestamp + nonce

with no separators. The key is the base64-*decoded* API key. The canonical URI is, by default,
the URL without its query string, percent-encoded as PHP ``urlencode`` does, then lower-cased (so
escapes come out lower-case: ``https%3a%2f%2f...``). The query string is never signed, and
neither is the body.

Where the vendor's documents disagree on the canonical URI (see :class:`CanonicalForm`), the form is
a setting. Nothing here holds a clock or state: the verifiers live in
:mod:`examkit.integrity_advocate.webhooks`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, TypeAlias

import attrs

from examkit.core._checks import (
    argument_text,
    check_bool,
    check_instance,
    config_error,
    label,
)
from examkit.core._enums import StrEnum
from examkit.core._exports import defer
from examkit.core.encoding import PercentEncoding, percent_encode
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    ValidationError,
)
from examkit.core.signing import (
    Secret,
    SecretInput,
    decode_base64_key,
    decode_signature,
    to_base64,
)
from examkit.integrity_advocate._vendor import VENDOR

if TYPE_CHECKING:
    from examkit.integrity_advocate.models import AmxAuthorization
else:  # the models load with the first header parsed, not with the verifier
    defer("examkit.integrity_advocate.models", globals(), "AmxAuthorization")

__all__ = [
    "DEFAULT_CALLBACK_FORMS",
    "LOWER_THEN_ENCODE_WITH_QUERY",
    "CanonicalForm",
    "CanonicalStyle",
    "sign_request",
]

API_KEY_LENGTHS: Final = range(41, 51)
"""Accepted lengths of the API key *as text*: more than 40 and at most 50 characters.

This is the check of the vendor's Moodle plugin (a 32-byte key is 44 base64 characters).
"""

_GUID_RE: Final = re.compile(
    r"\A[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\Z",
    re.IGNORECASE | re.ASCII,
)
_METHOD_RE: Final = re.compile(r"\A[A-Za-z]{1,16}\Z", re.ASCII)
_TIMESTAMP: Final = "[0-9]{1,12}"  # whole Unix seconds as signed: the one epoch pattern of both parsers
_TIMESTAMP_RE: Final = re.compile(rf"\A{_TIMESTAMP}\Z", re.ASCII)
# A well-formed header in one match; anything else takes the detailed path for its message. The last
# base64 character of a 32-byte digest carries two unused bits, which must be zero (canonical form).
_FAST_HEADER_RE: Final = re.compile(
    rf"\A[aA][mM][xX] ([!-9;-~]+):([A-Za-z0-9+/]{{42}}[AEIMQUYcgkosw048]=):([!-9;-~]+):({_TIMESTAMP})\Z",
    re.ASCII,
)
# URLs made only of these characters are canonicalised without the general percent-encoder: every
# variant but PYTHON_QUOTE encodes exactly ``: / ? = &`` of them, as upper-case escapes.
_FAST_URL_RE: Final = re.compile(r"\A[A-Za-z0-9._\-/:?=&]*\Z", re.ASCII)
_FAST_ESCAPES: Final = str.maketrans({":": "%3A", "/": "%2F", "?": "%3F", "=": "%3D", "&": "%26"})
_SCHEME: Final = "amx"
_MAX_HEADER: Final = 2048


class CanonicalStyle(StrEnum):
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
        if not self.include_query:
            # Cut before the cache: each page of a listing differs only in its query, and would
            # otherwise take an entry of its own.
            url = url.split("?", 1)[0]
        return _canonicalize(url, self)


@functools.lru_cache(maxsize=512)
def _canonicalize(url: str, form: CanonicalForm) -> str:
    # Callback and API URLs repeat, so the encoded form is cached (the hot path of verification).
    return _fast_canonical(url, form) or _general_canonical(url, form)


def _fast_canonical(url: str, form: CanonicalForm) -> str | None:
    """The canonical URI of a plain ASCII URL without the percent-encoder; ``None`` for any other."""
    if form.encoding is PercentEncoding.PYTHON_QUOTE or not _FAST_URL_RE.match(url):
        return None
    if not form.include_query:
        url = url.split("?", 1)[0]
    if form.style is CanonicalStyle.LOWER_ONLY:
        return url.lower()
    if form.style is CanonicalStyle.ENCODE_THEN_LOWER:
        return url.translate(_FAST_ESCAPES).lower()
    return url.lower().translate(_FAST_ESCAPES)


def _general_canonical(url: str, form: CanonicalForm) -> str:
    """The canonical URI of any URL, by the named percent-encoding (the definition of each form)."""
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

LOWER_THEN_ENCODE_WITH_QUERY: Final = CanonicalForm(
    include_query=True,
    style=CanonicalStyle.LOWER_THEN_ENCODE,
    encoding=PercentEncoding.ENCODE_URI_COMPONENT,
)
"""The form the one public receiver found for this vendor checks: the full URL lower-cased, then
``encodeURIComponent``-encoded (escapes stay upper-case: ``https%3A%2F%2F...%3Fid%3D7``).

Tried by default for review callbacks (the third of :data:`DEFAULT_CALLBACK_FORMS`); the vendor's
documents do not say which form its server signs."""

DEFAULT_CALLBACK_FORMS: Final = (
    CanonicalForm(),
    CanonicalForm(include_query=True),
    LOWER_THEN_ENCODE_WITH_QUERY,
)
"""The forms a review callback verifier tries by default, in order: the callback URL without its
query, then with it, both percent-encoded (PHP ``urlencode``) then lower-cased, as the vendor's API
signing does; then :data:`LOWER_THEN_ENCODE_WITH_QUERY`, as the one public receiver checks. Which form
the vendor's server uses for callbacks is unconfirmed."""


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
        raise config_error(setting, "text", app_id, vendor=VENDOR)
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
    """Check an API key; return it as a :class:`~examkit.core.Secret` of the decoded bytes.

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
        raise config_error(setting, "text", api_key, vendor=VENDOR)
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
    raise config_error(setting, "an API key or a non-empty sequence of them", api_key, vendor=VENDOR)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def new_nonce() -> str:
    """Return a fresh random nonce: 32 lower-case hex characters (never a ``:``)."""
    import uuid  # noqa: PLC0415 - only signers need it: importing a verifier skips uuid (milliseconds)

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
        return signed_message(app_id + method, canonical, timestamp + nonce)
    except UnicodeEncodeError:
        raise ValidationError(
            "the signed string cannot be encoded as UTF-8", reason="not UTF-8", vendor=VENDOR
        ) from None


def signed_message(prefix: str, canonical: str, suffix: str) -> bytes:
    """The one builder of the signed bytes: ``(app_id + METHOD) + canonical + (timestamp + nonce)``.

    The verifier prepares ``prefix`` and ``suffix`` once per header and calls this for each canonical
    form; :func:`signing_string` checks its parts and calls it too.

    Raises:
        UnicodeEncodeError: A part holds a lone surrogate.
    """
    return (prefix + canonical + suffix).encode("utf-8")


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


def sign_request(
    *,
    app_id: str,
    api_key: SecretInput,
    method: str,
    url: str,
    timestamp: int,
    nonce: str,
    form: CanonicalForm = DEFAULT_REQUEST_FORM,
) -> str:
    """Return the ``Authorization`` header value ``amx {app_id}:{signature}:{nonce}:{timestamp}``.

    A pure function: the time and the nonce are given (``AmxSigner`` and the clients take them from
    their clock and a random source for each request).

    Args:
        app_id: The App Id (a GUID), signed exactly as given.
        api_key: The API key as Integrity Advocate gave it (base64 text); its decoded bytes are
            the key.
        method: The HTTP method; signed upper-cased.
        url: The absolute request URL. Its query string is not signed (with the default ``form``).
        timestamp: Whole Unix seconds.
        nonce: A unique value without ``:`` (a fresh one per request).
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
    app_id = validate_app_id(app_id)
    form = check_instance(form, CanonicalForm, setting="form", vendor=VENDOR)
    method = _check_method(method)
    ts = _check_timestamp(timestamp)
    nonce = _check_nonce(nonce)
    message = signing_string(
        app_id=app_id, method=method, canonical=canonical_uri(url, form), timestamp=ts, nonce=nonce
    )
    return authorization_value(app_id, hmac.digest(api_key.key, message, "sha256"), nonce, ts)


def authorization_value(app_id: str, digest: bytes, nonce: str, timestamp: str) -> str:
    """Return the header value ``amx {app_id}:{base64 digest}:{nonce}:{timestamp}`` (parts checked)."""
    return f"{_SCHEME} {app_id}:{to_base64(digest)}:{nonce}:{timestamp}"


HeaderParts: TypeAlias = "tuple[str, bytes, str, str]"
"""A read ``amx`` header: app id, decoded signature, nonce, and the timestamp as sent (digits)."""


def _fast_parts(value: object) -> HeaderParts | None:
    """The parts of a header of the canonical layout in one match, or ``None`` for any other value."""
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
    return app_id, digest, nonce, timestamp


def _authorization_of(parts: HeaderParts) -> AmxAuthorization:
    app_id, digest, nonce, timestamp = parts
    return AmxAuthorization(
        app_id=app_id, signature=digest, nonce=nonce, timestamp=int(timestamp), timestamp_text=timestamp
    )


def _fast_parse(value: object) -> AmxAuthorization | None:
    parts = _fast_parts(value)
    return None if parts is None else _authorization_of(parts)


def parse_authorization(value: str | None, *, header: str = "Authorization") -> AmxAuthorization:
    """Read an ``amx {app_id}:{signature}:{nonce}:{timestamp}`` header value.

    Raises:
        MissingSignatureError: There is no value.
        MalformedSignatureError: The value is not in that layout, the signature is not base64 of 32
            bytes, or the timestamp is not whole seconds.
    """
    return _authorization_of(authorization_parts(value, header=header))


def authorization_parts(value: str | None, *, header: str = "Authorization") -> HeaderParts:
    """Read a header value as :func:`parse_authorization` does, into its parts (no object built).

    Verifiers read the parts, check the signature, and build the :class:`AmxAuthorization` only for
    a header that matched.

    Raises:
        The same errors as :func:`parse_authorization`, with the same messages.
    """
    fast = _fast_parts(value)
    if fast is not None:
        return fast
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
    return app_id, digest, nonce, timestamp
