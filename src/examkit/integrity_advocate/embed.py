"""The proctoring script: its URL, a safe ``<script>`` tag, its browser events, and ending a session.

Integrity Advocate proctors a page through one script, loaded from ``/participants/integrity``
with the participant's details in the query string. Every value is percent-encoded here
(RFC 3986: everything but letters, digits and ``- . _ ~``), as the vendor requires, and the tag
is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from examkit.core._checks import check_choice
from examkit.core._enums import StrEnum
from examkit.core.encoding import PercentEncoding, percent_encode
from examkit.core.errors import ConfigurationError, ValidationError
from examkit.integrity_advocate.models import VENDOR
from examkit.integrity_advocate.signing import validate_app_id

__all__ = [
    "DEFAULT_BASE_URL",
    "BrowserEvent",
    "build_end_session_script",
    "build_script_tag",
    "build_script_url",
]

DEFAULT_BASE_URL: Final = "https://ca.integrityadvocateserver.com"
"""The vendor's host (the only one found in public sources)."""

SCRIPT_PATH: Final = "/participants/integrity"
"""The path of the proctoring script."""

DEFAULT_CALLBACK_PARAMETER: Final = "reviewcallback"
"""The query parameter that carries the review callback URL, as the vendor's page names it."""

_MAX_VALUE: Final = 2000


class BrowserEvent(StrEnum):
    """The DOM events the proctoring script raises on ``document``, in the order they occur.

    Listen for them in your page, for example
    ``document.addEventListener("IA_Ready", () => startQuiz())``.
    """

    LOADED = "IA_Loaded"
    """The proctoring panel has loaded, before the participant is asked for photos."""
    CAMERA_LIVE = "IA_CameraLive"
    """The participant granted camera access and the feed started."""
    CAMERA_ERROR = "IA_CameraError"
    """The camera could not be accessed."""
    PRIVACY_POLICY_REVIEWED = "IA_PrivacyPolicyReviewed"
    """The participant confirmed reading the privacy policy."""
    USER_PHOTO_PREVIEW = "IA_UserPhotoPreview"
    """The participant took a snapshot of themselves."""
    USER_PHOTO_SUBMIT = "IA_UserPhotoSubmit"
    """The participant submitted that snapshot."""
    USER_PHOTO_ACCEPT = "IA_UserPhotoAccept"
    """The snapshot was accepted for review."""
    PHOTO_ID_PREVIEW = "IA_PhotoID1Preview"
    """The participant took a snapshot of their government-issued photo ID."""
    PHOTO_ID_SUBMIT = "IA_PhotoID1Submit"
    """The participant submitted the ID snapshot."""
    PHOTO_ID_ACCEPT = "IA_PhotoID1Accept"
    """The ID snapshot was accepted (with an ID-only app, the activity may start here)."""
    STREAM = "IA_Stream"
    """Monitoring of the participant's activity began."""
    READY = "IA_Ready"
    """Every Integrity Advocate task is done: the participant may start the activity."""


def _required(name: str, field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{name} is required and must be non-empty text",
            field=field,
            reason="missing",
            vendor=VENDOR,
        )
    return _checked(name, field, value)


def _checked(name: str, field: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text", field=field, reason="not text", vendor=VENDOR)
    if len(value) > _MAX_VALUE or not value.isprintable():
        raise ValidationError(
            f"{name} must be printable text of at most {_MAX_VALUE} characters",
            field=field,
            reason="bad value",
            vendor=VENDOR,
        )
    return value


def _http_url(value: str, *, field: str, setting: bool) -> str:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:  # an invalid IPv6 host, for example
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        message = f"{field} must be an absolute http(s) URL"
        if setting:
            raise ConfigurationError(message, setting=field, vendor=VENDOR)
        raise ValidationError(message, field=field, reason="not a URL", vendor=VENDOR)
    return value


def build_script_url(
    *,
    app_id: str,
    participant_identifier: str,
    course_id: str,
    first_name: str,
    last_name: str,
    email: str,
    activity_id: str | None = None,
    external_user_id: str | None = None,
    review_callback: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    callback_parameter: str = DEFAULT_CALLBACK_PARAMETER,
) -> str:
    """Return the proctoring script URL for one participant.

    Args:
        app_id: Your App Id (a GUID).
        participant_identifier: Uniquely identifies the participant in your system.
        course_id: The course (or activity) the participant is completing.
        first_name: Matched against the photo ID by the reviewers.
        last_name: Matched against the photo ID by the reviewers.
        email: Where the participant is told the outcome.
        activity_id: The activity within the course, for tracking.
        external_user_id: Any id of yours, to search by later.
        review_callback: The absolute URL Integrity Advocate posts the participant to after review.
        base_url: The vendor's host.
        callback_parameter: The query parameter for ``review_callback``
            (``"reviewcallback"`` per the vendor's page; one public integration uses
            ``"statusreviewcallback"``).

    Raises:
        ConfigurationError: The app id or base URL is wrong.
        ValidationError: A required value is missing, a value is not printable text, or the callback
            is not an absolute http(s) URL.

    >>> build_script_url(app_id="00000000-1111-2222-3333-444444444444",
    ...     participant_identifier="u 1",
    ...     course_id="c1", first_name="Zoë", last_name="O'Neil", email="z@example.com")[:80]
    'https://ca.integrityadvocateserver.com/participants/integrity?appid=00000000-111'
    """
    app_id = validate_app_id(app_id)
    base = _http_url(base_url, field="base_url", setting=True).rstrip("/")
    check_choice(
        callback_parameter,
        ("reviewcallback", "statusreviewcallback"),
        setting="callback_parameter",
        vendor=VENDOR,
    )
    params: list[tuple[str, str]] = [
        ("appid", app_id),
        (
            "participantidentifier",
            _required("participant_identifier", "participantidentifier", participant_identifier),
        ),
        ("courseid", _required("course_id", "courseid", course_id)),
        ("participantfirstname", _required("first_name", "participantfirstname", first_name)),
        ("participantlastname", _required("last_name", "participantlastname", last_name)),
        ("participantemail", _required("email", "participantemail", email)),
    ]
    if activity_id is not None:
        params.append(("activityid", _required("activity_id", "activityid", activity_id)))
    if external_user_id is not None:
        params.append(("externaluserid", _required("external_user_id", "externaluserid", external_user_id)))
    if review_callback is not None:
        callback = _required("review_callback", callback_parameter, review_callback)
        params.append((callback_parameter, _http_url(callback, field=callback_parameter, setting=False)))
    query = "&".join(f"{name}={percent_encode(value, PercentEncoding.RFC3986)}" for name, value in params)
    return f"{base}{SCRIPT_PATH}?{query}"


def build_script_tag(
    *,
    app_id: str,
    participant_identifier: str,
    course_id: str,
    first_name: str,
    last_name: str,
    email: str,
    activity_id: str | None = None,
    external_user_id: str | None = None,
    review_callback: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    callback_parameter: str = DEFAULT_CALLBACK_PARAMETER,
) -> str:
    """Return ``<script src="..." async></script>`` for :func:`build_script_url`, HTML-escaped.

    Place it just before ``</body>`` on every proctored page. The URL is per participant: do not
    cache the tag across users. Arguments and errors are those of :func:`build_script_url`.
    """
    url = build_script_url(
        app_id=app_id,
        participant_identifier=participant_identifier,
        course_id=course_id,
        first_name=first_name,
        last_name=last_name,
        email=email,
        activity_id=activity_id,
        external_user_id=external_user_id,
        review_callback=review_callback,
        base_url=base_url,
        callback_parameter=callback_parameter,
    )
    return f'<script src="{html.escape(url, quote=True)}" async></script>'


_JS_NAME_RE: Final = re.compile(r"\A[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*\Z", re.ASCII)
_ELEMENT_ID_RE: Final = re.compile(r"\A[A-Za-z][A-Za-z0-9_:.\-]{0,127}\Z", re.ASCII)
_CSP_NONCE_RE: Final = re.compile(r"\A[A-Za-z0-9+/_=\-]{1,128}\Z", re.ASCII)
_END_FUNCTION: Final = "examkitEndIntegrityAdvocateSession"

# The script body; %(...)s slots receive JSON values made safe for a <script> element (see _js). It
# holds no '<' of its own, so nothing in it can read as markup.
_END_SESSION_JS: Final = """(function () {
  var events = %(events)s, handler = %(handler)s, button = %(button)s, next = %(next)s;
  function notify(name, event) {
    var target = handler ? handler.split(".").reduce(function (obj, key) {
      return obj ? obj[key] : undefined;
    }, window) : null;
    if (typeof target === "function") { target(name, event); }
  }
  events.forEach(function (name) {
    document.addEventListener(name, function (event) { notify(name, event); });
  });
  window.%(end)s = function (done) {
    var finish = function () { if (typeof done === "function") { done(); } };
    var ia = window.IntegrityAdvocate;
    if (ia && typeof ia.endSession === "function") { ia.endSession(finish); } else { finish(); }
  };
  if (button) {
    document.addEventListener("click", function (event) {
      var el = event.target && event.target.closest ? event.target.closest("#" + button) : null;
      if (!el) { return; }
      event.preventDefault();
      window.%(end)s(function () { if (next) { window.location.assign(next); } });
    });
  }
})();"""


def _js(value: object) -> str:
    # JSON is valid JavaScript; escaping <, >, & and the JS line separators keeps the value from
    # closing the <script> element or starting markup, whatever the text holds.
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _matching(value: object, pattern: re.Pattern[str], *, field: str, expected: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ValidationError(f"{field} must be {expected}", field=field, reason="bad value", vendor=VENDOR)
    return value


def _next_url(value: str) -> str:
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return _checked("next_url", "next_url", value)
    return _http_url(_checked("next_url", "next_url", value), field="next_url", setting=False)


def build_end_session_script(
    *,
    button_id: str | None = None,
    next_url: str | None = None,
    on_event: str | None = None,
    events: Sequence[BrowserEvent] = tuple(BrowserEvent),
    csp_nonce: str | None = None,
) -> str:
    """Return a ``<script>`` that ends the session from the browser and listens for the ``IA_*`` events.

    The vendor names two required ways to end a session and send it for review: the API call
    (``IntegrityAdvocateClient.end_session``) and ``window.IntegrityAdvocate.endSession()`` in the
    page. This snippet defines ``window.examkitEndIntegrityAdvocateSession(done)``, which calls
    ``endSession(done)`` when the proctoring script offers it (only for activities enabled on the
    vendor's side) and otherwise calls ``done()`` straight away. Place it after the tag of
    :func:`build_script_tag`.

    Args:
        button_id: The id of an element (your "Finish" button) whose click ends the session; ``None``
            to call the function yourself.
        next_url: Where to go once the session has ended, after a click on ``button_id``: an absolute
            http(s) URL or a path starting with ``/``.
        on_event: The name of a global JavaScript function (``"app.onProctoring"``) called as
            ``fn(name, event)`` for each event in ``events``.
        events: The :class:`BrowserEvent` values listened for (default: all of them).
        csp_nonce: A Content-Security-Policy nonce for the ``<script>`` element.

    Every value is checked and written as an escaped JSON literal, so no text given here can close
    the ``<script>`` element or run as code.

    Raises:
        ValidationError: A value has the wrong form (``next_url`` with another scheme, for example).

    >>> tag = build_end_session_script(button_id="finish", next_url="/done", on_event="app.onIa")
    >>> tag.startswith("<script>") and "window.IntegrityAdvocate" in tag and '"IA_Ready"' in tag
    True
    """
    names = [
        _matching(
            button_id,
            _ELEMENT_ID_RE,
            field="button_id",
            expected="an HTML id (a letter, then letters, digits, _ : . -)",
        )
        if button_id is not None
        else None,
        _next_url(next_url) if next_url is not None else None,
        _matching(
            on_event, _JS_NAME_RE, field="on_event", expected="a JavaScript function name such as app.onEvent"
        )
        if on_event is not None
        else None,
    ]
    if isinstance(events, str) or not isinstance(events, Sequence):
        raise ValidationError(
            "events must be a sequence of BrowserEvent", field="events", reason="bad value", vendor=VENDOR
        )
    known = {str(member) for member in BrowserEvent}
    chosen = [str(event) for event in events if isinstance(event, str) and str(event) in known]
    if len(chosen) != len(events):
        raise ValidationError(
            "events must be BrowserEvent values", field="events", reason="bad value", vendor=VENDOR
        )
    attributes = ""
    if csp_nonce is not None:
        nonce = _matching(csp_nonce, _CSP_NONCE_RE, field="csp_nonce", expected="a base64 CSP nonce")
        attributes = f' nonce="{html.escape(nonce, quote=True)}"'
    body = _END_SESSION_JS % {
        "events": _js([str(e) for e in chosen]),
        "handler": _js(names[2]),
        "button": _js(names[0]),
        "next": _js(names[1]),
        "end": _END_FUNCTION,
    }
    return f"<script{attributes}>\n{body}\n</script>"
