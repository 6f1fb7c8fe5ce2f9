"""An in-process fake of Integrity Advocate's API, and signed review callbacks for your tests.

:class:`FakeIntegrityAdvocate` answers the real
:class:`~examkit.integrity_advocate.IntegrityAdvocateClient` through a :mod:`requests`
transport adapter (no network). It checks every ``amx`` signature (app id, key, timestamp
within ``DEFAULT_TOLERANCE`` of its clock, nonce not reused), serves paginated participants and
sessions from the records you give it, applies overrides, and ends sessions::

    fake = FakeIntegrityAdvocate()
    fake.add_participants(make_participant(str(i), "course-1") for i in range(25))
    client = fake.client()
    assert len(list(client.iter_participants("course-1"))) == 25

:func:`signed_review_callback` builds a correctly signed review callback for your own webhook tests.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

import requests

from examkit.core.clock import DEFAULT_TOLERANCE, Clock, FixedClock
from examkit.core.encoding import canonical_json
from examkit.core.errors import WebhookVerificationError
from examkit.core.signing import SecretInput
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrity_advocate import (
    DEFAULT_BASE_URL,
    AmxVerifier,
    AsyncIntegrityAdvocateClient,
    CanonicalForm,
    IntegrityAdvocateClient,
    Participant,
    sign_request,
)
from examkit.integrity_advocate._ids import check_id as _id
from examkit.integrity_advocate._ids import path_segment
from examkit.integrity_advocate.models import to_wire
from examkit.integrity_advocate.signing import new_nonce
from examkit.testing._faults import FaultInjection, _FollowingClock
from examkit.testing.http import FakeHttpAdapter, FakeRequest, FakeResponse

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEMO_NOW",
    "FakeIntegrityAdvocate",
    "make_participant",
    "make_session",
    "signed_review_callback",
]

DEMO_APP_ID: Final = "00000000-1111-2222-3333-444444444444"
"""A made-up App Id for tests and the demo."""

DEMO_API_KEY: Final = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
"""A made-up API key for tests and the demo (the bytes 0 to 31, base64)."""

DEMO_NOW: Final = 1_700_000_000
"""The fake's default clock reading (Unix seconds)."""

EndMarker = Literal["empty", "null", "none", "repeat"]
"""How the fake marks the last page: ``NextToken`` ``""``, the string ``"null"``, JSON ``null``,
or the token of the request repeated."""

_STATUS_FILTER: Final = {"InProgress": "In Progress"}


def make_participant(
    participant_identifier: str,
    course_id: str,
    *,
    first_name: str = "Jean",
    last_name: str = "Grey",
    email: str | None = None,
    status: str = "In Progress",
    modified: int = DEMO_NOW - 3600,
    sessions: Iterable[Mapping[str, Any]] = (),
    **extra: Any,
) -> dict[str, Any]:
    """Return a participant record in the vendor's JSON shape (the vendor's key names).

    Extra keyword arguments are added as they are (use the vendor's key names).
    """
    record: dict[str, Any] = {
        "Course_Id": course_id,
        "Created": str(modified - 600),
        "Email": email or f"{participant_identifier}@example.org",
        "FirstName": first_name,
        "LastName": last_name,
        "Modified": str(modified),
        "Override_Date": "-1",
        "Override_LMSUser_FirstName": None,
        "Override_LMSUser_LastName": None,
        "Override_LMSUser_Id": None,
        "Override_Reason": None,
        "Override_Status": None,
        "Participant_Photo": "",
        "ParticipantIdentifier": participant_identifier,
        "ResubmitUrl": None,
        "Status": status,
        "Sessions": [dict(s) for s in sessions],
    }
    record.update(extra)
    return record


def make_session(
    activity_id: str,
    *,
    status: str = "In Progress",
    start: int = DEMO_NOW - 1800,
    end: int | None = None,
    session_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a session record in the vendor's JSON shape (``End`` ``"0"`` while not ended)."""
    record: dict[str, Any] = {
        "Activity_Id": activity_id,
        "Click_IAmHere_Count": 0,
        "End": "0" if end is None else str(end),
        "Exit_Fullscreen_Count": 0,
        "Id": session_id or new_nonce(),
        "Participant_Photo": "",
        "Start": str(start),
        "Status": status,
        "Override_Status": None,
        "Override_Date": "-1",
        "Flags": [],
    }
    record.update(extra)
    return record


async def _no_wait(_seconds: float) -> None:
    return None


def _error(status: int, message: str) -> FakeResponse:
    return FakeResponse(status, {"Message": message})


class FakeIntegrityAdvocate(FaultInjection):
    """An in-process fake of Integrity Advocate's REST API.

    Args:
        app_id: The App Id requests must be signed as.
        api_key: The API key requests must be signed with.
        base_url: The host the fake serves.
        clock: The fake's clock. By default it follows the client's: the system clock (what a client
            built by hand reads) until :meth:`client` makes one, then that client's clock (fixed at
            :data:`DEMO_NOW` unless you pass ``clock=``). A clock given here is also the clock of
            :meth:`client`.
        tolerance: Allowed ``amx`` timestamp difference in seconds
            (:data:`~examkit.core.DEFAULT_TOLERANCE`).
        end_marker: How the last page is marked (``"empty"``, ``"null"``, ``"none"`` or ``"repeat"``).

    Attributes:
        adapter: The underlying :class:`~examkit.testing.http.FakeHttpAdapter` (its
            ``requests`` list records every call).
        ended: ``(participant_identifier, course_id, activity_id)`` of every session ended.
    """

    def __init__(
        self,
        *,
        app_id: str = DEMO_APP_ID,
        api_key: SecretInput = DEMO_API_KEY,
        base_url: str = DEFAULT_BASE_URL,
        clock: Clock | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        end_marker: EndMarker = "empty",
    ) -> None:
        self.app_id = app_id
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self._following = _FollowingClock()
        self._own_clock = clock
        self.clock: Clock = clock or self._following
        self.end_marker: EndMarker = end_marker
        self._verifier = AmxVerifier(
            app_id=app_id,
            api_key=api_key,
            tolerance=tolerance,
            clock=self.clock,
            replay_guard=InMemoryReplayGuard(clock=self.clock),
        )
        self.adapter = FakeHttpAdapter(self.base_url)
        self._participants: dict[tuple[str, str], dict[str, Any]] = {}
        self._external: dict[tuple[str, str], str] = {}
        self._courses: dict[str, list[str]] = {}
        self._open: set[tuple[str, str, str | None]] = set()
        self.ended: list[tuple[str, str, str | None]] = []
        a = self.adapter
        a.route("GET", "/api/participant", self._faulty(self._get_participant))
        a.route("PATCH", "/api/participantsessions", self._faulty(self._patch_sessions))
        a.route("GET", "/api/2-0/participantstatus", self._faulty(self._participant_status))
        a.route("GET", "/participants/endsession", self._faulty(self._end_session))
        a.route("GET", "/ping", self._faulty(lambda _: FakeResponse(200, "healthy")))

    # -- set-up ------------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """Return a :class:`requests.Session` served by this fake."""
        return self.adapter.session()

    def client(self, **settings: Any) -> IntegrityAdvocateClient:
        """Return a client wired to this fake (same credentials and host; the clocks agree).

        Settings pass through as keyword arguments.
        """
        # The client's clock: the fake's own, else the one given, else fixed at DEMO_NOW (so signed
        # headers are reproducible); a fake without a clock of its own follows it.
        settings.setdefault("clock", self._own_clock or FixedClock(DEMO_NOW))
        if self._own_clock is None:
            self._following.follow(settings["clock"])
        settings.setdefault("sleep", lambda _: None)
        return IntegrityAdvocateClient(
            app_id=self.app_id,
            api_key=self._api_key,
            base_url=self.base_url,
            session=self.session(),
            **settings,
        )

    def httpx_client(self) -> httpx.AsyncClient:
        """Return an ``httpx.AsyncClient`` served by this fake (the async twin of :meth:`session`)."""
        return self.adapter.httpx_client()

    def async_client(self, **settings: Any) -> AsyncIntegrityAdvocateClient:
        """Return an async client wired to this fake (same credentials, host and clock).

        Settings pass through as keyword arguments.
        """
        settings.setdefault("clock", self.clock)
        settings.setdefault("sleep", _no_wait)
        return AsyncIntegrityAdvocateClient(
            app_id=self.app_id,
            api_key=self._api_key,
            base_url=self.base_url,
            client=self.httpx_client(),
            **settings,
        )

    def add_course(self, course_id: str) -> None:
        """Make a course known (its lists answer, empty).

        Raises:
            ValidationError: The id is one the client refuses to send (empty, blank, not printable).
        """
        _id("course_id", "courseid", course_id)
        if course_id in self._courses:
            return
        self._courses[course_id] = []
        enc = path_segment(course_id)
        self.adapter.route(
            "GET",
            f"/api/course/{enc}/participants",
            self._faulty(lambda r: self._list(r, course_id, False)),
        )
        self.adapter.route(
            "GET",
            f"/api/course/{enc}/participantsessions",
            self._faulty(lambda r: self._list(r, course_id, True)),
        )

    def add_participant(
        self, record: Mapping[str, Any] | Participant, *, external_user_id: str | None = None
    ) -> None:
        """Add (or replace) a participant: a vendor-shaped record or a model.

        See :func:`make_participant` for the record's shape.

        Raises:
            ValidationError: An id is one the client refuses to send (empty, blank, not printable),
                so the participant could never be read back.
        """
        data = to_wire(record) if isinstance(record, Participant) else copy.deepcopy(dict(record))
        data.setdefault("Sessions", [])
        pid, cid = str(data["ParticipantIdentifier"]), str(data["Course_Id"])
        _id("participant_identifier", "participantidentifier", pid)
        _id("course_id", "courseid", cid)
        self.add_course(cid)
        if (cid, pid) not in self._participants:
            self._courses[cid].append(pid)
            self.adapter.route(
                "PATCH",
                f"/api/participant/{path_segment(pid)}-{path_segment(cid)}",
                self._faulty(lambda r: self._patch_participant(r, cid, pid)),
            )
        self._participants[(cid, pid)] = data
        if external_user_id is not None:
            self._external[(cid, pid)] = external_user_id

    def add_participants(self, records: Iterable[Mapping[str, Any] | Participant]) -> None:
        """Add several participants."""
        for record in records:
            self.add_participant(record)

    def open_session(
        self, participant_identifier: str, course_id: str, activity_id: str | None = None
    ) -> None:
        """Mark a session as open, so ending it answers 200 (once)."""
        self._open.add((participant_identifier, course_id, activity_id))

    def record(self, participant_identifier: str, course_id: str) -> dict[str, Any]:
        """Return a copy of the stored vendor record of a participant."""
        return copy.deepcopy(self._participants[(course_id, participant_identifier)])

    # -- handlers ----------------------------------------------------------------------------------

    def _authorized(self, request: FakeRequest) -> FakeResponse | None:
        try:
            self._verifier.verify(
                request.headers.get("Authorization"), method=request.method, url=request.url
            )
        except WebhookVerificationError as exc:
            return _error(401, f"Unauthorized: {exc.reason}")
        return None

    def _list(self, request: FakeRequest, course_id: str, sessions: bool) -> FakeResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        q = request.query
        try:
            limit = int(q.get("limit", "10"))
        except ValueError:
            return _error(400, "limit must be an integer")
        if not 1 <= limit <= 10:
            return _error(400, "limit must be 1 to 10")
        rows = self._session_rows(course_id, q) if sessions else self._participant_rows(course_id, q)
        if q.get("backwardsearch") == "true":
            rows.reverse()
        token = q.get("nexttoken")
        offset = 0
        if token is not None:
            try:
                position = json.loads(token)
                offset = int(position["Offset"])
            except (ValueError, KeyError, TypeError):
                return _error(400, "nexttoken is not a token this server issued")
        page = rows[offset : offset + limit]
        following: str | None
        if offset + limit < len(rows):
            following = json.dumps({"Offset": str(offset + limit), "Course_Id": course_id})
        elif self.end_marker == "empty":
            following = ""
        elif self.end_marker == "null":
            following = "null"
        elif self.end_marker == "none":
            following = None
        else:
            following = token if token is not None else ""
        key = "ParticipantSessions" if sessions else "Participants"
        return FakeResponse(
            200,
            {
                "IsFirstPage": token is None,
                "BackwardSearch": q.get("backwardsearch") == "true",
                "NextToken": following,
                key: page,
            },
        )

    def _participant_rows(self, course_id: str, q: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = []
        for pid in self._courses.get(course_id, []):
            p = self._participants[(course_id, pid)]
            if "lastmodified" in q and not int(p["Modified"]) > int(q["lastmodified"]):
                continue
            if not self._matches(p, q):
                continue
            if "externaluserid" in q and self._external.get((course_id, pid)) != q["externaluserid"]:
                continue
            row = {k: v for k, v in p.items() if k != "Sessions"}
            row["Token"] = json.dumps({"Modified": p["Modified"], "ParticipantIdentifier": pid})
            row["SortValue"] = p["Modified"]
            rows.append(row)
        return rows

    @staticmethod
    def _matches(row: Mapping[str, Any], q: Mapping[str, str]) -> bool:
        if "lastname" in q and str(row.get("LastName", "")).lower() != q["lastname"].lower():
            return False
        if "firstname" in q and str(row.get("FirstName", "")).lower() != q["firstname"].lower():
            return False
        if "status" in q and row.get("Status") != _STATUS_FILTER.get(q["status"], q["status"]):
            return False
        return not ("email" in q and str(row.get("Email", "")).lower() != q["email"].lower())

    def _session_rows(self, course_id: str, q: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = []
        for pid in self._courses.get(course_id, []):
            p = self._participants[(course_id, pid)]
            if "participantidentifier" in q and q["participantidentifier"] != pid:
                continue
            for s in p["Sessions"]:
                if "activityid" in q and s.get("Activity_Id") != q["activityid"]:
                    continue
                row = {k: v for k, v in s.items() if k not in ("Flags", "Id")}
                row.update(
                    ParticipantIdentifier=pid,
                    Course_Id=course_id,
                    Email=p.get("Email"),
                    FirstName=p.get("FirstName"),
                    LastName=p.get("LastName"),
                )
                if self._matches(row, q):
                    rows.append(row)
        return rows

    def _find(self, q: Mapping[str, str]) -> dict[str, Any] | None:
        return self._participants.get((q.get("courseid", ""), q.get("participantidentifier", "")))

    def _get_participant(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        participant = self._find(request.query)
        if participant is None:
            return _error(404, "participant not found")
        return FakeResponse(200, participant)

    def _participant_status(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        participant = self._find(request.query)
        activity = request.query.get("activityid")
        if participant is None or not activity:
            return _error(404, "participant not found")
        sessions = [s for s in participant["Sessions"] if s.get("Activity_Id") == activity]
        if not sessions:
            return _error(404, "no session for this activity")
        last = sessions[-1]
        return FakeResponse(
            200, {"Status": last.get("Status"), "Override_Status": last.get("Override_Status")}
        )

    def _override(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        try:
            body = json.loads(request.body)
        except ValueError:
            return _error(400, "the body is not JSON")
        required = (
            "Override_Date",
            "Override_Status",
            "Override_Reason",
            "Override_LMSUser_FirstName",
            "Override_LMSUser_LastName",
            "Override_LMSUser_Id",
        )
        if not isinstance(body, dict) or any(not body.get(k) for k in required):
            return _error(400, "every Override_* field is required")
        if body["Override_Status"] not in ("Valid", "Invalid"):
            return _error(400, "Override_Status must be Valid or Invalid")
        return {k: body[k] for k in required}

    def _patch_participant(self, request: FakeRequest, course_id: str, pid: str) -> FakeResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        change = self._override(request)
        if isinstance(change, FakeResponse):
            return change
        participant = self._participants[(course_id, pid)]
        participant.update(change)
        participant["Modified"] = str(int(self.clock.time()))
        return FakeResponse(200, participant)

    def _patch_sessions(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        change = self._override(request)
        if isinstance(change, FakeResponse):
            return change
        participant = self._find(request.query)
        activity = request.query.get("activityid")
        sessions = [s for s in (participant or {}).get("Sessions", []) if s.get("Activity_Id") == activity]
        if participant is None or not sessions:
            return _error(404, "no sessions for this participant and activity")
        for session in sessions:
            session.update(change)
        participant["Modified"] = str(int(self.clock.time()))
        return FakeResponse(200, b"")

    def _end_session(self, request: FakeRequest) -> FakeResponse:
        q = request.query
        if not q.get("appid") or not q.get("courseid") or not q.get("participantidentifier"):
            return _error(500, "appid, courseid and participantidentifier are required")
        if q["appid"] != self.app_id:
            return _error(404, "no such app")
        key = (q["participantidentifier"], q["courseid"], q.get("activityid"))
        if key not in self._open:
            return _error(404, "no open session")
        self._open.discard(key)
        self.ended.append(key)
        return FakeResponse(200, b"")


def signed_review_callback(
    participant: Mapping[str, Any] | Participant,
    *,
    url: str,
    app_id: str = DEMO_APP_ID,
    api_key: SecretInput = DEMO_API_KEY,
    timestamp: int | None = None,
    nonce: str | None = None,
    header: str = "Authorization",
    form: CanonicalForm | None = None,
) -> WebhookRequest:
    """Return a review callback POST as Integrity Advocate would send it, correctly signed.

    Args:
        participant: The participant to post: a vendor-shaped record or a model.
        url: The callback URL (as registered with ``reviewcallback``).
        app_id: The App Id to sign as.
        api_key: The API key to sign with.
        timestamp: Unix seconds (default: now).
        nonce: The nonce (default: random).
        header: Where to put the ``amx`` value (``"Redirect-Http-Authorization"`` mimics a proxy).
        form: The canonical URI form to sign (default: the URL without its query).
    """
    data = to_wire(participant) if isinstance(participant, Participant) else dict(participant)
    authorization = sign_request(
        app_id=app_id,
        api_key=api_key,
        method="POST",
        url=url,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        nonce=new_nonce() if nonce is None else nonce,
        form=form or CanonicalForm(),
    )
    return WebhookRequest(
        body=canonical_json(data),
        headers={header: authorization, "Content-Type": "application/json"},
        url=url,
        method="POST",
    )
