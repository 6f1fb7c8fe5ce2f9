"""What the Django and Flask adapters share; see :mod:`examkit.integrations` for the public names."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import urlsplit

from examkit.core._checks import config_error
from examkit.core.errors import (
    ConfigurationError,
    ExamkitError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    PayloadTooLargeError,
    ReplayedRequestError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    ValidationError,
    WebhookVerificationError,
)
from examkit.core.webhook import DEFAULT_MAX_BODY_SIZE, ReplayScope, WebhookRequest, replay_scope

__all__ = [
    "REJECTED_BODY",
    "BodyAlreadyReadError",
    "ReplayGuardUnavailableError",
    "logger",
    "status_for_error",
]

logger: Final = logging.getLogger("examkit.integrations")
"""The logger both adapters report rejected webhooks to (logger name ``examkit.integrations``).

Each rejection is logged once at ``WARNING`` (``ERROR`` for a malformed body from an authentic sender)
with the error class, vendor, reason, header and message; never a secret, a signature or the body.
"""

REJECTED_BODY: Final = "webhook rejected\n"
"""The body of every failure response, whatever the cause.

The specific reason goes to :data:`logger` only: a sender probing the endpoint learns nothing but the
status code.
"""


class ReplayGuardUnavailableError(ExamkitError):
    """A shared replay guard (Redis) could not be reached, so a request could not be checked for replay.

    examkit fails closed: the request is not accepted unguarded. The adapters answer it with 503, so
    the vendor delivers it again later, and nothing is lost. Plain code should do the same (answer
    with a retryable status, or leave the job in its queue).
    """


_STATUS: Final[tuple[tuple[type[ExamkitError], int], ...]] = (
    (ReplayGuardUnavailableError, 503),
    (SignatureMismatchError, 401),
    (TimestampOutsideToleranceError, 401),
    (ReplayedRequestError, 409),
    (PayloadTooLargeError, 413),
    (MissingSignatureError, 400),
    (MalformedSignatureError, 400),
    (WebhookVerificationError, 400),
    (PayloadError, 400),
    (ValidationError, 400),
)


class BodyAlreadyReadError(ConfigurationError):
    """The request body was consumed before examkit could read the raw bytes.

    This is a mistake in the application, not in the request, so the adapters raise it (the
    framework answers 500) instead of answering the sender. The message says what to change.
    """


READ_CHUNK: Final = 64 * 1024
"""How many bytes the adapters read from a request stream at a time."""


def adapter_body_limit(verifier: object) -> int | None:
    """The body limit the decorators read with: the verifier's ``max_body_size``, else 1 MiB.

    Every examkit verifier exposes ``max_body_size`` (``None``: no limit of its own). A verifier
    without that attribute gets :data:`~examkit.core.DEFAULT_MAX_BODY_SIZE`, the default
    of examkit's own verifiers, so that no body is ever read unbounded by accident.
    """
    value = getattr(verifier, "max_body_size", DEFAULT_MAX_BODY_SIZE)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(
            "the verifier's max_body_size must be a positive whole number of bytes, or None",
            setting="max_body_size",
        )
    return value


def smallest_limit(*limits: int | None) -> int | None:
    """The smallest of the limits that are set (``None``: none is)."""
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None


def declared_length(value: object) -> int | None:
    """The ``Content-Length`` a request declares, or ``None`` when it declares none (or an unreadable one)."""
    if value is None or value == "":
        return None
    try:
        length = int(str(value).strip())
    except ValueError:
        return None
    return length if length >= 0 else None


def too_large(*, size: int, limit: int, streamed: bool) -> PayloadTooLargeError:
    """The error for a body over ``limit``: declared by ``Content-Length``, or found while reading."""
    if streamed:
        message = (
            f"the body is over the {limit}-byte limit (reading stopped after {size} bytes); raise "
            "the verifier's max_body_size if such webhooks are expected"
        )
    else:
        message = (
            f"the Content-Length is {size} bytes, over the {limit}-byte limit (the body was not "
            "read); raise the verifier's max_body_size if such webhooks are expected"
        )
    return PayloadTooLargeError(message, size=size, limit=limit)


def read_capped(read: Callable[[int], bytes], *, limit: int | None, chunk: int = READ_CHUNK) -> bytes:
    """Read a body with ``read(n)`` until it ends, never more than ``limit + 1`` bytes.

    Raises:
        PayloadTooLargeError: The stream holds more than ``limit`` bytes; the rest is left unread.
    """
    parts: list[bytes] = []
    total = 0
    while True:
        want = chunk if limit is None else min(chunk, limit + 1 - total)
        data = read(want)
        if not data:
            return b"".join(parts)
        parts.append(bytes(data))
        total += len(data)
        if limit is not None and total > limit:
            raise too_large(size=total, limit=limit, streamed=True)


def status_for_error(error: ExamkitError) -> int | None:
    """Return the HTTP status the adapters answer for ``error``, or ``None`` if they do not answer it.

    400 for a missing or malformed signature, timestamp, nonce or body (including any other
    :class:`~examkit.WebhookVerificationError` and a
    :class:`~examkit.ValidationError` while reading the request), 401 for a signature
    mismatch or a timestamp outside the tolerance, 409 for a replay, 413 for a body over the
    verifier's limit, 503 when the shared replay guard is unreachable
    (:class:`ReplayGuardUnavailableError`). Configuration errors (and any other examkit error)
    return ``None``: they are the application's fault and propagate as server errors.

    >>> from examkit import ReplayedRequestError
    >>> status_for_error(ReplayedRequestError("seen before"))
    409
    """
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return None


def log_rejection(error: ExamkitError, *, status: int, method: str, path: str) -> None:
    """Log one rejected webhook with its specific cause (used by the adapters)."""
    level = logging.ERROR if isinstance(error, PayloadError) else logging.WARNING
    vendor = getattr(error, "vendor", None)
    reason = getattr(error, "reason", None)
    header = getattr(error, "header", None)
    logger.log(
        level,
        "webhook rejected with %d on %s %s: %s (vendor=%s, reason=%s, header=%s): %s",
        status,
        method,
        path,
        type(error).__name__,
        vendor,
        reason,
        header,
        error,
        extra={
            "examkit_error": type(error).__name__,
            "examkit_vendor": vendor,
            "examkit_reason": reason,
            "examkit_status": status,
        },
    )


_HOST_RE: Final = re.compile(
    r"\A(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z"
)


def forwarded_value(value: str | None) -> str | None:
    """Return the value set by the nearest proxy: the last of a comma-separated header, stripped."""
    if value is None:
        return None
    last = value.rsplit(",", 1)[-1].strip()
    return last or None


def checked_scheme(value: str, *, header: str) -> str:
    """Return ``value`` lower-cased if it is ``http`` or ``https``.

    Raises:
        ValidationError: Any other value.
    """
    scheme = value.lower()
    if scheme not in ("http", "https"):
        raise ValidationError(
            f"{header} must be http or https", field=header, reason="not a forwarded scheme"
        )
    return scheme


def checked_host(value: str, *, header: str) -> str:
    """Return ``value`` if it is a plain ``host[:port]``.

    Raises:
        ValidationError: The value holds anything else (a path, user info, spaces).
    """
    if not _HOST_RE.match(value):
        raise ValidationError(
            f"{header} is not a host name with an optional port", field=header, reason="not a host"
        )
    return value


def split_public_url(public_url: str) -> tuple[str, str, str]:
    """Split a configured public URL into ``(scheme, host, path prefix without trailing slash)``.

    Raises:
        ConfigurationError: The URL is not an absolute http(s) URL without query or fragment.
    """
    problem = "public_url must be an absolute http or https URL such as 'https://hooks.example.com'"
    if not isinstance(public_url, str):
        raise ConfigurationError(problem, setting="public_url")
    try:
        parts = urlsplit(public_url)
        _ = parts.port  # validates the port
    except ValueError:
        raise ConfigurationError(problem, setting="public_url") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ConfigurationError(problem, setting="public_url")
    if parts.query or parts.fragment:
        raise ConfigurationError(
            "public_url must not carry a query or fragment: the request's own query string is kept",
            setting="public_url",
        )
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def verify_logged(verifier: Any, request: WebhookRequest) -> Any:
    """Verify ``request``, with ``verify_detailed`` when the verifier has it (logging which secret matched).

    A verifier's ``verify_detailed`` returns a :class:`~examkit.core.Verified`; its
    ``rotation_note`` (``"secret 2 of 2 matched"``, never a secret) is logged at ``INFO`` so that an
    operator sees when an old secret stops being used. Verifiers without it are called with ``verify``.
    """
    detailed = getattr(verifier, "verify_detailed", None)
    if not callable(detailed):
        return verifier.verify(request)
    result = detailed(request)
    note = getattr(result, "rotation_note", "")
    if note:
        logger.info(
            "webhook verified on %s %s: %s",
            request.method,
            request.url,
            note,
            extra={"examkit_key_index": getattr(result, "key_index", None)},
        )
    return result.event


def check_verifier(verifier: object, *, adapter: str = "verified_webhook") -> None:
    """Refuse, when decorating, anything that is not a webhook verifier.

    Raises:
        ConfigurationError: ``verifier`` has no ``verify`` method.
    """
    if not callable(getattr(verifier, "verify", None)):
        raise config_error(
            "verifier",
            f"a webhook verifier for {adapter} (an object with a verify(request) method)",
            verifier,
            vendor=None,
        )


def url_base(
    public_url: str | None, trust_forwarded: bool, *, option: str = "trust_forwarded=True"
) -> tuple[str, str, str] | None:
    """Check the URL options of an adapter once: ``(scheme, host, prefix)`` of ``public_url``, or ``None``.

    Raises:
        ConfigurationError: Both options are given, or ``public_url`` is malformed.
    """
    if public_url is not None and trust_forwarded:
        raise ConfigurationError(f"give either public_url or {option}, not both", setting="public_url")
    return None if public_url is None else split_public_url(public_url)


def handle(
    verify: Callable[[], Any],
    call_view: Callable[[Any], Any],
    reject: Callable[[ExamkitError, int], Any],
) -> Any:
    """Verify, then call the view with the event; answer failures; release the claims of unhandled requests.

    A verification failure is answered by ``reject`` (configuration errors propagate). Unless the view
    answered below 500, the replay-guard claims the verification made are released, so that the
    vendor's retry is accepted rather than refused as a replay: after a verification failure, after
    any exception (examkit's or not, ``BaseException`` included: released, then re-raised) in the
    verifier or the view, and after a 5xx response.
    """
    with replay_scope() as scope:
        try:
            event = verify()
        except ExamkitError as exc:
            _release(scope)
            return _answer(exc, reject)
        except BaseException:
            _release(scope)  # not handled: let the vendor's retry through
            raise
        try:
            response = call_view(event)
        except BaseException:
            _release(scope)
            raise
        if _failed(response):
            _release(scope)
        return response


async def handle_async(
    verify: Callable[[], Awaitable[Any]],
    call_view: Callable[[Any], Awaitable[Any]],
    reject: Callable[[ExamkitError, int], Any],
) -> Any:
    """:func:`handle` for async views."""
    with replay_scope() as scope:
        try:
            event = await verify()
        except ExamkitError as exc:
            _release(scope)
            return _answer(exc, reject)
        except BaseException:
            _release(scope)
            raise
        try:
            response = await call_view(event)
        except BaseException:
            _release(scope)
            raise
        if _failed(response):
            _release(scope)
        return response


def _release(scope: ReplayScope) -> None:
    """Release the scope's claims; a guard that fails to forget is logged, never raised over the answer."""
    try:
        scope.release()
    except Exception as exc:  # the request's own outcome (or exception) must win
        logger.error(
            "could not release a replay-guard claim (%s): the vendor's retry of this delivery may be "
            "refused as a replay until the claim expires",
            type(exc).__name__,
        )


def _answer(error: ExamkitError, reject: Callable[[ExamkitError, int], Any]) -> Any:
    status = status_for_error(error)
    if status is None:
        raise error
    return reject(error, status)


def _failed(response: Any) -> bool:
    """Whether a view's response says the request was not handled (a 5xx status)."""
    status = getattr(response, "status_code", 200)
    return isinstance(status, int) and status >= 500
