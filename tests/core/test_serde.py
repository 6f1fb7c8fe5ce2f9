"""Tests for examkit.core.serde: strict scalars, markers, open enums, unknown keys, error paths."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import PayloadError
from examkit.core.serde import (
    AssumeTimezone,
    EpochSeconds,
    NoneIf,
    PayloadConverter,
    extra_field,
    load_json,
)


class Status(enum.Enum):
    VALID = "Valid"
    IN_PROGRESS = "In Progress"


@attrs.frozen
class Flag:
    flag_id: str
    created: Annotated[datetime, EpochSeconds()]


@attrs.frozen
class Person:
    first_name: str
    count: int
    score: Decimal
    active: bool
    status: Status | str
    ended: Annotated[datetime | None, NoneIf("-1", "0"), EpochSeconds()]
    birthday: date | None
    seen_at: datetime | None
    local_time: Annotated[datetime | None, AssumeTimezone(timezone.utc)]
    flags: tuple[Flag, ...] = ()
    extra: Mapping[str, Any] = extra_field()


def pascal(name: str) -> str:
    return "_".join(part.capitalize() for part in name.split("_"))


@pytest.fixture(scope="module")
def converter() -> PayloadConverter:
    conv = PayloadConverter(vendor="demo", key_style=pascal)
    conv.register(Flag, rename={"flag_id": "FlagId"})
    conv.register(Person, rename={"seen_at": "SeenAt"})
    return conv


def person(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "First_Name": "Zoë",
        "Count": "3",
        "Score": "87.50",
        "Active": True,
        "Status": "Valid",
        "Ended": "-1",
        "Birthday": "2001-02-03",
        "SeenAt": "2024-01-02T03:04:05Z",
        "Local_Time": "2024-01-02T03:04:05",
        "Flags": [{"FlagId": "f1", "Created": "1586808802"}],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def test_full_structure(converter: PayloadConverter) -> None:
    result = converter.structure(person(Unknown_Key={"kept": True}), Person)
    assert result.first_name == "Zoë"
    assert result.count == 3
    assert result.score == Decimal("87.50")
    assert str(result.score) == "87.50"
    assert result.active is True
    assert result.status is Status.VALID
    assert result.ended is None
    assert result.birthday == date(2001, 2, 3)
    assert result.seen_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert result.local_time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    # 1586808802 = 2020-04-13T20:13:22Z (computed by hand: 18365 days * 86400 + 72802 s).
    assert result.flags == (Flag("f1", datetime(2020, 4, 13, 20, 13, 22, tzinfo=timezone.utc)),)
    assert result.extra == {"Unknown_Key": {"kept": True}}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Count": 3}, 3),
        ({"Count": "-4"}, -4),
        ({"Count": 5.0}, 5),
        ({"Count": Decimal("6")}, 6),
        ({"Ended": "0"}, None),
        ({"Ended": None}, None),
        ({"Ended": 1586808802}, datetime(2020, 4, 13, 20, 13, 22, tzinfo=timezone.utc)),
        ({"Status": "Invalid (Rules)"}, "Invalid (Rules)"),
        ({"Score": 1}, Decimal(1)),
        ({"Score": 0.1}, Decimal("0.1")),
        ({"Birthday": None}, None),
    ],
)
def test_accepted_forms(converter: PayloadConverter, changes: dict[str, Any], expected: object) -> None:
    result = converter.structure(person(**changes), Person)
    field = {
        "Count": "count",
        "Ended": "ended",
        "Status": "status",
        "Score": "score",
        "Birthday": "birthday",
    }[next(iter(changes))]
    assert getattr(result, field) == expected


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"Count": "1.9"}, "Count", "expected an integer, got the string '1.9'"),
        ({"Count": 1.9}, "Count", "expected an integer"),
        ({"Count": True}, "Count", "expected an integer, got true"),
        ({"Count": "1e3"}, "Count", "expected an integer"),
        ({"Count": "1_000"}, "Count", "expected an integer"),
        ({"Count": "٣"}, "Count", "expected an integer"),
        ({"Count": ...}, "Count", "is missing"),
        ({"Active": "false"}, "Active", "expected true or false, got the string 'false'"),
        ({"Active": 0}, "Active", "expected true or false"),
        ({"Score": "NaN"}, "Score", "expected a decimal number"),
        ({"Score": "Infinity"}, "Score", "expected a decimal number"),
        ({"Score": "12,5"}, "Score", "expected a decimal number"),
        ({"First_Name": ["x"]}, "First_Name", "expected a string, got an array"),
        ({"First_Name": None}, "First_Name", "expected a string, got null"),
        ({"Status": 5}, "Status", "expected a string"),
        ({"Ended": "-2x"}, "Ended", "expected whole Unix seconds"),
        ({"SeenAt": "2024-01-02T03:04:05"}, "SeenAt", "UTC offset"),
        ({"SeenAt": "yesterday"}, "SeenAt", "ISO 8601"),
        ({"Birthday": "03/02/2001"}, "Birthday", "YYYY-MM-DD"),
        ({"Flags": [{"FlagId": "f1", "Created": "soon"}]}, "Flags[0].Created", "Unix seconds"),
        ({"Flags": [{"FlagId": "f1"}, {"FlagId": "f2"}]}, "Flags[0].Created", "is missing"),
        ({"Flags": ["x"]}, "Flags[0]", "expected an object (Flag), got the string 'x'"),
    ],
)
def test_rejected_with_vendor_path(
    converter: PayloadConverter, changes: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(PayloadError) as info:
        converter.structure(person(**changes), Person)
    assert info.value.field == field
    assert reason in str(info.value)
    assert str(info.value).startswith(field)
    assert info.value.vendor == "demo"


def test_top_level_not_an_object(converter: PayloadConverter) -> None:
    with pytest.raises(PayloadError, match="expected an object") as info:
        converter.structure([1, 2], Person)
    assert info.value.field is None


def test_unstructure_uses_vendor_names_and_merges_extra(converter: PayloadConverter) -> None:
    result = converter.structure(person(Extra_Thing=1), Person)
    data = converter.unstructure(result)
    assert data["First_Name"] == "Zoë"
    assert data["Score"] == "87.50"
    assert data["SeenAt"] == "2024-01-02T03:04:05+00:00"
    assert data["Extra_Thing"] == 1
    assert "extra" not in data
    assert converter.wire_name(Person, "seen_at") == "SeenAt"


def test_loads(converter: PayloadConverter) -> None:
    body = b'{"FlagId": "f", "Created": 0}'
    assert converter.loads(body, Flag).created == datetime(1970, 1, 1, tzinfo=timezone.utc)


def test_register_rejects_unknown_rename() -> None:
    with pytest.raises(TypeError, match="no attributes"):
        PayloadConverter(vendor="x").register(Flag, rename={"nope": "Nope"})


def test_none_if_needs_optional() -> None:
    @attrs.frozen
    class Bad:
        value: Annotated[int, NoneIf("-1")]

    conv = PayloadConverter(vendor="x")
    with pytest.raises(TypeError, match="optional"):
        conv.register(Bad)


class TestLoadJson:
    def test_decimals_keep_digits(self) -> None:
        assert load_json(b'{"a": 0.10, "b": 3}') == {"a": Decimal("0.10"), "b": 3}

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (b"\xff{}", "not UTF-8"),
            (b'{"a": NaN}', "NaN is not allowed"),
            (b'{"a": Infinity}', "not allowed"),
            (b'{"a": 1, "a": 2}', "appears more than once"),
            (b'{"a": }', "not valid JSON"),
            (b"", "not valid JSON"),
            (b"\xef\xbb\xbf{}", "not valid JSON"),
            (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
            (b"1" * 5000, "not acceptable JSON"),
        ],
    )
    def test_refused(self, body: bytes, reason: str) -> None:
        with pytest.raises(PayloadError, match=reason):
            load_json(body, vendor="v")

    def test_wrong_type(self) -> None:
        with pytest.raises(PayloadError, match="bytes"):
            load_json(5)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(data=st.dictionaries(st.sampled_from(list(person())), json_values, max_size=12))
def test_property_any_json_raises_only_payload_error(
    converter: PayloadConverter, data: dict[str, Any]
) -> None:
    try:
        result = converter.structure(data, Person)
    except PayloadError as exc:
        assert exc.vendor == "demo"
    else:
        assert isinstance(result, Person)


@given(body=st.binary(max_size=200))
def test_property_arbitrary_bytes_raise_only_payload_error(converter: PayloadConverter, body: bytes) -> None:
    try:
        result = converter.loads(body, Person)
    except PayloadError as exc:
        assert exc.vendor == "demo"
    else:  # pragma: no cover - random bytes are never a complete Person
        assert isinstance(result, Person)


# --- the fast path must agree with the detailed path ------------------------------------------

epoch_like = st.one_of(
    st.integers(-(10**13), 10**13),
    st.integers(0, 10**12).map(str),
    st.sampled_from(
        ["-1", "0", "", "00000000001", "99999999999", "1" * 12, " 5", "5 ", "٣", "1.5", "+5", "-5"]
    ),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.none(),
)


@given(ended=epoch_like, name=st.one_of(st.text(max_size=5), st.integers(), st.none(), st.booleans()))
def test_property_fast_and_detailed_paths_agree(
    converter: PayloadConverter, ended: object, name: object
) -> None:
    data = person(Ended=ended, First_Name=name)
    try:
        fast: object = converter._fast.structure(data, Person)
    except Exception as exc:
        fast = type(exc)
    try:
        detailed: object = converter._detailed.structure(data, Person)
    except Exception as exc:
        detailed = type(exc)
    assert (fast == detailed) if isinstance(fast, Person) else not isinstance(detailed, Person)


def test_unhashable_value_in_a_sentinel_field_is_a_payload_error(converter: PayloadConverter) -> None:
    with pytest.raises(PayloadError, match="Unix seconds") as info:
        converter.structure(person(Ended=["1"]), Person)
    assert info.value.field == "Ended"


@pytest.mark.parametrize("value", ["99999999999", 10**11 - 1])
def test_epoch_beyond_datetime_range_is_a_payload_error(converter: PayloadConverter, value: object) -> None:
    # 99,999,999,999 s is in the year 5138, inside datetime's range; 999,999,999,999 s (year ~33,658) is not.
    assert converter.structure(person(Ended=value), Person).ended == datetime(
        5138, 11, 16, 9, 46, 39, tzinfo=timezone.utc
    )
    with pytest.raises(PayloadError, match="Unix seconds"):
        converter.structure(person(Ended="9" * 12), Person)


def test_models_registered_after_first_use_still_work() -> None:
    conv = PayloadConverter(vendor="x")
    conv.register(Flag, rename={"flag_id": "FlagId"})
    assert conv.structure({"FlagId": "a", "created": 0}, Flag).flag_id == "a"

    @attrs.frozen
    class Later:
        when: Annotated[datetime | None, NoneIf("-1"), EpochSeconds()]

    conv.register(Later)
    assert conv.structure({"when": "-1"}, Later).when is None
    with pytest.raises(PayloadError) as info:
        conv.structure({"when": "x"}, Later)
    assert info.value.field == "when"


def test_local_attributes_are_never_read_from_or_written_to_the_wire() -> None:
    @attrs.frozen
    class Event:
        name: str
        verified: bool = False
        extra: Mapping[str, Any] = extra_field()

    conv = PayloadConverter(vendor="x")
    conv.register(Event, local=["verified"])
    event = conv.structure({"name": "a", "verified": True}, Event)
    assert event.verified is False
    assert event.extra == {"verified": True}
    assert conv.unstructure(attrs.evolve(event, verified=True, extra={})) == {"name": "a"}
    with pytest.raises(TypeError, match="no attributes"):
        conv.register(Event, local=["nope"])


def test_a_payload_key_spelled_like_the_internal_extra_key_is_kept_as_unknown(
    converter: PayloadConverter,
) -> None:
    # The converter hands unknown keys to cattrs under an internal key; a payload that uses the same
    # spelling must neither replace the mapping nor be lost.
    result = converter.structure(person(__examkit_extra__={"x": 1}, Other=2), Person)
    assert result.extra == {"__examkit_extra__": {"x": 1}, "Other": 2}


def test_the_internal_extra_key_cannot_be_a_wire_name() -> None:
    @attrs.frozen
    class Clash:
        name: str
        extra: Mapping[str, Any] = extra_field()

    conv = PayloadConverter(vendor="demo")
    with pytest.raises(TypeError, match="reserved"):
        conv.register(Clash, rename={"name": "__examkit_extra__"})
