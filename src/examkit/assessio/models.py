"""Assessio's payloads as typed, frozen models, and the one converter that knows the vendor's keys.

Requests: :class:`PersonDetails` and :class:`AssessmentLinkOrder` (validated when built, so nothing
invalid is ever sent). Responses: :class:`AssessmentLinkOrderResult`, which keeps the whole JSON
because the vendor does not document its shape. Webhooks: :class:`AssessmentSubmittedEvent` for
``ASSESSMENT_SUBMITTED`` and :class:`UnknownEvent` for any other event type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, TypeAlias
from urllib.parse import urlsplit

import attrs

from examkit.assessio._vendor import VENDOR as VENDOR  # noqa: PLC0414 - re-exported (mypy --strict)
from examkit.core._enums import StrEnum
from examkit.core._html import cell_text, html_table
from examkit.core._repr import safe_attrs_repr
from examkit.core.errors import ConfigurationError, PayloadError, ValidationError
from examkit.core.serde import PayloadConverter, extra_field

__all__ = [
    "DEFAULT_LINK_PATHS",
    "AssessioEvent",
    "AssessmentLinkOrder",
    "AssessmentLinkOrderResult",
    "AssessmentScore",
    "AssessmentSubmitted",
    "AssessmentSubmittedEvent",
    "AssessmentType",
    "EventType",
    "PersonDetails",
    "SubScore",
    "UnknownEvent",
]

_EMAIL_RE: Final = re.compile(r"\A[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+\Z")
# A BCP 47 shape: a 2-3 letter (or 4-8 letter) language, then subtags of 1-8 letters or digits.
_LOCALE_RE: Final = re.compile(r"\A[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*\Z", re.ASCII)
_TYPE_RE: Final = re.compile(r"\A[A-Za-z0-9_.-]{1,64}\Z", re.ASCII)
_MAX_TEXT: Final = 1000


class AssessmentType(StrEnum):
    """The assessment types the vendor documents. Other values are accepted as plain strings.

    >>> AssessmentType.MAP == "MAP", f"{AssessmentType.MAP}"
    (True, 'MAP')
    """

    MAP = "MAP"
    """The MAP assessment."""

    MATCH_V_V2 = "MATCH_V_V2"
    """The ``MATCH_V_V2`` assessment (likely the help centre's "Values" one; unconfirmed)."""


class EventType(StrEnum):
    """The webhook event types the vendor documents."""

    ASSESSMENT_SUBMITTED = "ASSESSMENT_SUBMITTED"
    """An assessment was completed; the payload carries its scores."""


def _text(value: object, field: str, *, max_len: int = _MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be non-empty text", field=field, reason="empty", vendor=VENDOR)
    if len(value) > max_len:
        raise ValidationError(
            f"{field} is longer than {max_len} characters",
            field=field,
            reason="too long",
            vendor=VENDOR,
        )
    if not value.isprintable():
        raise ValidationError(
            f"{field} contains control characters",
            field=field,
            reason="control characters",
            vendor=VENDOR,
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            f"{field} cannot be encoded as UTF-8", field=field, reason="not UTF-8", vendor=VENDOR
        ) from None
    return value


def _email(value: object) -> str:
    text = _text(value, "email", max_len=254)
    if not _EMAIL_RE.match(text):
        raise ValidationError(
            "email must look like name@domain.tld",
            field="email",
            reason="not an e-mail address",
            vendor=VENDOR,
        )
    return text


def _locale(value: object) -> str:
    text = _text(value, "locale", max_len=35)
    if not _LOCALE_RE.match(text):
        raise ValidationError(
            "locale must be a language tag such as 'en-US' or 'sv-SE'",
            field="locale",
            reason="not a language tag",
            vendor=VENDOR,
        )
    return text


def absolute_url(value: object, field: str) -> str:
    """Return ``value`` when it is an absolute ``http``/``https`` URL with a host.

    Raises:
        ValidationError: It is not.
    """
    field = field if isinstance(field, str) and field.isprintable() and len(field) <= 200 else "url"
    text = _text(value, field, max_len=2048)
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host or text != text.strip():
        raise ValidationError(
            f"{field} must be an absolute http(s) URL such as 'https://example.com/hook'",
            field=field,
            reason="not an absolute URL",
            vendor=VENDOR,
        )
    return text


def assessment_type(value: object) -> AssessmentType | str:
    """Return the documented :class:`AssessmentType` for ``value``, or the string for a newer type.

    Raises:
        ValidationError: ``value`` is not a short identifier (letters, digits, ``_ . -``).
    """
    if isinstance(value, AssessmentType):
        return value
    if isinstance(value, str) and _TYPE_RE.match(value):
        try:
            return AssessmentType(value)
        except ValueError:
            return value
    raise ValidationError(
        "assessment_type must be an AssessmentType or an identifier such as 'MAP'",
        field="assessmentType",
        reason="not an assessment type",
        vendor=VENDOR,
    )


def _first_name(value: object) -> str:
    return _text(value, "firstName", max_len=200)


def _last_name(value: object) -> str:
    return _text(value, "lastName", max_len=200)


def _order_reference_id(value: object) -> str:
    return _text(value, "orderReferenceId", max_len=255)


def _webhook_callback_url(value: object) -> str:
    return absolute_url(value, "webhookCallbackUrl")


def _redirect_url(value: object) -> str:
    return absolute_url(value, "redirectUrl")


@safe_attrs_repr
@attrs.frozen
class PersonDetails:
    """The employee an assessment is ordered for.

    The vendor looks the employee up by e-mail; names are used only when it creates a new employee.

    Attributes:
        locale: A language tag such as ``"en-US"``.
        email: The employee's e-mail address.
        first_name: Given name.
        last_name: Family name.

    Raises:
        ValidationError: A value is empty, too long, or has the wrong shape.
    """

    locale: str = attrs.field(converter=_locale)
    email: str = attrs.field(converter=_email)
    first_name: str = attrs.field(converter=_first_name)
    last_name: str = attrs.field(converter=_last_name)

    @classmethod
    def coerce(cls, value: object) -> PersonDetails:
        """Return ``value`` as :class:`PersonDetails`; a mapping needs exactly its four keys.

        Raises:
            ValidationError: A key is missing or unknown, or a value is invalid.
        """
        if isinstance(value, PersonDetails):
            return value
        if not isinstance(value, Mapping):
            raise ValidationError(
                "person must be PersonDetails or a mapping with locale, email, first_name and last_name",
                field="personDetails",
                reason="not a person",
                vendor=VENDOR,
            )
        expected = {"locale", "email", "first_name", "last_name"}
        keys = set(value)
        if keys != expected:
            missing = sorted(expected - keys)
            unknown = sorted(str(k) for k in keys - expected)
            raise ValidationError(
                f"person must have exactly the keys {sorted(expected)} "
                f"(missing: {missing}, unknown: {unknown})",
                field="personDetails",
                reason="wrong keys",
                vendor=VENDOR,
            )
        return cls(
            locale=value["locale"],
            email=value["email"],
            first_name=value["first_name"],
            last_name=value["last_name"],
        )


def _person(value: object) -> PersonDetails:
    return PersonDetails.coerce(value)


@safe_attrs_repr
@attrs.frozen
class AssessmentLinkOrder:
    """The body of ``POST /development/v1/assessment-link-order``, validated when built.

    Attributes:
        assessment_type: ``MAP``, ``MATCH_V_V2`` or a newer type as a string.
        order_reference_id: Your own reference for the order; it comes back in webhooks.
        webhook_callback_url: Where Assessio sends result updates for this order.
        redirect_url: Where the employee lands after completing the assessment.
        person: The employee.

    Raises:
        ValidationError: A value is invalid.
    """

    assessment_type: AssessmentType | str = attrs.field(converter=assessment_type)
    order_reference_id: str = attrs.field(converter=_order_reference_id)
    webhook_callback_url: str = attrs.field(converter=_webhook_callback_url)
    redirect_url: str = attrs.field(converter=_redirect_url)
    person: PersonDetails = attrs.field(converter=_person)

    def to_json(self) -> dict[str, Any]:
        """Return the body as JSON-ready data with the vendor's keys, in the documented order."""
        data: dict[str, Any] = CONVERTER.unstructure(self)
        return data


@attrs.frozen
class SubScore:
    """A sub-score of an :class:`AssessmentScore`.

    Attributes:
        key: The sub-score's key (for example ``"EX1"``).
        value: The sub-score.
        extra: Keys the vendor sent that examkit does not know.
    """

    key: str
    value: Decimal
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen
class AssessmentScore:
    """One score of a submitted assessment.

    Attributes:
        type: The score's type (for example ``"MAP_SCORE"``); an open vocabulary.
        key: The score's key (for example ``"EX"``).
        value: The score.
        sub_scores: Its sub-scores (empty when the vendor sends none).
        extra: Keys the vendor sent that examkit does not know.
    """

    type: str
    key: str
    value: Decimal
    sub_scores: tuple[SubScore, ...] = ()
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen
class AssessmentSubmitted:
    """The payload of an ``ASSESSMENT_SUBMITTED`` webhook.

    Attributes:
        order_reference_id: The reference you gave when ordering the link.
        assessment_type: The assessment's type (a string for types examkit does not know yet).
        scores: The scores (``assessmentScores``).
        extra: Keys the vendor sent that examkit does not know.
    """

    order_reference_id: str
    assessment_type: AssessmentType | str
    scores: tuple[AssessmentScore, ...] = ()
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen
class AssessmentSubmittedEvent:
    """A verified ``ASSESSMENT_SUBMITTED`` webhook: an assessment was completed.

    Attributes:
        payload: The typed payload.
        event_type: Always ``EventType.ASSESSMENT_SUBMITTED``.
        extra: Keys of the envelope (next to ``eventType`` and ``payload``) examkit does not know.
        body_authenticated: Whether a ``Signature`` header (an HMAC of the timestamp and the body) was
            checked: ``True`` only when the verifier has a ``signature_secret``. The integrator API key
            alone proves who called, not what was sent. Set by examkit, never read from the payload.
    """

    payload: AssessmentSubmitted
    event_type: EventType | str = EventType.ASSESSMENT_SUBMITTED
    extra: Mapping[str, Any] = extra_field()
    body_authenticated: bool = attrs.field(default=False, kw_only=True)

    @property
    def order_reference_id(self) -> str:
        """The reference you gave when ordering the link."""
        return self.payload.order_reference_id

    @property
    def assessment_type(self) -> AssessmentType | str:
        """The assessment's type."""
        return self.payload.assessment_type

    @property
    def scores(self) -> tuple[AssessmentScore, ...]:
        """The assessment's scores."""
        return self.payload.scores

    def _repr_html_(self) -> str:
        """An HTML table for notebooks: each score and sub-score, every value escaped."""
        caption = (
            f"Assessio {cell_text(self.event_type)}: order {self.order_reference_id},"
            f" {cell_text(self.assessment_type)} ({_checked(self.body_authenticated)})"
        )
        rows: list[tuple[object, ...]] = []
        for score in self.scores:
            rows.append((score.type, score.key, "", score.value))
            rows.extend((score.type, score.key, sub.key, sub.value) for sub in score.sub_scores)
        header = ("type", "key", "sub-score", "value")
        return html_table(header, rows, caption=caption, css_class="examkit-assessio-event")


@attrs.frozen
class UnknownEvent:
    """A verified webhook of an event type examkit does not know; the payload is kept as sent.

    Attributes:
        event_type: The ``eventType`` as sent.
        payload: The decoded ``payload`` value (``None`` when absent); numbers with a fraction are
            :class:`~decimal.Decimal`.
        extra: Other keys of the envelope.
        body_authenticated: Whether a ``Signature`` header (an HMAC of the timestamp and the body) was
            checked: ``True`` only when the verifier has a ``signature_secret``. The integrator API key
            alone proves who called, not what was sent. Set by examkit, never read from the payload.
    """

    event_type: str
    payload: Any = None
    extra: Mapping[str, Any] = extra_field()
    body_authenticated: bool = attrs.field(default=False, kw_only=True)

    def _repr_html_(self) -> str:
        """An HTML table for notebooks: the payload's top-level keys and values, every value escaped."""
        caption = f"Assessio {self.event_type} (not known to examkit; {_checked(self.body_authenticated)})"
        payload = self.payload
        if isinstance(payload, Mapping):
            rows: list[tuple[object, object]] = [(key, _shown(value)) for key, value in payload.items()]
        else:
            rows = [("payload", _shown(payload))]
        return html_table(
            ("key", "value"), rows, caption=caption, css_class="examkit-assessio-event", row_headers=True
        )


AssessioEvent: TypeAlias = AssessmentSubmittedEvent | UnknownEvent
"""What :meth:`~examkit.assessio.AssessioWebhookVerifier.verify` returns (usable with ``isinstance``)."""

CONVERTER: Final = PayloadConverter(vendor=VENDOR)
"""The one converter between Assessio's JSON keys and these models, both ways."""
CONVERTER.register(PersonDetails, rename={"first_name": "firstName", "last_name": "lastName"})
CONVERTER.register(
    AssessmentLinkOrder,
    rename={
        "assessment_type": "assessmentType",
        "order_reference_id": "orderReferenceId",
        "webhook_callback_url": "webhookCallbackUrl",
        "redirect_url": "redirectUrl",
        "person": "personDetails",
    },
)
CONVERTER.register(SubScore)
CONVERTER.register(AssessmentScore, rename={"sub_scores": "subScores"})
CONVERTER.register(
    AssessmentSubmitted,
    rename={
        "order_reference_id": "orderReferenceId",
        "assessment_type": "assessmentType",
        "scores": "assessmentScores",
    },
)
CONVERTER.register(
    AssessmentSubmittedEvent, rename={"event_type": "eventType"}, local=("body_authenticated",)
)
CONVERTER.register(UnknownEvent, rename={"event_type": "eventType"}, local=("body_authenticated",))


LinkPath: TypeAlias = "str | Sequence[str | int]"
"""Where to look for the link in a response: a dotted path (``"data.link"``, ``"links.0.href"``;
a part of digits indexes a list) or a sequence of keys and list indexes
(``("links", 0, "href")``)."""

DEFAULT_LINK_PATHS: Final[tuple[tuple[str | int, ...], ...]] = (
    ("assessmentLink",),
    ("link",),
    ("url",),
    ("assessmentUrl",),
    ("href",),
    ("data", "assessmentLink"),
    ("data", "link"),
    ("data", "url"),
)
"""The candidate paths tried, in order, to find the assessment link (the vendor does not document
the response): ``assessmentLink``, ``link``, ``url``, ``assessmentUrl``, ``href``, then the same
under ``data``. A response that is a bare JSON string or plain-text URL is taken as the link."""


def normalize_link_paths(paths: Sequence[LinkPath]) -> tuple[tuple[str | int, ...], ...]:
    """Turn the ``link_paths`` setting into tuples of keys.

    Raises:
        ConfigurationError: A path is empty or holds something other than keys and indexes.
    """
    given: object = paths
    if isinstance(given, str) or not isinstance(given, Sequence) or not given:
        raise ConfigurationError(
            "link_paths must be a non-empty sequence of paths, e.g. ('assessmentLink', 'data.link')",
            setting="link_paths",
            vendor=VENDOR,
        )
    result: list[tuple[str | int, ...]] = []
    for item in given:
        path: object = item
        parts: tuple[object, ...]
        if isinstance(path, str):
            parts = tuple(path.split("."))
        elif isinstance(path, Sequence):
            parts = tuple(path)
        else:
            parts = ()
        if not parts or not all(
            (isinstance(p, str) and p) or (isinstance(p, int) and not isinstance(p, bool)) for p in parts
        ):
            raise ConfigurationError(
                f"link_paths entry {path!r} must be a dotted key path or a sequence of keys and indexes",
                setting="link_paths",
                vendor=VENDOR,
            )
        result.append(parts)  # type: ignore[arg-type]
    return tuple(result)


def _is_link(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def find_link(data: object, paths: Sequence[tuple[str | int, ...]]) -> str | None:
    """Return the first absolute http(s) URL found at one of ``paths`` in ``data``, or ``None``.

    A ``data`` that is itself such a URL (a bare JSON string) is the link.
    """
    if _is_link(data):
        return data  # type: ignore[return-value]
    if isinstance(paths, str | bytes) or not isinstance(paths, Sequence):
        raise ValidationError(
            "paths must be a sequence of paths", field="paths", reason="wrong type", vendor=VENDOR
        )
    for path in paths:
        if isinstance(path, str | bytes) or not isinstance(path, Sequence):
            raise ValidationError(
                "each path must be a tuple of keys", field="paths", reason="wrong type", vendor=VENDOR
            )
        node: object = data
        for part in path:
            if isinstance(part, str) and isinstance(node, Mapping):
                node = node.get(part)
            elif isinstance(part, str) and isinstance(node, list) and part.isdecimal():
                index = int(part)
                node = node[index] if index < len(node) else None
            elif isinstance(part, int) and isinstance(node, list) and -len(node) <= part < len(node):
                node = node[part]
            else:
                node = None
                break
        if _is_link(node):
            return node  # type: ignore[return-value]
    return None


@attrs.frozen
class AssessmentLinkOrderResult:
    """The answer to an assessment-link order.

    The vendor does not document the response, so the whole JSON is kept in :attr:`data`, and
    :attr:`link` is found through the client's ``link_paths`` setting.

    Attributes:
        link: The assessment link, or ``None`` when none of the ``link_paths`` held a URL.
        data: The decoded JSON response (``None`` when the body is not JSON).
        status_code: The HTTP status.
        body: The raw response body.
        order: The order that was sent.
        request_body: The exact bytes that were signed and sent.
        link_paths: The paths that were tried.
    """

    link: str | None
    data: Any
    status_code: int
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    order: AssessmentLinkOrder
    request_body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    link_paths: tuple[tuple[str | int, ...], ...] = DEFAULT_LINK_PATHS

    def require_link(self) -> str:
        """Return :attr:`link`, or raise when the response held none.

        Raises:
            PayloadError: No link was found; the message lists the paths tried and the top-level
                keys.
        """
        if self.link is not None:
            return self.link
        keys = sorted(str(k) for k in self.data) if isinstance(self.data, Mapping) else []
        tried = [".".join(str(p) for p in path) for path in self.link_paths]
        raise PayloadError(
            f"no assessment link found in the response at {tried}; its top-level keys are {keys}: "
            "set link_paths on the client to where the link is",
            reason="no link",
            vendor=VENDOR,
        )


# --- notebook views (private) ---------------------------------------------------------------------


def _checked(body_authenticated: bool) -> str:
    return "body signature checked" if body_authenticated else "body not signature-checked"


def _shown(value: object) -> object:
    """A nested value of an unknown event as compact JSON text (numbers as sent), else the value."""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    return value
