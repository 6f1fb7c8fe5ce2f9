"""Registration validation: the vendor's rules and wording, and its example's own mistakes."""

from __future__ import annotations

import contextlib
import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import ValidationError
from examkit.itep import (
    Education,
    FieldOfStudy,
    FulfillmentRequest,
    Gender,
    Registration,
    RegistrationError,
)
from examkit.itep.registration import check_registration, parse_birthday

# The vendor's example request body, copied from the document (line breaks of the PDF removed).
# It has one closing brace too many; examkit's tests drop it to read the rest.
VENDOR_EXAMPLE = (
    '{"product-code": "STX-Academic-Plus","email":"tfatout2@proton.me","bcc":"twif_bam@yahoo.com",'
    '"track":"RC","sequence":3,"assigned-to": {"expire": "2024-09-01","student-name":'
    '"Mary Poppins",'
    '"customer-candidate-id":9810283,"sequence":3},"registration":{"Last_Name":"Poppins",'
    '"First_Name":"Mary","Email":"m.poppins@disney.com","Birthday": "1955-07-08","OIN": '
    '"123-456-7890","OIN_Country": "US","OIN_Type": "1","Address":"10119 Popular Lane",'
    '"City":"Los Angeles","Field_Of_Study":"Biology"}}}'
)


def vendor_example() -> dict[str, object]:
    with pytest.raises(json.JSONDecodeError):
        json.loads(VENDOR_EXAMPLE)  # the extra brace
    data = json.loads(VENDOR_EXAMPLE[:-1])
    assert isinstance(data, dict)
    return data


def test_vendor_example_registration_is_caught_field_by_field() -> None:
    registration = vendor_example()["registration"]
    assert isinstance(registration, dict)
    problems = {p.field: p.message for p in check_registration(registration)}
    # "1955-07-08" is read as D-M-YYYY (three numbers joined by "-"): day 1955 is out of range.
    assert problems == {
        "Birthday": "Out of range Birth Day [1955]",
        "Field_Of_Study": "Invalid Study Field [Biology]",
    }
    with pytest.raises(RegistrationError) as info:
        Registration.from_mapping(registration)
    assert info.value.field == "Birthday"
    assert info.value.reason == "Out of range Birth Day [1955]"
    assert "Invalid Study Field [Biology]" in str(info.value)
    assert isinstance(info.value, ValidationError)


def test_vendor_example_request_is_refused_before_sending_and_keeps_sequence() -> None:
    data = vendor_example()
    registration = data.pop("registration")
    assert isinstance(registration, dict)
    with pytest.raises(RegistrationError):
        FulfillmentRequest(
            product_code="STX-Academic-Plus",
            email="tfatout2@proton.me",
            registration=registration,
        )
    fixed = {**registration, "Birthday": "7/8/1955", "Field_Of_Study": "Science"}
    request = FulfillmentRequest(
        product_code=str(data["product-code"]),
        email=str(data["email"]),
        bcc=str(data["bcc"]),
        track=str(data["track"]),
        assigned_to=data["assigned-to"],  # type: ignore[arg-type]
        registration=fixed,
        extra={"sequence": data["sequence"]},
    )
    sent = json.loads(request.body())
    assert sent["sequence"] == 3
    assert sent["registration"]["Birthday"] == "7/8/1955"
    assert list(sent) == [
        "product-code",
        "email",
        "bcc",
        "track",
        "sequence",
        "assigned-to",
        "registration",
    ]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"DOB_Month": 13}, "DOB_Month", "Out of range Birth Month [13]"),
        ({"DOB_Month": "0"}, "DOB_Month", "Out of range Birth Month [0]"),
        ({"DOB_Month": "Jan"}, "DOB_Month", "Out of range Birth Month [Jan]"),
        ({"DOB_Day": 32}, "DOB_Day", "Out of range Birth Day [32]"),
        ({"DOB_Year": 1900}, "DOB_Year", "Out of range Birth Year [1900]"),
        ({"Birthday": "x"}, "Birthday", "Unable to parse Birth Date [x]"),
        ({"Birthday": "7/8"}, "Birthday", "Unable to parse Birth Date [7/8]"),
        ({"Birthday": "7/8-1990"}, "Birthday", "Unable to parse Birth Date [7/8-1990]"),
        ({"Birthday": "13/1/2000"}, "Birthday", "Out of range Birth Month [13]"),
        ({"Birthday": "1-13-2000"}, "Birthday", "Out of range Birth Month [13]"),
        ({"Birthday": "2/32/2000"}, "Birthday", "Out of range Birth Day [32]"),
        ({"Birthday": "1/1/1900"}, "Birthday", "Out of range Birth Year [1900]"),
        ({"Gender": "x"}, "Gender", "Invalid Gender [x]"),
        ({"Education": "PhD"}, "Education", "Invalid Education [PhD]"),
        ({"Field_Of_Study": "Biology"}, "Field_Of_Study", "Invalid Study Field [Biology]"),
    ],
)
def test_each_documented_rule_uses_the_vendor_wording(
    fields: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(RegistrationError) as info:
        Registration.from_mapping(fields)
    assert (info.value.field, info.value.reason) == (field, message)


def test_choices_are_case_insensitive_and_sent_canonically() -> None:
    registration = Registration.from_mapping(
        {"Gender": "mAlE", "Education": "bachelor's degree", "Field_Of_Study": "other languages"}
    )
    assert registration.gender is Gender.MALE
    assert registration.education is Education.BACHELORS_DEGREE
    assert registration.field_of_study is FieldOfStudy.OTHER_LANGUAGES
    assert registration.to_json() == {
        "Gender": "Male",
        "Education": "Bachelor's Degree",
        "Field_Of_Study": "Other Languages",
    }


def test_birthday_formats() -> None:
    assert parse_birthday("7/8/1955") == (1955, 7, 8)
    assert parse_birthday("8-7-1955") == (1955, 7, 8)
    assert parse_birthday(date(1955, 7, 8)) == (1955, 7, 8)
    assert Registration(birthday=date(1955, 7, 8)).to_json() == {"Birthday": "7/8/1955"}
    assert Registration(birthday="8-7-1955").to_json() == {"Birthday": "8-7-1955"}
    with pytest.raises(RegistrationError, match=r"Out of range Birth Year \[1900\]"):
        Registration(birthday=date(1900, 1, 1))


def test_unknown_and_miscased_names() -> None:
    with pytest.raises(RegistrationError) as info:
        Registration.from_mapping({"first_name": "Mary"})
    assert info.value.field == "first_name"
    assert "did you mean First_Name" in str(info.value)
    kept = Registration.from_mapping({"Custom_Field": "x"}, allow_unknown=True)
    assert kept.to_json() == {"Custom_Field": "x"}


def test_all_problems_are_listed_at_once() -> None:
    problems = check_registration({"DOB_Month": 13, "DOB_Day": 0, "Gender": "?", "nope": 1})
    assert [p.field for p in problems] == ["DOB_Month", "DOB_Day", "Gender", "nope"]


# -- properties ---------------------------------------------------------------------------------

out_of_month = st.integers(min_value=-10_000, max_value=0) | st.integers(min_value=13, max_value=10**6)
out_of_day = st.integers(min_value=-10_000, max_value=0) | st.integers(min_value=32, max_value=10**6)
bad_year = st.integers(min_value=0, max_value=1900)


@given(month=out_of_month, as_text=st.booleans())
def test_any_out_of_range_month_is_rejected(month: int, as_text: bool) -> None:
    value: object = str(month) if as_text else month
    with pytest.raises(RegistrationError) as info:
        Registration.from_mapping({"DOB_Month": value})
    assert info.value.reason == f"Out of range Birth Month [{month}]"


@given(day=out_of_day)
def test_any_out_of_range_day_is_rejected(day: int) -> None:
    with pytest.raises(RegistrationError) as info:
        Registration.from_mapping({"DOB_Day": day})
    assert info.value.reason == f"Out of range Birth Day [{day}]"


@given(year=bad_year)
def test_any_year_up_to_1900_is_rejected(year: int) -> None:
    with pytest.raises(RegistrationError) as info:
        Registration.from_mapping({"DOB_Year": year})
    assert info.value.reason == f"Out of range Birth Year [{year}]"


@given(
    month=st.integers(min_value=0, max_value=99),
    day=st.integers(min_value=0, max_value=99),
    year=st.integers(min_value=1000, max_value=2999),
    slash=st.booleans(),
)
def test_birthday_parts_checked_in_the_documented_order(month: int, day: int, year: int, slash: bool) -> None:
    text = f"{month}/{day}/{year}" if slash else f"{day}-{month}-{year}"
    # The vendor lists the checks as: day, then month, then year.
    if not 1 <= day <= 31:
        expected: str | None = f"Out of range Birth Day [{day}]"
    elif not 1 <= month <= 12:
        expected = f"Out of range Birth Month [{month}]"
    elif year <= 1900:
        expected = f"Out of range Birth Year [{year}]"
    else:
        expected = None
    problems = check_registration({"Birthday": text})
    if expected is None:
        assert problems == ()
        assert parse_birthday(text) == (year, month, day)
    else:
        assert [(p.field, p.message) for p in problems] == [("Birthday", expected)]


@given(st.dictionaries(st.text(max_size=12), st.one_of(st.none(), st.integers(), st.text(max_size=12))))
def test_arbitrary_mappings_raise_only_registration_errors(fields: dict[str, object]) -> None:
    with contextlib.suppress(RegistrationError):
        Registration.from_mapping(fields, allow_unknown=True)
