"""The vendor page's sample payloads parse field by field; sentinels, unknown values, data URIs."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import ExamkitError, PayloadError, ValidationError
from examkit.core.serde import load_json
from examkit.integrity_advocate import (
    ByEmail,
    ByName,
    ByStatus,
    EndSessionResult,
    ModifiedSince,
    OverrideStatus,
    ParticipantStatus,
    decode_data_uri,
)
from examkit.integrity_advocate.models import (
    parse_participant,
    parse_participant_page,
    parse_session_page,
    to_wire,
)
from tests.integrity_advocate.samples import PARTICIPANTS_PAGE, REVIEW_CALLBACK, SESSIONS_PAGE


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[arg-type,misc]


def test_single_participant_sample_field_by_field() -> None:
    p = parse_participant(load_json(REVIEW_CALLBACK))
    assert p.course_id == "ZZZZ"
    assert p.created == utc(2020, 4, 13, 20, 13, 22)  # 1586808802
    assert p.email == "jean.grey@xaviersschoolforthegifted.org"
    assert (p.first_name, p.last_name) == ("Jean", "Grey")
    assert p.modified == utc(2020, 4, 13, 21, 33, 37)  # 1586813617
    assert p.override_date is None  # "-1"
    assert p.override_lms_user_first_name is None
    assert p.override_lms_user_last_name is None
    assert p.override_lms_user_id is None
    assert p.override_reason is None
    assert p.override_status is None
    assert p.participant_photo is None  # ""
    assert p.participant_identifier == "XXXXXXXXXXXXX"
    assert p.resubmit_url is not None
    assert p.resubmit_url.startswith(
        "https://www.integrityadvocateserver.com/Participants/ResubmitIDLanding?v=XXX"
    )
    assert p.status is ParticipantStatus.INVALID_ID
    assert p.effective_status is ParticipantStatus.INVALID_ID
    assert not p.is_overridden
    assert len(p.sessions) == 1
    s = p.sessions[0]
    assert s.activity_id == "AAAAAAAA"
    assert s.click_iamhere_count == 0
    assert isinstance(s.click_iamhere_count, int)
    assert s.end == utc(2020, 4, 13, 20, 20, 46)  # 1586809246
    assert s.exit_fullscreen_count == 0
    assert s.id == "XXXXXXXXXXXXXXXXXXXX"
    assert s.participant_photo is None
    assert s.start == utc(2020, 4, 13, 20, 13, 22)
    assert s.status is ParticipantStatus.INVALID_ID
    assert len(s.flags) == 1
    f = s.flags[0]
    assert f.capture_data is None
    assert f.capture_date == utc(2020, 4, 13, 20, 14, 12)  # 1586808852
    assert f.comment is not None
    assert f.comment.startswith('Name on account is "Madelyne Pryor".')
    assert f.created == utc(2020, 4, 13, 21, 33, 23)  # 1586813603
    assert f.id == "34ee9b1a-5d42-4446-8616-096540e03830"
    assert f.flag_type_id == 7
    assert f.flag_type_name == "Name on ID does not match account name"
    assert p.extra == {}


def test_participants_page_sample() -> None:
    page = parse_participant_page(load_json(PARTICIPANTS_PAGE))
    assert page.is_first_page is True
    assert page.backward_search is False
    assert page.next_token == (
        '{"Modified":"1587670298","App_Id":"XXXXXXXXXXXXXXX",'
        '"App_Id+ParticipantIdentifier+Course_Id":"XXXXXXXXXXXXXXX+ZZZZZZZ+CCCC"}'
    )
    (p,) = page.participants
    assert p.course_id == "590"
    assert p.created == utc(2020, 4, 15, 15, 7, 15)  # 1586963235
    assert p.email == "scottsummers@email.com"
    assert (p.first_name, p.last_name) == ("Scott", "Summers")
    assert p.modified == utc(2020, 4, 16, 16, 50, 18)  # 1587055818
    assert p.override_date is None
    assert p.participant_photo == " URI"
    assert p.participant_identifier == "XXXXXXXXX"
    assert p.status is ParticipantStatus.VALID
    assert p.token is not None
    assert p.token.startswith('{"App_Id":"XXXXXXXXXXXXXXX"')
    assert p.sort_value == "1587055818"
    assert p.sessions == ()


def test_sessions_page_sample() -> None:
    page = parse_session_page(load_json(SESSIONS_PAGE))
    assert page.next_token is not None
    assert page.next_token.startswith('{"Id":"XXXXXXXXXXXXXXXX"')
    (s,) = page.sessions
    assert s.activity_id == "35555491"
    assert s.course_id == "590"
    assert s.email == "robert.drake@xaviersschoolforthegifted.org"
    assert (s.first_name, s.last_name) == ("Robert", "Drake")
    assert s.start == utc(2020, 4, 15, 22, 10, 35)  # 1586988635
    assert s.end == utc(2020, 4, 15, 22, 12, 45)  # 1586988765
    assert s.participant_photo is None
    assert s.status is ParticipantStatus.VALID
    assert s.sort_value == "drake+robert+XXXXXXXXXXXXXXXXXX"
    assert s.id is None


def test_sentinels_overrides_and_unknowns() -> None:
    data = json.loads(REVIEW_CALLBACK)
    data["Status"] = "Invalid (Face)"
    data["Override_Status"] = "Valid"
    data["Override_Date"] = "1586900000"
    data["Override_LMSUser_Id"] = "77"
    data["NewVendorField"] = {"x": 1}
    data["Sessions"][0]["End"] = "0"
    data["Sessions"][0]["Status"] = "In Progress"
    data["Sessions"][0]["Flags"] = None
    p = parse_participant(data)
    assert p.status == "Invalid (Face)"
    assert p.override_status is OverrideStatus.VALID
    assert p.effective_status is ParticipantStatus.VALID
    assert p.is_overridden
    assert p.override_date == utc(2020, 4, 14, 21, 33, 20)
    assert p.override_lms_user_id == "77"
    assert p.extra == {"NewVendorField": {"x": 1}}
    assert p.sessions[0].end is None
    assert p.sessions[0].flags == ()
    assert p.sessions[0].status is ParticipantStatus.IN_PROGRESS


def test_to_wire_round_trip() -> None:
    p = parse_participant(load_json(REVIEW_CALLBACK))
    assert parse_participant(json.loads(json.dumps(to_wire(p)))) == p


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("Created", "yesterday", "Created"),
        ("Sessions", "none", "Sessions"),
        ("ParticipantIdentifier", None, "ParticipantIdentifier"),
    ],
)
def test_bad_fields_are_payload_errors(key: str, value: object, field: str) -> None:
    data = json.loads(REVIEW_CALLBACK)
    data[key] = value
    with pytest.raises(PayloadError) as info:
        parse_participant(data)
    assert info.value.field is not None
    assert info.value.field.startswith(field)


def test_counter_must_be_integer() -> None:
    data = json.loads(REVIEW_CALLBACK)
    data["Sessions"][0]["Click_IAmHere_Count"] = "many"
    with pytest.raises(PayloadError) as info:
        parse_participant(data)
    assert info.value.field == "Sessions[0].Click_IAmHere_Count"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=10,
    )
)
def test_arbitrary_json_raises_only_examkit_errors(data: object) -> None:
    with contextlib.suppress(ExamkitError):
        parse_participant(data)


def test_data_uri_helper() -> None:
    decoded = decode_data_uri("data:image/jpeg;base64,/9j/4AAQ")
    assert decoded.media_type == "image/jpeg"
    assert decoded.data == bytes([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10])
    assert decode_data_uri("data:,a%20b").data == b"a b"
    assert decode_data_uri("data:,x").media_type == "text/plain"
    with pytest.raises(ValidationError):
        decode_data_uri("https://example.org/photo.jpg")
    with pytest.raises(ValidationError):
        decode_data_uri("data:image/png;base64,***")


def test_filters_validate_and_build_queries() -> None:
    assert ModifiedSince(utc(2020, 5, 13, 19, 15, 21)).query() == [("lastmodified", "1589397321")]
    assert ModifiedSince(1589397321).query() == [("lastmodified", "1589397321")]
    assert ByName("Smith", "John").query() == [("lastname", "Smith"), ("firstname", "John")]
    assert ByStatus(ParticipantStatus.INVALID_ID).query() == [("status", "Invalid (ID)")]
    assert ByStatus(ParticipantStatus.IN_PROGRESS).query() == [("status", "InProgress")]
    assert ByStatus(ParticipantStatus.IN_PROGRESS, in_progress_value="In Progress").query() == [
        ("status", "In Progress")
    ]
    assert ByEmail("a@b.c").query() == [("email", "a@b.c")]
    with pytest.raises(ValidationError):
        ModifiedSince(datetime(2020, 1, 1))
    with pytest.raises(ValidationError):
        ByName("")
    with pytest.raises(ValidationError):
        ByEmail("a\nb")


def test_statuses_print_and_compare_as_the_vendors_text() -> None:
    # Issue 14: f-strings, str(), == and json.dumps give the vendor's value (it printed as
    # ParticipantStatus.INVALID_ID before).
    p = parse_participant(load_json(REVIEW_CALLBACK))
    assert f"status {p.status}" == "status Invalid (ID)"
    assert str(p.effective_status) == "Invalid (ID)"
    assert p.status == "Invalid (ID)"
    assert (
        json.dumps({"s": ParticipantStatus.VALID, "o": OverrideStatus.INVALID})
        == '{"s": "Valid", "o": "Invalid"}'
    )
    assert str(EndSessionResult.NOTHING_TO_CLOSE) == "nothing_to_close"


def test_an_override_is_unstructured_with_the_vendors_keys() -> None:
    # The keys of the vendor's PATCH participant page; the date as a string of Unix seconds.
    from examkit.core.encoding import canonical_json
    from examkit.integrity_advocate import Overrider
    from examkit.integrity_advocate.models import override_wire

    body = override_wire(
        status=OverrideStatus.VALID,
        reason="ok",
        overrider=Overrider("t-9", "Ada", "Teacher"),
        seconds=1586808802,
    )
    assert canonical_json(body) == (
        b'{"Override_Date":"1586808802","Override_Status":"Valid","Override_Reason":"ok",'
        b'"Override_LMSUser_FirstName":"Ada","Override_LMSUser_LastName":"Teacher","Override_LMSUser_Id":"t-9"}'
    )


def test_null_arrays_read_as_empty_and_other_values_are_kept() -> None:
    flag = {"Id": "f1", "FlagType_Id": 3, "Created": "1586808802"}
    data = {
        "ParticipantIdentifier": "student-42",
        "Sessions": [
            {"Activity_Id": "a1", "Flags": None},
            {"Activity_Id": "a2", "Flags": [flag]},
            {"Activity_Id": "a3"},
        ],
    }
    p = parse_participant(data)
    assert [s.activity_id for s in p.sessions] == ["a1", "a2", "a3"]
    assert p.sessions[0].flags == ()
    assert [f.id for f in p.sessions[1].flags] == ["f1"]
    assert p.sessions[1].flags[0].created == utc(2020, 4, 13, 20, 13, 22)
    assert p.sessions[2].flags == ()
    assert data["Sessions"][0] == {"Activity_Id": "a1", "Flags": None}  # the caller's data is untouched
    assert parse_participant({"ParticipantIdentifier": "s", "Sessions": None}).sessions == ()
    page = parse_participant_page({"Participants": [data]})
    assert page.participants[0].sessions[0].flags == ()
    with pytest.raises(PayloadError) as info:
        parse_participant({"ParticipantIdentifier": "s", "Sessions": [{"Flags": "x"}]})
    assert info.value.field == "Sessions[0].Flags"
