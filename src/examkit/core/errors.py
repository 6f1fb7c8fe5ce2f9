"""The one error hierarchy of examkit.

Every error examkit raises from a public call is an :class:`ExamkitError`. Errors that describe bad input
(settings, request values, webhook requests, payloads) also subclass :class:`ValueError`, so generic
handlers keep working. Each class stands for one cause; its structured fields say which vendor, field
or HTTP status is involved, and its message says what to fix. No message ever contains a secret or an
expected signature.

The tree::

    ExamkitError
    ├── ConfigurationError (ValueError)        bad settings: a key in the wrong format, a negative tolerance
    ├── ValidationError (ValueError)           bad request input, caught before anything is sent
    ├── WebhookVerificationError (ValueError)  a webhook request that must not be trusted
    │   ├── MissingSignatureError
    │   ├── MalformedSignatureError
    │   ├── SignatureMismatchError
    │   ├── TimestampOutsideToleranceError
    │   ├── ReplayedRequestError
    │   └── PayloadTooLargeError
    ├── PayloadError (ValueError)              signature fine (or none required), body malformed
    └── ApiError                               a vendor HTTP call failed
        ├── AuthenticationError                401 / 403
        ├── NotFoundError                      404
        ├── RateLimitError                     429
        ├── ServerError                        5xx
        └── TransportError                     timeout, connection fault: no usable response
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "ExamkitError",
    "MalformedSignatureError",
    "MissingSignatureError",
    "NotFoundError",
    "PayloadError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ReplayedRequestError",
    "ServerError",
    "SignatureMismatchError",
    "TimestampOutsideToleranceError",
    "TransportError",
    "ValidationError",
    "WebhookVerificationError",
]


class ExamkitError(Exception):
    """Root of every error examkit raises.

    Args:
        message: What went wrong and what to do about it. Never contains a secret.
        vendor: The vendor the error concerns (``"itep"``, ``"integrity_advocate"``, ``"assessio"``,
            ``"testpress"``), or ``None`` for vendor-neutral errors.
    """

    _examkit_init: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> ExamkitError:
        """Record the constructor's arguments, for pickling and copying."""
        self = super().__new__(cls, *args)
        # The constructor's arguments, exactly as given, so that every subclass (with its own
        # positional or keyword-only fields) pickles and copies without per-class code.
        self._examkit_init = (args, kwargs)
        return self

    def __init__(self, message: str, *, vendor: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.vendor = vendor

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild through the constructor (as urllib3 does), then restore attributes set later.
        # The default exception reduction calls ``cls(*self.args)``, which fails for any class
        # with required keyword-only arguments (Celery, RQ, multiprocessing and pytest-xdist all
        # pickle exceptions).
        args, kwargs = getattr(self, "_examkit_init", (self.args, {}))
        state = {k: v for k, v in vars(self).items() if k != "_examkit_init"}
        return (_rebuild, (type(self), args, kwargs), state)

    def __str__(self) -> str:
        return str(getattr(self, "message", "") or "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self, 'message', '')!r})"


def _rebuild(cls: type[ExamkitError], args: tuple[Any, ...], kwargs: dict[str, Any]) -> ExamkitError:
    """Unpickle an examkit error by calling its constructor with the original arguments."""
    return cls(*args, **kwargs)


class ConfigurationError(ExamkitError, ValueError):
    """A setting is missing or has the wrong form (for example an API key that is not base64).

    Raised when a client, signer or verifier is built, not on its first use.

    Attributes:
        setting: The name of the offending setting (a constructor argument or environment variable).
    """

    def __init__(self, message: str, *, setting: str | None = None, vendor: str | None = None) -> None:
        super().__init__(message, vendor=vendor)
        self.setting = setting


class ValidationError(ExamkitError, ValueError):
    """A value for a vendor request is invalid; nothing was sent.

    Attributes:
        field: The field name, spelled as the vendor spells it where there is one.
        reason: A short machine-friendly description of the problem.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        reason: str | None = None,
        vendor: str | None = None,
    ) -> None:
        super().__init__(message, vendor=vendor)
        self.field = field
        self.reason = reason


class WebhookVerificationError(ExamkitError, ValueError):
    """A webhook request failed verification and must not be trusted.

    Catch this class to answer every verification failure; catch a subclass to tell causes apart.
    The details here belong in logs; an HTTP response should stay generic.

    Attributes:
        reason: A short description of the cause, safe to log.
        header: The name of the header involved, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        vendor: str | None = None,
        reason: str | None = None,
        header: str | None = None,
    ) -> None:
        super().__init__(message, vendor=vendor)
        self.reason = reason
        self.header = header


class MissingSignatureError(WebhookVerificationError):
    """The request carries no signature (or no timestamp or nonce the scheme requires)."""


class MalformedSignatureError(WebhookVerificationError):
    """The signature (or a header that carries it) cannot be read.

    For example: not hex or base64, the wrong length, non-ASCII, or a header in the wrong layout.
    """


class SignatureMismatchError(WebhookVerificationError):
    """The signature is well-formed but does not match any configured secret.

    Common causes: the wrong secret, a body that a framework re-encoded before verification, or a URL
    rewritten by a proxy (for schemes that sign the URL).
    """


class TimestampOutsideToleranceError(WebhookVerificationError):
    """The request's timestamp is too far in the past or in the future.

    Attributes:
        timestamp: The request's timestamp (Unix seconds).
        now: The verifier's clock reading (Unix seconds).
        tolerance: The allowed difference in seconds, either way.
    """

    def __init__(
        self,
        message: str,
        *,
        timestamp: float,
        now: float,
        tolerance: float,
        vendor: str | None = None,
        header: str | None = None,
    ) -> None:
        reason = "timestamp too old" if timestamp < now else "timestamp in the future"
        super().__init__(message, vendor=vendor, reason=reason, header=header)
        self.timestamp = timestamp
        self.now = now
        self.tolerance = tolerance

    @property
    def skew(self) -> float:
        """Signed difference ``timestamp - now`` in seconds (negative: the request is old)."""
        return self.timestamp - self.now


class ReplayedRequestError(WebhookVerificationError):
    """A correctly signed request was seen before (its nonce or id is already in the replay guard)."""


class PayloadTooLargeError(WebhookVerificationError):
    """The request body is larger than the verifier's limit; it was refused before any parsing.

    Attributes:
        size: The body's size in bytes.
        limit: The configured limit in bytes.
    """

    def __init__(self, message: str, *, size: int, limit: int, vendor: str | None = None) -> None:
        super().__init__(message, vendor=vendor, reason="body too large")
        self.size = size
        self.limit = limit


class PayloadError(ExamkitError, ValueError):
    """A payload could not be read into its typed model.

    For webhooks this is raised only after the signature was verified: the sender is authentic but
    the body is malformed, so retrying the same delivery will not help.

    Attributes:
        field: The path of the offending key as the vendor spells it (``"Sessions[0].Start_Date"``),
            or ``None`` when the body as a whole is unreadable.
        reason: A short description of the problem.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        reason: str | None = None,
        vendor: str | None = None,
    ) -> None:
        super().__init__(message, vendor=vendor)
        self.field = field
        self.reason = reason


class ApiError(ExamkitError):
    """A call to a vendor's HTTP API failed.

    Attributes:
        status_code: The HTTP status, or ``None`` when no response arrived.
        method: The HTTP method of the request.
        url: The request URL without its query string.
        response_excerpt: The start of the response body (secrets redacted), for diagnosis.
    """

    def __init__(
        self,
        message: str,
        *,
        vendor: str | None = None,
        status_code: int | None = None,
        method: str | None = None,
        url: str | None = None,
        response_excerpt: str | None = None,
    ) -> None:
        super().__init__(message, vendor=vendor)
        self.status_code = status_code
        self.method = method
        self.url = url
        self.response_excerpt = response_excerpt


class AuthenticationError(ApiError):
    """The vendor refused the credentials (HTTP 401 or 403)."""


class NotFoundError(ApiError):
    """The vendor has no such resource (HTTP 404)."""


class RateLimitError(ApiError):
    """The vendor asked to slow down (HTTP 429).

    Attributes:
        retry_after: Seconds the vendor asked to wait, when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        vendor: str | None = None,
        status_code: int | None = 429,
        method: str | None = None,
        url: str | None = None,
        response_excerpt: str | None = None,
    ) -> None:
        super().__init__(
            message,
            vendor=vendor,
            status_code=status_code,
            method=method,
            url=url,
            response_excerpt=response_excerpt,
        )
        self.retry_after = retry_after


class ServerError(ApiError):
    """The vendor failed on its side (HTTP 5xx)."""


class TransportError(ApiError):
    """No usable response arrived: a timeout, a refused or reset connection, a TLS failure.

    Also raised when an attempt outlasts its total deadline, or when the answer is larger than the
    response-size cap (then ``status_code`` is the status that arrived).

    Attributes:
        may_have_been_sent: ``False`` only when the connection could not be established (refused,
            DNS failure, connect timeout), so the vendor cannot have received the request and it is
            safe to send it again. ``True`` otherwise (read timeout, reset after sending, deadline,
            oversize answer): the vendor may have acted on the request.
    """

    def __init__(
        self,
        message: str,
        *,
        vendor: str | None = None,
        status_code: int | None = None,
        method: str | None = None,
        url: str | None = None,
        response_excerpt: str | None = None,
        may_have_been_sent: bool = True,
    ) -> None:
        super().__init__(
            message,
            vendor=vendor,
            status_code=status_code,
            method=method,
            url=url,
            response_excerpt=response_excerpt,
        )
        self.may_have_been_sent = may_have_been_sent
