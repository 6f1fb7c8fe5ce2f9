"""A toy vendor built on examkit.core, so the adapters are tested with every kind of failure.

The scheme: ``X-Toy-Signature`` is the hex HMAC-SHA256, under the shared secret, of
``"{timestamp}\\n{nonce}\\n{method}\\n{url}\\n"`` followed by the raw body; ``X-Toy-Timestamp`` is
Unix seconds, ``X-Toy-Nonce`` an opaque string kept by the replay guard. It signs the URL on purpose,
so the proxy options of the adapters matter. The body is JSON ``{"candidate": str, "score": int}``.

The verifier uses core's helpers; :func:`toy_headers` signs independently with :mod:`hmac`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from examkit.core.clock import Clock, FixedClock, check_freshness, parse_epoch_seconds
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
)
from examkit.core.signing import Secret, verify_signature
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    ReplayGuard,
    WebhookRequest,
    WebhookVerifier,
    check_body_size,
    claim_once,
    verification_time,
)

SECRET = b"toy-shared-secret-0123456789"
NOW = 1_700_000_000
TOLERANCE = 300.0
MAX_BODY = 4096


@dataclass(frozen=True)
class ToyEvent:
    """The typed event of the toy vendor."""

    candidate: str
    score: int
    nonce: str


class ToyVerifier:
    """Verifies toy webhooks: signature, then freshness, then the replay guard, then the body."""

    max_body_size: int | None = MAX_BODY  # as examkit's verifiers expose it, for the adapters

    def __init__(self, *, clock: Clock, replay_guard: ReplayGuard | None = None) -> None:
        self._secrets = (Secret(SECRET, name="toy secret"),)
        self._clock = clock
        self._guard = replay_guard

    def verify(self, request: WebhookRequest) -> ToyEvent:
        check_body_size(request.body, limit=MAX_BODY, vendor="toy")
        signature = request.headers.get_single("X-Toy-Signature", vendor="toy")
        timestamp = request.headers.get_single("X-Toy-Timestamp", vendor="toy")
        nonce = request.headers.get_single("X-Toy-Nonce", vendor="toy")
        for name, value in (
            ("X-Toy-Signature", signature),
            ("X-Toy-Timestamp", timestamp),
            ("X-Toy-Nonce", nonce),
        ):
            if not value:
                raise MissingSignatureError(
                    f"no {name} header", vendor="toy", reason="missing header", header=name
                )
        assert signature is not None
        assert timestamp is not None
        assert nonce is not None
        if request.url is None:
            raise ConfigurationError("the toy scheme signs the URL", setting="url")

        def malformed(message: str) -> MalformedSignatureError:
            return MalformedSignatureError(
                message, vendor="toy", reason="bad timestamp", header="X-Toy-Timestamp"
            )

        seconds = parse_epoch_seconds(timestamp, what="X-Toy-Timestamp", error=malformed)
        signed = f"{seconds}\n{nonce}\n{request.method}\n{request.url}\n".encode() + request.body
        verify_signature(
            secrets=self._secrets,
            message=signed,
            signature=signature,
            vendor="toy",
            header="X-Toy-Signature",
        )
        # Judged at the request's arrival (received_at) when it was queued, as the vendors' verifiers do.
        at = FixedClock(verification_time(request, self._clock))
        check_freshness(seconds, clock=at, tolerance=TOLERANCE, vendor="toy", header="X-Toy-Timestamp")
        if self._guard is not None:
            # Through claim_once, like examkit's verifiers: the adapters can release the claim.
            claim_once(
                self._guard,
                f"examkit:toy:{nonce}",
                ttl=2 * TOLERANCE,
                vendor="toy",
                message="this nonce was accepted before",
                reason="replayed nonce",
            )
        try:
            data = json.loads(request.body)
            return ToyEvent(candidate=str(data["candidate"]), score=int(data["score"]), nonce=nonce)
        except (ValueError, KeyError, TypeError):
            raise PayloadError("the body is not a toy result", vendor="toy") from None


class SwitchableVerifier:
    """Delegates to a verifier chosen per test (views are decorated once, at import)."""

    def __init__(self) -> None:
        self.target: WebhookVerifier[ToyEvent] | None = None

    @property
    def max_body_size(self) -> int | None:
        limit: int | None = getattr(self.target, "max_body_size", DEFAULT_MAX_BODY_SIZE)
        return limit

    def verify(self, request: WebhookRequest) -> ToyEvent:
        assert self.target is not None, "a test forgot to set the verifier"
        return self.target.verify(request)


def toy_headers(
    body: bytes,
    *,
    url: str,
    timestamp: int = NOW,
    nonce: str = "nonce-1",
    method: str = "POST",
    secret: bytes = SECRET,
) -> dict[str, str]:
    """Sign a toy webhook by hand from the documented recipe."""
    message = str(timestamp).encode() + b"\n" + nonce.encode() + b"\n" + method.encode() + b"\n"
    message += url.encode() + b"\n" + body
    return {
        "X-Toy-Signature": hmac.new(secret, message, hashlib.sha256).hexdigest(),
        "X-Toy-Timestamp": str(timestamp),
        "X-Toy-Nonce": nonce,
    }


BODY = b'{"candidate": "Ada Lovelace", "score": 97}'


@dataclass(frozen=True)
class Case:
    """A request that must be rejected, with the status and error the adapters must report."""

    id: str
    body: bytes
    headers: dict[str, str]
    status: int
    error: str


def failure_cases(url: str) -> list[Case]:
    """Every way a toy webhook for ``url`` can fail, one per status cause."""
    signed = toy_headers(BODY, url=url)
    bad_body = b'{"candidate": "Ada"'
    big_body = b'{"candidate": "' + b"x" * MAX_BODY + b'", "score": 1}'
    unsigned = {"X-Toy-Timestamp": str(NOW), "X-Toy-Nonce": "n"}
    return [
        Case("tampered body", BODY.replace(b"97", b"99"), signed, 401, "SignatureMismatchError"),
        Case(
            "wrong secret", BODY, toy_headers(BODY, url=url, secret=b"other"), 401, "SignatureMismatchError"
        ),
        Case("other url", BODY, toy_headers(BODY, url=url + "x"), 401, "SignatureMismatchError"),
        Case(
            "stale",
            BODY,
            toy_headers(BODY, url=url, timestamp=NOW - int(TOLERANCE) - 1),
            401,
            "TimestampOutsideToleranceError",
        ),
        Case(
            "future",
            BODY,
            toy_headers(BODY, url=url, timestamp=NOW + int(TOLERANCE) + 1),
            401,
            "TimestampOutsideToleranceError",
        ),
        Case("unsigned", BODY, unsigned, 400, "MissingSignatureError"),
        Case("no headers", BODY, {}, 400, "MissingSignatureError"),
        Case(
            "signature not hex",
            BODY,
            {**signed, "X-Toy-Signature": "zz" * 32},
            400,
            "MalformedSignatureError",
        ),
        Case(
            "timestamp not digits",
            BODY,
            {**signed, "X-Toy-Timestamp": "yesterday"},
            400,
            "MalformedSignatureError",
        ),
        Case("malformed body", bad_body, toy_headers(bad_body, url=url), 400, "PayloadError"),
        Case("too large", big_body, toy_headers(big_body, url=url), 413, "PayloadTooLargeError"),
    ]
