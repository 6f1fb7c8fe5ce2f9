"""Correctly signed requests around any payload, for every vendor verifier, and hostile payload shapes.

Each :class:`Target` builds a fresh verifier (with a replay guard where the vendor has one) and signs a
body the way the vendor would, so a hostile payload reaches the parser instead of being refused at the
signature. JSON too deep for :func:`json.dumps` is spliced in as raw text through :class:`Raw`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from examkit.assessio import AssessioWebhookVerifier
from examkit.core.clock import FixedClock
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier
from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth
from examkit.testing.integrity_advocate import DEMO_APP_ID, signed_review_callback
from examkit.testing.itep import SAMPLE_RESULT
from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import TestpressWebhookVerifier
from examkit.testpress.signing import DEFAULT_WEBHOOK_HASH_FIELDS, PRIVATE_KEY
from tests.hardening.vendors import IA_API_KEY, IA_URL, NOW, TP_PUBLIC
from tests.integrity_advocate.samples import REVIEW_CALLBACK

SECRET = "hostile-test-secret"
MIB = 1024 * 1024


@attrs.frozen
class Raw:
    """A JSON fragment written into the body as it is (for nesting deeper than ``json.dumps`` goes)."""

    text: bytes


def dumps(payload: Any) -> bytes:
    """Write ``payload`` as compact JSON, with every :class:`Raw` spliced in as its text."""
    raws: list[bytes] = []

    def mark(value: Any) -> Any:
        raws.append(value.text)
        return f"__raw_{len(raws) - 1}__"

    return _splice(json.dumps(payload, default=mark, separators=(",", ":")).encode(), raws)


def _splice(body: bytes, raws: list[bytes]) -> bytes:
    for index, text in enumerate(raws):
        body = body.replace(f'"__raw_{index}__"'.encode(), text)
    return body


@attrs.frozen
class Target:
    """A vendor verifier and a way to sign any payload for it."""

    name: str
    sample: Callable[[], Any]
    verifier: Callable[[InMemoryReplayGuard], Any]
    sign: Callable[[Any, int], WebhookRequest]
    #: A path to a text field outside any signature, which the parser must refuse as an object.
    free_path: tuple[str | int, ...]
    #: How many body bytes one JSON byte may take (iTEP's JSON is percent-encoded in a form field).
    expansion: int = 1
    #: The standard library's own reading of a body: the floor any parser's cost is compared to.
    reference: Callable[[bytes], Any] = json.loads
    #: Top-level keys the signature covers (Testpress hashes named fields of the body).
    signed: frozenset[str | int] = frozenset()

    @property
    def budget(self) -> int:
        """How many JSON bytes of hostile content fit in a body under the default 1 MiB limit."""
        return (MIB - 8192) // self.expansion

    def request(self, payload: Any, serial: int = 0) -> WebhookRequest:
        return self.sign(payload, serial)


def _itep_sign(payload: Any, serial: int) -> WebhookRequest:
    body = b"data=" + urllib.parse.quote_from_bytes(dumps(payload), safe="").encode()
    return WebhookRequest(body=body, headers={"X-Itep-Token": SECRET})


def _itep_reference(body: bytes) -> Any:
    return json.loads(urllib.parse.parse_qs(body.decode("ascii"))["data"][0])


def _itep_verifier(guard: InMemoryReplayGuard) -> ItepWebhookVerifier:
    auth = TokenHeaderAuth(header="X-Itep-Token", token=SECRET)
    return ItepWebhookVerifier(auth=auth, replay_guard=guard)


def _ia_sample() -> Any:
    return json.loads(REVIEW_CALLBACK)


def _ia_sign(payload: Any, serial: int) -> WebhookRequest:
    # The amx header does not cover the body: sign a real callback, then send the payload with it.
    signed = signed_review_callback(
        json.loads(REVIEW_CALLBACK),
        url=IA_URL,
        app_id=DEMO_APP_ID,
        api_key=IA_API_KEY,
        timestamp=NOW,
        nonce=f"nonce-{serial:08d}",
    )
    return WebhookRequest(body=dumps(payload), headers=signed.headers, url=signed.url, method=signed.method)


def _ia_verifier(guard: InMemoryReplayGuard) -> IntegrityAdvocateWebhookVerifier:
    return IntegrityAdvocateWebhookVerifier(
        app_id=DEMO_APP_ID, api_key=IA_API_KEY, clock=FixedClock(NOW), replay_guard=guard
    )


def _assessio_sample() -> Any:
    return {
        "eventType": "ASSESSMENT_SUBMITTED",
        "payload": {
            "orderReferenceId": "order-1",
            "assessmentType": "MAP",
            "assessmentScores": [
                {
                    "type": "MAP_SCORE",
                    "key": "EX",
                    "value": 10,
                    "subScores": [{"type": "MAP_SUB", "key": "EX1", "value": 4}],
                }
            ],
        },
    }


def _assessio_sign(payload: Any, serial: int) -> WebhookRequest:
    body = dumps(payload)
    # The documented recipe, computed here: hex HMAC-SHA256 over "<t>.<body>".
    mac = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"integrator-api-key": SECRET, "Signature": f"t={NOW},signature={mac}"}
    return WebhookRequest(body=body, headers=headers)


def _assessio_verifier(guard: InMemoryReplayGuard) -> AssessioWebhookVerifier:
    return AssessioWebhookVerifier(
        api_key=SECRET,
        signature_secret=SECRET,
        clock=FixedClock(NOW),
        replay_guard=guard,
    )


def _assessio_key_only_sign(payload: Any, serial: int) -> WebhookRequest:
    return WebhookRequest(body=dumps(payload), headers={"integrator-api-key": SECRET})


def _assessio_key_only_verifier(guard: InMemoryReplayGuard) -> AssessioWebhookVerifier:
    return AssessioWebhookVerifier(api_key=SECRET)


def _testpress_sample() -> Any:
    return json.loads(json.dumps(sample_exam_webhook_payload(public_key=TP_PUBLIC)))


def _testpress_sign(payload: Any, serial: int) -> WebhookRequest:
    raws: list[bytes] = []

    def mark(value: Any) -> Any:
        raws.append(value.text)
        return f"__raw_{len(raws) - 1}__"

    # Raw fragments stand in the payload as placeholder strings while it is signed, then are spliced
    # in: in a field the hash does not cover the signature stays valid.
    plain = json.loads(json.dumps(payload, default=mark))
    return WebhookRequest(body=_splice(sign_exam_webhook(plain, private_key=SECRET), raws))


def _testpress_verifier(guard: InMemoryReplayGuard) -> TestpressWebhookVerifier:
    return TestpressWebhookVerifier(public_key=TP_PUBLIC, private_key=SECRET, replay_guard=guard)


TARGETS: tuple[Target, ...] = (
    Target(
        "itep",
        lambda: copy.deepcopy(dict(SAMPLE_RESULT)),
        _itep_verifier,
        _itep_sign,
        ("TestID",),
        3,
        _itep_reference,
    ),
    Target("integrity-advocate", _ia_sample, _ia_verifier, _ia_sign, ("Email",)),
    Target(
        "assessio-signed",
        _assessio_sample,
        _assessio_verifier,
        _assessio_sign,
        ("payload", "orderReferenceId"),
    ),
    Target(
        "assessio-key",
        _assessio_sample,
        _assessio_key_only_verifier,
        _assessio_key_only_sign,
        ("payload", "orderReferenceId"),
    ),
    Target(
        "testpress",
        _testpress_sample,
        _testpress_verifier,
        _testpress_sign,
        ("email",),
        signed=frozenset(f for f in DEFAULT_WEBHOOK_HASH_FIELDS if f != PRIVATE_KEY),
    ),
)
TARGET_IDS = [t.name for t in TARGETS]


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Yield ``(path, value)`` for every value inside ``value``, containers before their items."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key), item
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index), item
            yield from paths(item, (*prefix, index))


def array_paths(payload: Any) -> list[tuple[str | int, ...]]:
    """The paths of the arrays in ``payload``."""
    return [p for p, v in paths(payload) if isinstance(v, list)]


def scalar_paths(payload: Any) -> list[tuple[str | int, ...]]:
    """The paths of the strings and numbers in ``payload``."""
    return [p for p, v in paths(payload) if isinstance(v, str | int | float) and not isinstance(v, bool)]


def put(payload: Any, path: tuple[str | int, ...], value: Any) -> None:
    """Set the value at ``path`` inside ``payload`` (in place)."""
    *parents, last = path
    node = payload
    for key in parents:
        node = node[key]
    node[last] = value
