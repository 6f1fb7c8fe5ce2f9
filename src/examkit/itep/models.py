"""Typed models for iTEP: product codes, the fulfillment request and response, and exam results.

The vendor's spellings (``product-code``, ``assigned-to``, ``Overall_cefr``...) live only in
:data:`CONVERTER` and in :meth:`FulfillmentRequest.to_json`; every model here uses snake_case names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final

import attrs

from examkit.core._enums import StrEnum
from examkit.core._html import cell_text, html_table
from examkit.core.encoding import canonical_json
from examkit.core.errors import ValidationError
from examkit.core.serde import NoneIf, PayloadConverter, extra_field
from examkit.itep._vendor import SECTION_PREFIXES as SECTION_PREFIXES  # noqa: PLC0414 - re-exported
from examkit.itep._vendor import VENDOR as VENDOR  # noqa: PLC0414 - re-exported (mypy --strict)
from examkit.itep.registration import Registration

__all__ = [
    "AssignedTo",
    "CefrLevel",
    "ExamResult",
    "ExamStatus",
    "FulfillmentRequest",
    "FulfillmentResult",
    "ProductFamily",
    "SectionResult",
]

_EMAIL_RE: Final = re.compile(r"\A[^@\s]+@[^@\s]+\Z")
_RESERVED_KEYS: Final = frozenset({"product-code", "email", "bcc", "track", "assigned-to", "registration"})


class ProductFamily(StrEnum):
    """The two families of iTEP product codes the fulfillment API knows."""

    GTX = "GTX"
    """``GTX-...``: iTEP finds an available test ID and returns it to the caller."""

    STX = "STX"
    """``STX-...``: iTEP finds an available test ID, e-mails it to the candidate, and returns it."""


def product_family(product_code: str) -> ProductFamily:
    """Return the family of ``product_code`` (``GTX-Academic-Plus`` is :attr:`ProductFamily.GTX`).

    The prefix is matched as the vendor spells it (upper case, followed by ``-`` and a test type).

    Raises:
        ValidationError: The code is empty, not text, or neither a ``GTX-`` nor an ``STX-`` code.
    """
    code: object = product_code
    if not isinstance(code, str) or not code.strip():
        raise ValidationError(
            "product-code is required: use a code from the PRODUCT CODES screen, e.g. 'GTX-Academic-Plus'",
            field="product-code",
            reason="missing",
            vendor=VENDOR,
        )
    prefix, sep, rest = product_code.partition("-")
    if sep and rest and prefix in ProductFamily.__members__:
        return ProductFamily[prefix]
    raise ValidationError(
        f"product-code {product_code!r} is neither a GTX- nor an STX- code (the API only fulfils "
        "those two families, e.g. 'GTX-Academic-Plus')",
        field="product-code",
        reason="unknown product code family",
        vendor=VENDOR,
    )


def _check_email(value: object, field: str) -> str:
    if not isinstance(value, str) or not _EMAIL_RE.match(value):
        shown = value if isinstance(value, str) else type(value).__name__
        raise ValidationError(
            f"{field} must be one e-mail address like 'name@example.com', got {shown!r}",
            field=field,
            reason="invalid e-mail address",
            vendor=VENDOR,
        )
    return value


@attrs.frozen(kw_only=True)
class AssignedTo:
    """The recommended content of a test's ``assigned-to`` JSON object.

    iTEP leaves the object's content to you and recommends the candidate's name, e-mail and an
    identifier from your system, plus optionally an expiry date after which you may recycle the test
    ID. The keys follow the vendor's example body: ``student-name``, ``email``,
    ``customer-candidate-id`` and ``expire`` (ISO date); :attr:`extra` adds or overrides keys.

    Attributes:
        name: The candidate's name.
        email: The candidate's e-mail address.
        candidate_id: Your own identifier for the candidate (text or a number, sent as given).
        expires: The date after which you consider the assignment lapsed.
        extra: Further keys, sent as given (for example ``{"sequence": 3}``).

    >>> AssignedTo(name="Mary Poppins", email="mary@example.com", candidate_id=9810283).to_json()
    {'student-name': 'Mary Poppins', 'email': 'mary@example.com', 'customer-candidate-id': 9810283}
    """

    name: str
    email: str
    candidate_id: str | int
    expires: date | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def __attrs_post_init__(self) -> None:
        name: object = self.name
        candidate_id: object = self.candidate_id
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(
                "assigned-to needs the candidate's name",
                field="assigned-to.student-name",
                reason="missing",
                vendor=VENDOR,
            )
        _check_email(self.email, "assigned-to.email")
        if (
            isinstance(self.candidate_id, bool)
            or not isinstance(candidate_id, str | int)
            or (isinstance(self.candidate_id, str) and not self.candidate_id.strip())
        ):
            raise ValidationError(
                "assigned-to needs your own candidate id (text or an integer)",
                field="assigned-to.customer-candidate-id",
                reason="missing",
                vendor=VENDOR,
            )
        if self.expires is not None and not isinstance(self.expires, date):
            raise ValidationError(
                "expires must be a datetime.date",
                field="assigned-to.expire",
                reason="not a date",
                vendor=VENDOR,
            )

    def to_json(self) -> dict[str, Any]:
        """Return the object with the vendor-example key names, ready to serialise."""
        data: dict[str, Any] = {
            "student-name": self.name,
            "email": self.email,
            "customer-candidate-id": self.candidate_id,
        }
        if self.expires is not None:
            data["expire"] = self.expires.isoformat()
        data.update(self.extra)
        return data


def _registration_json(value: Registration | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Registration):
        return value.to_json()
    if isinstance(value, Mapping):
        return Registration.from_mapping(value).to_json()
    raise ValidationError(
        f"registration must be a Registration or a mapping, not {type(value).__name__}",
        field="registration",
        reason="wrong type",
        vendor=VENDOR,
    )


def _assigned_json(value: AssignedTo | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, AssignedTo):
        return value.to_json()
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise ValidationError(
                "assigned-to keys must be text",
                field="assigned-to",
                reason="wrong type",
                vendor=VENDOR,
            )
        return dict(value)
    raise ValidationError(
        f"assigned-to must be an AssignedTo or a mapping, not {type(value).__name__}",
        field="assigned-to",
        reason="wrong type",
        vendor=VENDOR,
    )


@attrs.frozen(kw_only=True)
class FulfillmentRequest:
    """A request for a test ID, validated when built.

    Attributes:
        product_code: ``GTX-...`` (test ID returned) or ``STX-...`` (test ID also e-mailed by iTEP).
        email: The candidate's e-mail address; required for ``STX-`` codes.
        bcc: An address that receives a copy of the ``STX-`` e-mail.
        track: The tracking code iTEP assigned you; needed for results webhooks.
        assigned_to: The ``assigned-to`` object (an :class:`AssignedTo` or any mapping).
        registration: Registration fields (a :class:`Registration` or a mapping with the vendor's
            field names, validated either way).
        extra: Further top-level fields, sent unchanged after ``track`` (the vendor's example
            carries ``sequence``).

    Raises:
        ValidationError: Any field is invalid; the error's ``field`` uses the vendor's spelling.
    """

    product_code: str
    email: str | None = None
    bcc: str | None = None
    track: str | None = None
    # A mapping is allowed in these fields, so they take no part in the hash (equality still uses them).
    assigned_to: AssignedTo | Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    registration: Registration | Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def __attrs_post_init__(self) -> None:
        family = product_family(self.product_code)
        if self.email is not None:
            _check_email(self.email, "email")
        elif family is ProductFamily.STX:
            raise ValidationError(
                f"email is required for {self.product_code}: STX codes e-mail the test ID to the candidate",
                field="email",
                reason="required for STX codes",
                vendor=VENDOR,
            )
        if self.bcc is not None:
            _check_email(self.bcc, "bcc")
        track: object = self.track
        if track is not None and (not isinstance(track, str) or not track.strip()):
            raise ValidationError(
                "track must be the non-empty tracking code iTEP gave you",
                field="track",
                reason="empty",
                vendor=VENDOR,
            )
        for key in self.extra:
            if not isinstance(key, str):
                raise ValidationError(
                    "extra field names must be text",
                    field=str(key),
                    reason="wrong type",
                    vendor=VENDOR,
                )
            if key in _RESERVED_KEYS:
                raise ValidationError(
                    f"{key!r} is a documented field: pass it by its own argument, not as an extra",
                    field=key,
                    reason="duplicate field",
                    vendor=VENDOR,
                )
        # Validate nested values now, so a bad request never reaches the client.
        _assigned_json(self.assigned_to)
        _registration_json(self.registration)

    @property
    def family(self) -> ProductFamily:
        """The product code's family."""
        return product_family(self.product_code)

    def to_json(self, *, embed_json_as_text: bool = False) -> dict[str, Any]:
        """Return the body as a dict with the vendor's key names, in the vendor example's order.

        Args:
            embed_json_as_text: Send ``assigned-to`` and ``registration`` as JSON text inside a
                string instead of as nested objects (the vendor's prose calls them "JSON strings";
                its example nests objects, which is the default).
        """
        data: dict[str, Any] = {"product-code": self.product_code}
        if self.email is not None:
            data["email"] = self.email
        if self.bcc is not None:
            data["bcc"] = self.bcc
        if self.track is not None:
            data["track"] = self.track
        data.update(self.extra)
        for key, value in (
            ("assigned-to", _assigned_json(self.assigned_to)),
            ("registration", _registration_json(self.registration)),
        ):
            if value is not None:
                data[key] = canonical_json(value).decode("utf-8") if embed_json_as_text else value
        return data

    def body(self, *, embed_json_as_text: bool = False) -> bytes:
        """Return the compact JSON body bytes (no whitespace), the exact bytes to sign and send.

        Raises:
            ValidationError: A value cannot be written as JSON.
        """
        try:
            return canonical_json(self.to_json(embed_json_as_text=embed_json_as_text))
        except ValidationError as exc:
            raise ValidationError(exc.message, reason=exc.reason, vendor=VENDOR) from None


@attrs.frozen(kw_only=True)
class FulfillmentResult:
    """What iTEP answered to a fulfillment call.

    The response format is not documented, so the raw answer is kept next to what examkit read.

    Attributes:
        test_id: The test ID read from the response (JSON or a bare ID), or ``None``.
        status_code: The HTTP status.
        text: The response body as text.
        data: The decoded JSON body, or ``None`` when the body is not JSON.
        product_code: The product code that was requested.
    """

    test_id: str | None
    status_code: int
    text: str
    data: Any = None
    product_code: str | None = None


class CefrLevel(StrEnum):
    """A CEFR level as iTEP reports it; unknown values are kept as plain strings."""

    A1 = "A1"
    """Breakthrough."""
    A2 = "A2"
    """Waystage."""
    B1 = "B1"
    """Threshold."""
    B2 = "B2"
    """Vantage."""
    C1 = "C1"
    """Effective operational proficiency."""
    C2 = "C2"
    """Mastery."""


class ExamStatus(StrEnum):
    """An exam status. Two vocabularies appear in the vendor's pages; both are accepted.

    One list is Ready, Started, Finished, Review, Technical Difficulty, Invalidated, Completed,
    Disabled; the other Ready, Incomplete, Finished, Review, Problem, Invalidated, Complete,
    Disabled.
    Unknown values are kept as plain strings. :attr:`ExamResult.is_complete` treats ``Complete``
    and ``Completed`` alike.
    """

    READY = "Ready"
    """Available (or assigned) and not started."""
    STARTED = "Started"
    """Started (first vocabulary)."""
    INCOMPLETE = "Incomplete"
    """Started but not finished (second vocabulary)."""
    FINISHED = "Finished"
    """The candidate finished; grading may be pending."""
    REVIEW = "Review"
    """Under review."""
    TECHNICAL_DIFFICULTY = "Technical Difficulty"
    """A technical issue occurred (first vocabulary)."""
    PROBLEM = "Problem"
    """A technical issue occurred (second vocabulary)."""
    INVALIDATED = "Invalidated"
    """The exam was invalidated."""
    COMPLETED = "Completed"
    """Graded and reported (first vocabulary)."""
    COMPLETE = "Complete"
    """Graded and reported (second vocabulary; the webhook sample uses it)."""
    DISABLED = "Disabled"
    """Disabled."""


_OptDecimal = Annotated[Decimal | None, NoneIf("")]


@attrs.frozen(kw_only=True)
class SectionResult:
    """One section's result (grammar, listening, reading, writing or speaking).

    Attributes:
        level: The iTEP level, 0.0 to 6.0.
        score: The section score (the vendor's table says "the iTEP Test ID"; the sample shows a
            number sent as a string, which is what examkit reads).
        percent: Percent of correct answers, 0 to 100.
        cefr: The section's CEFR level.
        question_count: ``Writing_Question_Count`` (writing only).
    """

    level: _OptDecimal = None
    score: _OptDecimal = None
    percent: _OptDecimal = None
    cefr: Annotated[CefrLevel | str | None, NoneIf("")] = None
    question_count: Annotated[int | None, NoneIf("")] = None


@attrs.frozen(kw_only=True)
class ExamResult:
    """A results webhook's content, typed.

    Attributes:
        oid: Your ``trExternal_ID`` from registration (``None`` when sent empty).
        test_id: The iTEP test ID.
        duration: Minutes spent on the exam.
        test_date: The day the test was finished (``TestDate``, M/D/YYYY).
        test_month: ``TestMonth``.
        test_day: ``TestDay``.
        test_year: ``TestYear``.
        score_report_url: A URL that renders the score report.
        overall_level: The overall iTEP level, 0.0 to 6.0.
        overall_cefr: The overall CEFR level.
        status: The exam status (either vocabulary; unknown values kept as text).
        grammar: The grammar section, when present.
        listening: The listening section, when present.
        reading: The reading section, when present.
        writing: The writing section, when present.
        speaking: The speaking section, when present.
        extra: Every other key, kept as sent (for example ``Writing_Question_1``).
        body_authenticated: Whether the configured webhook authentication covered these values:
            ``True`` only when :class:`~examkit.itep.HmacBodyAuth` checked an HMAC of the body. A shared
            token or HTTP basic credentials prove who called, not what was sent, and a result parsed
            without verification is never authenticated. Set by examkit, never read from the payload.
    """

    test_id: str
    oid: Annotated[str | None, NoneIf("")] = None
    duration: _OptDecimal = None
    test_date: date | None = None
    test_month: Annotated[int | None, NoneIf("")] = None
    test_day: Annotated[int | None, NoneIf("")] = None
    test_year: Annotated[int | None, NoneIf("")] = None
    score_report_url: Annotated[str | None, NoneIf("")] = None
    overall_level: _OptDecimal = None
    overall_cefr: Annotated[CefrLevel | str | None, NoneIf("")] = None
    status: Annotated[ExamStatus | str | None, NoneIf("")] = None
    grammar: SectionResult | None = None
    listening: SectionResult | None = None
    reading: SectionResult | None = None
    writing: SectionResult | None = None
    speaking: SectionResult | None = None
    extra: Mapping[str, Any] = extra_field()
    body_authenticated: bool = False

    @property
    def sections(self) -> dict[str, SectionResult]:
        """The sections present, by lower-case name, in the vendor's order."""
        found = {
            "grammar": self.grammar,
            "listening": self.listening,
            "reading": self.reading,
            "writing": self.writing,
            "speaking": self.speaking,
        }
        return {name: section for name, section in found.items() if section is not None}

    @property
    def is_complete(self) -> bool:
        """Whether the status is ``Complete`` or ``Completed`` (graded)."""
        return self.status in (ExamStatus.COMPLETE, ExamStatus.COMPLETED)

    def _repr_html_(self) -> str:
        """An HTML table of the sections, for notebooks (Jupyter calls it); every value is escaped."""
        caption = (
            f"iTEP {self.test_id}: overall level {cell_text(self.overall_level)}"
            f" ({cell_text(self.overall_cefr)}), {cell_text(self.status) or 'no status'}"
        )
        rows = [(name.title(), s.level, s.score, s.percent, s.cefr) for name, s in self.sections.items()]
        header = ("Section", "Level", "Score", "Percent", "CEFR")
        return html_table(header, rows, caption=caption, row_headers=True)


CONVERTER: Final = PayloadConverter(vendor=VENDOR)
"""The one converter between iTEP's spellings and the models above."""

CONVERTER.register(
    SectionResult,
    rename={
        "level": "Level",
        "score": "Score",
        "percent": "Percent",
        "cefr": "cefr",
        "question_count": "Question_Count",
    },
)
CONVERTER.register(
    ExamResult,
    rename={
        "oid": "OID",
        "test_id": "TestID",
        "duration": "Duration",
        "test_date": "TestDate",
        "test_month": "TestMonth",
        "test_day": "TestDay",
        "test_year": "TestYear",
        "score_report_url": "score_report_url",
        "overall_level": "Overall_Level",
        "overall_cefr": "Overall_cefr",
        "status": "Status",
        **{prefix.lower(): f"{prefix}\x1f" for prefix in SECTION_PREFIXES},
    },
    local=("body_authenticated",),
)
