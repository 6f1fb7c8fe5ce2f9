"""Testpress for your tests: signed exam webhooks and a fake exam URL for the create-attempt form.

>>> body = sign_exam_webhook(sample_exam_webhook_payload(public_key="pub"), private_key="priv")
>>> from examkit.testpress import TestpressWebhookVerifier
>>> from examkit.core.webhook import WebhookRequest
>>> event = TestpressWebhookVerifier(public_key="pub", private_key="priv").verify(
...     WebhookRequest(body=body))
>>> event.score
Decimal('7.00')
"""

from __future__ import annotations

import hmac as _hmac
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlencode

import requests

if TYPE_CHECKING:
    from examkit.testpress import TestpressAttempts

from examkit.core._repr import safe_repr
from examkit.core.clock import Clock
from examkit.core.errors import ValidationError
from examkit.core.signing import SecretInput, secrets_from
from examkit.core.webhook import WebhookRequest
from examkit.testing._faults import FaultInjection, _FollowingClock
from examkit.testing.http import FakeHttpAdapter, FakeRequest, FakeResponse
from examkit.testpress import (
    PRIVATE_KEY,
    PUBLIC_KEY,
    CompletionHmacScheme,
    attempt_hmac,
    webhook_hash,
)
from examkit.testpress.signing import DEFAULT_ENCODING, DEFAULT_WEBHOOK_HASH_FIELDS, Encoding, encode_value

__all__ = [
    "FakeTestpress",
    "exam_webhook_request",
    "sample_exam_webhook_payload",
    "sign_exam_webhook",
]

FAKE_BASE_URL: Final = "https://fake.testpress.example"
"""Where :class:`FakeTestpress` answers."""

FAKE_EXAM_PATH: Final = "/exams/demo-exam/start/"
"""The path of the fake exam URL (``FakeTestpress.exam_url``)."""


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


def sample_exam_webhook_payload(
    *,
    public_key: str,
    attempt_id: int = 130,
    user_id: int = 2,
    attempt_state: str = "completed",
    correct: int = 7,
    incorrect: int = 2,
    unanswered: int = 1,
    score: str = "7.00",
    percentage: str = "70.00",
    institute_attempt_id: str | None = None,
    email: str = "student@example.com",
) -> dict[str, Any]:
    """Return an exam webhook payload shaped like Testpress's 2023 samples (without ``hash``)."""
    return {
        "username": "student",
        "accuracy": 77,
        "exam": {
            "id": 27,
            "title": "Demo exam",
            "duration": "0:30:00",
            "start_date": "2023-03-15T12:04:32+05:30",
            "end_date": None,
        },
        "subject_stats": [
            {
                "subject_name": "Quantitative",
                "parent_subject_id": None,
                "correct_answers_count": correct,
                "incorrect_answers_count": incorrect,
                "partial_correct_answers_count": 0,
                "unanswered_count": unanswered,
                "answered_count": correct + incorrect,
                "total_count": correct + incorrect + unanswered,
                "score": score,
            }
        ],
        "email": email,
        "partial_correct_answers_count": 0,
        "attempt_id": attempt_id,
        "attempt_state": attempt_state,
        "incorrect_answers_count": incorrect,
        "difficulty_level_stats": {
            "uncategorized": {
                "correct_answers_count": correct,
                "incorrect_answers_count": incorrect,
                "partial_correct_answers_count": 0,
                "unanswered_count": unanswered,
                "total_count": correct + incorrect + unanswered,
            }
        },
        "completed_on": "2023-03-31T16:27:41.151586+05:30" if attempt_state == "completed" else None,
        "unanswered_answers_count": unanswered,
        "key": public_key,
        "attempt_start_time": "2023-03-31T10:55:54.968829Z",
        "user_id": user_id,
        "percentage": percentage,
        "score": score,
        "speed": 0,
        "institute_attempt_id": institute_attempt_id,
        "correct_answers_count": correct,
    }


def sign_exam_webhook(
    payload: Mapping[str, Any],
    *,
    private_key: SecretInput,
    encoding: Encoding = DEFAULT_ENCODING,
    hash_fields: Sequence[str] = DEFAULT_WEBHOOK_HASH_FIELDS,
) -> bytes:
    """Return the JSON body Testpress would post for ``payload``, with its ``hash`` added.

    The payload is written as compact JSON (``Decimal`` values as strings, as Testpress sends
    ``score``), the hash is computed over that exact text, and ``hash`` is appended as the last key.

    Raises:
        ValidationError: The payload cannot be written as JSON or lacks a hashed field.
    """
    data = {k: v for k, v in _json_ready(payload).items() if k != "hash"}
    try:
        unsigned = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"the payload cannot be written as JSON: {exc}", reason="not JSON") from None
    digest = webhook_hash(
        private_key=private_key,
        body=unsigned.encode("utf-8"),
        encoding=encoding,
        hash_fields=hash_fields,
    )
    data["hash"] = digest
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def exam_webhook_request(
    payload: Mapping[str, Any],
    *,
    private_key: SecretInput,
    encoding: Encoding = DEFAULT_ENCODING,
    url: str = "https://institute.example/testpress/webhook",
) -> WebhookRequest:
    """Return a :class:`~examkit.WebhookRequest` carrying a signed exam webhook."""
    return WebhookRequest(
        body=sign_exam_webhook(payload, private_key=private_key, encoding=encoding),
        headers={"Content-Type": "application/json"},
        url=url,
    )


class FakeTestpress(FaultInjection):
    """An in-process fake of a Testpress exam URL for the create-attempt form.

    ``POST exam_url`` with the form fields answers ``302`` to ``surl`` when the ``key`` is right,
    the
    ``hmac`` matches and ``time`` is at most 30 minutes old (and at most ``max_future_skew`` seconds
    ahead); otherwise ``400`` (a field missing) or ``403`` (wrong key, bad hmac, expired), with a
    JSON body ``{"error": ...}``. The redirect carries completion fields in its query string
    (``status=completed`` and fixed counts); their ``hmac`` uses ``completion_scheme`` when one is
    given, since Testpress does not document its own.

    Args:
        public_key: The institute's public key.
        secret: The secret (private key) the form is signed with.
        encoding: The percent-encoding the fake expects (default ``PYTHON_QUOTE``).
        completion_scheme: How to sign the completion fields (default: no ``hmac`` field).
        clock: The fake's clock. By default it follows the client's: the system clock, or the clock
            of the last client made with :meth:`client`.
        max_future_skew: How far ahead of the fake's clock ``time`` may be, in seconds.
        base_url: Where the fake answers.
    """

    __test__ = False

    def __init__(
        self,
        *,
        public_key: str,
        secret: SecretInput,
        encoding: Encoding = DEFAULT_ENCODING,
        completion_scheme: CompletionHmacScheme | None = None,
        clock: Clock | None = None,
        max_future_skew: float = 60.0,
        base_url: str = FAKE_BASE_URL,
    ) -> None:
        self.public_key = public_key
        self._secret = secrets_from(secret, name="secret", vendor="testpress")[0]
        self.encoding = encoding
        self.completion_scheme = completion_scheme
        self._following = _FollowingClock()
        self.clock: Clock = clock or self._following
        self.max_future_skew = max_future_skew
        self.adapter = FakeHttpAdapter(base_url)
        self.adapter.route("POST", FAKE_EXAM_PATH, self._faulty(self._start))
        self.exam_url = f"{self.adapter.base_url}{FAKE_EXAM_PATH}"
        self.attempts: list[dict[str, str]] = []

    def session(self) -> requests.Session:
        """Return a session on which the fake answers."""
        return self.adapter.session()

    def client(self, **settings: Any) -> TestpressAttempts:
        """Return a :class:`~examkit.testpress.TestpressAttempts` with the fake's keys and encoding.

        Testpress has no API to call: its "client" signs the create-attempt form, which the user's
        browser posts to ``exam_url`` (in a test, post it with :meth:`session`). ``settings`` pass
        through (a ``clock`` given here becomes the fake's clock too, unless the fake has its own).
        """
        from examkit.testpress import TestpressAttempts  # noqa: PLC0415 - loaded when used

        self._following.follow(settings.get("clock"))
        options: dict[str, Any] = {
            "public_key": self.public_key,
            "secret": self._secret,
            "encoding": self.encoding,
        }
        options.update(settings)
        return TestpressAttempts(**options)

    def _refuse(self, status: int, message: str) -> FakeResponse:
        return FakeResponse(status, {"error": message})

    def _start(self, request: FakeRequest) -> FakeResponse:  # noqa: PLR0911 - one answer per check
        try:
            form = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return self._refuse(400, "the form is not UTF-8")
        needed = ("email", "first_name", "institute_attempt_id", "key", "time", "hmac", "surl")
        missing = [n for n in needed if not form.get(n)]
        if missing:
            return self._refuse(400, f"missing fields: {', '.join(missing)}")
        if form["key"] != self.public_key:
            return self._refuse(403, "unknown institute key")
        try:
            expected = attempt_hmac(
                secret=self._secret,
                email=form["email"],
                first_name=form["first_name"],
                institute_attempt_id=form["institute_attempt_id"],
                key=form["key"],
                time=form["time"],
                encoding=self.encoding,
            )
        except ValidationError as exc:
            return self._refuse(400, str(exc))
        if not _hmac.compare_digest(expected, form["hmac"].lower()):
            return self._refuse(403, "hmac mismatch")
        age = self.clock.time() - int(form["time"])
        if age > 1800 or age < -self.max_future_skew:
            return self._refuse(403, "hmac expired (30-minute window)")
        self.attempts.append(form)
        result = self.completion_fields(form)
        separator = "&" if "?" in form["surl"] else "?"
        return FakeResponse(302, b"", {"Location": form["surl"] + separator + urlencode(result)})

    def completion_fields(self, form: Mapping[str, str]) -> dict[str, str]:
        """Return the completion fields the fake sends back for an accepted ``form``."""
        fields = {
            "email": form["email"],
            "first_name": form["first_name"],
            "attempt_id": str(1000 + len(self.attempts)),
            "institute_attempt_id": form["institute_attempt_id"],
            "total_count": "10",
            "correct_count": "7",
            "incorrect_count": "2",
            "unanswered_count": "1",
            "score": "7.00",
            "max_score": "10.00",
            "rank": "",
            "max_rank": "",
            "percentage": "70.00",
            "status": "completed",
        }
        scheme = self.completion_scheme
        if scheme is not None:
            parts = []
            for name in scheme.fields:
                value = {PUBLIC_KEY: self.public_key, PRIVATE_KEY: self._secret.reveal()}.get(name)
                parts.append(encode_value(value if value is not None else fields[name], scheme.encoding))
            message = "|".join(parts).encode("utf-8")
            fields["hmac"] = _hmac.new(self._secret.key, message, scheme.algorithm).hexdigest()
        return fields

    @safe_repr
    def __repr__(self) -> str:
        return f"FakeTestpress(public_key={self.public_key!r}, exam_url={self.exam_url!r})"
