"""No raw key sits in a frame local on the traceback of any error a verifier or signer raises.

Error reporters that capture locals (Sentry by default, ``traceback`` with ``capture_locals=True``)
print every local of every frame between the raise and the handler. A failed verification is
something anyone on the internet can trigger, so the key must not be among those locals: not as
text, bytes, hex or base64.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.assessio import AssessioWebhookVerifier, SignatureVerifier, signature_header
from examkit.assessio.signing import compute_signature
from examkit.assessio.webhooks import verify_signature_header
from examkit.core.clock import FixedClock
from examkit.core.errors import ExamkitError, PayloadError
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrity_advocate import AmxSigner, AmxVerifier, IntegrityAdvocateWebhookVerifier, sign_request
from examkit.integrity_advocate.webhooks import verify_authorization
from examkit.itep import sign_body
from examkit.itep._fulfillment import FulfillmentSigner
from examkit.itep.signing import verify_body
from examkit.testing.integrity_advocate import DEMO_APP_ID
from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import (
    CompletionHmacScheme,
    TestpressAttempts,
    TestpressCompletionVerifier,
    TestpressWebhookVerifier,
    attempt_hmac,
    review_hmac,
    webhook_hash,
)
from tests.hardening.strategies import CANARY
from tests.hardening.vendors import CASES, IA_API_KEY, IA_KEY_BYTES, NOW, TP_PUBLIC, Case


def _forms(secret: bytes) -> list[str]:
    """The raw, hex and base64 forms of a key, as they would appear in a repr (16 characters each)."""
    hexed = secret.hex()
    b64 = base64.b64encode(secret).decode()
    return [secret.decode("latin-1")[:16], hexed[:32], hexed[-32:], b64[:16], b64[4:20]]


NEEDLES = sorted({*_forms(CANARY.encode()), *_forms(IA_KEY_BYTES), IA_API_KEY[:16], IA_API_KEY[-16:]})


def _locals_text(exc: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def assert_no_key_in_locals(action: Callable[[], Any], where: str) -> ExamkitError | None:
    """Run ``action``; if it raises an examkit error, check every captured local for the key."""
    try:
        action()
    except ExamkitError as exc:
        text = _locals_text(exc)
        for needle in NEEDLES:
            assert needle not in text, f"{where}: a key ({needle!r}...) is in the locals:\n{text}"
        return exc
    return None


def _stale(case: Case) -> Any | None:
    far = FixedClock(NOW + 100_000)
    if case.name == "integrity-advocate":
        return IntegrityAdvocateWebhookVerifier(app_id=DEMO_APP_ID, api_key=IA_API_KEY, clock=far)
    if case.name == "assessio-signed":
        return AssessioWebhookVerifier(api_key=CANARY, signature_secret=CANARY, clock=far)
    return None


def _bad_requests(valid: WebhookRequest) -> dict[str, WebhookRequest]:
    headers = dict(valid.headers)
    bad: dict[str, WebhookRequest] = {
        "no headers": WebhookRequest(body=valid.body, url=valid.url),
        "empty body": WebhookRequest(body=b"", headers=headers, url=valid.url),
        "bad body": WebhookRequest(body=b"\xff{not json", headers=headers, url=valid.url),
        "cut body": WebhookRequest(body=valid.body[:-7], headers=headers, url=valid.url),
        "other url": WebhookRequest(body=valid.body, headers=headers, url="https://evil.example/x"),
    }
    for name in headers:
        rest = {k: v for k, v in headers.items() if k != name}
        bad[f"without {name}"] = WebhookRequest(body=valid.body, headers=rest, url=valid.url)
        for label, value in {
            "garbage": "garbage!!",
            "zero hex": "0" * 64,
            "zero base64": base64.b64encode(bytes(32)).decode(),
            "assessio-shaped": f"t={NOW},signature={'0' * 64}",
            "amx-shaped": f"amx {DEMO_APP_ID}:{base64.b64encode(bytes(32)).decode()}:n0nce-1234:{NOW}",
            "basic-shaped": "Basic " + base64.b64encode(b"itep:wrong-password").decode(),
            "empty": "",
        }.items():
            bad[f"{name} {label}"] = WebhookRequest(
                body=valid.body, headers={**rest, name: value}, url=valid.url
            )
    return bad


def _testpress_variants(valid: WebhookRequest) -> dict[str, WebhookRequest]:
    payload = json.loads(valid.body)
    out = {}
    for field in ("hash", "key", "exam_id", "user_id", "score"):
        if field in payload:
            out[f"testpress without {field}"] = WebhookRequest(
                body=json.dumps({k: v for k, v in payload.items() if k != field}).encode()
            )
    out["testpress hash of zeros"] = WebhookRequest(body=json.dumps({**payload, "hash": "0" * 128}).encode())
    out["testpress list body"] = WebhookRequest(body=b"[1, 2]")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_verifier_error_path_leaves_a_key_in_the_locals(case: Case) -> None:
    guard = InMemoryReplayGuard(clock=FixedClock(NOW))
    verifier = (
        case.make() if case.name in ("integrity-advocate", "assessio-key") else case.make(replay_guard=guard)
    )
    valid = case.valid()
    requests = _bad_requests(valid)
    if case.name == "testpress":
        requests.update(_testpress_variants(valid))
    raised = 0
    for where, request in requests.items():
        raised += (
            assert_no_key_in_locals(functools.partial(verifier.verify, request), f"{case.name}: {where}")
            is not None
        )
    assert raised >= len(requests) // 2  # the error paths really were taken
    assert_no_key_in_locals(lambda: verifier.verify(valid), f"{case.name}: first delivery")
    if case.name != "assessio-key":
        error = assert_no_key_in_locals(lambda: verifier.verify(valid), f"{case.name}: replay")
        assert error is not None, "the replay was not refused"
    small = case.make(max_body_size=4)
    assert assert_no_key_in_locals(lambda: small.verify(valid), f"{case.name}: too large") is not None
    stale = _stale(case)
    if stale is not None:
        assert assert_no_key_in_locals(lambda: stale.verify(valid), f"{case.name}: stale") is not None


_MUTATIONS = st.one_of(
    st.tuples(st.just("drop header"), st.integers(0, 5)),
    st.tuples(st.just("set header"), st.integers(0, 5), st.text(max_size=80)),
    st.tuples(st.just("flip body byte"), st.integers(0, 10_000)),
    st.tuples(st.just("cut body"), st.integers(0, 10_000)),
)


def _mutate(valid: WebhookRequest, mutation: tuple[Any, ...]) -> WebhookRequest:
    headers = dict(valid.headers)
    names = sorted(headers) or ["Authorization"]
    body = valid.body
    kind = mutation[0]
    if kind == "drop header":
        headers.pop(names[mutation[1] % len(names)], None)
    elif kind == "set header":
        headers[names[mutation[1] % len(names)]] = mutation[2]
    elif kind == "flip body byte" and body:
        i = mutation[1] % len(body)
        body = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
    else:
        body = body[: mutation[1] % (len(body) + 1)]
    return WebhookRequest(body=body, headers=headers, url=valid.url)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(mutations=st.lists(_MUTATIONS, min_size=1, max_size=3))
def test_random_mutations_never_leave_a_key_in_the_locals(
    case: Case, mutations: list[tuple[Any, ...]]
) -> None:
    request = case.valid()
    for mutation in mutations:
        request = _mutate(request, mutation)
    assert_no_key_in_locals(lambda: case.make().verify(request), f"{case.name}: {mutations}")


def test_no_signer_error_path_leaves_a_key_in_the_locals() -> None:
    itep = FulfillmentSigner(api_key=CANARY, header="X-Signature")
    amx = AmxSigner(app_id=DEMO_APP_ID, api_key=IA_API_KEY)
    amx_verifier = AmxVerifier(app_id=DEMO_APP_ID, api_key=IA_API_KEY, clock=FixedClock(NOW))
    attempts = TestpressAttempts(public_key=TP_PUBLIC, secret=CANARY, clock=FixedClock(NOW))
    completion = TestpressCompletionVerifier(
        scheme=CompletionHmacScheme(fields=("attempt_id", "private_key", "score")), secret=CANARY
    )
    checker = SignatureVerifier(secret=CANARY, clock=FixedClock(NOW))
    payload = json.dumps(sample_exam_webhook_payload(public_key=TP_PUBLIC)).encode()
    old = NOW - 10_000
    old_header = f"t={old},signature={compute_signature(secret=CANARY, body=b'{}', timestamp=old)}"
    no_user = json.dumps({k: v for k, v in json.loads(payload).items() if k != "user_id"}).encode()
    amx_header = amx.authorization(method="GET", url="https://x.example/a", timestamp=NOW, nonce="n-1")
    actions: dict[str, Callable[[], Any]] = {
        "itep signer bad body": lambda: itep.headers("not bytes"),  # type: ignore[arg-type]
        "itep sign_body bad body": lambda: sign_body(api_key=CANARY, body="x"),  # type: ignore[arg-type]
        "itep verify_body mismatch": lambda: verify_body(api_key=CANARY, body=b"{}", signature="0" * 64),
        "itep verify_body malformed": lambda: verify_body(api_key=CANARY, body=b"{}", signature="zz"),
        "itep verify_body missing": lambda: verify_body(api_key=CANARY, body=b"{}", signature=None),
        "amx bad url": lambda: amx.authorization(
            method="GET", url="https://x/\udcff", timestamp=NOW, nonce="n"
        ),
        "amx bad nonce": lambda: amx.authorization(method="GET", url="https://x", timestamp=NOW, nonce="a:b"),
        "amx bad method": lambda: amx.authorization(method="G T", url="https://x", timestamp=NOW, nonce="n"),
        "amx bad timestamp": lambda: amx.authorization(
            method="GET", url="https://x", timestamp=-1, nonce="n"
        ),
        "ia sign_request bad url": lambda: sign_request(
            app_id=DEMO_APP_ID,
            api_key=IA_API_KEY,
            method="GET",
            url="https://x/\udcff",
            timestamp=1_700_000_000,
            nonce="1700000000123456",
        ),
        "ia sign_request bad app id": lambda: sign_request(
            app_id="not-a-guid",
            api_key=IA_API_KEY,
            method="GET",
            url="https://x",
            timestamp=1_700_000_000,
            nonce="1700000000123456",
        ),
        "ia verify mismatch": lambda: amx_verifier.verify(
            amx_header, method="GET", url="https://x.example/b"
        ),
        "ia verify stale": lambda: AmxVerifier(
            app_id=DEMO_APP_ID, api_key=IA_API_KEY, clock=FixedClock(NOW + 10_000)
        ).verify(amx_header, method="GET", url="https://x.example/a"),
        "ia verify_authorization mismatch": lambda: verify_authorization(
            amx_header, app_id=DEMO_APP_ID, api_key=IA_API_KEY, method="GET", url="https://x.example/b"
        ),
        "ia verify_authorization missing": lambda: verify_authorization(
            None, app_id=DEMO_APP_ID, api_key=IA_API_KEY, method="GET", url="https://x.example/b"
        ),
        "assessio compute bad ts": lambda: compute_signature(secret=CANARY, body=b"{}", timestamp=-1),
        "assessio compute bad body": lambda: compute_signature(secret=CANARY, body=1, timestamp=NOW),  # type: ignore[arg-type]
        "assessio header bad ts": lambda: signature_header(secret=CANARY, body=b"{}", timestamp=-1),
        "assessio checker mismatch": lambda: checker.verify(b"{}", f"t={NOW},signature={'0' * 64}"),
        "assessio checker slow path": lambda: checker.verify(b"{}", f"signature={'0' * 64}, t={NOW}"),
        "assessio checker stale": lambda: checker.verify(b"{}", old_header),
        "assessio verify_signature_header": lambda: verify_signature_header(
            secret=CANARY, body=b"{}", header=f"t={NOW},signature={'0' * 64}", clock=FixedClock(NOW)
        ),
        "testpress attempt_hmac bad time": lambda: attempt_hmac(
            secret=CANARY, email="a@b", first_name="A", institute_attempt_id="1", key=TP_PUBLIC, time="x"
        ),
        "testpress review_hmac bad id": lambda: review_hmac(
            secret=CANARY, attempt_id="", institute_attempt_id="1", key=TP_PUBLIC, time=NOW
        ),
        "testpress webhook_hash bad body": lambda: webhook_hash(private_key=CANARY, body=b"{"),
        "testpress webhook_hash missing field": lambda: webhook_hash(private_key=CANARY, body=no_user),
        "testpress webhook_hash not bytes": lambda: webhook_hash(private_key=CANARY, body="x"),  # type: ignore[arg-type]
        "testpress create_attempt bad email": lambda: attempts.create_attempt(
            exam_url="https://t.example/e",
            email="nope",
            first_name="A",
            institute_attempt_id="1",
            surl="https://x",
        ),
        "testpress create_attempt bad name": lambda: attempts.create_attempt(
            exam_url="https://t.example/e",
            email="a@b.c",
            first_name="",
            institute_attempt_id="1",
            surl="https://x",
        ),
        "testpress review_url bad id": lambda: attempts.review_url(
            base_url="https://t.example", attempt_id="", institute_attempt_id="1"
        ),
        "testpress completion mismatch": lambda: completion.verify(
            {"attempt_id": "1", "score": "2", "hmac": "0" * 64}
        ),
        "testpress completion missing": lambda: completion.verify({"attempt_id": "1", "hmac": "0" * 64}),
        "testpress completion unencodable": lambda: completion.verify(
            {"attempt_id": "1", "score": "\udcff", "hmac": "0" * 64}
        ),
    }
    raised = 0
    for where, action in actions.items():
        raised += assert_no_key_in_locals(action, where) is not None
    assert raised == len(actions), [w for w, a in actions.items() if assert_no_key_in_locals(a, w) is None]


def test_no_expected_signature_is_left_in_the_locals() -> None:
    # The expected digest of a request whose hash was replaced is the hash the sender computed.
    valid = json.loads(
        sign_exam_webhook(sample_exam_webhook_payload(public_key=TP_PUBLIC), private_key=CANARY)
    )
    expected = bytes.fromhex(valid["hash"])
    tampered = WebhookRequest(body=json.dumps({**valid, "hash": "0" * 128}).encode())
    verifier = TestpressWebhookVerifier(public_key=TP_PUBLIC, private_key=CANARY)
    error = assert_no_key_in_locals(lambda: verifier.verify(tampered), "testpress mismatch")
    assert error is not None
    text = _locals_text(error)
    assert repr(expected)[2:40] not in text
    assert expected.hex()[:32] not in text

    scheme = CompletionHmacScheme(fields=("attempt_id",))
    digest = hmac.new(CANARY.encode(), b"1", "sha256").digest()  # the scheme signs "1" alone
    completion = TestpressCompletionVerifier(scheme=scheme, secret=CANARY)
    with pytest.raises(PayloadError):  # raised only after the hmac matched: the digest is the expected one
        completion.verify({"attempt_id": "1", "hmac": digest.hex()})
    error = assert_no_key_in_locals(
        lambda: completion.verify({"attempt_id": "1", "hmac": "0" * 64}), "completion"
    )
    assert error is not None
    assert repr(digest)[2:40] not in _locals_text(error)


def test_the_check_sees_a_key_in_a_local() -> None:
    def leaky() -> None:
        key = CANARY.encode()
        raise ExamkitError(f"failed with a {len(key)}-byte key")

    with pytest.raises(AssertionError, match="is in the locals"):
        assert_no_key_in_locals(leaky, "a planted local")
