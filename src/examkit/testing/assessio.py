"""An in-process fake of Assessio's Development API, and signed webhooks for your own tests.

:class:`FakeAssessio` answers ``POST /development/v1/assessment-link-order`` the way the vendor
documents it: it checks the ``provider-key`` header and the ``Signature`` header (HMAC-SHA256 over
``<t>.<raw body>``, within the time window), checks the body, and returns an assessment link. It
checks signatures with its own small implementation of the vendor's recipe, not with examkit's
signer, so a bug in one is not hidden by the same bug in the other (it stands for the vendor). The
signers here (:func:`sign_webhook`) sign with examkit's own :func:`~examkit.assessio.signature_header`.

:func:`assessment_submitted_webhook` builds an ``ASSESSMENT_SUBMITTED`` request as Assessio would
send it, to feed your webhook view in tests::

    request = assessment_submitted_webhook(api_key="token", order_reference_id="order-1")
    event = AssessioWebhookVerifier(api_key="token").verify(request)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs
import requests

from examkit.assessio import signature_header

if TYPE_CHECKING:
    from examkit.assessio import AssessioClient

from examkit.core._repr import safe_repr
from examkit.core.clock import DEFAULT_TOLERANCE, Clock, SystemClock
from examkit.core.webhook import WebhookRequest
from examkit.testing._faults import FaultInjection, _FollowingClock
from examkit.testing.http import FakeHttpAdapter, FakeRequest, FakeResponse

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FakeAssessio",
    "ReceivedOrder",
    "assessment_submitted_body",
    "assessment_submitted_webhook",
    "sign_webhook",
]

FAKE_BASE_URL: Final = "https://sandbox.api.assessio.systems"
"""The fake serves the sandbox host by default, so a client on ``environment="sandbox"`` works."""

_ORDER_PATH: Final = "/development/v1/assessment-link-order"
_PART_RE: Final = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=\s*([^,;]*?)\s*(?:[,;]|\Z)")
_REQUIRED: Final = ("assessmentType", "orderReferenceId", "webhookCallbackUrl", "redirectUrl")
_PERSON: Final = ("locale", "email", "firstName", "lastName")


@attrs.frozen
class ReceivedOrder:
    """An order the fake accepted.

    Attributes:
        order_id: The id the fake gave it.
        link: The link it returned.
        data: The decoded request body.
        body: The exact request bytes.
        headers: The request headers.
    """

    order_id: str
    link: str
    data: Mapping[str, Any]
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    headers: Mapping[str, str] = attrs.field(repr=False)


def _hmac_hex(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(
        secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256
    ).hexdigest()


class FakeAssessio(FaultInjection):
    """An in-process fake of Assessio's link-order endpoint.

    Args:
        provider_key: The provider-key the fake accepts.
        integrator_secret: The secret it checks ``Signature`` headers with.
        require_signature: Whether a ``Signature`` header is required (a sandbox can switch it off).
        tolerance: Seconds of clock skew accepted, either way
            (:data:`~examkit.core.DEFAULT_TOLERANCE`).
        clock: The fake's clock. By default it follows the client's: the system clock, or the clock
            of the last client made with :meth:`client`.
        base_url: The host it serves.
        link_key: The response key holding the link (the real key is undocumented).
        signature_label: The label of the signature part in the ``Signature`` header.
    """

    def __init__(
        self,
        *,
        provider_key: str,
        integrator_secret: str | None = None,
        require_signature: bool = True,
        tolerance: float = DEFAULT_TOLERANCE,
        clock: Clock | None = None,
        base_url: str = FAKE_BASE_URL,
        link_key: str = "assessmentLink",
        signature_label: str = "signature",
    ) -> None:
        if require_signature and not integrator_secret:
            raise ValueError("integrator_secret is needed when require_signature is true")
        self.provider_key = provider_key
        self._secret = integrator_secret
        self.require_signature = require_signature
        self.tolerance = tolerance
        self._following = _FollowingClock()
        self.clock: Clock = clock or self._following
        self.link_key = link_key
        self.signature_label = signature_label
        self.adapter = FakeHttpAdapter(base_url)
        self.adapter.route("POST", _ORDER_PATH, self._faulty(self._order))
        self.orders: list[ReceivedOrder] = []
        self._lock = threading.Lock()

    @safe_repr
    def __repr__(self) -> str:
        return f"FakeAssessio(base_url={self.adapter.base_url!r}, orders={len(self.orders)})"

    def session(self) -> requests.Session:
        """Return a session on which the fake answers (for ``AssessioClient(session=...)``)."""
        return self.adapter.session()

    def httpx_client(self) -> httpx.AsyncClient:
        """Return an ``httpx.AsyncClient`` on which the fake answers (``AsyncAssessioClient(client=...)``)."""
        return self.adapter.httpx_client()

    def client(self, **settings: Any) -> AssessioClient:
        """Return an :class:`~examkit.assessio.AssessioClient` wired to this fake.

        It has the fake's keys, host and link key; ``settings`` pass through (a ``clock`` given here
        becomes the fake's clock too, unless the fake was given its own).
        """
        from examkit.assessio import AssessioClient  # noqa: PLC0415 - the client loads requests lazily

        self._following.follow(settings.get("clock"))
        options: dict[str, Any] = {
            "provider_key": self.provider_key,
            "integrator_secret": self._secret,
            "sign_requests": self.require_signature,
            "base_url": self.adapter.base_url,
            "session": self.session(),
        }
        options.update(settings)
        return AssessioClient(**options)

    @property
    def requests(self) -> list[FakeRequest]:
        """Every request the fake received (accepted or not)."""
        return self.adapter.calls()

    @staticmethod
    def _error(status: int, code: str, message: str) -> FakeResponse:
        return FakeResponse(status=status, body={"error": code, "message": message})

    def _check_signature(self, request: FakeRequest) -> FakeResponse | None:
        header = request.headers.get("Signature")
        if header is None:
            return self._error(401, "SIGNATURE_MISSING", "the Signature header is required")
        parts: dict[str, list[str]] = {}
        for match in _PART_RE.finditer(header):
            parts.setdefault(match.group(1), []).append(match.group(2))
        stamps = parts.get("t", [])
        signatures = parts.get(self.signature_label, [])
        if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
            return self._error(401, "SIGNATURE_MALFORMED", "expected t=<seconds> and a signature")
        assert self._secret is not None  # noqa: S101 - guaranteed by __init__
        expected = _hmac_hex(self._secret, stamps[0], request.body)
        wanted = expected.encode("ascii")
        if not any(hmac.compare_digest(wanted, s.lower().encode("utf-8", "replace")) for s in signatures):
            return self._error(401, "SIGNATURE_INVALID", "the signature does not match")
        if abs(int(stamps[0]) - self.clock.time()) > self.tolerance:
            return self._error(401, "SIGNATURE_EXPIRED", "the timestamp is outside the time window")
        return None

    def _order(self, request: FakeRequest) -> FakeResponse:
        if request.headers.get("provider-key") != self.provider_key:
            return self._error(401, "UNAUTHORIZED", "unknown provider-key")
        if self.require_signature:
            problem = self._check_signature(request)
            if problem is not None:
                return problem
        try:
            data = json.loads(request.body)
        except ValueError:
            return self._error(400, "BAD_REQUEST", "the body is not JSON")
        if not isinstance(data, dict):
            return self._error(400, "BAD_REQUEST", "the body is not an object")
        missing = [k for k in _REQUIRED if not isinstance(data.get(k), str) or not data[k]]
        person = data.get("personDetails")
        if not isinstance(person, dict):
            missing.append("personDetails")
        else:
            missing += [f"personDetails.{k}" for k in _PERSON if not person.get(k)]
        if missing:
            return self._error(400, "VALIDATION_ERROR", f"missing: {', '.join(missing)}")
        with self._lock:
            order_id = f"order-{len(self.orders) + 1}"
            link = f"https://app.assessio.example/assessment/{order_id}?type={data['assessmentType']}"
            self.orders.append(
                ReceivedOrder(
                    order_id=order_id,
                    link=link,
                    data=data,
                    body=request.body,
                    headers=dict(request.headers),
                )
            )
        return FakeResponse(status=200, body={"id": order_id, self.link_key: link})


def assessment_submitted_body(
    *,
    order_reference_id: str,
    assessment_type: str = "MAP",
    scores: Sequence[Mapping[str, Any]] | None = None,
) -> bytes:
    """Return an ``ASSESSMENT_SUBMITTED`` body shaped like the vendor's example.

    Args:
        order_reference_id: The reference the order was placed with.
        assessment_type: ``"MAP"``, ``"MATCH_V_V2"`` or another type.
        scores: The ``assessmentScores`` list in the vendor's spelling; by default the vendor's
            example score (``MAP_SCORE`` ``EX`` = 10 with sub-score ``EX1`` = 10).
    """
    if scores is None:
        scores = [
            {
                "type": "MAP_SCORE",
                "key": "EX",
                "value": 10,
                "subScores": [{"key": "EX1", "value": 10}],
            }
        ]
    envelope = {
        "eventType": "ASSESSMENT_SUBMITTED",
        "payload": {
            "orderReferenceId": order_reference_id,
            "assessmentType": assessment_type,
            "assessmentScores": list(scores),
        },
    }
    return json.dumps(envelope).encode("utf-8")


def sign_webhook(
    *,
    body: bytes,
    api_key: str,
    header: str = "integrator-api-key",
    scheme: str = "raw",
    signature_secret: str | None = None,
    timestamp: int | None = None,
    clock: Clock | None = None,
    url: str | None = None,
) -> WebhookRequest:
    """Wrap ``body`` in a webhook request carrying the API key (and a ``Signature`` when asked).

    Args:
        body: The raw body.
        api_key: The integrator-api-key.
        header: The header for the key.
        scheme: ``"raw"`` or ``"bearer"``.
        signature_secret: When given, add ``Signature: t=<t>,signature=<hex>`` signed with it.
        timestamp: The signature's ``t`` (default: the clock's time).
        clock: The clock used when no ``timestamp`` is given.
        url: The URL to record on the request.
    """
    token = f"Bearer {api_key}" if scheme == "bearer" else api_key
    headers = {"Content-Type": "application/json", header: token}
    if signature_secret is not None:
        t = int((clock or SystemClock()).time()) if timestamp is None else timestamp
        headers["Signature"] = signature_header(secret=signature_secret, body=body, timestamp=t)
    return WebhookRequest(body=body, headers=headers, url=url)


def assessment_submitted_webhook(
    *,
    api_key: str,
    order_reference_id: str,
    assessment_type: str = "MAP",
    scores: Sequence[Mapping[str, Any]] | None = None,
    header: str = "integrator-api-key",
    scheme: str = "raw",
    signature_secret: str | None = None,
    timestamp: int | None = None,
    clock: Clock | None = None,
) -> WebhookRequest:
    """Build an ``ASSESSMENT_SUBMITTED`` webhook request as Assessio would send it.

    See :func:`assessment_submitted_body` and :func:`sign_webhook` for the arguments.
    """
    body = assessment_submitted_body(
        order_reference_id=order_reference_id, assessment_type=assessment_type, scores=scores
    )
    return sign_webhook(
        body=body,
        api_key=api_key,
        header=header,
        scheme=scheme,
        signature_secret=signature_secret,
        timestamp=timestamp,
        clock=clock,
    )


for _model in (ReceivedOrder,):
    attrs.resolve_types(_model)  # annotations as types, not strings, for users' tools and converters
