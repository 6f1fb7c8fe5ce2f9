"""Create an attempt by HMAC, link to its review, and read the completion response.

The flow works like a payment gateway: your view renders a self-submitting form that POSTs the
user to the exam URL with signed fields (:meth:`TestpressAttempts.create_attempt`); when the user
finishes, Testpress sends them back to your ``surl`` with the result fields
(:class:`AttemptResult`).

How Testpress signs the completion response's ``hmac`` is not documented, so reading it takes either
an explicit :class:`CompletionHmacScheme` (:class:`TestpressCompletionVerifier`) or a deliberate
opt-out (:func:`parse_unverified_attempt_result`) whose result says ``verified=False``. The exam
webhook, whose hash is documented, is the authoritative result.
"""

from __future__ import annotations

import hmac as _hmac
import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import attrs

from examkit.core._checks import check_bool, check_clock, check_instance, check_text, check_tuple_of
from examkit.core._copying import deepcopy_sharing
from examkit.core._repr import safe_attrs_repr, safe_repr
from examkit.core.clock import Clock, SystemClock, epoch_to_datetime
from examkit.core.encoding import PercentEncoding
from examkit.core.env import env_setting
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.core.signing import (
    DIGEST_SIZES,
    HashAlgorithm,
    Secret,
    SecretInput,
    decode_signature,
    matches_any,
    secrets_from,
)
from examkit.testpress.models import CONVERTER, VENDOR, AttemptResult
from examkit.testpress.signing import (
    DEFAULT_ENCODING,
    PRIVATE_KEY,
    PUBLIC_KEY,
    Encoding,
    attempt_hmac,
    encode_value,
    is_text,
    review_hmac,
)

__all__ = [
    "ATTEMPT_VALIDITY",
    "DEFAULT_REVIEW_PATH",
    "REVIEW_QUERY_DOCUMENTED_TABLE",
    "REVIEW_QUERY_URL_TEMPLATE",
    "AttemptForm",
    "CompletionHmacScheme",
    "TestpressAttempts",
    "TestpressCompletionVerifier",
    "parse_unverified_attempt_result",
]

ATTEMPT_VALIDITY: Final = timedelta(minutes=30)
"""How long a create-attempt ``hmac`` stays valid after its ``time`` (documented: 30 minutes)."""

DEFAULT_REVIEW_PATH: Final = "/exams/attempts/"
"""The review-attempt path of the current documentation (the 2016 documentation used
``/attempts/``)."""

REVIEW_QUERY_URL_TEMPLATE: Final[tuple[str, ...]] = ("id", "hmac", "time")
"""Review link query parameters as the documented URL template shows them (the default)."""

REVIEW_QUERY_DOCUMENTED_TABLE: Final[tuple[str, ...]] = (
    "id",
    "institute_attempt_id",
    "key",
    "time",
    "hmac",
)
"""Review link query parameters as the documented parameter table lists them."""

_FORM_FIELDS: Final = ("email", "first_name", "institute_attempt_id", "key", "time", "hmac", "surl")


def _absolute_url(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field} must be a non-empty URL", field=field, reason="empty", vendor=VENDOR)
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValidationError(
            f"{field} must be an absolute http(s) URL",
            field=field,
            reason="not a URL",
            vendor=VENDOR,
        )
    if any(ord(c) < 0x20 or c == "\x7f" for c in value):
        raise ValidationError(
            f"{field} contains control characters", field=field, reason="not a URL", vendor=VENDOR
        )
    return value


@attrs.frozen(kw_only=True)
class AttemptForm:
    """A signed create-attempt form, ready to send the user to the exam.

    Attributes:
        url: The exam URL the form posts to.
        fields: The form fields in the documented order: ``email``, ``first_name``,
            ``institute_attempt_id``, ``key``, ``time``, ``hmac``, ``surl``.
        issued_at: The signing time (the ``time`` field), from the injected clock.
        expires_at: When Testpress stops accepting this ``hmac`` (``issued_at`` + 30 minutes).
        method: Always ``"POST"``.
    """

    url: str
    fields: Mapping[str, str] = attrs.field(hash=False)
    issued_at: datetime
    expires_at: datetime
    method: str = "POST"

    def to_html(self, *, nonce: str | None = None, title: str = "Starting your exam") -> str:
        """Render a complete HTML page whose form submits itself to the exam URL.

        Every value is HTML-escaped (quotes included). Without JavaScript the user sees a button.

        Args:
            nonce: A Content-Security-Policy nonce for the inline script, when your CSP needs one.
            title: The page title.
        """
        esc = html.escape
        inputs = "\n".join(
            f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'
            for name, value in self.fields.items()
        )
        nonce_attr = f' nonce="{esc(nonce)}"' if nonce else ""
        return (
            "<!DOCTYPE html>\n"
            '<html><head><meta charset="utf-8">'
            f"<title>{esc(title)}</title></head>\n<body>\n"
            f'<form id="examkit-testpress" method="post" action="{esc(self.url)}">\n'
            f"{inputs}\n"
            '<noscript><button type="submit">Continue to the exam</button></noscript>\n'
            "</form>\n"
            f'<script{nonce_attr}>document.getElementById("examkit-testpress").submit();</script>\n'
            "</body></html>\n"
        )


class TestpressAttempts:
    """Builds signed create-attempt forms and review links for one institute.

    Args:
        public_key: The public institute key (the ``key`` field).
        secret: The secret from the admin dashboard. Examkit assumes it is the same value as the
            webhook's private key (unconfirmed); ``from_env`` reads
            ``EXAMKIT_TESTPRESS_PRIVATE_KEY``.
        encoding: The percent-encoding of the signed values (default ``PYTHON_QUOTE``, unconfirmed).
        pre_encode_surl: Percent-encode ``surl`` (RFC 3986, nothing kept) before it goes in the
            form.
            The documentation calls ``surl`` a "percentage encoded URL", but a form POST encodes it
            anyway; default ``False`` (unconfirmed).
        review_path: The review-attempt path (default :data:`DEFAULT_REVIEW_PATH`).
        review_query: The review link's query parameters, in order (default
            :data:`REVIEW_QUERY_URL_TEMPLATE`).
        clock: The clock that sets ``time`` (default: the system clock).

    Raises:
        ConfigurationError: A key is missing or a setting has the wrong type.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        *,
        public_key: str,
        secret: SecretInput,
        encoding: Encoding = DEFAULT_ENCODING,
        pre_encode_surl: bool = False,
        review_path: str = DEFAULT_REVIEW_PATH,
        review_query: Sequence[str] = REVIEW_QUERY_URL_TEMPLATE,
        clock: Clock | None = None,
    ) -> None:
        self._public_key = check_text(public_key, setting="public_key", vendor=VENDOR)
        self._secret: Secret = secrets_from(secret, name="secret", vendor=VENDOR)[0]
        if encoding is not None and not isinstance(encoding, PercentEncoding):
            raise ConfigurationError(
                "encoding must be a PercentEncoding variant or None",
                setting="encoding",
                vendor=VENDOR,
            )
        self._encoding = encoding
        self._pre_encode_surl = check_bool(pre_encode_surl, setting="pre_encode_surl", vendor=VENDOR)
        if not is_text(review_path) or not review_path.startswith("/"):
            raise ConfigurationError("review_path must start with '/'", setting="review_path", vendor=VENDOR)
        self._review_path = review_path
        allowed = set(REVIEW_QUERY_DOCUMENTED_TABLE)
        query = check_tuple_of(review_query, str, setting="review_query", vendor=VENDOR)
        if not query or not set(query) <= allowed or not {"id", "hmac", "time"} <= set(query):
            raise ConfigurationError(
                f"review_query must name id, hmac and time, and only fields of {sorted(allowed)}",
                setting="review_query",
                vendor=VENDOR,
            )
        self._review_query = query
        self._clock: Clock = check_clock(clock, vendor=VENDOR) or SystemClock()

    @classmethod
    def from_env(cls, **settings: object) -> TestpressAttempts:
        """Build from ``EXAMKIT_TESTPRESS_PUBLIC_KEY`` and ``EXAMKIT_TESTPRESS_PRIVATE_KEY``.

        Other settings are passed through as keyword arguments.

        Raises:
            ConfigurationError: A variable is not set; the message names it.
        """
        public_key = env_setting("EXAMKIT_TESTPRESS_PUBLIC_KEY", vendor=VENDOR)
        secret = Secret(
            env_setting("EXAMKIT_TESTPRESS_PRIVATE_KEY", vendor=VENDOR), name="EXAMKIT_TESTPRESS_PRIVATE_KEY"
        )
        return cls(public_key=public_key, secret=secret, **settings)  # type: ignore[arg-type]

    @property
    def public_key(self) -> str:
        """The public institute key."""
        return self._public_key

    def create_attempt(
        self,
        *,
        exam_url: str,
        email: str,
        first_name: str,
        institute_attempt_id: str,
        surl: str,
    ) -> AttemptForm:
        """Sign a create-attempt form for one user.

        Args:
            exam_url: The exam's URL from the Testpress admin dashboard (Exam list page).
            email: The user's e-mail address.
            first_name: The user's first name.
            institute_attempt_id: Your unique reference for this attempt.
            surl: Where Testpress sends the user when the exam is over.

        Returns:
            The form; ``form.to_html()`` is a page that submits it.

        Raises:
            ValidationError: A value is missing, empty, not text, or a URL is not absolute http(s).
        """
        url = _absolute_url(exam_url, "exam_url")
        success = _absolute_url(surl, "surl")
        now = int(self._clock.time())
        digest = attempt_hmac(
            secret=self._secret,
            email=email,
            first_name=first_name,
            institute_attempt_id=institute_attempt_id,
            key=self._public_key,
            time=now,
            encoding=self._encoding,
        )
        if "@" not in email:
            raise ValidationError(
                "email must be an e-mail address",
                field="email",
                reason="not an e-mail",
                vendor=VENDOR,
            )
        fields = {
            "email": email,
            "first_name": first_name,
            "institute_attempt_id": institute_attempt_id,
            "key": self._public_key,
            "time": str(now),
            "hmac": digest,
            "surl": quote(success, safe="") if self._pre_encode_surl else success,
        }
        issued = epoch_to_datetime(now)
        return AttemptForm(url=url, fields=fields, issued_at=issued, expires_at=issued + ATTEMPT_VALIDITY)

    def review_url(self, *, base_url: str, attempt_id: str | int, institute_attempt_id: str) -> str:
        """Return a signed link to review an attempt.

        The ``hmac`` signs ``id|institute_attempt_id|key|time`` (HMAC-SHA256, hex).

        Args:
            base_url: Your Testpress site, e.g. ``"https://yourinstitute.testpress.in"``.
            attempt_id: Testpress's attempt id (from the webhook or the completion response).
            institute_attempt_id: Your reference for the attempt.

        Raises:
            ValidationError: A value is missing or empty, or ``base_url`` is not absolute http(s).
        """
        base = _absolute_url(base_url, "base_url").rstrip("/")
        now = int(self._clock.time())
        digest = review_hmac(
            secret=self._secret,
            attempt_id=attempt_id,
            institute_attempt_id=institute_attempt_id,
            key=self._public_key,
            time=now,
            encoding=self._encoding,
        )
        values = {
            "id": str(attempt_id),
            "institute_attempt_id": institute_attempt_id,
            "key": self._public_key,
            "time": str(now),
            "hmac": digest,
        }
        query = urlencode([(name, values[name]) for name in self._review_query])
        return f"{base}{self._review_path}?{query}"

    def __deepcopy__(self, memo: dict[int, Any]) -> TestpressAttempts:
        # A new object with its own settings; what it was given to talk to the world (clock) is shared.
        return deepcopy_sharing(
            self,
            memo,
            self._clock,
        )

    @safe_repr
    def __repr__(self) -> str:
        return f"TestpressAttempts(public_key={self._public_key!r}, secret={self._secret!r})"


# --- the completion response ----------------------------------------------------------------------


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return check_tuple_of(value, str, setting="fields", vendor=VENDOR)


@safe_attrs_repr
@attrs.frozen(kw_only=True)
class CompletionHmacScheme:
    """How the completion response's ``hmac`` is computed: you must say, Testpress does not.

    The signed string is the values of ``fields`` in order, each percent-encoded with ``encoding``,
    joined with ``|``; the ``hmac`` is its hex HMAC under the secret with ``algorithm``. In
    ``fields``, :data:`~examkit.testpress.signing.PUBLIC_KEY` stands for your public key and
    :data:`~examkit.testpress.signing.PRIVATE_KEY` for the secret itself; every other entry is a
    posted field name.

    Attributes:
        fields: The signed values, in order.
        algorithm: ``"sha256"`` or ``"sha512"``.
        encoding: The percent-encoding, or ``None``.

    Raises:
        ConfigurationError: ``fields`` is empty or names ``hmac``, or the algorithm is unknown.
    """

    fields: tuple[str, ...] = attrs.field(converter=_str_tuple)
    algorithm: HashAlgorithm = "sha256"
    encoding: Encoding = DEFAULT_ENCODING

    def __attrs_post_init__(self) -> None:
        if not self.fields or "hmac" in self.fields or not all(is_text(f) and f.strip() for f in self.fields):
            raise ConfigurationError(
                "a completion scheme needs at least one field name and cannot sign 'hmac' itself",
                setting="fields",
                vendor=VENDOR,
            )
        if self.encoding is not None:
            check_instance(self.encoding, PercentEncoding, setting="encoding", vendor=VENDOR)
        if not isinstance(self.algorithm, str) or self.algorithm not in DIGEST_SIZES:
            raise ConfigurationError(
                "algorithm must be 'sha256' or 'sha512'", setting="algorithm", vendor=VENDOR
            )


def _form_fields(fields: Mapping[str, str] | bytes | str) -> dict[str, str]:
    if isinstance(fields, bytes | bytearray | str):
        try:
            text = fields.decode("utf-8") if isinstance(fields, bytes | bytearray) else fields
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise PayloadError(
                "the completion response is not UTF-8 form data",
                reason="not form data",
                vendor=VENDOR,
            ) from None
        result: dict[str, str] = {}
        for name, value in pairs:
            if name in result and result[name] != value:
                raise PayloadError(
                    f"the field {name!r} was sent twice with different values",
                    field=name,
                    reason="duplicate field",
                    vendor=VENDOR,
                )
            result[name] = value
        return result
    if not isinstance(fields, Mapping):
        raise PayloadError(
            "the completion response must be a mapping of fields, form bytes or a query string",
            reason="not form data",
            vendor=VENDOR,
        )
    out: dict[str, str] = {}
    items: Iterable[tuple[object, object]] = fields.items()
    for key, val in items:
        if not isinstance(key, str) or not isinstance(val, str):
            raise PayloadError(
                "completion response fields must be text",
                field=str(key),
                reason="not text",
                vendor=VENDOR,
            )
        out[key] = val
    return out


def _structure_result(data: dict[str, str], *, verified: bool) -> AttemptResult:
    result = CONVERTER.structure(data, AttemptResult)
    return attrs.evolve(result, verified=verified) if verified else result


def parse_unverified_attempt_result(fields: Mapping[str, str] | bytes | str) -> AttemptResult:
    """Read a completion response WITHOUT checking its ``hmac``; the result has ``verified=False``.

    Calling this is the explicit opt-in to an unverified result. Anyone can send a browser to your
    ``surl`` with made-up values, so use it for display only, and take the grade from the exam
    webhook
    (:class:`~examkit.testpress.webhooks.TestpressWebhookVerifier`).

    Args:
        fields: The posted fields (``request.POST``, ``request.form``, a dict), the raw form body
            bytes, or the query string.

    Raises:
        PayloadError: A field is missing or malformed.
    """
    return _structure_result(_form_fields(fields), verified=False)


class TestpressCompletionVerifier:
    """Verifies a completion response's ``hmac`` with an explicit scheme, then parses it.

    Args:
        scheme: How the ``hmac`` is computed (required; see :class:`CompletionHmacScheme`).
        secret: The secret, or several during a rotation.
        public_key: Your public key, needed when the scheme signs
            :data:`~examkit.testpress.signing.PUBLIC_KEY`.

    Raises:
        ConfigurationError: A setting is missing or malformed.
    """

    __test__ = False

    def __init__(
        self,
        *,
        scheme: CompletionHmacScheme,
        secret: SecretInput | Sequence[SecretInput],
        public_key: str | None = None,
    ) -> None:
        if not isinstance(scheme, CompletionHmacScheme):
            raise ConfigurationError(
                "scheme must be a CompletionHmacScheme; to read a response without "
                "verification, call parse_unverified_attempt_result",
                setting="scheme",
                vendor=VENDOR,
            )
        if public_key is not None:
            check_text(public_key, setting="public_key", vendor=VENDOR)
        if PUBLIC_KEY in scheme.fields and not public_key:
            raise ConfigurationError(
                "the scheme signs the public key: pass public_key",
                setting="public_key",
                vendor=VENDOR,
            )
        self._scheme = scheme
        self._secrets = secrets_from(secret, name="secret", vendor=VENDOR)
        self._public_key = public_key

    def _message(self, data: Mapping[str, str], secret: Secret) -> bytes:
        parts = []
        enc = self._scheme.encoding
        for name in self._scheme.fields:
            if name == PUBLIC_KEY:
                value = self._public_key or ""
            elif name == PRIVATE_KEY:
                value = secret.reveal()
            else:
                value = data[name]
            parts.append(encode_value(value, enc, field=name))
        return "|".join(parts).encode("utf-8")

    def _matches(self, candidate: bytes, data: Mapping[str, str]) -> bool:
        # The expected digests live only in this frame, which has returned before verify() raises.
        expected = [
            _hmac.new(s.key, self._message(data, s), self._scheme.algorithm).digest() for s in self._secrets
        ]
        return matches_any(candidate, expected)

    def verify(self, fields: Mapping[str, str] | bytes | str) -> AttemptResult:
        """Check the ``hmac``, then return the parsed result (``verified=True``).

        Args:
            fields: The posted fields, the raw form body bytes, or the query string.

        Raises:
            MissingSignatureError: There is no ``hmac`` field.
            MalformedSignatureError: The form data is unreadable, the ``hmac`` is not hex of the
                right length, or a signed field is missing.
            SignatureMismatchError: The ``hmac`` does not match.
            PayloadError: The ``hmac`` matches but a field is malformed.
        """
        try:
            data = _form_fields(fields)
        except PayloadError as exc:
            raise MalformedSignatureError(
                f"cannot read the signed fields: {exc}",
                vendor=VENDOR,
                reason="unreadable form data",
            ) from None
        received = data.get("hmac")
        if not received:
            raise MissingSignatureError(
                "the completion response has no hmac field", vendor=VENDOR, reason="no hmac"
            )
        candidate = decode_signature(
            received, encoding="hex", algorithm=self._scheme.algorithm, vendor=VENDOR
        )
        missing = [f for f in self._scheme.fields if f not in (PUBLIC_KEY, PRIVATE_KEY) and f not in data]
        if missing:
            raise MalformedSignatureError(
                f"the signed field {missing[0]!r} is missing",
                vendor=VENDOR,
                reason="signed field missing",
            )
        try:
            matched = self._matches(candidate, data)
        except ValidationError as exc:
            raise MalformedSignatureError(str(exc), vendor=VENDOR, reason="unencodable field") from None
        if not matched:
            raise SignatureMismatchError(
                "the completion response's hmac does not match: check the scheme and the secret",
                vendor=VENDOR,
                reason="signature mismatch",
            )
        return _structure_result(data, verified=True)

    @safe_repr
    def __repr__(self) -> str:
        return f"TestpressCompletionVerifier(scheme={self._scheme!r}, secrets=<{len(self._secrets)}>)"
