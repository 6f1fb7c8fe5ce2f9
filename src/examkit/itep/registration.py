"""Registration fields for an iTEP test, validated with the vendor's own rules and wording.

iTEP pre-fills the test's registration form from these fields. Its documentation lists the valid
field names and a few rules, each with the exact error message iTEP answers; examkit applies the
same rules before anything is sent and reports the same wording, so a notebook user sees the
problem at once instead of after a round trip:

=================== ===============================================================
rule                message
=================== ===============================================================
DOB_Month 1..12     ``Out of range Birth Month [value]``
DOB_Day 1..31       ``Out of range Birth Day [value]``
DOB_Year > 1900     ``Out of range Birth Year [value]``
Birthday            ``Unable to parse Birth Date [value]`` when not three numbers as
                    M/D/YYYY or D-M-YYYY; then the day, month and year rules above
Gender              ``Invalid Gender [value]``
Education           ``Invalid Education [value]``
Field_Of_Study      ``Invalid Study Field [value]``
=================== ===============================================================
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final, TypeAlias

import attrs

from examkit.core._enums import StrEnum
from examkit.core.errors import ValidationError

__all__ = [
    "Education",
    "FieldOfStudy",
    "Gender",
    "Registration",
    "RegistrationError",
    "RegistrationProblem",
]

_VENDOR: Final = "itep"

Scalar: TypeAlias = "str | int | None"
"""A plain registration value: text or a number, sent unchanged."""


class Gender(StrEnum):
    """The documented ``Gender`` values (matched case-insensitively)."""

    MALE = "Male"
    """Male."""
    FEMALE = "Female"
    """Female."""


class Education(StrEnum):
    """The documented ``Education`` values: the highest level completed (case-insensitive)."""

    MIDDLE_SCHOOL = "Middle School"
    """Middle school."""
    HIGH_SCHOOL = "High School"
    """High school."""
    VOCATIONAL_SCHOOL = "Vocational School"
    """Vocational school."""
    BACHELORS_DEGREE = "Bachelor's Degree"
    """Bachelor's degree."""
    MASTERS_DEGREE = "Master's Degree"
    """Master's degree."""
    DOCTORATE = "Doctorate"
    """Doctorate."""


class FieldOfStudy(StrEnum):
    """The documented ``Field_Of_Study`` values (case-insensitive)."""

    OTHER = "Other"
    """Other."""
    BUSINESS_COMMUNICATION = "Business Communication"
    """Business communication."""
    EDUCATION = "Education"
    """Education."""
    ENGLISH = "English"
    """English."""
    ENGINEERING = "Engineering"
    """Engineering."""
    HISTORY = "History"
    """History."""
    HOSPITALITY = "Hospitality"
    """Hospitality."""
    OTHER_LANGUAGES = "Other Languages"
    """Other languages."""
    MATHEMATICS = "Mathematics"
    """Mathematics."""
    MEDICAL = "Medical"
    """Medical."""
    MUSIC = "Music"
    """Music."""
    POLITICS = "Politics"
    """Politics."""
    RECREATION = "Recreation"
    """Recreation."""
    SCIENCE = "Science"
    """Science."""


@attrs.frozen
class RegistrationProblem:
    """One registration field that iTEP would refuse.

    Attributes:
        field: The field name as the vendor spells it (``"Birthday"``).
        message: The vendor's own error wording (``"Out of range Birth Day [1955]"``).
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class RegistrationError(ValidationError):
    """Registration fields that iTEP would refuse; nothing was sent.

    ``field`` and ``reason`` describe the first problem (``reason`` is the vendor's wording);
    :attr:`problems` lists all of them, so every mistake can be fixed in one go.

    Attributes:
        problems: Every problem found, in the vendor's field order.
    """

    def __init__(self, problems: tuple[RegistrationProblem, ...]) -> None:
        first = problems[0]
        listed = "; ".join(str(p) for p in problems)
        super().__init__(
            f"registration rejected before sending: {listed}",
            field=first.field,
            reason=first.message,
            vendor=_VENDOR,
        )
        self.problems = problems


_ASCII_INT: Final = re.compile(r"\A[0-9]+\Z", re.ASCII)
_BIRTHDAY_SLASH: Final = re.compile(r"\A([0-9]+)/([0-9]+)/([0-9]+)\Z", re.ASCII)
_BIRTHDAY_DASH: Final = re.compile(r"\A([0-9]+)-([0-9]+)-([0-9]+)\Z", re.ASCII)
_MAX_DIGITS: Final = 9


def _shown(value: object) -> str:
    if isinstance(value, int) and abs(value) >= 10**40:  # str() of a huge int raises ValueError
        return "a very large number"
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a value whose str() fails is shown by its type
        text = type(value).__name__
    return text if len(text) <= 40 else text[:40] + "..."


def _as_int(value: object) -> int | None:
    """Read a whole number from an int or ASCII digits; ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value % 1 == 0:
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _ASCII_INT.match(text) and len(text) <= _MAX_DIGITS:
            return int(text)
    return None


def _month(value: object, shown: str) -> str | None:
    number = _as_int(value)
    if number is None or not 1 <= number <= 12:
        return f"Out of range Birth Month [{shown}]"
    return None


def _day(value: object, shown: str) -> str | None:
    number = _as_int(value)
    if number is None or not 1 <= number <= 31:
        return f"Out of range Birth Day [{shown}]"
    return None


def _year(value: object, shown: str) -> str | None:
    number = _as_int(value)
    if number is None or number <= 1900:
        return f"Out of range Birth Year [{shown}]"
    return None


def parse_birthday(value: str | date) -> tuple[int, int, int]:
    """Read a ``Birthday`` value into ``(year, month, day)`` with iTEP's rules.

    Text must be three numbers as ``M/D/YYYY`` or ``D-M-YYYY``; the day must be 1 to 31, the month
    1 to 12 and the year greater than 1900 (iTEP does not check that the day exists in that month,
    and neither does examkit). A :class:`~datetime.date` must have a year after 1900.

    >>> parse_birthday("7/8/1990")
    (1990, 7, 8)
    >>> parse_birthday("8-7-1990")
    (1990, 7, 8)

    Raises:
        RegistrationError: With the vendor's message, e.g.
            ``Unable to parse Birth Date [1990.7.8]``.
    """
    problem, parts = _birthday(value)
    if problem is not None:
        raise RegistrationError((RegistrationProblem("Birthday", problem),))
    assert parts is not None  # noqa: S101 - no problem means the parts were read
    return parts


def _birthday(value: object) -> tuple[str | None, tuple[int, int, int] | None]:
    if isinstance(value, date):
        if value.year <= 1900:
            return f"Out of range Birth Year [{value.year}]", None
        return None, (value.year, value.month, value.day)
    if not isinstance(value, str):
        return f"Unable to parse Birth Date [{_shown(value)}]", None
    text = value.strip()
    slash = _BIRTHDAY_SLASH.match(text)
    dash = None if slash else _BIRTHDAY_DASH.match(text)
    if slash:
        month_text, day_text, year_text = slash.groups()
    elif dash:
        day_text, month_text, year_text = dash.groups()
    else:
        return f"Unable to parse Birth Date [{_shown(value)}]", None
    # The vendor lists the checks in this order: day, month, year.
    for check, part in ((_day, day_text), (_month, month_text), (_year, year_text)):
        problem = check(part, part)
        if problem is not None:
            return problem, None
    return None, (int(year_text), int(month_text), int(day_text))


def _fold(text: str) -> str:
    return text.strip().replace("\u2019", "'").casefold()


def _lookup(enum_cls: type[enum.Enum]) -> dict[str, enum.Enum]:
    return {_fold(member.value): member for member in enum_cls}


_GENDERS: Final = _lookup(Gender)
_EDUCATIONS: Final = _lookup(Education)
_FIELDS_OF_STUDY: Final = _lookup(FieldOfStudy)
_CHOICES: Final[dict[str, tuple[type[enum.Enum], dict[str, enum.Enum], str]]] = {
    "gender": (Gender, _GENDERS, "Invalid Gender"),
    "education": (Education, _EDUCATIONS, "Invalid Education"),
    "field_of_study": (FieldOfStudy, _FIELDS_OF_STUDY, "Invalid Study Field"),
}


def _choice(attribute: str, value: object) -> tuple[enum.Enum | None, str | None]:
    enum_cls, table, wording = _CHOICES[attribute]
    if isinstance(value, enum_cls):
        return value, None
    if isinstance(value, str):
        member = table.get(_fold(value))
        if member is not None:
            return member, None
    return None, f"{wording} [{_shown(value)}]"


def _canonical(attribute: str, value: Any) -> Any:
    # A value that names a member (in any case) becomes the member; any other value stays as given,
    # so that the validation lists it with the vendor's wording among every other problem.
    member, _ = _choice(attribute, value) if value is not None else (None, None)
    return value if member is None else member


def _gender(value: Any) -> Any:
    """Convert for attrs: ``"female"`` is :attr:`Gender.FEMALE`."""
    return _canonical("gender", value)


def _education(value: Any) -> Any:
    """Convert for attrs: a value of :class:`Education` in any case is the member."""
    return _canonical("education", value)


def _field_of_study(value: Any) -> Any:
    """Convert for attrs: a value of :class:`FieldOfStudy` in any case is the member."""
    return _canonical("field_of_study", value)


@attrs.frozen(kw_only=True)
class Registration:
    """Registration fields for a test, validated when built.

    Every field the vendor lists is here, in snake_case; :meth:`from_mapping` reads the vendor's
    spelling (``First_Name``, ``trExternal_ID``). Values are sent as given, except ``Birthday``
    given as a :class:`~datetime.date` (sent as ``M/D/YYYY``) and ``Gender``, ``Education`` and
    ``Field_Of_Study``, which are matched case-insensitively and sent in the canonical spelling.

    Attributes:
        last_name: ``Last_Name``.
        first_name: ``First_Name``.
        middle_name: ``Middle_Name``.
        dob_month: ``DOB_Month``. Birth month, 1 to 12.
        dob_day: ``DOB_Day``. Birth day, 1 to 31.
        dob_year: ``DOB_Year``. Birth year, greater than 1900.
        email: ``Email``.
        contact_phone: ``Contact_Phone``.
        address: ``Address``.
        city: ``City``.
        birthday: ``Birthday``. Birth date: a ``date`` or text as M/D/YYYY or D-M-YYYY (a
            ``date`` is sent as M/D/YYYY).
        country: ``Country``.
        nationality: ``Nationality``.
        oin: ``OIN``. Official identification number (passport, driver's licence...).
        oin_country: ``OIN_Country``.
        oin_type: ``OIN_Type``.
        language: ``Language``.
        center: ``Center``.
        gender: ``Gender``. ``Male`` or ``Female`` (case-insensitive; sent in the canonical
            spelling).
        education: ``Education``. Highest education completed, one of :class:`Education`
            (case-insensitive).
        taken_test: ``Taken_Test``.
        dot_month: ``DOT_Month``.
        dot_day: ``DOT_Day``.
        dot_year: ``DOT_Year``.
        location: ``Location``.
        admin_test_location: ``Admin_Test_Location``.
        agree: ``Agree``.
        honest: ``Honest``.
        applying_to_school: ``Applying_To_School``.
        apply_school_type_1: ``Apply_School_Type_1``.
        apply_school_name_1: ``Apply_School_Name_1``.
        apply_school_other_1: ``Apply_School_Other_1``.
        apply_school_type_2: ``Apply_School_Type_2``.
        apply_school_name_2: ``Apply_School_Name_2``.
        apply_school_other_2: ``Apply_School_Other_2``.
        apply_school_type_3: ``Apply_School_Type_3``.
        apply_school_name_3: ``Apply_School_Name_3``.
        apply_school_other_3: ``Apply_School_Other_3``.
        field_of_study: ``Field_Of_Study``. One of :class:`FieldOfStudy` (case-insensitive).
        location_country: ``Location_Country``.
        location_region: ``Location_Region``.
        location_name: ``Location_Name``.
        tr_school_level: ``trSchoolLevel``.
        tr_referral: ``trReferral``.
        tr_external_id: ``trExternal_ID``. Your identifier; iTEP returns it as ``OID`` in the
            results webhook.
        tr_campus: ``trCampus``.
        tr_college: ``trCollege``.
        tr_department: ``trDepartment``.
        tr_degree: ``trDegree``.
        tr_status: ``trStatus``.
        tr_attribute: ``trAttribute``.
        tr_student_number: ``trStudent_Number``.
        tr_batch_number: ``trBatch_Number``.
        extra: Fields not in the vendor's list, sent unchanged (see :meth:`from_mapping`).

    Raises:
        RegistrationError: Any value breaks a documented rule; every problem is listed with the
            vendor's wording.

    >>> Registration(first_name="Mary", gender="female").to_json()
    {'First_Name': 'Mary', 'Gender': 'Female'}
    """

    last_name: Scalar = None
    first_name: Scalar = None
    middle_name: Scalar = None
    dob_month: int | str | None = None
    dob_day: int | str | None = None
    dob_year: int | str | None = None
    email: Scalar = None
    contact_phone: Scalar = None
    address: Scalar = None
    city: Scalar = None
    birthday: date | str | None = None
    country: Scalar = None
    nationality: Scalar = None
    oin: Scalar = None
    oin_country: Scalar = None
    oin_type: Scalar = None
    language: Scalar = None
    center: Scalar = None
    gender: Gender | str | None = attrs.field(default=None, converter=_gender)
    education: Education | str | None = attrs.field(default=None, converter=_education)
    taken_test: Scalar = None
    dot_month: Scalar = None
    dot_day: Scalar = None
    dot_year: Scalar = None
    location: Scalar = None
    admin_test_location: Scalar = None
    agree: Scalar = None
    honest: Scalar = None
    applying_to_school: Scalar = None
    apply_school_type_1: Scalar = None
    apply_school_name_1: Scalar = None
    apply_school_other_1: Scalar = None
    apply_school_type_2: Scalar = None
    apply_school_name_2: Scalar = None
    apply_school_other_2: Scalar = None
    apply_school_type_3: Scalar = None
    apply_school_name_3: Scalar = None
    apply_school_other_3: Scalar = None
    field_of_study: FieldOfStudy | str | None = attrs.field(default=None, converter=_field_of_study)
    location_country: Scalar = None
    location_region: Scalar = None
    location_name: Scalar = None
    tr_school_level: Scalar = None
    tr_referral: Scalar = None
    tr_external_id: Scalar = None
    tr_campus: Scalar = None
    tr_college: Scalar = None
    tr_department: Scalar = None
    tr_degree: Scalar = None
    tr_status: Scalar = None
    tr_attribute: Scalar = None
    tr_student_number: Scalar = None
    tr_batch_number: Scalar = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def __attrs_post_init__(self) -> None:
        problems = self._check()
        if problems:
            raise RegistrationError(problems)

    def _check(self) -> tuple[RegistrationProblem, ...]:
        problems: list[RegistrationProblem] = []
        for attribute, wire in REGISTRATION_FIELDS.items():
            value = getattr(self, attribute)
            if value is None:
                continue
            problem: str | None = None
            if attribute in _CHOICES:
                _, problem = _choice(attribute, value)
            elif attribute == "birthday":
                problem, _ = _birthday(value)
            elif attribute in _DOB_CHECKS:
                problem = _DOB_CHECKS[attribute](value, _shown(value))
            elif isinstance(value, bool) or not isinstance(value, str | int | Decimal):
                problem = f"must be text or a number, not {type(value).__name__}"
            if problem is not None:
                problems.append(RegistrationProblem(wire, problem))
        extra: object = self.extra
        if not isinstance(extra, Mapping):
            problems.append(RegistrationProblem("extra", "must be a mapping"))
        else:
            for key in extra:
                if not isinstance(key, str):
                    problems.append(RegistrationProblem(str(key), "field names must be text"))
                elif key in _WIRE_TO_ATTRIBUTE:
                    problems.append(
                        RegistrationProblem(key, "a documented field: set it by its own attribute")
                    )
        return tuple(problems)

    @classmethod
    def from_mapping(cls, fields: Mapping[str, Any], *, allow_unknown: bool = False) -> Registration:
        """Build a registration from the vendor's field names (``{"First_Name": "Mary", ...}``).

        Args:
            fields: The fields, spelled exactly as the vendor spells them (names are
                case-sensitive).
            allow_unknown: Keep names that are not in the vendor's list in :attr:`extra` and send
                them unchanged. By default they are refused, because a misspelt name would be
                silently ignored by iTEP.

        Raises:
            RegistrationError: A value breaks a rule, or a name is unknown; all problems are listed.
        """
        if not isinstance(fields, Mapping):
            raise RegistrationError(
                (RegistrationProblem("registration", "must be a mapping of field names to values"),)
            )
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        unknown: list[RegistrationProblem] = []
        items: list[tuple[object, Any]] = list(fields.items())
        for key, value in items:
            attribute = _WIRE_TO_ATTRIBUTE.get(key) if isinstance(key, str) else None
            if attribute is not None:
                known[attribute] = value
            elif allow_unknown and isinstance(key, str):
                extra[key] = value
            else:
                unknown.append(RegistrationProblem(str(key), _unknown_message(key)))
        try:
            registration = cls(**known, extra=extra)
        except RegistrationError as exc:
            raise RegistrationError(exc.problems + tuple(unknown)) from None
        if unknown:
            raise RegistrationError(tuple(unknown))
        return registration

    def to_json(self) -> dict[str, Any]:
        """Return the fields that are set, with the vendor's names, in the vendor's order."""
        data: dict[str, Any] = {}
        for attribute, wire in REGISTRATION_FIELDS.items():
            value = getattr(self, attribute)
            if value is None:
                continue
            if isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, date):
                value = f"{value.month}/{value.day}/{value.year}"
            elif isinstance(value, Decimal):
                value = int(value) if value % 1 == 0 else str(value)
            data[wire] = value
        data.update(self.extra)
        return data

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(vendor name, value)`` for each field that is set, as :meth:`to_json` does."""
        return iter(self.to_json().items())


def _unknown_message(key: object) -> str:
    if isinstance(key, str):
        folded = key.casefold()
        for wire in _WIRE_TO_ATTRIBUTE:
            if wire.casefold() == folded:
                return f"Unknown field [{key}]: names are case-sensitive, did you mean {wire}?"
    return f"Unknown field [{_shown(key)}]: not in iTEP's list of registration fields"


def check_registration(
    fields: Registration | Mapping[str, Any], *, allow_unknown: bool = False
) -> tuple[RegistrationProblem, ...]:
    """Return every problem iTEP would report for these registration fields (empty when valid).

    >>> [str(p) for p in check_registration({"DOB_Month": 13, "Gender": "x"})]
    ['DOB_Month: Out of range Birth Month [13]', 'Gender: Invalid Gender [x]']
    """
    if isinstance(fields, Registration):
        return ()
    try:
        Registration.from_mapping(fields, allow_unknown=allow_unknown)
    except RegistrationError as exc:
        return exc.problems
    return ()


_DOB_CHECKS: Final = {"dob_month": _month, "dob_day": _day, "dob_year": _year}

REGISTRATION_FIELDS: Final[Mapping[str, str]] = {
    "last_name": "Last_Name",
    "first_name": "First_Name",
    "middle_name": "Middle_Name",
    "dob_month": "DOB_Month",
    "dob_day": "DOB_Day",
    "dob_year": "DOB_Year",
    "email": "Email",
    "contact_phone": "Contact_Phone",
    "address": "Address",
    "city": "City",
    "birthday": "Birthday",
    "country": "Country",
    "nationality": "Nationality",
    "oin": "OIN",
    "oin_country": "OIN_Country",
    "oin_type": "OIN_Type",
    "language": "Language",
    "center": "Center",
    "gender": "Gender",
    "education": "Education",
    "taken_test": "Taken_Test",
    "dot_month": "DOT_Month",
    "dot_day": "DOT_Day",
    "dot_year": "DOT_Year",
    "location": "Location",
    "admin_test_location": "Admin_Test_Location",
    "agree": "Agree",
    "honest": "Honest",
    "applying_to_school": "Applying_To_School",
    "apply_school_type_1": "Apply_School_Type_1",
    "apply_school_name_1": "Apply_School_Name_1",
    "apply_school_other_1": "Apply_School_Other_1",
    "apply_school_type_2": "Apply_School_Type_2",
    "apply_school_name_2": "Apply_School_Name_2",
    "apply_school_other_2": "Apply_School_Other_2",
    "apply_school_type_3": "Apply_School_Type_3",
    "apply_school_name_3": "Apply_School_Name_3",
    "apply_school_other_3": "Apply_School_Other_3",
    "field_of_study": "Field_Of_Study",
    "location_country": "Location_Country",
    "location_region": "Location_Region",
    "location_name": "Location_Name",
    "tr_school_level": "trSchoolLevel",
    "tr_referral": "trReferral",
    "tr_external_id": "trExternal_ID",
    "tr_campus": "trCampus",
    "tr_college": "trCollege",
    "tr_department": "trDepartment",
    "tr_degree": "trDegree",
    "tr_status": "trStatus",
    "tr_attribute": "trAttribute",
    "tr_student_number": "trStudent_Number",
    "tr_batch_number": "trBatch_Number",
}
"""Attribute name to the vendor's field name, in the vendor's documented order."""

_WIRE_TO_ATTRIBUTE: Final = {wire: attribute for attribute, wire in REGISTRATION_FIELDS.items()}
