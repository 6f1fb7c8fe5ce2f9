"""Create an attempt by HMAC, link to its review, and read the completion response.

The flow works like a payment gateway: your view renders a self-submitting form that POSTs the
user to the exam URL with signed fields (:meth:`TestpressAttempts.create_attempt`); when the user
finishes, Testpress sends them back to your ``surl`` with the result fields
(:class:`AttemptResult`).

Reading the completion response is a verification, so it lives with the other verifiers in
:mod:`examkit.testpress.webhooks` (:class:`~examkit.testpress.TestpressCompletionVerifier`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import quote, urlencode, urlsplit

import attrs

from examkit.core._checks import check_bool, check_choice, check_clock, check_text, check_tuple_of
from examkit.core._copying import sharing_deepcopy
from examkit.core._repr import safe_repr
from examkit.core.clock import Clock, SystemClock, epoch_to_datetime
from examkit.core.env import env_setting
from examkit.core.errors import ConfigurationError, ValidationError
from examkit.core.signing import Secret, SecretInput, secrets_from
from examkit.testpress.models import VENDOR
from examkit.testpress.signing import DEFAULT_ENCODING, Encoding, attempt_hmac, review_hmac
from examkit.testpress.webhooks import _check_encoding

__all__ = [
    "AttemptForm",
    "TestpressAttempts",
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
        review_path: The review-attempt path (default ``"/exams/attempts/"``).
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
        _check_encoding(encoding)
        self._encoding = encoding
        self._pre_encode_surl = check_bool(pre_encode_surl, setting="pre_encode_surl", vendor=VENDOR)
        check_text(review_path, setting="review_path", vendor=VENDOR)
        if not review_path.startswith("/"):
            raise ConfigurationError("review_path must start with '/'", setting="review_path", vendor=VENDOR)
        self._review_path = review_path
        allowed = REVIEW_QUERY_DOCUMENTED_TABLE
        query = check_tuple_of(review_query, str, setting="review_query", vendor=VENDOR)
        for name in query:
            check_choice(name, allowed, setting="review_query", vendor=VENDOR)
        if not {"id", "hmac", "time"} <= set(query):
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

    # A new object with its own settings; what it was given to talk to the world (clock) is shared.
    __deepcopy__ = sharing_deepcopy("_clock")

    @safe_repr
    def __repr__(self) -> str:
        return f"TestpressAttempts(public_key={self._public_key!r}, secret={self._secret!r})"
