"""In-process webhook cases: payloads, the hand-written floors, examkit, and other libraries.

Every vendor scheme gets a *floor*: the shortest correct hand-written standard-library check of that
scheme (``hmac`` + ``hmac.compare_digest`` over the same signed string, plus only the work the scheme
demands). Each case is a zero-argument callable for :func:`benchmarks.harness.measure`; the
``check_*`` helpers return the case's verdict (``True`` when it accepts) so that the CI test can
confirm each floor agrees with examkit on valid and tampered input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from urllib.parse import parse_qsl, quote, quote_plus

from examkit.assessio import AssessioWebhookVerifier, SignatureVerifier
from examkit.assessio.webhooks import verify_signature_header
from examkit.core.clock import FixedClock
from examkit.core.serde import load_json
from examkit.core.signing import Secret
from examkit.core.webhook import WebhookRequest
from examkit.integrity_advocate import AmxVerifier, IntegrityAdvocateWebhookVerifier, sign_request
from examkit.itep import ItepWebhookVerifier
from examkit.itep.webhooks import HmacBodyAuth
from examkit.testing.assessio import assessment_submitted_body, sign_webhook
from examkit.testing.integrity_advocate import make_participant, make_session
from examkit.testing.itep import SAMPLE_RESULT, build_results_webhook
from examkit.testing.testpress import exam_webhook_request, sample_exam_webhook_payload
from examkit.testpress import TestpressWebhookVerifier

SIZES: Final = {"300B": 300, "2KB": 2048, "64KB": 65536}
"""Target body sizes: each payload is grown until its body reaches the size (within one element)."""

NOW: Final = 1_700_000_000
APP_ID: Final = "00000000-1111-2222-3333-444444444444"
IA_KEY: Final = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
IA_URL: Final = "https://lms.example.edu/examkit/ia/review-callback"
ITEP_SECRET: Final = "itep-bench-secret"  # noqa: S105 - a benchmark-only value
ITEP_HEADER: Final = "X-Itep-Signature"
ASSESSIO_KEY: Final = "bench-integrator-api-key"
ASSESSIO_SECRET: Final = "bench-integrator-secret"  # noqa: S105
TP_PUBLIC: Final = "bench-public-key"
TP_PRIVATE: Final = "bench-private-key"
# A standard-webhooks secret (whsec_ + base64 of 24 bytes); stripe uses the text itself as key.
WH_SECRET: Final = "whsec_" + base64.b64encode(bytes(range(24))).decode("ascii")
TOLERANCE: Final = 300


def _grow(build: Callable[[int], bytes], target: int) -> bytes:
    """Return ``build(n)`` for the smallest ``n`` whose body reaches ``target`` bytes."""
    n = 0
    body = build(0)
    while len(body) < target:
        n = max(n + 1, int(n * target / len(body))) if n else 1
        body = build(n)
    # Step back to the smallest n that still reaches the target (the jump may overshoot a lot).
    while n > 0 and len(build(n - 1)) >= target:
        n -= 1
        body = build(n)
    return body


# -- payload builders -------------------------------------------------------------------------------


def ia_participant(n: int) -> dict[str, Any]:
    """An Integrity Advocate participant with ``n`` sessions, each with two flags."""
    sessions = [
        make_session(
            f"activity-{i}",
            session_id=f"5f1c0d2e-0000-4000-8000-{i:012d}",
            status="Valid" if i % 2 else "Invalid Rules",
            start=NOW - 7200 + i,
            end=NOW - 3600 + i,
            Flags=[
                {
                    "Id": f"f{i}-{j}",
                    "FlagType_Id": 3 + j,
                    "FlagType_Name": "Multiple faces" if j else "Left the frame",
                    "Comment": "Reviewer: a second person appears in the frame",
                    "Created": str(NOW - 3000 + j),
                    "CaptureDate": str(NOW - 3100 + j),
                    "CaptureData": "",
                }
                for j in range(2)
            ],
        )
        for i in range(n)
    ]
    return make_participant("student-42", "course-7", modified=NOW - 60, sessions=sessions)


def ia_body(n: int) -> bytes:
    return json.dumps(ia_participant(n), separators=(",", ":")).encode("utf-8")


def assessio_body(n: int) -> bytes:
    scores = [
        {
            "type": "MAP_SCORE",
            "key": f"S{i}",
            "value": 10 + i % 7,
            "subScores": [{"key": f"S{i}a", "value": 4}],
        }
        for i in range(max(n, 1))
    ]
    return assessment_submitted_body(order_reference_id="order-2024-0042", scores=scores)


_ITEP_SMALL: Final = {
    "TestID": "3279B035APR",
    "Status": "Complete",
    "Overall_Level": "4.5",
    "Overall_cefr": "C1",
}


def itep_result(n: int, *, full: bool = True) -> dict[str, Any]:
    """The vendor's sample result (or a short one), its first essay answer ``n`` sentences long."""
    result = dict(SAMPLE_RESULT) if full else dict(_ITEP_SMALL)
    if n:
        result["Writing_Answer_1"] = "Learning languages opens doors. " * n
    return result


def itep_body(n: int, *, full: bool = True) -> bytes:
    return build_results_webhook(itep_result(n, full=full), hmac=(ITEP_HEADER, ITEP_SECRET)).body


def tp_payload(n: int) -> dict[str, Any]:
    payload = sample_exam_webhook_payload(public_key=TP_PUBLIC, institute_attempt_id="att-42")
    if n == 0:
        for key in ("exam", "subject_stats", "difficulty_level_stats", "attempt_start_time", "completed_on"):
            payload.pop(key)
    else:
        stats = payload["subject_stats"][0]
        payload["subject_stats"] = [dict(stats, subject_name=f"Subject {i}") for i in range(n)]
    return payload


def tp_body(n: int) -> bytes:
    return exam_webhook_request(tp_payload(n), private_key=TP_PRIVATE).body


# -- the cases of one vendor at one size ----------------------------------------------------------


@dataclass
class VendorCases:
    """The timed callables of one vendor scheme at one body size, and their verdict functions.

    ``cases`` maps a case name to a zero-argument callable. ``checks`` maps the same names to a
    one-argument function taking ``tampered`` and returning whether the case accepted the request.
    """

    vendor: str
    size: str
    body_len: int
    cases: dict[str, Callable[[], object]] = field(default_factory=dict)
    checks: dict[str, Callable[[bool], bool]] = field(default_factory=dict)
    floors: tuple[str, ...] = ("floor",)
    """The signature-only floors: a ratio is always to the fastest of them in the same run."""

    def best_floor(self, stats: Mapping[str, Any]) -> str:
        """The name of the fastest floor in ``stats`` (a mapping of case name to harness stats)."""
        return min(self.floors, key=lambda name: stats[name].median)

    def add(self, name: str, run: Callable[..., object], good: tuple[Any, ...], bad: tuple[Any, ...]) -> None:
        """Add a case that runs ``run(*good)``; its check runs ``run(*bad)`` when asked for tampered input.

        The arguments are prepared once, outside the timing: each side receives its input ready, as a
        web framework hands it over (examkit a :class:`WebhookRequest`, a floor the bytes and a dict).
        """
        self.cases[name] = lambda: run(*good)

        def check(tampered: bool) -> bool:
            try:
                result = run(*(bad if tampered else good))
            except Exception:
                return False
            return result is not False

        self.checks[name] = check


def _flip(body: bytes) -> bytes:
    """Change one byte in the middle of the body (a different letter, so JSON stays JSON)."""
    middle = len(body) // 2
    for i in range(middle, len(body)):
        if chr(body[i]).isalpha():
            return body[:i] + (b"X" if body[i] != ord("X") else b"Y") + body[i + 1 :]
    raise AssertionError("no letter to change")


# -- iTEP: HMAC-SHA256 of the raw form body, hex, in a header ---------------------------------------


def itep_cases(size: str, *, with_typed: bool = True) -> VendorCases:
    full = SIZES[size] > 1500
    body = _grow(lambda n: itep_body(n, full=full), SIZES[size])
    headers = {ITEP_HEADER: hmac.new(ITEP_SECRET.encode(), body, hashlib.sha256).hexdigest()}
    key = ITEP_SECRET.encode()
    auth = HmacBodyAuth(header=ITEP_HEADER, secret=ITEP_SECRET)
    verifier = ItepWebhookVerifier(auth=auth)
    tampered = (_flip(body), headers)
    out = VendorCases("itep", size, len(body))

    def floor(b: bytes, h: Mapping[str, str]) -> bool:
        return hmac.compare_digest(bytes.fromhex(h[ITEP_HEADER]), hmac.digest(key, b, "sha256"))

    def floor_json(b: bytes, h: Mapping[str, str]) -> object:
        if not floor(b, h):
            return False
        return json.loads(dict(parse_qsl(b.decode("utf-8")))["data"])

    out.add("floor", floor, (body, headers), tampered)
    out.add("floor+json.loads", floor_json, (body, headers), tampered)
    good, bad = (
        (WebhookRequest(body=body, headers=headers),),
        (WebhookRequest(body=tampered[0], headers=headers),),
    )
    out.add("examkit sig", auth.authenticate, good, bad)
    if with_typed:
        out.add("examkit typed", verifier.verify, good, bad)
    return out


# -- Integrity Advocate: amx header over app id, method, canonical URL, timestamp, nonce -------------


def _ia_floor_check(
    value: str, method: str, url: str, key: bytes, now: float, *, canonical: str | None = None
) -> bool:
    scheme, _, rest = value.partition(" ")
    app_id, signature, nonce, timestamp = rest.split(":")
    if scheme.lower() != "amx" or app_id != APP_ID:
        return False
    if canonical is None:
        canonical = quote_plus(url.split("?", 1)[0], safe="").lower()
    message = (app_id + method + canonical + timestamp + nonce).encode("utf-8")
    good = hmac.compare_digest(
        base64.b64decode(signature, validate=True), hmac.digest(key, message, "sha256")
    )
    return good and abs(int(timestamp) - now) <= TOLERANCE


def ia_cases(size: str, *, with_typed: bool = True) -> VendorCases:
    body = _grow(ia_body, SIZES[size])
    value = sign_request(
        app_id=APP_ID, api_key=IA_KEY, method="POST", url=IA_URL, timestamp=NOW, nonce="5e6f7a8b9c0d1e2f"
    )
    headers = {"Authorization": value, "Content-Type": "application/json"}
    # The amx header does not cover the body; the tampered request changes the signed URL instead.
    bad_headers = {"Authorization": value.replace("5e6f7a8b", "5e6f7a8c")}
    key = base64.b64decode(IA_KEY)
    clock = FixedClock(NOW)
    amx = AmxVerifier(app_id=APP_ID, api_key=IA_KEY, clock=clock)
    verifier = IntegrityAdvocateWebhookVerifier(app_id=APP_ID, api_key=IA_KEY, clock=clock)
    tampered = (body, bad_headers)
    out = VendorCases("integrity_advocate", size, len(body))

    def floor(b: bytes, h: Mapping[str, str]) -> bool:
        return _ia_floor_check(h["Authorization"], "POST", IA_URL, key, clock.time())

    def floor_json(b: bytes, h: Mapping[str, str]) -> object:
        return floor(b, h) and json.loads(b)

    canonical = quote_plus(IA_URL.split("?", 1)[0], safe="").lower()

    def floor_cached(b: bytes, h: Mapping[str, str]) -> bool:
        return _ia_floor_check(h["Authorization"], "POST", IA_URL, key, clock.time(), canonical=canonical)

    out.add("floor", floor, (body, headers), tampered)
    out.add("floor+json.loads", floor_json, (body, headers), tampered)
    out.add("floor, URL canonicalised once", floor_cached, (body, headers), tampered)
    out.floors = ("floor", "floor, URL canonicalised once")
    out.add(
        "examkit sig",
        lambda h: amx.verify(h["Authorization"], method="POST", url=IA_URL),
        (headers,),
        (bad_headers,),
    )
    if with_typed:
        out.add(
            "examkit typed",
            verifier.verify,
            (WebhookRequest(body=body, headers=headers, url=IA_URL, method="POST"),),
            (WebhookRequest(body=body, headers=bad_headers, url=IA_URL, method="POST"),),
        )
    return out


# -- Assessio: Signature: t=<t>,signature=<hex HMAC-SHA256 of "t.body"> ----------------------------


def assessio_cases(size: str, *, with_typed: bool = True, competitors: bool = True) -> VendorCases:
    body = _grow(assessio_body, SIZES[size])
    request = sign_webhook(body=body, api_key=ASSESSIO_KEY, signature_secret=ASSESSIO_SECRET, timestamp=NOW)
    headers = dict(request.headers)
    key = ASSESSIO_SECRET.encode()
    clock = FixedClock(NOW)
    secret = Secret(ASSESSIO_SECRET)
    verifier = AssessioWebhookVerifier(api_key=ASSESSIO_KEY, signature_secret=ASSESSIO_SECRET, clock=clock)
    tampered = (_flip(body), headers)
    out = VendorCases("assessio", size, len(body))

    def floor(b: bytes, h: Mapping[str, str]) -> bool:
        t_part, s_part = h["Signature"].split(",")
        t = t_part.removeprefix("t=")
        mac = hmac.digest(key, t.encode("ascii") + b"." + b, "sha256")
        good = hmac.compare_digest(bytes.fromhex(s_part.removeprefix("signature=")), mac)
        return good and abs(int(t) - clock.time()) <= TOLERANCE

    def floor_json(b: bytes, h: Mapping[str, str]) -> object:
        return floor(b, h) and json.loads(b)

    out.add("floor", floor, (body, headers), tampered)
    out.add("floor+json.loads", floor_json, (body, headers), tampered)
    # A receiver prepares its check once (as AssessioWebhookVerifier does); the one-call
    # verify_signature_header is measured too, for what preparing saves.
    checker = SignatureVerifier(secret=secret, clock=clock)
    out.add("examkit sig", lambda b, h: checker.verify(b, h["Signature"]), (body, headers), tampered)
    out.add(
        "examkit sig, one call",
        lambda b, h: verify_signature_header(secret=secret, body=b, header=h["Signature"], clock=clock),
        (body, headers),
        tampered,
    )
    if with_typed:
        good = (WebhookRequest(body=body, headers=headers),)
        out.add("examkit typed", verifier.verify, good, (WebhookRequest(body=tampered[0], headers=headers),))
    if competitors:
        add_competitors(out, body)
    return out


# -- Testpress: HMAC-SHA512 of quoted payload values joined with "|", inside the JSON ---------------


def tp_floor() -> Callable[[bytes, Mapping[str, str]], bool]:
    """The Testpress floor: ``json.loads``, the hashed values quoted and joined, HMAC-SHA512."""
    private = quote(TP_PRIVATE, safe="/")
    fields = ("key", "attempt_id", "correct_answers_count", None, "incorrect_answers_count",
              "unanswered_answers_count", "percentage", "score", "user_id")  # fmt: skip
    key = TP_PRIVATE.encode()

    def floor(b: bytes, h: Mapping[str, str]) -> bool:
        data = json.loads(b)
        if data["key"] != TP_PUBLIC:
            return False
        parts = [private if f is None else quote(str(data[f]), safe="/") for f in fields]
        mac = hmac.digest(key, "|".join(parts).encode("utf-8"), "sha512")
        return hmac.compare_digest(bytes.fromhex(data["hash"]), mac)

    return floor


def _tp_tampered(body: bytes) -> bytes:
    """Change a hashed value after signing: the score becomes 9.00."""
    tampered = body.replace(b'"score":"7.00","speed"', b'"score":"9.00","speed"')
    assert tampered != body
    return tampered


def tp_cases(size: str, *, with_typed: bool = True) -> VendorCases:
    body = _grow(tp_body, SIZES[size])
    verifier = TestpressWebhookVerifier(public_key=TP_PUBLIC, private_key=TP_PRIVATE)
    tampered: tuple[bytes, dict[str, str]] = (_tp_tampered(body), {})
    out = VendorCases("testpress", size, len(body))
    floor = tp_floor()

    out.add("floor", floor, (body, {}), tampered)
    # The floor already decodes the JSON (the hash is inside it): floor+json.loads is the floor.
    out.add("floor+json.loads", floor, (body, {}), tampered)
    # Everything up to the typed step (strict decode, key and hash checks; no model, no replay claim).
    out.add(
        "examkit sig",
        verifier._authenticate,
        (WebhookRequest(body=body, headers={}),),
        (WebhookRequest(body=tampered[0], headers={}),),
    )
    if with_typed:
        out.add(
            "examkit typed",
            verifier.verify,
            (WebhookRequest(body=body, headers={}),),
            (WebhookRequest(body=tampered[0], headers={}),),
        )
    return out


# -- other libraries, on the same body ---------------------------------------------------------------


def _optional(module: str) -> Any:
    """Import a benchmark-only dependency, or return ``None`` when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def add_competitors(out: VendorCases, body: bytes) -> None:
    """Add stripe, svix and standardwebhooks verifying ``body`` (when installed)."""
    tampered = _flip(body)
    stripe = _optional("stripe")
    if stripe is not None:
        ts = int(time.time())
        payload = body.decode("utf-8")
        sig = hmac.new(WH_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        header = {"Stripe-Signature": f"t={ts},v1={sig}"}
        verify_header = stripe.WebhookSignature.verify_header

        def run_stripe(b: bytes, h: Mapping[str, str]) -> object:
            text = payload if b is body else b.decode("utf-8")
            return verify_header(text, h["Stripe-Signature"], WH_SECRET, TOLERANCE)

        out.add("stripe verify_header", run_stripe, (body, header), (tampered, header))
    svix = _optional("svix.webhooks")
    standard = _optional("standardwebhooks")
    if svix is not None or standard is not None:
        ts = int(time.time())
        key = base64.b64decode(WH_SECRET.removeprefix("whsec_"))
        msg_id = "msg_2Lh9KRb0pzN4LePd3XiA0qk6Wj8"
        signed = f"{msg_id}.{ts}.".encode() + body
        sig = base64.b64encode(hmac.digest(key, signed, "sha256")).decode()
        if svix is not None:
            wh = svix.Webhook(WH_SECRET)
            svix_headers = {"svix-id": msg_id, "svix-timestamp": str(ts), "svix-signature": f"v1,{sig}"}
            out.add("svix verify", wh.verify, (body, svix_headers), (tampered, svix_headers))
        if standard is not None:
            sw = standard.Webhook(WH_SECRET)
            sw_headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(ts),
                "webhook-signature": f"v1,{sig}",
            }
            out.add(
                "standardwebhooks verify",
                lambda b, h: sw.verify(b, h, json_parse=False),
                (body, sw_headers),
                (tampered, sw_headers),
            )
            out.add(
                "standardwebhooks verify+json",
                sw.verify,
                (body, sw_headers),
                (tampered, sw_headers),
            )


# -- the typed-parse step at 2 KB: pydantic v2 on an equivalent model ------------------------------


def pydantic_participant_model() -> Any:
    """Build a pydantic v2 model equivalent to examkit's ``Participant`` (or ``None``).

    Same fields and wire names, epoch strings to aware datetimes with the ``-1``/``0`` sentinels as
    ``None``, unknown keys kept.
    """
    pydantic = _optional("pydantic")
    if pydantic is None:
        return None
    from datetime import datetime, timezone  # noqa: PLC0415
    from typing import Annotated, Optional  # noqa: PLC0415

    def epoch(value: object) -> object:
        if value in (None, "", "-1", "0", -1, 0):
            return None
        if isinstance(value, str) and not value.isdigit():
            raise ValueError("not epoch seconds")
        return datetime.fromtimestamp(int(value), tz=timezone.utc)  # type: ignore[call-overload]

    Epoch = Annotated[Optional[datetime], pydantic.BeforeValidator(epoch)]  # noqa: N806, UP045
    config = pydantic.ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    flag_fields: dict[str, Any] = {
        "id": (Optional[str], pydantic.Field(None, alias="Id")),  # noqa: UP045
        "flag_type_id": (Optional[int], pydantic.Field(None, alias="FlagType_Id")),  # noqa: UP045
        "flag_type_name": (Optional[str], pydantic.Field(None, alias="FlagType_Name")),  # noqa: UP045
        "comment": (Optional[str], pydantic.Field(None, alias="Comment")),  # noqa: UP045
        "created": (Epoch, pydantic.Field(None, alias="Created")),
        "capture_date": (Epoch, pydantic.Field(None, alias="CaptureDate")),
        "capture_data": (Optional[str], pydantic.Field(None, alias="CaptureData")),  # noqa: UP045
    }
    flag = pydantic.create_model("Flag", __config__=config, **flag_fields)
    text = Optional[str]  # noqa: UP045
    session_fields: dict[str, Any] = {
        "id": (text, pydantic.Field(None, alias="Id")),
        "activity_id": (text, pydantic.Field(None, alias="Activity_Id")),
        "start": (Epoch, pydantic.Field(None, alias="Start")),
        "end": (Epoch, pydantic.Field(None, alias="End")),
        "status": (text, pydantic.Field(None, alias="Status")),
        "override_status": (text, pydantic.Field(None, alias="Override_Status")),
        "override_date": (Epoch, pydantic.Field(None, alias="Override_Date")),
        "click_iamhere_count": (Optional[int], pydantic.Field(None, alias="Click_IAmHere_Count")),  # noqa: UP045
        "exit_fullscreen_count": (Optional[int], pydantic.Field(None, alias="Exit_Fullscreen_Count")),  # noqa: UP045
        "participant_photo": (text, pydantic.Field(None, alias="Participant_Photo")),
        "flags": (
            tuple[flag, ...],  # type: ignore[valid-type]
            pydantic.Field((), alias="Flags"),
        ),
    }
    session = pydantic.create_model("ParticipantSession", __config__=config, **session_fields)
    participant_fields: dict[str, Any] = {
        "participant_identifier": (str, pydantic.Field(alias="ParticipantIdentifier")),
        "course_id": (text, pydantic.Field(None, alias="Course_Id")),
        "email": (text, pydantic.Field(None, alias="Email")),
        "first_name": (text, pydantic.Field(None, alias="FirstName")),
        "last_name": (text, pydantic.Field(None, alias="LastName")),
        "created": (Epoch, pydantic.Field(None, alias="Created")),
        "modified": (Epoch, pydantic.Field(None, alias="Modified")),
        "status": (text, pydantic.Field(None, alias="Status")),
        "override_status": (text, pydantic.Field(None, alias="Override_Status")),
        "override_date": (Epoch, pydantic.Field(None, alias="Override_Date")),
        "override_reason": (text, pydantic.Field(None, alias="Override_Reason")),
        "override_lms_user_id": (text, pydantic.Field(None, alias="Override_LMSUser_Id")),
        "override_lms_user_first_name": (text, pydantic.Field(None, alias="Override_LMSUser_FirstName")),
        "override_lms_user_last_name": (text, pydantic.Field(None, alias="Override_LMSUser_LastName")),
        "participant_photo": (text, pydantic.Field(None, alias="Participant_Photo")),
        "resubmit_url": (text, pydantic.Field(None, alias="ResubmitUrl")),
        "sessions": (
            tuple[session, ...],  # type: ignore[valid-type]
            pydantic.Field((), alias="Sessions"),
        ),
    }
    return pydantic.create_model("Participant", __config__=config, **participant_fields)


def ia_typed_cases(size: str = "2KB") -> VendorCases:
    """The typed-event budget: examkit's IA verifier vs the IA floor + pydantic, and JSON decoders."""
    out = ia_cases(size)
    body = _grow(ia_body, SIZES[size])
    headers = {"Authorization": sign_request(
        app_id=APP_ID, api_key=IA_KEY, method="POST", url=IA_URL, timestamp=NOW, nonce="5e6f7a8b9c0d1e2f"
    )}  # fmt: skip
    bad = (body, {"Authorization": headers["Authorization"].replace("5e6f7a8b", "5e6f7a8c")})
    key = base64.b64decode(IA_KEY)
    model = pydantic_participant_model()
    clock = FixedClock(NOW)
    if model is not None:
        validate = model.model_validate_json

        def floor_pydantic(b: bytes, h: Mapping[str, str]) -> object:
            return _ia_floor_check(h["Authorization"], "POST", IA_URL, key, clock.time()) and validate(b)

        out.add("floor+pydantic", floor_pydantic, (body, headers), bad)
    # What the strict JSON reading costs, step by step (no signature work).
    out.cases["json.loads"] = lambda: json.loads(body)
    out.cases["json.loads+Decimal"] = lambda: json.loads(body, parse_float=Decimal)
    out.cases["examkit load_json"] = lambda: load_json(body)
    return out


def pydantic_itep_result_model() -> Any:
    """Build a pydantic v2 model equivalent to examkit's iTEP ``ExamResult`` (or ``None``).

    Same fields and wire names: decimals sent as strings (``""`` is ``None``), ``TestDate`` as M/D/YYYY
    to a ``date``, the CEFR level and status as enums that keep unknown text, the five sections
    gathered from their flat ``Grammar_Level``-style keys into nested models, unknown keys kept.
    """
    pydantic = _optional("pydantic")
    if pydantic is None:
        return None
    import re  # noqa: PLC0415
    from datetime import date  # noqa: PLC0415
    from typing import Annotated, Optional, Union  # noqa: PLC0415

    from examkit.itep import CefrLevel, ExamStatus  # noqa: PLC0415

    def empty_none(value: object) -> object:
        return None if value == "" else value

    date_re = re.compile(r"\A([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\Z", re.ASCII)

    def test_date(value: object) -> object:
        if value is None or value == "":
            return None
        match = date_re.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError("expected a date as M/D/YYYY")
        month, day, year = (int(part) for part in match.groups())
        return date(year, month, day)

    empty = pydantic.BeforeValidator(empty_none)
    number = Annotated[Optional[Decimal], empty]  # noqa: UP045
    text = Annotated[Optional[str], empty]  # noqa: UP045
    whole = Annotated[Optional[int], empty]  # noqa: UP045
    # Left to right: a known value becomes the enum member, any other text stays text.
    ordered = pydantic.Field(union_mode="left_to_right")
    cefr = Annotated[Optional[Union[CefrLevel, str]], ordered, empty]  # noqa: UP007, UP045
    config = pydantic.ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    section_fields: dict[str, Any] = {
        "level": (number, pydantic.Field(None, alias="Level")),
        "score": (number, pydantic.Field(None, alias="Score")),
        "percent": (number, pydantic.Field(None, alias="Percent")),
        "cefr": (cefr, pydantic.Field(None, alias="cefr")),
        "question_count": (whole, pydantic.Field(None, alias="Question_Count")),
    }
    section = pydantic.create_model("SectionResult", __config__=config, **section_fields)
    prefixes = ("Grammar", "Listening", "Reading", "Writing", "Speaking")
    section_keys = frozenset(section_fields[name][1].alias for name in section_fields)

    def gather_sections(data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        shaped: dict[str, Any] = {}
        for key, value in data.items():
            prefix, sep, rest = key.partition("_")
            if sep and rest in section_keys and prefix in prefixes:
                shaped.setdefault(prefix, {})[rest] = value
            else:
                shaped[key] = value
        return shaped

    optional_section = Optional[section]  # type: ignore[valid-type]  # noqa: UP045
    result_fields: dict[str, Any] = {
        "test_id": (str, pydantic.Field(alias="TestID")),
        "oid": (text, pydantic.Field(None, alias="OID")),
        "duration": (number, pydantic.Field(None, alias="Duration")),
        "test_date": (
            Annotated[Optional[date], pydantic.BeforeValidator(test_date)],  # noqa: UP045
            pydantic.Field(None, alias="TestDate"),
        ),
        "test_month": (whole, pydantic.Field(None, alias="TestMonth")),
        "test_day": (whole, pydantic.Field(None, alias="TestDay")),
        "test_year": (whole, pydantic.Field(None, alias="TestYear")),
        "score_report_url": (text, pydantic.Field(None, alias="score_report_url")),
        "overall_level": (number, pydantic.Field(None, alias="Overall_Level")),
        "overall_cefr": (cefr, pydantic.Field(None, alias="Overall_cefr")),
        "status": (
            Annotated[Optional[Union[ExamStatus, str]], ordered, empty],  # noqa: UP007, UP045
            pydantic.Field(None, alias="Status"),
        ),
        **{prefix.lower(): (optional_section, pydantic.Field(None, alias=prefix)) for prefix in prefixes},
    }
    validators = {"gather": pydantic.model_validator(mode="before")(gather_sections)}
    return pydantic.create_model("ExamResult", __config__=config, __validators__=validators, **result_fields)


def itep_typed_cases(size: str = "2KB") -> VendorCases:
    """The typed-event budget for iTEP: the verifier vs the HMAC floor, the form field, then pydantic."""
    out = itep_cases(size)
    full = SIZES[size] > 1500
    body = _grow(lambda n: itep_body(n, full=full), SIZES[size])
    headers = {ITEP_HEADER: hmac.new(ITEP_SECRET.encode(), body, hashlib.sha256).hexdigest()}
    key = ITEP_SECRET.encode()
    model = pydantic_itep_result_model()
    if model is not None:
        validate = model.model_validate_json

        def floor_pydantic(b: bytes, h: Mapping[str, str]) -> object:
            good = hmac.compare_digest(bytes.fromhex(h[ITEP_HEADER]), hmac.digest(key, b, "sha256"))
            return good and validate(dict(parse_qsl(b.decode("utf-8")))["data"])

        out.add("floor+pydantic", floor_pydantic, (body, headers), (_flip(body), headers))
    return out


def pydantic_assessio_event_model() -> Any:
    """Build a pydantic v2 model equivalent to examkit's ``AssessmentSubmittedEvent`` (or ``None``).

    Same fields and wire names: scores as exact ``Decimal``, the assessment type and event type as
    enums that keep unknown text, sub-scores nested, unknown keys kept at every level.
    """
    pydantic = _optional("pydantic")
    if pydantic is None:
        return None
    from typing import Annotated, Union  # noqa: PLC0415

    from examkit.assessio import AssessmentType, EventType  # noqa: PLC0415

    config = pydantic.ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    # Left to right: a known value becomes the enum member, any other text stays text.
    ordered = pydantic.Field(union_mode="left_to_right")
    sub_score = pydantic.create_model("SubScore", __config__=config, key=(str, ...), value=(Decimal, ...))
    score_fields: dict[str, Any] = {
        "type": (str, ...),
        "key": (str, ...),
        "value": (Decimal, ...),
        "sub_scores": (tuple[sub_score, ...], pydantic.Field((), alias="subScores")),  # type: ignore[valid-type]
    }
    score = pydantic.create_model("AssessmentScore", __config__=config, **score_fields)
    payload_fields: dict[str, Any] = {
        "order_reference_id": (str, pydantic.Field(alias="orderReferenceId")),
        "assessment_type": (
            Annotated[Union[AssessmentType, str], ordered],  # noqa: UP007
            pydantic.Field(alias="assessmentType"),
        ),
        "scores": (tuple[score, ...], pydantic.Field((), alias="assessmentScores")),  # type: ignore[valid-type]
    }
    payload = pydantic.create_model("AssessmentSubmitted", __config__=config, **payload_fields)
    event_fields: dict[str, Any] = {
        "payload": (payload, ...),
        "event_type": (
            Annotated[Union[EventType, str], ordered],  # noqa: UP007
            pydantic.Field(alias="eventType"),
        ),
    }
    return pydantic.create_model("AssessmentSubmittedEvent", __config__=config, **event_fields)


def assessio_typed_cases(size: str = "2KB") -> VendorCases:
    """The typed-event budget for Assessio: the verifier vs the ``Signature`` floor, then pydantic."""
    out = assessio_cases(size, competitors=False)
    body = _grow(assessio_body, SIZES[size])
    request = sign_webhook(body=body, api_key=ASSESSIO_KEY, signature_secret=ASSESSIO_SECRET, timestamp=NOW)
    headers = dict(request.headers)
    key = ASSESSIO_SECRET.encode()
    model = pydantic_assessio_event_model()
    if model is not None:
        validate = model.model_validate_json

        def floor_pydantic(b: bytes, h: Mapping[str, str]) -> object:
            t_part, s_part = h["Signature"].split(",")
            t = t_part.removeprefix("t=")
            mac = hmac.digest(key, t.encode("ascii") + b"." + b, "sha256")
            good = hmac.compare_digest(bytes.fromhex(s_part.removeprefix("signature=")), mac)
            return good and abs(int(t) - NOW) <= TOLERANCE and validate(b)

        out.add("floor+pydantic", floor_pydantic, (body, headers), (_flip(body), headers))
    return out


def pydantic_exam_event_model() -> Any:
    """Build a pydantic v2 model equivalent to examkit's Testpress ``ExamWebhookEvent`` (or ``None``).

    Same fields and wire names (``key`` is ``public_key``), scores as ``Decimal``, counts as ``int``,
    times as aware datetimes, the exam's duration (``"0:30:00"`` or ``"1 day, 2:00:00"``) as a
    ``timedelta`` by the same rule, the attempt state as the enum when known and text otherwise, the
    statistics as nested models, unknown keys kept.
    """
    pydantic = _optional("pydantic")
    if pydantic is None:
        return None
    import re  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415
    from typing import Annotated, Optional, Union  # noqa: PLC0415

    from examkit.testpress import AttemptState  # noqa: PLC0415

    duration_re = re.compile(
        r"\A(?:(?P<days>-?[0-9]{1,6}) days?, )?(?P<h>[0-9]{1,2}):(?P<m>[0-5][0-9]):(?P<s>[0-5][0-9])"
        r"(?:\.(?P<f>[0-9]{1,6}))?\Z",
        re.ASCII,
    )

    def duration(value: object) -> object:
        match = duration_re.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError("expected a duration such as '0:30:00'")
        return timedelta(
            days=int(match["days"] or 0),
            hours=int(match["h"]),
            minutes=int(match["m"]),
            seconds=int(match["s"]),
            microseconds=int((match["f"] or "0").ljust(6, "0")),
        )

    config = pydantic.ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    aware: Any = pydantic.AwareDatetime
    when = Optional[aware]  # noqa: UP045
    count = Optional[int]  # noqa: UP045
    score = Optional[Decimal]  # noqa: UP045
    text = Optional[str]  # noqa: UP045
    exam = pydantic.create_model(
        "Exam",
        __config__=config,
        id=(int, ...),
        title=(str, ...),
        duration=(Optional[Annotated[timedelta, pydantic.BeforeValidator(duration)]], None),  # noqa: UP045
        start_date=(when, None),
        end_date=(when, None),
    )
    subject = pydantic.create_model(
        "SubjectStats",
        __config__=config,
        subject_name=(text, None),
        parent_subject_id=(count, None),
        total_count=(count, None),
        correct_answers_count=(count, None),
        incorrect_answers_count=(count, None),
        partial_correct_answers_count=(count, None),
        unanswered_count=(count, None),
        answered_count=(count, None),
        score=(score, None),
    )
    level = pydantic.create_model(
        "DifficultyLevelStats",
        __config__=config,
        total_count=(count, None),
        correct_answers_count=(count, None),
        incorrect_answers_count=(count, None),
        partial_correct_answers_count=(count, None),
        unanswered_count=(count, None),
    )
    fields: dict[str, Any] = {
        "public_key": (str, pydantic.Field(alias="key")),
        "attempt_id": (int, ...),
        "attempt_state": (
            Optional[Annotated[Union[AttemptState, str], pydantic.Field(union_mode="left_to_right")]],  # noqa: UP007, UP045
            None,
        ),
        "user_id": (int, ...),
        "username": (text, None),
        "email": (text, None),
        "exam": (Optional[exam], None),  # noqa: UP045
        "total_count": (count, None),
        "correct_answers_count": (int, ...),
        "incorrect_answers_count": (int, ...),
        "unanswered_answers_count": (int, ...),
        "partial_correct_answers_count": (count, None),
        "score": (Decimal, ...),
        "percentage": (Decimal, ...),
        "accuracy": (score, None),
        "speed": (score, None),
        "subject_stats": (tuple[subject, ...], ()),  # type: ignore[valid-type]
        "difficulty_level_stats": (dict[str, level], pydantic.Field(default_factory=dict)),  # type: ignore[valid-type]
        "completed_on": (when, None),
        "attempt_start_time": (when, None),
        "institute_attempt_id": (text, None),
        "hash": (str, ...),
    }
    return pydantic.create_model("ExamWebhookEvent", __config__=config, **fields)


def tp_typed_cases(size: str = "2KB") -> VendorCases:
    """The typed-event budget: examkit's Testpress verifier vs the Testpress floor + pydantic."""
    out = tp_cases(size)
    model = pydantic_exam_event_model()
    if model is not None:
        validate = model.model_validate_json
        floor = tp_floor()

        def floor_pydantic(b: bytes, h: Mapping[str, str]) -> object:
            return floor(b, h) and validate(b)

        body = _grow(tp_body, SIZES[size])
        out.add("floor+pydantic", floor_pydantic, (body, {}), (_tp_tampered(body), {}))
    return out


ALL_VENDORS: Final = {
    "itep": itep_cases,
    "integrity_advocate": ia_cases,
    "assessio": assessio_cases,
    "testpress": tp_cases,
}

TYPED: Final[dict[str, Callable[[str], VendorCases]]] = {
    "integrity_advocate": ia_typed_cases,
    "itep": itep_typed_cases,
    "assessio": assessio_typed_cases,
    "testpress": tp_typed_cases,
}
"""The typed-event budget per vendor: each table has ``examkit typed`` and, when pydantic is installed
and the suite has an equivalent model, ``floor+pydantic`` (the vendor's floor, then pydantic v2
``model_validate_json``). A vendor missing here reads "n/a" in the budget table."""


def tp_peak_memory(target: int = 1 << 20) -> tuple[int, int]:
    """Testpress ``verify`` of a body of about ``target`` bytes: (body length, peak traced bytes).

    The peak is what tracemalloc sees allocated during the call on top of what was there before it
    (the body itself is built beforehand and not counted).
    """
    import tracemalloc  # noqa: PLC0415 - only this case traces memory

    body = _grow(tp_body, target)
    verifier = TestpressWebhookVerifier(
        public_key=TP_PUBLIC, private_key=TP_PRIVATE, max_body_size=2 * len(body)
    )
    request = WebhookRequest(body=body, headers={})
    verifier.verify(request)  # warm: converters and caches are built once, not per request
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        verifier.verify(request)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return len(body), peak
