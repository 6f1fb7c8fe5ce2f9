"""Typed models for what Integrity Advocate sends and receives.

Field names are snake_case; the vendor's spellings (``Course_Id``, ``Click_IAmHere_Count``...)
live only in :data:`CONVERTER`. Epoch strings become aware UTC datetimes, the ``"-1"`` and ``"0"``
sentinels become ``None``, counters stay ints, status values keep the vendor's exact strings
(unknown ones are kept as plain ``str``), and unknown keys are kept in each model's ``extra``
mapping.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Final, TypeAlias

import attrs

from examkit.core._enums import StrEnum
from examkit.core._html import cell_text, html_table, pandas_frame, plain_value
from examkit.core.errors import ValidationError
from examkit.core.serde import EpochSeconds, NoneIf, PayloadConverter, extra_field
from examkit.integrity_advocate._vendor import VENDOR as VENDOR  # noqa: PLC0414 - re-exported (mypy --strict)

__all__ = [
    "AmxAuthorization",
    "ByEmail",
    "ByExternalUserId",
    "ByName",
    "ByParticipant",
    "ByStatus",
    "DataUri",
    "EndSessionResult",
    "Flag",
    "ModifiedSince",
    "OverrideStatus",
    "Overrider",
    "Participant",
    "ParticipantFilter",
    "ParticipantPage",
    "ParticipantSession",
    "ParticipantStatus",
    "ParticipantStatusResult",
    "ReviewCallback",
    "SessionFilter",
    "SessionPage",
    "decode_data_uri",
]


class ParticipantStatus(StrEnum):
    """A participant's or session's status, exactly as Integrity Advocate spells it."""

    IN_PROGRESS = "In Progress"
    """The session started and is not complete."""
    VALID = "Valid"
    """Complete and valid, or overridden to valid."""
    INVALID = "Invalid"
    """Only seen as an override value."""
    INVALID_ID = "Invalid (ID)"
    """Complete; the photo ID presented was not valid."""
    INVALID_RULES = "Invalid (Rules)"
    """Complete; the participant broke at least one rule (see the session's flags)."""


class OverrideStatus(StrEnum):
    """The two values an override can set (case-sensitive on the wire)."""

    VALID = "Valid"
    """Overridden to valid."""
    INVALID = "Invalid"
    """Overridden to invalid."""


class EndSessionResult(StrEnum):
    """What ending a session through the API achieved."""

    CLOSED = "closed"
    """HTTP 200: the session was closed and sent for review."""
    NOTHING_TO_CLOSE = "nothing_to_close"
    """HTTP 404: no such app, participant or open session (including one already closed)."""


Epoch = Annotated[datetime | None, NoneIf("-1", "0", "", -1, 0), EpochSeconds()]
Text = Annotated[str | None, NoneIf("")]


def _effective_status(
    status: ParticipantStatus | str | None, override: OverrideStatus | str | None
) -> ParticipantStatus | str | None:
    """Return the status that counts: the override when there is one, else the ruling.

    The override's ``Valid``/``Invalid`` is returned as the matching :class:`ParticipantStatus`.
    """
    if override is None or override == "":
        return status
    if isinstance(override, OverrideStatus):
        return ParticipantStatus(override.value)
    return override


@attrs.frozen
class Flag:
    """A rule violation or ID problem a reviewer recorded on a session.

    Attributes:
        id: The flag's id (a GUID).
        flag_type_id: The flag type (only ``7``, "Name on ID does not match account name",
            is known).
        flag_type_name: The flag type's description.
        comment: The reviewer's comment.
        created: When the flag was recorded.
        capture_date: When the evidence was captured.
        capture_data: The evidence: a ``data:`` URI or a URL (see :func:`decode_data_uri`).
        extra: Keys examkit does not know, kept as received.
    """

    id: str | None = None
    flag_type_id: int | None = None
    flag_type_name: str | None = None
    comment: Text = None
    created: Epoch = None
    capture_date: Epoch = None
    capture_data: Text = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen
class ParticipantSession:
    """One proctored session of a participant in an activity.

    Attributes:
        id: The session id (a GUID; absent from the participant sessions list).
        activity_id: The activity the session belongs to.
        start: When the session started.
        end: When it ended; ``None`` while it has not (the vendor sends ``"0"``).
        status: The vendor's ruling.
        override_status: An override set by the host system, if any.
        override_date: When it was overridden (``None``: never; the vendor sends ``"-1"``).
        override_reason: Why.
        override_lms_user_id: The overriding user's id in the host system.
        override_lms_user_first_name: The overriding user's first name.
        override_lms_user_last_name: The overriding user's last name.
        click_iamhere_count: How often the participant clicked "I am here".
        exit_fullscreen_count: How often they left full screen.
        participant_photo: A ``data:`` URI or a URL.
        resubmit_url: Where the participant may resubmit their ID.
        flags: The session's flags.
        participant_identifier: The participant (in the participant sessions list).
        course_id: The course (in the participant sessions list).
        email: The participant's e-mail (in the participant sessions list).
        first_name: The participant's first name (in the participant sessions list).
        last_name: The participant's last name (in the participant sessions list).
        token: The vendor's position token for this row.
        sort_value: The vendor's sort key for this row.
        extra: Keys examkit does not know, kept as received.
    """

    id: str | None = None
    activity_id: str | None = None
    start: Epoch = None
    end: Epoch = None
    status: ParticipantStatus | str | None = None
    override_status: OverrideStatus | str | None = None
    override_date: Epoch = None
    override_reason: str | None = None
    override_lms_user_id: str | None = None
    override_lms_user_first_name: str | None = None
    override_lms_user_last_name: str | None = None
    click_iamhere_count: int | None = None
    exit_fullscreen_count: int | None = None
    participant_photo: Text = None
    resubmit_url: Text = None
    flags: tuple[Flag, ...] = ()
    participant_identifier: str | None = None
    course_id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    token: str | None = None
    sort_value: str | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def effective_status(self) -> ParticipantStatus | str | None:
        """The override when there is one, else the vendor's ruling."""
        return _effective_status(self.status, self.override_status)

    @property
    def is_overridden(self) -> bool:
        """Whether the host system overrode the ruling."""
        return self.override_status is not None and self.override_status != ""

    def to_record(self) -> dict[str, Any]:
        """Return this session as a plain dict (the columns of :meth:`SessionPage.to_records`).

        Statuses are the vendor's strings, times aware UTC :class:`~datetime.datetime` objects
        (or ``None``), counters ints; ``flag_count`` counts the flags. The photo, the resubmit
        URL, the flags' evidence, the row's position token and ``extra`` are left out.
        """
        return _record(self, _SESSION_COLUMNS)

    def _repr_html_(self) -> str:
        """An HTML view for notebooks: the session, then its flags; every value is escaped."""
        caption = f"Integrity Advocate session {cell_text(self.id) or '(no id)'}: {_status_text(self)}"
        return _view(caption, self.to_record(), [self], "examkit-ia-session", list_sessions=False)


@attrs.frozen
class Participant:
    """A participant of a course, with their sessions when the vendor sends them.

    Attributes:
        participant_identifier: Your identifier for the participant.
        course_id: Your course id.
        email: The participant's e-mail address.
        first_name: The participant's first name.
        last_name: The participant's last name.
        created: When the vendor first saw the participant.
        modified: When the record last changed (use it with ``ModifiedSince``).
        status: The vendor's ruling.
        override_status: An override set by the host system, if any.
        override_date: When it was overridden (``None``: never).
        override_reason: Why.
        override_lms_user_id: The overriding user's id in the host system.
        override_lms_user_first_name: The overriding user's first name.
        override_lms_user_last_name: The overriding user's last name.
        participant_photo: A ``data:`` URI or a URL.
        resubmit_url: Where the participant may resubmit their ID.
        sessions: The participant's sessions (only from the single-participant lookup and
            callbacks).
        token: The vendor's position token for this row (in lists).
        sort_value: The vendor's sort key for this row (in lists).
        extra: Keys examkit does not know, kept as received.
    """

    participant_identifier: str
    course_id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    created: Epoch = None
    modified: Epoch = None
    status: ParticipantStatus | str | None = None
    override_status: OverrideStatus | str | None = None
    override_date: Epoch = None
    override_reason: str | None = None
    override_lms_user_id: str | None = None
    override_lms_user_first_name: str | None = None
    override_lms_user_last_name: str | None = None
    participant_photo: Text = None
    resubmit_url: Text = None
    sessions: tuple[ParticipantSession, ...] = ()
    token: str | None = None
    sort_value: str | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def effective_status(self) -> ParticipantStatus | str | None:
        """The override when there is one, else the vendor's ruling."""
        return _effective_status(self.status, self.override_status)

    @property
    def is_overridden(self) -> bool:
        """Whether the host system overrode the ruling."""
        return self.override_status is not None and self.override_status != ""

    def to_record(self) -> dict[str, Any]:
        """Return this participant as a plain dict (the columns of :meth:`ParticipantPage.to_records`).

        Statuses are the vendor's strings, times aware UTC :class:`~datetime.datetime` objects
        (or ``None``); ``session_count`` and ``flag_count`` count the sessions and all their flags.
        The photo, the resubmit URL, the row's position token and ``extra`` are left out.
        """
        return _record(self, _PARTICIPANT_COLUMNS)

    def _repr_html_(self) -> str:
        """An HTML view for notebooks: the participant, their sessions, then the sessions' flags (escaped)."""
        caption = f"Integrity Advocate participant {self.participant_identifier}: {_status_text(self)}"
        return _view(caption, self.to_record(), self.sessions, "examkit-ia-participant", list_sessions=True)


@attrs.frozen
class ParticipantPage:
    """One page of a course's participants.

    Attributes:
        participants: The participants on this page.
        next_token: The opaque continuation token, as sent (may be ``""`` or ``"null"`` at the end).
        is_first_page: Whether the vendor says this is the first page.
        backward_search: Whether the search ran backwards.
        extra: Keys examkit does not know, kept as received.
    """

    participants: tuple[Participant, ...] = ()
    next_token: str | None = None
    is_first_page: bool | None = None
    backward_search: bool | None = None
    extra: Mapping[str, Any] = extra_field()

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per participant, in the vendor's order (see :meth:`Participant.to_record`)."""
        return [participant.to_record() for participant in self.participants]

    def to_pandas(self) -> Any:
        """Return the participants as a :class:`pandas.DataFrame`, one row per participant.

        The columns are those of :meth:`to_records`. pandas is imported only here (install
        ``examkit[notebook]``).

        Raises:
            ConfigurationError: pandas is not installed.
        """
        return pandas_frame(self.to_records(), _PARTICIPANT_COLUMNS, vendor=VENDOR)

    def _repr_html_(self) -> str:
        """An HTML table for notebooks: one row per participant, every value escaped."""
        caption = f"Integrity Advocate: {_count(len(self.participants), 'participant')}{_more(self)}"
        return _page_table(caption, self.to_records(), _PARTICIPANT_COLUMNS, "examkit-ia-participants")


@attrs.frozen
class SessionPage:
    """One page of a course's participant sessions.

    Attributes:
        sessions: The sessions on this page.
        next_token: The opaque continuation token, as sent.
        is_first_page: Whether the vendor says this is the first page.
        backward_search: Whether the search ran backwards.
        extra: Keys examkit does not know, kept as received.
    """

    sessions: tuple[ParticipantSession, ...] = ()
    next_token: str | None = None
    is_first_page: bool | None = None
    backward_search: bool | None = None
    extra: Mapping[str, Any] = extra_field()

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per session, in the vendor's order (see :meth:`ParticipantSession.to_record`)."""
        return [session.to_record() for session in self.sessions]

    def to_pandas(self) -> Any:
        """Return the sessions as a :class:`pandas.DataFrame`, one row per session.

        The columns are those of :meth:`to_records`. pandas is imported only here (install
        ``examkit[notebook]``).

        Raises:
            ConfigurationError: pandas is not installed.
        """
        return pandas_frame(self.to_records(), _SESSION_COLUMNS, vendor=VENDOR)

    def _repr_html_(self) -> str:
        """An HTML table for notebooks: one row per session, every value escaped."""
        caption = f"Integrity Advocate: {_count(len(self.sessions), 'session')}{_more(self)}"
        return _page_table(caption, self.to_records(), _SESSION_COLUMNS, "examkit-ia-sessions")


@attrs.frozen
class ParticipantStatusResult:
    """The answer of the participant status endpoint for one activity.

    Attributes:
        status: The vendor's ruling.
        override_status: An override, if any.
        extra: Keys examkit does not know, kept as received.
    """

    status: ParticipantStatus | str | None = None
    override_status: OverrideStatus | str | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def effective_status(self) -> ParticipantStatus | str | None:
        """The override when there is one, else the vendor's ruling."""
        return _effective_status(self.status, self.override_status)


@attrs.frozen
class Overrider:
    """The user in your system who performs an override (sent as ``Override_LMSUser_*``).

    Attributes:
        user_id: Their id in your system.
        first_name: Their first name.
        last_name: Their last name.
    """

    user_id: str
    first_name: str
    last_name: str


@attrs.frozen
class AmxAuthorization:
    """A parsed ``amx`` authorization header.

    Attributes:
        app_id: The App Id the sender claims.
        signature: The decoded signature bytes.
        nonce: The sender's nonce.
        timestamp: The sender's timestamp (Unix seconds).
        timestamp_text: The timestamp exactly as sent (it is signed as text).
    """

    app_id: str
    signature: bytes = attrs.field(repr=False)
    nonce: str
    timestamp: int
    timestamp_text: str = attrs.field(repr=False)


@attrs.frozen
class ReviewCallback:
    """A verified review callback: the participant as posted, and the header it carried.

    The ``amx`` signature covers the URL, method, time and nonce but **not the body**, and the event
    says so (:attr:`body_authenticated` is ``False``, :meth:`is_authenticated` is ``False`` for every
    key): to be sure of the status, re-fetch it with
    ``IntegrityAdvocateClient.confirm_callback(callback)``.

    Attributes:
        participant: The participant the body describes.
        authorization: The verified ``amx`` header (app id, nonce, timestamp).
        body: The raw body bytes as received.
    """

    participant: Participant
    authorization: AmxAuthorization
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")

    @property
    def body_authenticated(self) -> bool:
        """Always ``False``: the ``amx`` signature does not cover the body (re-fetch to confirm it)."""
        return False

    @property
    def authenticated_fields(self) -> tuple[str, ...]:
        """The body keys the signature covers (none, for this scheme; see :attr:`body_authenticated`)."""
        return ()

    def is_authenticated(self, key: str) -> bool:
        """Tell whether the body key ``key`` is covered by the signature: never, for this scheme."""
        return key in self.authenticated_fields


@attrs.frozen
class DataUri:
    """The decoded contents of a ``data:`` URI.

    Attributes:
        media_type: The media type, e.g. ``"image/jpeg"`` (``"text/plain"`` when none is given).
        data: The decoded bytes.
    """

    media_type: str
    data: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")


def _is_seconds(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _filter_text(name: str, field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 1000 or not value.isprintable():
        raise ValidationError(
            f"{name} must be non-empty printable text of at most 1000 characters",
            field=field,
            reason="bad filter value",
            vendor=VENDOR,
        )


@attrs.frozen
class ModifiedSince:
    """Filter: participants modified (started, reviewed, flagged) since a time (``lastmodified``).

    Attributes:
        since: An aware datetime, or whole Unix seconds.

    Raises:
        ValidationError: A naive datetime, or not a time.
    """

    since: datetime | int

    def __attrs_post_init__(self) -> None:
        if isinstance(self.since, datetime):
            if self.since.tzinfo is None:
                raise ValidationError(
                    "since must be timezone-aware",
                    field="lastmodified",
                    reason="naive datetime",
                    vendor=VENDOR,
                )
        elif not _is_seconds(self.since):
            raise ValidationError(
                "since must be an aware datetime or non-negative Unix seconds",
                field="lastmodified",
                reason="not a time",
                vendor=VENDOR,
            )

    def query(self) -> list[tuple[str, str]]:
        """Return the query parameters."""
        since = self.since
        seconds = int(since.timestamp()) if isinstance(since, datetime) else since
        return [("lastmodified", str(seconds))]


@attrs.frozen
class ByName:
    """Filter: by last name, optionally with first name (``lastname``, ``firstname``).

    Attributes:
        last_name: The last name.
        first_name: The first name, to narrow the search.
    """

    last_name: str
    first_name: str | None = None

    def __attrs_post_init__(self) -> None:
        _filter_text("last_name", "lastname", self.last_name)
        if self.first_name is not None:
            _filter_text("first_name", "firstname", self.first_name)

    def query(self) -> list[tuple[str, str]]:
        """Return the query parameters."""
        result = [("lastname", self.last_name)]
        if self.first_name is not None:
            result.append(("firstname", self.first_name))
        return result


IN_PROGRESS_FILTER_VALUE: Final = "InProgress"
"""How the vendor's page spells "In Progress" among the ``status`` filter values."""


@attrs.frozen
class ByStatus:
    """Filter: by status (``status``).

    Attributes:
        status: A :class:`ParticipantStatus`, or the exact text to send.
        in_progress_value: What to send for ``ParticipantStatus.IN_PROGRESS``: the
            vendor's filter list spells it ``"InProgress"`` while its data says ``"In Progress"``.
    """

    status: ParticipantStatus | str
    in_progress_value: str = IN_PROGRESS_FILTER_VALUE

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.status, ParticipantStatus):
            _filter_text("status", "status", self.status)
        _filter_text("in_progress_value", "status", self.in_progress_value)

    def query(self) -> list[tuple[str, str]]:
        """Return the query parameters."""
        if self.status is ParticipantStatus.IN_PROGRESS:
            return [("status", self.in_progress_value)]
        value = self.status.value if isinstance(self.status, ParticipantStatus) else self.status
        return [("status", value)]


@attrs.frozen
class ByEmail:
    """Filter: participants with this e-mail address (``email``).

    Attributes:
        email: The address.
    """

    email: str

    def __attrs_post_init__(self) -> None:
        _filter_text("email", "email", self.email)

    def query(self) -> list[tuple[str, str]]:
        """Return the query parameters."""
        return [("email", self.email)]


@attrs.frozen
class ByExternalUserId:
    """Filter: participants whose script URL carried this ``externaluserid``.

    Attributes:
        external_user_id: The id.
    """

    external_user_id: str

    def __attrs_post_init__(self) -> None:
        _filter_text("external_user_id", "externaluserid", self.external_user_id)

    def query(self) -> list[tuple[str, str]]:
        """Return the query parameters."""
        return [("externaluserid", self.external_user_id)]


@attrs.frozen
class ByParticipant:
    """Filter (sessions only): one participant's sessions (``participantidentifier``).

    Attributes:
        participant_identifier: Your identifier of the participant.
    """

    participant_identifier: str

    def __attrs_post_init__(self) -> None:
        _filter_text("participant_identifier", "participantidentifier", self.participant_identifier)

    def query(self) -> list[tuple[str, str]]:
        """Return the query parameters."""
        return [("participantidentifier", self.participant_identifier)]


ParticipantFilter: TypeAlias = "ModifiedSince | ByName | ByStatus | ByEmail | ByExternalUserId"
"""One of the mutually exclusive filter sets for listing a course's participants."""

SessionFilter: TypeAlias = "ByName | ByStatus | ByParticipant"
"""One of the mutually exclusive filter sets for listing a course's participant sessions."""

PARTICIPANT_FILTERS: Final = (ModifiedSince, ByName, ByStatus, ByEmail, ByExternalUserId)
SESSION_FILTERS: Final = (ByName, ByStatus, ByParticipant)


_DATA_URI_RE: Final = re.compile(r"\Adata:([^,;]*)((?:;[^,;]*)*),(.*)\Z", re.DOTALL | re.IGNORECASE)


def decode_data_uri(value: str) -> DataUri:
    """Decode a ``data:`` URI (``participant_photo``, ``capture_data``) to bytes and media type.

    >>> decode_data_uri("data:image/png;base64,iVBORw0=").media_type
    'image/png'

    Raises:
        ValidationError: The value is not a ``data:`` URI (a URL, for instance), or its base64
            is broken.
    """
    text: object = value
    match = _DATA_URI_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValidationError(
            "the value is not a data: URI (it may be a URL: fetch it instead)",
            field="data_uri",
            reason="not a data URI",
            vendor=VENDOR,
        )
    media_type = match.group(1).strip().lower() or "text/plain"
    params = [p.strip().lower() for p in match.group(2).split(";") if p.strip()]
    payload = match.group(3)
    if "base64" in params:
        try:
            data = base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(
                "the data: URI's base64 is not valid",
                field="data_uri",
                reason="bad base64",
                vendor=VENDOR,
            ) from None
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    return DataUri(media_type=media_type, data=data)


_OVERRIDE_KEYS: Final = {
    "override_status": "Override_Status",
    "override_date": "Override_Date",
    "override_reason": "Override_Reason",
    "override_lms_user_id": "Override_LMSUser_Id",
    "override_lms_user_first_name": "Override_LMSUser_FirstName",
    "override_lms_user_last_name": "Override_LMSUser_LastName",
}
_PERSON_KEYS: Final = {
    "participant_identifier": "ParticipantIdentifier",
    "course_id": "Course_Id",
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "status": "Status",
    "participant_photo": "Participant_Photo",
    "resubmit_url": "ResubmitUrl",
    "token": "Token",
    "sort_value": "SortValue",
}

CONVERTER: Final = PayloadConverter(vendor=VENDOR)
"""The one converter between Integrity Advocate's JSON and these models."""

CONVERTER.register(
    Flag,
    rename={
        "id": "Id",
        "flag_type_id": "FlagType_Id",
        "flag_type_name": "FlagType_Name",
        "comment": "Comment",
        "created": "Created",
        "capture_date": "CaptureDate",
        "capture_data": "CaptureData",
    },
)
CONVERTER.register(
    ParticipantSession,
    rename={
        **_OVERRIDE_KEYS,
        **_PERSON_KEYS,
        "id": "Id",
        "activity_id": "Activity_Id",
        "start": "Start",
        "end": "End",
        "click_iamhere_count": "Click_IAmHere_Count",
        "exit_fullscreen_count": "Exit_Fullscreen_Count",
        "flags": "Flags",
    },
)
CONVERTER.register(
    Participant,
    rename={
        **_OVERRIDE_KEYS,
        **_PERSON_KEYS,
        "created": "Created",
        "modified": "Modified",
        "sessions": "Sessions",
    },
)
_PAGE_KEYS: Final = {
    "next_token": "NextToken",
    "is_first_page": "IsFirstPage",
    "backward_search": "BackwardSearch",
}
CONVERTER.register(ParticipantPage, rename={**_PAGE_KEYS, "participants": "Participants"})
CONVERTER.register(SessionPage, rename={**_PAGE_KEYS, "sessions": "ParticipantSessions"})
CONVERTER.register(ParticipantStatusResult, rename={"status": "Status", "override_status": "Override_Status"})


@attrs.frozen
class _Override:
    """The body of an override (outgoing), its fields in the order the vendor's page lists them."""

    date: str
    status: OverrideStatus
    reason: str
    first_name: str
    last_name: str
    user_id: str


CONVERTER.register(
    _Override,
    rename={
        "date": "Override_Date",
        "status": "Override_Status",
        "reason": "Override_Reason",
        "first_name": "Override_LMSUser_FirstName",
        "last_name": "Override_LMSUser_LastName",
        "user_id": "Override_LMSUser_Id",
    },
)


def override_wire(*, status: OverrideStatus, reason: str, overrider: Overrider, seconds: int) -> Any:
    """The JSON of an override as the vendor spells it, unstructured by :data:`CONVERTER`.

    ``seconds`` (whole Unix seconds) is sent as text, as the vendor's dates are.
    """
    return CONVERTER.unstructure(
        _Override(
            date=str(seconds),
            status=status,
            reason=reason,
            first_name=overrider.first_name,
            last_name=overrider.last_name,
            user_id=overrider.user_id,
        )
    )


def _drop_nulls(data: Any, keys: tuple[str, ...]) -> Any:
    """Treat ``null`` arrays as empty (the vendor sends null for absent values)."""
    if isinstance(data, Mapping):
        for key in keys:
            if data.get(key, 0) is None:
                return {k: v for k, v in data.items() if not (k in keys and v is None)}
    return data


def parse_participant(data: Any) -> Participant:
    """Build a :class:`Participant` from decoded JSON (``null`` arrays read as empty).

    Raises:
        PayloadError: The data does not fit the model.
    """
    return CONVERTER.structure(_normalise_participant(data), Participant)


def _normalise_session(data: Any) -> Any:
    return _drop_nulls(data, ("Flags",))


def _normalise_participant(data: Any) -> Any:
    data = _drop_nulls(data, ("Sessions",))
    if isinstance(data, Mapping):
        sessions = data.get("Sessions")
        if isinstance(sessions, list):
            # Copied only when a session has null flags: otherwise the copy would equal the original.
            for session in sessions:
                if isinstance(session, Mapping) and session.get("Flags", 0) is None:
                    return {**data, "Sessions": [_normalise_session(s) for s in sessions]}
    return data


def parse_participant_page(data: Any) -> ParticipantPage:
    """Build a :class:`ParticipantPage` from decoded JSON.

    Raises:
        PayloadError: The data does not fit the model.
    """
    data = _drop_nulls(data, ("Participants",))
    if isinstance(data, Mapping) and isinstance(data.get("Participants"), list):
        data = {**data, "Participants": [_normalise_participant(p) for p in data["Participants"]]}
    return CONVERTER.structure(data, ParticipantPage)


def parse_session_page(data: Any) -> SessionPage:
    """Build a :class:`SessionPage` from decoded JSON.

    Raises:
        PayloadError: The data does not fit the model.
    """
    data = _drop_nulls(data, ("ParticipantSessions",))
    if isinstance(data, Mapping) and isinstance(data.get("ParticipantSessions"), list):
        data = {
            **data,
            "ParticipantSessions": [_normalise_session(s) for s in data["ParticipantSessions"]],
        }
    return CONVERTER.structure(data, SessionPage)


def parse_participant_status(data: Any) -> ParticipantStatusResult:
    """Build a :class:`ParticipantStatusResult` from decoded JSON.

    Raises:
        PayloadError: The data does not fit the model.
    """
    return CONVERTER.structure(data, ParticipantStatusResult)


def to_wire(obj: Any) -> Any:
    """Return a model as the vendor's JSON: its key names, epoch strings, unknown keys merged back.

    Times become whole-second strings (``"1586808802"``); ``None`` becomes ``null``.
    """
    if isinstance(obj, datetime):
        return str(int(obj.timestamp()))
    if isinstance(obj, StrEnum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [to_wire(item) for item in obj]
    if attrs.has(type(obj)):
        result: dict[str, Any] = {}
        for field in attrs.fields(type(obj)):
            if field.name == "extra":
                continue
            result[CONVERTER.wire_name(type(obj), field.name)] = to_wire(getattr(obj, field.name))
        for key, value in getattr(obj, "extra", {}).items():
            result.setdefault(key, value)
        return result
    return obj


# Notebook views and records (private): the columns, in order, and the tables built from them.

_PERSON_COLUMNS: Final = ("participant_identifier", "course_id", "email", "first_name", "last_name")
_STATUS_COLUMNS: Final = (
    "status",
    "override_status",
    "effective_status",
    "override_date",
    "override_reason",
    "override_lms_user_id",
    "override_lms_user_first_name",
    "override_lms_user_last_name",
)
_PARTICIPANT_COLUMNS: Final = (
    *_PERSON_COLUMNS,
    "created",
    "modified",
    *_STATUS_COLUMNS,
    "session_count",
    "flag_count",
)
_SESSION_COLUMNS: Final = (
    "id",
    "activity_id",
    *_PERSON_COLUMNS,
    "start",
    "end",
    *_STATUS_COLUMNS,
    "click_iamhere_count",
    "exit_fullscreen_count",
    "flag_count",
)
_SESSION_VIEW_COLUMNS: Final = (
    "id",
    "activity_id",
    "start",
    "end",
    "status",
    "override_status",
    "effective_status",
    "click_iamhere_count",
    "exit_fullscreen_count",
    "flag_count",
)
_FLAG_COLUMNS: Final = (
    "session_id",
    "id",
    "flag_type_id",
    "flag_type_name",
    "comment",
    "created",
    "capture_date",
)


def _record(item: Participant | ParticipantSession, columns: tuple[str, ...]) -> dict[str, Any]:
    sessions: tuple[ParticipantSession, ...] = item.sessions if isinstance(item, Participant) else (item,)
    computed = {
        "effective_status": item.effective_status,
        "session_count": len(sessions),
        "flag_count": sum(len(session.flags) for session in sessions),
    }
    return {
        name: plain_value(computed[name] if name in computed else getattr(item, name)) for name in columns
    }


def _status_text(item: Participant | ParticipantSession) -> str:
    shown = cell_text(item.effective_status) or "no status"
    return f"{shown} (overridden)" if item.is_overridden else shown


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _more(page: ParticipantPage | SessionPage) -> str:
    token = page.next_token
    return "; more pages follow" if token not in (None, "", "null") else ""


def _page_table(caption: str, records: list[dict[str, Any]], columns: tuple[str, ...], css_class: str) -> str:
    rows = [[record[name] for name in columns] for record in records]
    return html_table(columns, rows, caption=caption, css_class=css_class)


def _view(
    caption: str,
    record: dict[str, Any],
    sessions: Sequence[ParticipantSession],
    css_class: str,
    *,
    list_sessions: bool,
) -> str:
    fields = html_table(
        ("field", "value"), list(record.items()), caption=caption, css_class=css_class, row_headers=True
    )
    parts = [fields]
    if list_sessions and sessions:
        session_rows = [[s.to_record()[name] for name in _SESSION_VIEW_COLUMNS] for s in sessions]
        parts.append(
            html_table(_SESSION_VIEW_COLUMNS, session_rows, caption=_count(len(sessions), "session"))
        )
    flags = [
        (
            session.id,
            flag.id,
            flag.flag_type_id,
            flag.flag_type_name,
            flag.comment,
            flag.created,
            flag.capture_date,
        )
        for session in sessions
        for flag in session.flags
    ]
    if flags:
        parts.append(html_table(_FLAG_COLUMNS, flags, caption=_count(len(flags), "flag")))
    return f'<div class="examkit-ia">{"".join(parts)}</div>'
