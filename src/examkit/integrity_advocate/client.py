"""The Integrity Advocate REST API client: participants, sessions, overrides, ending sessions.

Every call except ending a session and the health check is signed with ``amx`` (see
:mod:`examkit.integrity_advocate.signing`), with a fresh timestamp and nonce for each attempt. Lists
are lazy iterators that follow ``NextToken``; nothing is fetched before the first item is asked for,
and only one page is held at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Generic, TypedDict, TypeVar

import requests
from typing_extensions import Unpack

from examkit.core._checks import (
    check_callable,
    check_clock,
    check_instance,
    check_session,
    check_timeout,
)
from examkit.core._copying import sharing_deepcopy
from examkit.core._repr import safe_repr
from examkit.core._transport_sync import Transport
from examkit.core.clock import Clock, SystemClock
from examkit.core.encoding import canonical_json
from examkit.core.env import env_setting
from examkit.core.errors import ApiError, ConfigurationError, NotFoundError, ServerError, ValidationError
from examkit.core.http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    HttpResponse,
    RetryPolicy,
    _Call,
)
from examkit.core.signing import SecretInput
from examkit.integrity_advocate._ids import check_id as _id
from examkit.integrity_advocate._ids import path_segment as _segment
from examkit.integrity_advocate._signer import AmxSigner
from examkit.integrity_advocate.embed import DEFAULT_BASE_URL
from examkit.integrity_advocate.models import (
    PARTICIPANT_FILTERS,
    SESSION_FILTERS,
    VENDOR,
    EndSessionResult,
    Overrider,
    OverrideStatus,
    Participant,
    ParticipantFilter,
    ParticipantPage,
    ParticipantSession,
    ParticipantStatusResult,
    ReviewCallback,
    SessionFilter,
    SessionPage,
    override_wire,
    parse_participant,
    parse_participant_page,
    parse_participant_status,
    parse_session_page,
)
from examkit.integrity_advocate.signing import (
    DEFAULT_REQUEST_FORM,
    CanonicalForm,
    api_key_from,
    new_nonce,
)

if TYPE_CHECKING:
    import httpx

    from examkit.core._transport_async import AsyncTransport

__all__ = ["AsyncIntegrityAdvocateClient", "IntegrityAdvocateClient", "PageLimitError"]

logger = logging.getLogger("examkit.integrity_advocate")

DEFAULT_MAX_PAGES: Final = 250
"""The most pages one listing fetches by default (the vendor's plugin stops at 250)."""

END_TOKENS: Final = frozenset({"", "null"})
"""``NextToken`` values that mean "no more pages" (besides ``null`` and a repeated token)."""


class PageLimitError(ApiError):
    """A listing reached its page cap while the vendor still offered more pages.

    Raise ``max_pages`` (on the client or the call) if the course really is that large.

    Attributes:
        pages: The number of pages fetched.
    """

    def __init__(self, message: str, *, pages: int, url: str) -> None:
        super().__init__(message, vendor=VENDOR, method="GET", url=url)
        self.pages = pages


_P = TypeVar("_P", ParticipantPage, SessionPage)
_T = TypeVar("_T")


class _Settings(TypedDict, total=False):
    """The settings both clients' ``from_env`` pass on (the constructor arguments of those names)."""

    base_url: str
    timeout: float | tuple[float, float]
    retry: RetryPolicy | None
    clock: Clock | None
    nonce_factory: Callable[[], str]
    signing_form: CanonicalForm
    max_pages: int
    deadline: float
    max_response_bytes: int


class _SyncSettings(_Settings, total=False):
    session: requests.Session | None
    sleep: Callable[[float], None]


class _AsyncSettings(_Settings, total=False):
    client: httpx.AsyncClient | None
    sleep: Callable[[float], Awaitable[None]]


class _Pager(Generic[_P]):
    """Where a listing is: the next page's call, and whether another page follows (no I/O)."""

    def __init__(
        self,
        calls: _IntegrityAdvocateCalls,
        path: str,
        params: list[tuple[str, str]],
        cap: int,
        parse: Callable[[Any], _P],
    ) -> None:
        self._calls = calls
        self._path = path
        self._params = params
        self._cap = cap
        self._parse: Callable[[Any], _P] = parse
        self._token: str | None = None
        self._pages = 0

    def call(self) -> _Call[_P]:
        """The GET of the next page."""
        query = self._params if self._token is None else [*self._params, ("nexttoken", self._token)]
        parse = self._parse
        return self._calls._get_call(self._path, query, read=lambda response: parse(response.json()))

    def advance(self, page: _P) -> bool:
        """Take ``page`` in; return whether another page follows.

        Raises:
            PageLimitError: The cap is reached while the vendor offers more pages.
        """
        self._pages += 1
        following, token = page.next_token, self._token
        if following is None or following.strip() in END_TOKENS or following == token:
            return False
        if self._pages >= self._cap:
            raise PageLimitError(
                f"stopped after {self._pages} pages of {self._path} while the vendor offered more: "
                "raise max_pages "
                "if the course is that large",
                pages=self._pages,
                url=self._calls.base_url + self._path,
            )
        self._token = following
        return True


class _IntegrityAdvocateCalls:
    """Integrity Advocate's calls defined once, without I/O: arguments, signatures, answers."""

    base_url: str

    def _setup(
        self,
        *,
        app_id: str,
        api_key: SecretInput,
        base_url: str,
        timeout: float | tuple[float, float],
        retry: RetryPolicy | None,
        clock: Clock | None,
        nonce_factory: Callable[[], str],
        signing_form: CanonicalForm,
        max_pages: int,
        sleep: object,
    ) -> None:
        self._signer = AmxSigner(app_id=app_id, api_key=api_key, form=signing_form)
        if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
            raise ConfigurationError(
                "base_url must be an absolute http(s) URL", setting="base_url", vendor=VENDOR
            )
        self.base_url = base_url.rstrip("/")
        self._max_pages = _check_max_pages(max_pages, setting=True)
        self._clock: Clock = check_clock(clock, vendor=VENDOR) or SystemClock()
        self._nonce = check_callable(nonce_factory, setting="nonce_factory", vendor=VENDOR)
        check_callable(sleep, setting="sleep", vendor=VENDOR)
        check_timeout(timeout, vendor=VENDOR)
        if retry is not None:
            check_instance(retry, RetryPolicy, setting="retry", vendor=VENDOR)
        self._secrets = (api_key_from(api_key),)

    @property
    def app_id(self) -> str:
        """The App Id this client signs as."""
        return self._signer.app_id

    # A new object with its own settings; what it was given to talk to the world (clock, nonce) is shared.
    __deepcopy__ = sharing_deepcopy("_clock", "_nonce")

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}(app_id={self.app_id!r}, base_url={self.base_url!r})"

    # -- the calls, as data ----------------------------------------------------------------------

    def _sign(self, method: str, url: str, _body: bytes) -> Mapping[str, str]:
        nonce = self._nonce()
        header = self._signer.authorization(
            method=method, url=url, timestamp=int(self._clock.time()), nonce=nonce
        )
        return {"Authorization": header}

    def _get_call(
        self, path: str, params: list[tuple[str, str]], *, read: Callable[[HttpResponse], _T]
    ) -> _Call[_T]:
        return _Call("GET", self.base_url + path, read=read, params=dict(params), sign=self._sign)

    def _participant_pager(
        self,
        course_id: str,
        where: ParticipantFilter | None,
        page_size: int | None,
        backward: bool,
        max_pages: int | None,
    ) -> _Pager[ParticipantPage]:
        course_id = _id("course_id", "courseid", course_id)
        params = _list_params(where, PARTICIPANT_FILTERS, page_size, backward, "where")
        cap = self._max_pages if max_pages is None else _check_max_pages(max_pages, setting=False)
        path = f"/api/course/{_segment(course_id)}/participants"
        return _Pager(self, path, params, cap, parse_participant_page)

    def _session_pager(  # noqa: PLR0917 - private, called in one place each
        self,
        course_id: str,
        activity_id: str | None,
        where: SessionFilter | None,
        page_size: int | None,
        backward: bool,
        max_pages: int | None,
    ) -> _Pager[SessionPage]:
        course_id = _id("course_id", "courseid", course_id)
        params = _list_params(where, SESSION_FILTERS, page_size, backward, "where")
        if activity_id is not None:
            params.insert(0, ("activityid", _id("activity_id", "activityid", activity_id)))
        cap = self._max_pages if max_pages is None else _check_max_pages(max_pages, setting=False)
        path = f"/api/course/{_segment(course_id)}/participantsessions"
        return _Pager(self, path, params, cap, parse_session_page)

    def _participant_call(self, participant_identifier: str, course_id: str) -> _Call[Participant]:
        params = [
            (
                "participantidentifier",
                _id("participant_identifier", "participantidentifier", participant_identifier),
            ),
            ("courseid", _id("course_id", "courseid", course_id)),
        ]

        def read(response: HttpResponse) -> Participant:
            data = response.json()
            if data is None or data == {}:
                raise NotFoundError(
                    f"Integrity Advocate has no participant {participant_identifier!r} in course "
                    f"{course_id!r}",
                    vendor=VENDOR,
                    status_code=response.status_code,
                    method="GET",
                    url=response.url,
                )
            return parse_participant(data)

        return self._get_call("/api/participant", params, read=read)

    @staticmethod
    def _confirmed(callback: ReviewCallback | Participant) -> tuple[str, str]:
        participant = callback.participant if isinstance(callback, ReviewCallback) else callback
        if participant.course_id is None:
            raise ValidationError(
                "the callback names no course id, so it cannot be confirmed",
                field="Course_Id",
                reason="missing",
                vendor=VENDOR,
            )
        return participant.participant_identifier, participant.course_id

    def _status_call(
        self, participant_identifier: str, course_id: str, activity_id: str
    ) -> _Call[ParticipantStatusResult]:
        params = [
            (
                "participantidentifier",
                _id("participant_identifier", "participantidentifier", participant_identifier),
            ),
            ("courseid", _id("course_id", "courseid", course_id)),
            ("activityid", _id("activity_id", "activityid", activity_id)),
        ]
        return self._get_call(
            "/api/2-0/participantstatus", params, read=lambda r: parse_participant_status(r.json())
        )

    def _override_body(
        self, status: OverrideStatus, reason: str, overrider: Overrider, when: datetime | None
    ) -> bytes:
        if not isinstance(status, OverrideStatus):
            raise ValidationError(
                "status must be OverrideStatus.VALID or OverrideStatus.INVALID",
                field="Override_Status",
                reason="bad status",
                vendor=VENDOR,
            )
        if not isinstance(overrider, Overrider):
            raise ValidationError(
                "overrider must be an Overrider",
                field="Override_LMSUser_Id",
                reason="missing",
                vendor=VENDOR,
            )
        _id("reason", "Override_Reason", reason)
        _id("overrider.user_id", "Override_LMSUser_Id", overrider.user_id)
        _id("overrider.first_name", "Override_LMSUser_FirstName", overrider.first_name)
        _id("overrider.last_name", "Override_LMSUser_LastName", overrider.last_name)
        if when is not None and (not isinstance(when, datetime) or when.tzinfo is None):
            raise ValidationError(
                "when must be a timezone-aware datetime",
                field="Override_Date",
                reason="naive datetime",
                vendor=VENDOR,
            )
        seconds = int(when.timestamp()) if when is not None else int(self._clock.time())
        return canonical_json(
            override_wire(status=status, reason=reason, overrider=overrider, seconds=seconds)
        )

    def _override_participant_call(  # noqa: PLR0917 - private, called in one place each
        self,
        participant_identifier: str,
        course_id: str,
        status: OverrideStatus,
        reason: str,
        overrider: Overrider,
        when: datetime | None,
    ) -> _Call[Participant | None]:
        pid = _id("participant_identifier", "participantidentifier", participant_identifier)
        cid = _id("course_id", "courseid", course_id)
        body = self._override_body(status, reason, overrider, when)
        return _Call(
            "PATCH",
            f"{self.base_url}/api/participant/{_segment(pid)}-{_segment(cid)}",
            read=lambda r: parse_participant(r.json()) if r.body.strip() else None,
            headers={"Content-Type": "application/json"},
            body=body,
            sign=self._sign,
            retry=False,
        )

    def _override_sessions_call(  # noqa: PLR0917 - private, called in one place each
        self,
        participant_identifier: str,
        course_id: str,
        activity_id: str,
        status: OverrideStatus,
        reason: str,
        overrider: Overrider,
        when: datetime | None,
    ) -> _Call[None]:
        params = {
            "courseid": _id("course_id", "courseid", course_id),
            "activityid": _id("activity_id", "activityid", activity_id),
            "participantidentifier": _id(
                "participant_identifier", "participantidentifier", participant_identifier
            ),
        }
        body = self._override_body(status, reason, overrider, when)
        return _Call(
            "PATCH",
            f"{self.base_url}/api/participantsessions",
            read=lambda _r: None,
            params=params,
            headers={"Content-Type": "application/json"},
            body=body,
            sign=self._sign,
            retry=False,
        )

    def _end_session_call(
        self, participant_identifier: str, course_id: str, activity_id: str | None
    ) -> _Call[EndSessionResult]:
        params = {
            "appid": self.app_id,
            "courseid": _id("course_id", "courseid", course_id),
            "participantidentifier": _id(
                "participant_identifier", "participantidentifier", participant_identifier
            ),
        }
        if activity_id is not None:
            params["activityid"] = _id("activity_id", "activityid", activity_id)

        def remap(exc: ApiError) -> ApiError | None:
            if not isinstance(exc, ServerError) or exc.status_code != 500:
                return None
            return ServerError(
                f"Integrity Advocate could not process the end-session request (500) for GET "
                f"{exc.url}: its documents say a 500 here means a problem with the request: check "
                "that the app id, course id, participant identifier"
                + (" and activity id" if activity_id is not None else "")
                + " are correct (examkit URL-encodes them)",
                vendor=VENDOR,
                status_code=500,
                method="GET",
                url=exc.url,
                response_excerpt=exc.response_excerpt,
            )

        return _Call(
            "GET",
            f"{self.base_url}/participants/endsession",
            read=_end_result,
            params=params,
            retry=False,
            expected=(404,),
            remap=remap,
        )

    def _ping_call(self) -> _Call[bool]:
        return _Call(
            "GET",
            f"{self.base_url}/ping",
            read=lambda r: r.text.strip().strip('"').lower() == "healthy",
        )


class IntegrityAdvocateClient(_IntegrityAdvocateCalls):
    """A client for Integrity Advocate's REST API.

    Args:
        app_id: Your App Id (a GUID).
        api_key: Your API key (base64 text of 41 to 50 characters).
        base_url: The vendor's host (default ``https://ca.integrityadvocateserver.com``).
        session: A :class:`requests.Session` to send through (proxies, certificates, test fakes).
        timeout: Seconds to connect and read, or a ``(connect, read)`` pair.
        retry: The retry policy for GET requests (PATCH is never retried).
        clock: Tells the time for the ``amx`` timestamp (tests inject a fixed one).
        nonce_factory: Makes each request's nonce (default: 32 random hex characters).
        signing_form: The canonical URI form to sign (default: no query, encode then lower-case).
        max_pages: The default page cap of every listing (default 250).
        deadline: The longest one attempt may take in all, in seconds (default 60; see
            :data:`~examkit.core.DEFAULT_DEADLINE`).
        max_response_bytes: The largest answer read, in bytes after decompression (default 10 MiB;
            see :data:`~examkit.core.DEFAULT_MAX_RESPONSE_BYTES`).

    Raises:
        ConfigurationError: The app id is not a GUID, the API key is not base64 of the documented
            length, or another setting is wrong. Raised here, not on the first call.
    """

    def __init__(
        self,
        *,
        app_id: str,
        api_key: SecretInput,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        nonce_factory: Callable[[], str] = new_nonce,
        signing_form: CanonicalForm = DEFAULT_REQUEST_FORM,
        max_pages: int = DEFAULT_MAX_PAGES,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._setup(
            app_id=app_id,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            clock=clock,
            nonce_factory=nonce_factory,
            signing_form=signing_form,
            max_pages=max_pages,
            sleep=sleep,
        )
        check_session(session, vendor=VENDOR)
        self._transport = Transport(
            vendor=VENDOR,
            session=session,
            timeout=timeout,
            retry=retry,
            secrets=self._secrets,
            sleep=sleep,
            clock=self._clock.time,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )

    @classmethod
    def from_env(cls, **settings: Unpack[_SyncSettings]) -> IntegrityAdvocateClient:
        """Build a client from ``EXAMKIT_IA_APP_ID`` and ``EXAMKIT_IA_API_KEY``.

        Other settings pass through as keyword arguments (those of the constructor).

        Raises:
            ConfigurationError: A variable is missing or has the wrong form.
        """
        return cls(
            app_id=env_setting("EXAMKIT_IA_APP_ID", vendor=VENDOR),
            api_key=env_setting("EXAMKIT_IA_API_KEY", vendor=VENDOR),
            **settings,
        )

    def close(self) -> None:
        """Close the HTTP session if the client made it."""
        self._transport.close()

    def __enter__(self) -> IntegrityAdvocateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pages(self, pager: _Pager[_P]) -> Iterator[_P]:
        while True:
            page = self._transport.run(pager.call())
            yield page
            if not pager.advance(page):
                return

    def iter_participant_pages(
        self,
        course_id: str,
        *,
        where: ParticipantFilter | None = None,
        page_size: int | None = None,
        backward: bool = False,
        max_pages: int | None = None,
    ) -> Iterator[ParticipantPage]:
        """Yield a course's participants page by page, lazily.

        Calls ``GET /api/course/{courseid}/participants``.

        Args:
            course_id: Your course id.
            where: One filter set: :class:`ModifiedSince`, :class:`ByName`, :class:`ByStatus`,
                :class:`ByEmail` or :class:`ByExternalUserId`. The vendor accepts one per call, so
                the type admits only one.
            page_size: 1 to 10 rows per page (``limit``); the vendor's default (10) when ``None``.
            backward: Search backwards (``backwardsearch=true``).
            max_pages: The page cap for this listing (default: the client's).

        Raises:
            ValidationError: A bad argument, before any request.
            PageLimitError: The cap was reached while more pages were offered.
            ApiError: A request failed.
        """
        return self._pages(self._participant_pager(course_id, where, page_size, backward, max_pages))

    def iter_participants(
        self,
        course_id: str,
        *,
        where: ParticipantFilter | None = None,
        page_size: int | None = None,
        backward: bool = False,
        max_pages: int | None = None,
    ) -> Iterator[Participant]:
        """Yield a course's participants one by one, fetching pages as needed.

        Arguments and errors are those of :meth:`iter_participant_pages`. Listed participants
        carry no sessions; use :meth:`get_participant` for those.
        """
        pages = self.iter_participant_pages(
            course_id, where=where, page_size=page_size, backward=backward, max_pages=max_pages
        )
        return (participant for page in pages for participant in page.participants)

    def iter_session_pages(
        self,
        course_id: str,
        *,
        activity_id: str | None = None,
        where: SessionFilter | None = None,
        page_size: int | None = None,
        backward: bool = False,
        max_pages: int | None = None,
    ) -> Iterator[SessionPage]:
        """Yield a course's participant sessions page by page, lazily.

        Calls ``GET /api/course/{courseid}/participantsessions``.

        Args:
            course_id: Your course id.
            activity_id: Only sessions of this activity (combines with any filter set).
            where: One filter set: :class:`ByName`, :class:`ByStatus` or :class:`ByParticipant`.
            page_size: 1 to 10 rows per page.
            backward: Search backwards.
            max_pages: The page cap for this listing.

        Raises:
            ValidationError: A bad argument, before any request.
            PageLimitError: The cap was reached while more pages were offered.
            ApiError: A request failed.
        """
        return self._pages(self._session_pager(course_id, activity_id, where, page_size, backward, max_pages))

    def iter_sessions(
        self,
        course_id: str,
        *,
        activity_id: str | None = None,
        where: SessionFilter | None = None,
        page_size: int | None = None,
        backward: bool = False,
        max_pages: int | None = None,
    ) -> Iterator[ParticipantSession]:
        """Yield a course's participant sessions one by one (see :meth:`iter_session_pages`)."""
        pages = self.iter_session_pages(
            course_id,
            activity_id=activity_id,
            where=where,
            page_size=page_size,
            backward=backward,
            max_pages=max_pages,
        )
        return (session for page in pages for session in page.sessions)

    def get_participant(self, participant_identifier: str, course_id: str) -> Participant:
        """Return one participant with all sessions, flags and captures (``GET /api/participant``).

        Raises:
            ValidationError: An empty or unprintable id.
            NotFoundError: The vendor knows no such participant (404, or an empty ``{}`` answer).
            ApiError: The request failed.
            PayloadError: The answer is not a participant.
        """
        return self._transport.run(self._participant_call(participant_identifier, course_id))

    def confirm_callback(self, callback: ReviewCallback | Participant) -> Participant:
        """Re-fetch the participant a review callback describes, to confirm what it claims.

        The callback's signature does not cover its body; the participant returned here comes
        from an authenticated API call. Compare, or simply use, its ``effective_status``.

        Raises:
            NotFoundError: The vendor knows no such participant (the callback was not genuine).
            ApiError: The request failed.
        """
        return self.get_participant(*self._confirmed(callback))

    def participant_status(
        self, participant_identifier: str, course_id: str, activity_id: str
    ) -> ParticipantStatusResult:
        """Return a participant's status in one activity (``GET /api/2-0/participantstatus``).

        Raises:
            ValidationError: An empty or unprintable id.
            NotFoundError: No such participant or activity.
            ApiError: The request failed.
        """
        return self._transport.run(self._status_call(participant_identifier, course_id, activity_id))

    def override_participant(
        self,
        participant_identifier: str,
        course_id: str,
        *,
        status: OverrideStatus,
        reason: str,
        overrider: Overrider,
        when: datetime | None = None,
    ) -> Participant | None:
        """Override the vendor's ruling on a participant; never retried automatically.

        Calls ``PATCH /api/participant/{participantidentifier}-{courseid}``.

        Args:
            participant_identifier: The participant.
            course_id: The course.
            status: ``OverrideStatus.VALID`` or ``OverrideStatus.INVALID``.
            reason: Why (required by the vendor).
            overrider: The user in your system performing the override.
            when: The override's time (default: the client's clock).

        Returns:
            The updated participant, or ``None`` when the vendor answered with an empty body.

        Raises:
            ValidationError: A bad argument, before any request.
            NotFoundError: No such participant.
            ApiError: The request failed; it was not retried, so check the participant before trying
                again.
        """
        return self._transport.run(
            self._override_participant_call(
                participant_identifier, course_id, status, reason, overrider, when
            )
        )

    def override_sessions(
        self,
        participant_identifier: str,
        course_id: str,
        activity_id: str,
        *,
        status: OverrideStatus,
        reason: str,
        overrider: Overrider,
        when: datetime | None = None,
    ) -> None:
        """Override the ruling on a participant's sessions in one activity; never retried.

        Calls ``PATCH /api/participantsessions``.

        Arguments are those of :meth:`override_participant`, plus the activity.

        Raises:
            ValidationError: A bad argument, before any request.
            NotFoundError: No such participant or sessions.
            ApiError: The request failed (not retried).
        """
        self._transport.run(
            self._override_sessions_call(
                participant_identifier, course_id, activity_id, status, reason, overrider, when
            )
        )

    def end_session(
        self, participant_identifier: str, course_id: str, activity_id: str | None = None
    ) -> EndSessionResult:
        """End a participant's session and send it for review (``GET /participants/endsession``).

        This call is not signed: it carries the App Id only. It is never retried (a retry after a
        lost answer would report "nothing to close").

        Returns:
            ``EndSessionResult.CLOSED`` on 200, ``EndSessionResult.NOTHING_TO_CLOSE`` on 404
            (no such app, participant or open session; also when it was already closed).

        Raises:
            ValidationError: An empty or unprintable id.
            ServerError: 500: the vendor's documents say the input values are wrong or not
                URL-encoded (the message says so).
            ApiError: Any other failure.
        """
        return self._transport.run(self._end_session_call(participant_identifier, course_id, activity_id))

    def ping(self) -> bool:
        """Return whether the vendor's health check (``GET /ping``, unsigned) answers ``healthy``.

        Raises:
            ApiError: The request failed.
        """
        return self._transport.run(self._ping_call())


class AsyncIntegrityAdvocateClient(_IntegrityAdvocateCalls):
    """A client for Integrity Advocate's REST API from asyncio code, through ``httpx`` (extra ``async``).

    The twin of :class:`IntegrityAdvocateClient`: the same arguments (``client``, an
    ``httpx.AsyncClient``, instead of ``session``; ``sleep`` is a coroutine function), the same
    signed requests, results and errors. Listings are async iterators (``async for``) with the same
    exclusive filter types; overrides are never retried; ending a session is not retried either.
    Use it as an async context manager (``async with``) or call :meth:`aclose`.

    Raises:
        ConfigurationError: A setting is wrong; raised here, not on the first call.
    """

    def __init__(
        self,
        *,
        app_id: str,
        api_key: SecretInput,
        base_url: str = DEFAULT_BASE_URL,
        client: httpx.AsyncClient | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        nonce_factory: Callable[[], str] = new_nonce,
        signing_form: CanonicalForm = DEFAULT_REQUEST_FORM,
        max_pages: int = DEFAULT_MAX_PAGES,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._setup(
            app_id=app_id,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            clock=clock,
            nonce_factory=nonce_factory,
            signing_form=signing_form,
            max_pages=max_pages,
            sleep=sleep,
        )
        from examkit.core._transport_async import AsyncTransport  # noqa: PLC0415 - httpx only here

        self._transport: AsyncTransport = AsyncTransport(
            vendor=VENDOR,
            client=client,
            timeout=timeout,
            retry=retry,
            secrets=self._secrets,
            clock=self._clock.time,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            sleep=sleep,
        )

    @classmethod
    def from_env(cls, **settings: Unpack[_AsyncSettings]) -> AsyncIntegrityAdvocateClient:
        """Build a client from ``EXAMKIT_IA_APP_ID`` and ``EXAMKIT_IA_API_KEY``.

        Other settings pass through as keyword arguments (those of the constructor).

        Raises:
            ConfigurationError: A variable is missing or has the wrong form.
        """
        return cls(
            app_id=env_setting("EXAMKIT_IA_APP_ID", vendor=VENDOR),
            api_key=env_setting("EXAMKIT_IA_API_KEY", vendor=VENDOR),
            **settings,
        )

    async def aclose(self) -> None:
        """Close the ``httpx.AsyncClient`` if the client made it."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncIntegrityAdvocateClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _pages(self, pager: _Pager[_P]) -> AsyncIterator[_P]:
        while True:
            page = await self._transport.run(pager.call())
            yield page
            if not pager.advance(page):
                return

    def iter_participant_pages(
        self,
        course_id: str,
        *,
        where: ParticipantFilter | None = None,
        page_size: int | None = None,
        backward: bool = False,
        max_pages: int | None = None,
    ) -> AsyncIterator[ParticipantPage]:
        """Yield a course's participants page by page, lazily, as an async iterator (``async for``).

        Calls ``GET /api/course/{courseid}/participants``.

        Args:
            course_id: Your course id.
            where: One filter set: :class:`ModifiedSince`, :class:`ByName`, :class:`ByStatus`,
                :class:`ByEmail` or :class:`ByExternalUserId`. The vendor accepts one per call, so
                the type admits only one.
            page_size: 1 to 10 rows per page (``limit``); the vendor's default (10) when ``None``.
            backward: Search backwards (``backwardsearch=true``).
            max_pages: The page cap for this listing (default: the client's).

        Raises:
            ValidationError: A bad argument, before any request.
            PageLimitError: The cap was reached while more pages were offered.
            ApiError: A request failed.
        """
        return self._pages(self._participant_pager(course_id, where, page_size, backward, max_pages))

    async def iter_participants(
        self,
        course_id: str,
        *,
        where: ParticipantFilter | None = None,
        page_size: int | None = None,
        backward: bool = False,
        max_pages: int | None = None,
    ) -> AsyncIterator[Participant]:
        """Yield a course's participants one by one (``async for``), fetching pages as needed.

        Arguments and errors are those of :meth:`iter_participant_pages`; a bad argument raises at
        the first ``async for`` step, before any request.
        """
        pages = self.iter_participant_pages(
            course_id, where=where, page_size=page_size, backward=backward, max_pages=max_pages
        )
        async for page in pages:
            for participant in page.participants:
                yield participant

    def iter_session_pages(
        self,
        course_id: str,
        *,
        activity_id: str | None = None,
        where: SessionFilter | None = None,
        page_size: int | None = None,
        backward: bool = False,
        max_pages: int | None = None,
    ) -> AsyncIterator[SessionPage]:
        """Yield a course's participant sessions page by page, lazily, as an async iterator.

        Calls ``GET /api/course/{courseid}/participantsessions``.

        Args:
            course_id: Your course id.
            activity_id: Only sessions of this activity (combines with any filter set).
            where: One filter set: :class:`ByName`, :class:`ByStatus` or :class:`ByParticipant`.
            page_size: 1 to 10 rows per page.
            backward: Search backwards.
            max_pages: The page cap for this listing.

        Raises:
            ValidationError: A bad argument, before any request.
            PageLimitError: The cap was reached while more pages were offered.
            ApiError: A request failed.
        """
        return self._pages(self._session_pager(course_id, activity_id, where, page_size, backward, max_pages))

    async def iter_sessions(
        self,
        course_id: str,
        *,
        activity_id: str | None = None,
        where: SessionFilter | None = None,
        page_size: int | None = None,
        backward: bool = False,
        max_pages: int | None = None,
    ) -> AsyncIterator[ParticipantSession]:
        """Yield a course's participant sessions one by one (see :meth:`iter_session_pages`)."""
        pages = self.iter_session_pages(
            course_id,
            activity_id=activity_id,
            where=where,
            page_size=page_size,
            backward=backward,
            max_pages=max_pages,
        )
        async for page in pages:
            for session in page.sessions:
                yield session

    async def get_participant(self, participant_identifier: str, course_id: str) -> Participant:
        """Return one participant with all sessions, flags and captures (``GET /api/participant``).

        Raises:
            ValidationError: An empty or unprintable id.
            NotFoundError: The vendor knows no such participant (404, or an empty ``{}`` answer).
            ApiError: The request failed.
            PayloadError: The answer is not a participant.
        """
        return await self._transport.run(self._participant_call(participant_identifier, course_id))

    async def confirm_callback(self, callback: ReviewCallback | Participant) -> Participant:
        """Re-fetch the participant a review callback describes, to confirm what it claims.

        The callback's signature does not cover its body; the participant returned here comes
        from an authenticated API call. Compare, or simply use, its ``effective_status``.

        Raises:
            NotFoundError: The vendor knows no such participant (the callback was not genuine).
            ApiError: The request failed.
        """
        return await self.get_participant(*self._confirmed(callback))

    async def participant_status(
        self, participant_identifier: str, course_id: str, activity_id: str
    ) -> ParticipantStatusResult:
        """Return a participant's status in one activity (``GET /api/2-0/participantstatus``).

        Raises:
            ValidationError: An empty or unprintable id.
            NotFoundError: No such participant or activity.
            ApiError: The request failed.
        """
        return await self._transport.run(self._status_call(participant_identifier, course_id, activity_id))

    async def override_participant(
        self,
        participant_identifier: str,
        course_id: str,
        *,
        status: OverrideStatus,
        reason: str,
        overrider: Overrider,
        when: datetime | None = None,
    ) -> Participant | None:
        """Override the vendor's ruling on a participant; never retried automatically.

        Calls ``PATCH /api/participant/{participantidentifier}-{courseid}``.

        Args:
            participant_identifier: The participant.
            course_id: The course.
            status: ``OverrideStatus.VALID`` or ``OverrideStatus.INVALID``.
            reason: Why (required by the vendor).
            overrider: The user in your system performing the override.
            when: The override's time (default: the client's clock).

        Returns:
            The updated participant, or ``None`` when the vendor answered with an empty body.

        Raises:
            ValidationError: A bad argument, before any request.
            NotFoundError: No such participant.
            ApiError: The request failed; it was not retried, so check the participant before trying
                again.
        """
        return await self._transport.run(
            self._override_participant_call(
                participant_identifier, course_id, status, reason, overrider, when
            )
        )

    async def override_sessions(
        self,
        participant_identifier: str,
        course_id: str,
        activity_id: str,
        *,
        status: OverrideStatus,
        reason: str,
        overrider: Overrider,
        when: datetime | None = None,
    ) -> None:
        """Override the ruling on a participant's sessions in one activity; never retried.

        Calls ``PATCH /api/participantsessions``.

        Arguments are those of :meth:`override_participant`, plus the activity.

        Raises:
            ValidationError: A bad argument, before any request.
            NotFoundError: No such participant or sessions.
            ApiError: The request failed (not retried).
        """
        await self._transport.run(
            self._override_sessions_call(
                participant_identifier, course_id, activity_id, status, reason, overrider, when
            )
        )

    async def end_session(
        self, participant_identifier: str, course_id: str, activity_id: str | None = None
    ) -> EndSessionResult:
        """End a participant's session and send it for review (``GET /participants/endsession``).

        This call is not signed: it carries the App Id only. It is never retried (a retry after a
        lost answer would report "nothing to close").

        Returns:
            ``EndSessionResult.CLOSED`` on 200, ``EndSessionResult.NOTHING_TO_CLOSE`` on 404
            (no such app, participant or open session; also when it was already closed).

        Raises:
            ValidationError: An empty or unprintable id.
            ServerError: 500: the vendor's documents say the input values are wrong or not
                URL-encoded (the message says so).
            ApiError: Any other failure.
        """
        return await self._transport.run(
            self._end_session_call(participant_identifier, course_id, activity_id)
        )

    async def ping(self) -> bool:
        """Return whether the vendor's health check (``GET /ping``, unsigned) answers ``healthy``.

        Raises:
            ApiError: The request failed.
        """
        return await self._transport.run(self._ping_call())


def _end_result(response: HttpResponse) -> EndSessionResult:
    if response.status_code == 404:
        return EndSessionResult.NOTHING_TO_CLOSE
    return EndSessionResult.CLOSED


def _check_max_pages(value: object, *, setting: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        message = "max_pages must be a positive integer"
        if setting:
            raise ConfigurationError(message, setting="max_pages", vendor=VENDOR)
        raise ValidationError(message, field="max_pages", reason="bad page cap", vendor=VENDOR)
    return value


def _list_params(
    where: object, allowed: tuple[type, ...], page_size: int | None, backward: bool, name: str
) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if where is not None:
        if not isinstance(where, allowed):
            names = ", ".join(cls.__name__ for cls in allowed)
            raise ValidationError(
                f"{name} must be one of {names} (one filter set per call), not {type(where).__name__}",
                field=name,
                reason="bad filter",
                vendor=VENDOR,
            )
        params.extend(where.query())  # type: ignore[attr-defined]
    if page_size is not None:
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 10:
            raise ValidationError(
                "page_size must be 1 to 10", field="limit", reason="bad page size", vendor=VENDOR
            )
        params.append(("limit", str(page_size)))
    if not isinstance(backward, bool):
        raise ValidationError(
            "backward must be True or False",
            field="backwardsearch",
            reason="not a bool",
            vendor=VENDOR,
        )
    if backward:
        params.append(("backwardsearch", "true"))
    return params
