"""Typed models for what Testpress sends: the exam webhook event and the completion response.

Field names are snake_case; the vendor's key names live only in :data:`CONVERTER`. Unknown keys are
kept in each model's ``extra`` mapping, and unknown state or status values are kept as plain
strings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Final

import attrs

from examkit.core._enums import StrEnum
from examkit.core._html import cell_text, html_table
from examkit.core.errors import PayloadError
from examkit.core.serde import NoneIf, PayloadConverter, _structure_decimal, extra_field
from examkit.testpress._vendor import VENDOR as VENDOR  # noqa: PLC0414 - re-exported (mypy --strict)

__all__ = [
    "AttemptResult",
    "AttemptState",
    "AttemptStatus",
    "DifficultyLevelStats",
    "Exam",
    "ExamWebhookEvent",
    "SubjectStats",
    "WebhookUser",
]


class AttemptState(StrEnum):
    """The state of an attempt in an exam webhook (``attempt_state``)."""

    STARTED = "started"
    """The user started the attempt (the webhook is also sent then, since 2023)."""

    COMPLETED = "completed"
    """The user completed the attempt."""


class AttemptStatus(StrEnum):
    """The ``status`` of a completion response posted back to ``surl``."""

    COMPLETED = "completed"
    """The exam was completed."""

    CANCELLED = "cancelled"
    """The attempt was cancelled."""

    PENDING = "pending"
    """The attempt is not finished (for example answers still being evaluated)."""


@attrs.frozen(kw_only=True)
class Exam:
    """The exam of a webhook event (the ``exam`` object).

    Attributes:
        id: Testpress's exam id.
        title: The exam's title.
        duration: How long the exam lasts, or ``None`` when it has no time limit (``null``).
        start_date: When the exam opens, or ``None``.
        end_date: When the exam closes, or ``None``.
        extra: Keys of the ``exam`` object examkit does not know.
    """

    id: int
    title: str
    duration: timedelta | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class WebhookUser:
    """The user an exam webhook is about.

    Attributes:
        id: Testpress's user id (``user_id``; covered by the hash).
        username: The Testpress user name (not covered by the hash).
        email: The user's e-mail address (not covered by the hash).
    """

    id: int
    username: str | None = None
    email: str | None = None


@attrs.frozen(kw_only=True)
class SubjectStats:
    """Counts and score for one subject (an item of ``subject_stats``).

    Attributes:
        subject_name: The subject's name.
        parent_subject_id: The id of the parent subject, or ``None``.
        total_count: Questions in this subject.
        correct_answers_count: Correct answers.
        incorrect_answers_count: Incorrect answers.
        partial_correct_answers_count: Partially correct answers.
        unanswered_count: Questions left unanswered.
        answered_count: Questions answered.
        score: The score in this subject.
        extra: Keys examkit does not know.
    """

    subject_name: str | None = None
    parent_subject_id: int | None = None
    total_count: int | None = None
    correct_answers_count: int | None = None
    incorrect_answers_count: int | None = None
    partial_correct_answers_count: int | None = None
    unanswered_count: int | None = None
    answered_count: int | None = None
    score: Decimal | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class DifficultyLevelStats:
    """Counts for one difficulty level (a value of ``difficulty_level_stats``).

    Attributes:
        total_count: Questions of this level.
        correct_answers_count: Correct answers.
        incorrect_answers_count: Incorrect answers.
        partial_correct_answers_count: Partially correct answers.
        unanswered_count: Questions left unanswered.
        extra: Keys examkit does not know.
    """

    total_count: int | None = None
    correct_answers_count: int | None = None
    incorrect_answers_count: int | None = None
    partial_correct_answers_count: int | None = None
    unanswered_count: int | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ExamWebhookEvent:
    """A verified exam webhook: an attempt started or completed.

    Only the fields named in :attr:`authenticated_fields` are covered by the webhook's ``hash``;
    every other field (the e-mail, the user name, the exam, ``attempt_state``, the statistics...)
    could have been changed in transit without the hash noticing. Use :meth:`is_authenticated`
    before trusting one.

    Attributes:
        public_key: The institute's public key (``key``), equal to the configured one.
        attempt_id: Testpress's attempt id.
        attempt_state: ``started`` or ``completed``; ``None`` in the older payloads that lack it.
        user_id: Testpress's user id.
        username: The user name.
        email: The user's e-mail address.
        exam: The exam.
        total_count: Questions in the exam, when sent.
        correct_answers_count: Correct answers.
        incorrect_answers_count: Incorrect answers.
        unanswered_answers_count: Questions left unanswered.
        partial_correct_answers_count: Partially correct answers, when sent.
        score: The score.
        percentage: The score as a percentage.
        accuracy: Accuracy, when sent.
        speed: Speed, when sent.
        subject_stats: Per-subject statistics.
        difficulty_level_stats: Statistics per difficulty level, by level name.
        completed_on: When the attempt was completed, or ``None``.
        attempt_start_time: When the attempt started, or ``None``.
        institute_attempt_id: Your own attempt reference, when the attempt was created by HMAC.
        hash: The ``hash`` as received (verified).
        authenticated_fields: The payload keys the hash covers, in the order they are hashed.
        extra: Keys examkit does not know.
    """

    public_key: str
    attempt_id: int
    attempt_state: AttemptState | str | None = None
    user_id: int
    username: str | None = None
    email: str | None = None
    exam: Exam | None = None
    total_count: int | None = None
    correct_answers_count: int
    incorrect_answers_count: int
    unanswered_answers_count: int
    partial_correct_answers_count: int | None = None
    score: Decimal
    percentage: Decimal
    accuracy: Decimal | None = None
    speed: Decimal | None = None
    subject_stats: tuple[SubjectStats, ...] = ()
    difficulty_level_stats: Mapping[str, DifficultyLevelStats] = attrs.field(factory=dict, hash=False)
    completed_on: datetime | None = None
    attempt_start_time: datetime | None = None
    institute_attempt_id: str | None = None
    hash: str = attrs.field(repr=False)
    authenticated_fields: tuple[str, ...] = ()
    extra: Mapping[str, Any] = extra_field()

    @property
    def user(self) -> WebhookUser:
        """The user, with their id (authenticated), user name and e-mail (not authenticated)."""
        return WebhookUser(id=self.user_id, username=self.username, email=self.email)

    def is_authenticated(self, key: str) -> bool:
        """Tell whether the payload key ``key`` (vendor spelling, e.g. ``"score"``) is hashed."""
        return key in self.authenticated_fields

    def _repr_html_(self) -> str:
        """An HTML view for notebooks: each field, whether the hash covers it, and the subject statistics.

        Every value is escaped; the ``hash`` and the institute key are not shown.
        """
        state = cell_text(self.attempt_state) or "no state"
        caption = f"Testpress attempt {self.attempt_id} ({state}): {_count(len(self.authenticated_fields))}"
        rows: list[tuple[str, object, str]] = []
        for name in _EVENT_VIEW_FIELDS:
            hashed = "yes" if self.is_authenticated(CONVERTER.wire_name(ExamWebhookEvent, name)) else "no"
            rows.append((name, getattr(self, name), hashed))
            if name == "email" and self.exam is not None:
                exam_hashed = "yes" if self.is_authenticated("exam") else "no"
                rows.append(("exam.id", self.exam.id, exam_hashed))
                rows.append(("exam.title", self.exam.title, exam_hashed))
        parts = [html_table(("field", "value", "hashed"), rows, caption=caption, row_headers=True)]
        if self.subject_stats:
            stats = [[getattr(s, name) for name in _SUBJECT_COLUMNS] for s in self.subject_stats]
            parts.append(html_table(_SUBJECT_COLUMNS, stats, caption="subject statistics"))
        return f'<div class="examkit-testpress-event">{"".join(parts)}</div>'


@attrs.frozen(kw_only=True)
class AttemptResult:
    """The completion response Testpress posts back to ``surl``.

    Attributes:
        email: The user's e-mail address.
        first_name: The user's first name.
        attempt_id: Testpress's attempt id (text, as documented).
        institute_attempt_id: Your own attempt reference.
        total_count: Questions in the exam.
        correct_count: Correct answers.
        incorrect_count: Incorrect answers.
        unanswered_count: Questions left unanswered.
        score: The score.
        max_score: The highest score possible.
        rank: The user's rank, or ``None`` when ranks are off for the exam.
        max_rank: How many users took the exam, or ``None`` when not sent.
        percentage: The score as a percentage.
        status: ``completed``, ``cancelled`` or ``pending`` (unknown values kept as text).
        hmac: The ``hmac`` as received, or ``None`` when absent.
        verified: ``True`` only when the ``hmac`` was checked against an explicit
            :class:`~examkit.testpress.CompletionHmacScheme`. ``False`` means nobody
            checked that Testpress sent these values: do not grant anything on them alone.
        extra: Fields examkit does not know.
    """

    email: str
    first_name: str
    attempt_id: str
    institute_attempt_id: str
    total_count: int | None = None
    correct_count: int | None = None
    incorrect_count: int | None = None
    unanswered_count: int | None = None
    score: Decimal | None = None
    max_score: Decimal | None = None
    rank: Annotated[int | None, NoneIf("")] = None
    max_rank: Annotated[int | None, NoneIf("")] = None
    percentage: Decimal | None = None
    status: AttemptStatus | str
    hmac: str | None = attrs.field(default=None, repr=False)
    verified: bool = False
    extra: Mapping[str, Any] = extra_field()

    def _repr_html_(self) -> str:
        """An HTML table for notebooks: the attempt's values, escaped (the ``hmac`` is not shown)."""
        checked = (
            "hmac verified" if self.verified else "not verified: do not grant anything on these values alone"
        )
        caption = f"Testpress result of attempt {self.attempt_id}: {cell_text(self.status)} ({checked})"
        rows = [(name, getattr(self, name)) for name in _RESULT_VIEW_FIELDS]
        return html_table(
            ("field", "value"), rows, caption=caption, css_class="examkit-testpress-result", row_headers=True
        )


# --- the converter -------------------------------------------------------------------------------

_DURATION_RE: Final = re.compile(
    r"\A(?:(?P<days>-?[0-9]{1,6}) days?, )?(?P<h>[0-9]{1,2}):(?P<m>[0-5][0-9]):(?P<s>[0-5][0-9])"
    r"(?:\.(?P<f>[0-9]{1,6}))?\Z",
    re.ASCII,
)


def _structure_duration(value: object, _: Any) -> timedelta:
    if isinstance(value, str):
        match = _DURATION_RE.match(value.strip())
        if match:
            micro = (match["f"] or "0").ljust(6, "0")
            return timedelta(
                days=int(match["days"] or 0),
                hours=int(match["h"]),
                minutes=int(match["m"]),
                seconds=int(match["s"]),
                microseconds=int(micro),
            )
    shown = repr(value)[:40]
    raise PayloadError(f"expected a duration such as '0:30:00', got {shown}", reason="not a duration")


@functools.lru_cache(maxsize=1024)
def _decimal_from_text(text: str) -> Decimal:
    return _structure_decimal(text, Decimal)


def _structure_shared_decimal(value: object, tp: Any) -> Decimal:
    """Read a decimal as the core does; one ``Decimal`` per distinct text (scores repeat: ``"7.00"``).

    A ``Decimal`` cannot change, so equal texts may share one: a large webhook's statistics then
    hold one object per distinct score instead of one per subject. Refusals are not cached.
    """
    if type(value) is str:
        return _decimal_from_text(value)
    return _structure_decimal(value, tp)


def _build_converter() -> PayloadConverter:
    conv = PayloadConverter(vendor=VENDOR)
    conv.register_hook(timedelta, _structure_duration)
    conv.register_hook(Decimal, _structure_shared_decimal)
    conv.register(Exam)
    conv.register(SubjectStats)
    conv.register(DifficultyLevelStats)
    # The fields examkit fills in itself are local: a payload cannot set them.
    conv.register(ExamWebhookEvent, rename={"public_key": "key"}, local=("authenticated_fields",))
    conv.register(AttemptResult, local=("verified",))
    return conv


CONVERTER: Final[PayloadConverter] = _build_converter()
"""The one converter between Testpress's key names and these models."""


# --- notebook views (private) ---------------------------------------------------------------------

_EVENT_VIEW_FIELDS: Final = (
    "attempt_id",
    "attempt_state",
    "user_id",
    "username",
    "email",
    "total_count",
    "correct_answers_count",
    "incorrect_answers_count",
    "unanswered_answers_count",
    "partial_correct_answers_count",
    "score",
    "percentage",
    "accuracy",
    "speed",
    "completed_on",
    "attempt_start_time",
    "institute_attempt_id",
)
_SUBJECT_COLUMNS: Final = (
    "subject_name",
    "total_count",
    "correct_answers_count",
    "incorrect_answers_count",
    "partial_correct_answers_count",
    "unanswered_count",
    "answered_count",
    "score",
)
_RESULT_VIEW_FIELDS: Final = (
    "attempt_id",
    "institute_attempt_id",
    "email",
    "first_name",
    "status",
    "total_count",
    "correct_count",
    "incorrect_count",
    "unanswered_count",
    "score",
    "max_score",
    "rank",
    "max_rank",
    "percentage",
)


def _count(hashed: int) -> str:
    return f"{hashed} field{'' if hashed == 1 else 's'} covered by the hash"
