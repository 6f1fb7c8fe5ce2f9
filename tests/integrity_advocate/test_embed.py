"""The proctoring script URL and tag, and the browser events."""

from __future__ import annotations

import pytest

from examkit.core.errors import ConfigurationError, ValidationError
from examkit.integrity_advocate import (
    BrowserEvent,
    build_end_session_script,
    build_script_tag,
    build_script_url,
)

APP_ID = "00000000-1111-2222-3333-444444444444"
REQUIRED = {
    "app_id": APP_ID,
    "participant_identifier": "123456",
    "course_id": "name@email.com",
    "first_name": "John",
    "last_name": "Smith",
    "email": "name@email.com",
}


def test_url_with_required_values() -> None:
    assert build_script_url(**REQUIRED) == (
        "https://ca.integrityadvocateserver.com/participants/integrity?appid="
        + APP_ID
        + "&participantidentifier=123456&courseid=name%40email.com&participantfirstname=John"
        "&participantlastname=Smith&participantemail=name%40email.com"
    )


def test_url_with_optional_values_all_encoded() -> None:
    url = build_script_url(
        **{**REQUIRED, "first_name": "Zoë Ann", "last_name": "O'Neil&Co"},
        activity_id="quiz 1",
        external_user_id="ext/9",
        review_callback="https://www.yourdomain.com/pathtoprocessparticipant",
    )
    assert "participantfirstname=Zo%C3%AB%20Ann" in url
    assert "participantlastname=O%27Neil%26Co" in url
    assert url.endswith(
        "&activityid=quiz%201&externaluserid=ext%2F9"
        "&reviewcallback=https%3A%2F%2Fwww.yourdomain.com%2Fpathtoprocessparticipant"
    )


def test_callback_parameter_setting_and_base_url() -> None:
    url = build_script_url(
        **REQUIRED,
        review_callback="https://x.example/cb",
        callback_parameter="statusreviewcallback",
        base_url="https://eu.example.test/",
    )
    assert url.startswith("https://eu.example.test/participants/integrity?")
    assert "&statusreviewcallback=https%3A%2F%2Fx.example%2Fcb" in url
    with pytest.raises(ConfigurationError):
        build_script_url(**REQUIRED, callback_parameter="cb")
    with pytest.raises(ConfigurationError):
        build_script_url(**REQUIRED, base_url="ftp://x")


@pytest.mark.parametrize("field", ["participant_identifier", "course_id", "first_name", "last_name", "email"])
def test_missing_required_value_is_validation_error(field: str) -> None:
    with pytest.raises(ValidationError):
        build_script_url(**{**REQUIRED, field: ""})
    with pytest.raises(ValidationError):
        build_script_url(**{**REQUIRED, field: None})  # type: ignore[arg-type]


def test_bad_callback_and_values() -> None:
    with pytest.raises(ValidationError):
        build_script_url(**REQUIRED, review_callback="/relative/path")
    with pytest.raises(ValidationError):
        build_script_url(**{**REQUIRED, "first_name": "a\nb"})
    with pytest.raises(ConfigurationError):
        build_script_url(**{**REQUIRED, "app_id": "XXXXX-XXXXX-XXXXX"})


def test_tag_is_html_safe() -> None:
    tag = build_script_tag(**{**REQUIRED, "last_name": '"><script>alert(1)</script>'})
    assert tag.startswith('<script src="https://ca.integrityadvocateserver.com/participants/integrity?appid=')
    assert tag.endswith('" async></script>')
    assert tag.count("<script") == 1
    assert "&amp;participantidentifier=123456" in tag


def test_browser_events_in_documented_order() -> None:
    assert [e.value for e in BrowserEvent] == [
        "IA_Loaded",
        "IA_CameraLive",
        "IA_CameraError",
        "IA_PrivacyPolicyReviewed",
        "IA_UserPhotoPreview",
        "IA_UserPhotoSubmit",
        "IA_UserPhotoAccept",
        "IA_PhotoID1Preview",
        "IA_PhotoID1Submit",
        "IA_PhotoID1Accept",
        "IA_Stream",
        "IA_Ready",
    ]


# -- ending the session from the browser (issue 18) -------------------------------------------------

HOSTILE = [
    "</script><script>alert(1)</script>",
    "\u2028alert(1)//",
    '"; alert(1); "',
    "<!--",
    "&amp;",
]


def test_end_session_snippet_calls_the_vendor_and_listens_for_every_event() -> None:
    tag = build_end_session_script(button_id="finish", next_url="/quiz/done", on_event="app.onProctoring")
    assert tag.startswith("<script>\n")
    assert tag.endswith("\n</script>")
    assert "window.IntegrityAdvocate" in tag
    assert "ia.endSession(finish)" in tag
    assert "window.examkitEndIntegrityAdvocateSession = function (done)" in tag
    for name in (
        "IA_Loaded",
        "IA_CameraLive",
        "IA_CameraError",
        "IA_PrivacyPolicyReviewed",
        "IA_UserPhotoPreview",
        "IA_UserPhotoSubmit",
        "IA_UserPhotoAccept",
        "IA_PhotoID1Preview",
        "IA_PhotoID1Submit",
        "IA_PhotoID1Accept",
        "IA_Stream",
        "IA_Ready",
    ):  # the twelve events of the vendor's page, in its order
        assert f'"{name}"' in tag
    assert '"finish"' in tag
    assert '"/quiz/done"' in tag
    assert '"app.onProctoring"' in tag
    only = build_end_session_script(events=[BrowserEvent.READY])
    assert '["IA_Ready"]' in only
    assert "IA_Stream" not in only
    assert 'nonce="abc123=="' in build_end_session_script(csp_nonce="abc123==")


@pytest.mark.parametrize("value", HOSTILE)
def test_end_session_snippet_is_html_safe(value: str) -> None:
    # A hostile value in the one free-text slot (a path) is escaped; everywhere else it is refused.
    tag = build_end_session_script(next_url="/done?x=" + value.replace("\u2028", "%E2%80%A8"))
    body = tag[len("<script>") : -len("</script>")]
    assert "</script" not in body.lower()
    assert "<" not in body
    assert "<!--" not in body
    for field in ("button_id", "on_event", "csp_nonce"):
        with pytest.raises(ValidationError):
            build_end_session_script(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        build_end_session_script(next_url=value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"next_url": "javascript:alert(1)"},
        {"next_url": "//evil.example/"},
        {"next_url": "data:text/html,x"},
        {"events": "IA_Ready"},
        {"events": ["IA_Nope"]},
        {"events": [1]},
        {"button_id": "1abc"},
        {"on_event": "a..b"},
    ],
)
def test_end_session_snippet_refuses_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        build_end_session_script(**kwargs)  # type: ignore[arg-type]
