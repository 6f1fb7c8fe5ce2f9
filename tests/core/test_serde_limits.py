"""Refused payloads cost one walk at most: strict collections in both converters, one nesting limit."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.errors import PayloadError
from examkit.core.serde import PayloadConverter, load_json

LIMIT = 64  # the documented examkit.core.serde.MAX_JSON_DEPTH


class Counted:
    """A type whose hook counts its calls: how often the converter looked at an item."""


@attrs.frozen
class Item:
    n: int


@attrs.frozen
class Holder:
    items: tuple[Item, ...] = ()
    as_list: list[Item] = attrs.field(factory=list, hash=False)
    as_sequence: Sequence[Item] = ()
    numbers: frozenset[int] = frozenset()
    as_set: set[int] = attrs.field(factory=set, hash=False)
    pair: tuple[int, str] | None = None
    by_key: Mapping[str, Item] = attrs.field(factory=dict, hash=False)
    counted: tuple[Counted, ...] = ()
    counted_map: Mapping[str, Counted] = attrs.field(factory=dict, hash=False)


CALLS: list[object] = []


def _counted(value: object, _: Any) -> Counted:
    CALLS.append(value)
    if value != "ok":
        raise ValueError("expected the string 'ok'")
    return Counted()


@pytest.fixture
def conv() -> PayloadConverter:
    converter = PayloadConverter(vendor="acme")
    converter.register_hook(Counted, _counted)
    converter.register(Item)
    converter.register(Holder)
    CALLS.clear()
    return converter


ARRAY_FIELDS = ["items", "as_list", "as_sequence", "numbers", "as_set", "pair", "counted"]


@pytest.mark.parametrize("field", ARRAY_FIELDS)
@pytest.mark.parametrize("value", ["A" * 100_000, b"AB".decode() * 10, 12, True, {"a": 1}])
def test_a_non_array_is_refused_at_once(conv: PayloadConverter, field: str, value: object) -> None:
    with pytest.raises(PayloadError) as info:
        conv.structure({field: value}, Holder)
    assert info.value.field == field
    assert info.value.reason is not None
    assert info.value.reason.startswith("expected an array, got ")
    assert CALLS == []  # not one item was looked at


@pytest.mark.parametrize("field", ["by_key", "counted_map"])
@pytest.mark.parametrize("value", ["A" * 100_000, [1, 2], 3])
def test_a_non_object_mapping_is_refused_at_once(conv: PayloadConverter, field: str, value: object) -> None:
    with pytest.raises(PayloadError) as info:
        conv.structure({field: value}, Holder)
    assert (info.value.field, info.value.reason) == (field, f"expected an object, got {_shown(value)}")
    assert CALLS == []


def _shown(value: object) -> str:
    if isinstance(value, str):
        return f"the string {value[:32] + '...'!r}"
    return "an array" if isinstance(value, list) else f"the number {value}"


def test_the_walk_stops_at_the_first_wrong_item(conv: PayloadConverter) -> None:
    # Two passes (fast, then detailed for the message), each stopping at the first bad item.
    with pytest.raises(PayloadError) as info:
        conv.structure({"counted": ["ok", "bad"] + ["bad"] * 100_000}, Holder)
    assert info.value.field == "counted[1]"
    assert len(CALLS) <= 4
    CALLS.clear()
    with pytest.raises(PayloadError) as info:
        conv.structure(
            {"counted_map": {"a": "ok", "b": "bad", **{f"k{i}": "bad" for i in range(10_000)}}}, Holder
        )
    assert info.value.field == "counted_map[b]"
    assert len(CALLS) <= 4


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (
            {"items": [{"n": 1}, {"n": 2}, {"n": "x"}]},
            "items[2].n",
            "expected an integer, got the string 'x'",
        ),
        ({"as_list": [{"n": 1}, "x"]}, "as_list[1]", "expected an object (Item), got the string 'x'"),
        ({"numbers": [1, "y"]}, "numbers[1]", "expected an integer, got the string 'y'"),
        ({"pair": [1, 2, 3]}, "pair", "expected an array of 2 items, got 3"),
        ({"pair": [1, []]}, "pair[1]", "expected a string, got an array"),
        ({"by_key": {"a": {"n": 1}, "b": {"n": []}}}, "by_key[b].n", "expected an integer, got an array"),
        ({"items": [{}]}, "items[0].n", "is missing"),
    ],
)
def test_error_paths_name_the_item(
    conv: PayloadConverter, data: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(PayloadError) as info:
        conv.structure(data, Holder)
    assert (info.value.field, info.value.reason) == (field, reason)


def test_collections_still_read(conv: PayloadConverter) -> None:
    holder = conv.structure(
        {
            "items": [{"n": 1}],
            "as_list": [{"n": 2}],
            "as_sequence": [{"n": 3}],
            "numbers": [1, "2"],
            "as_set": [3],
            "pair": [4, "four"],
            "by_key": {"a": {"n": 5}},
            "counted": ["ok"],
        },
        Holder,
    )
    assert holder.items == (Item(1),)
    assert holder.as_list == [Item(2)]
    assert list(holder.as_sequence) == [Item(3)]
    assert holder.numbers == frozenset({1, 2})
    assert holder.as_set == {3}
    assert holder.pair == (4, "four")
    assert holder.by_key == {"a": Item(5)}
    assert len(holder.counted) == 1


@settings(max_examples=40)
@given(
    field=st.sampled_from(ARRAY_FIELDS),
    length=st.integers(min_value=1, max_value=5_000),
    item=st.one_of(
        st.text(max_size=3), st.none(), st.booleans(), st.dictionaries(st.text(max_size=2), st.none())
    ),
)
def test_property_wrong_items_are_looked_at_a_bounded_number_of_times(
    field: str, length: int, item: object
) -> None:
    converter = PayloadConverter(vendor="acme")
    converter.register_hook(Counted, _counted)
    converter.register(Item)
    converter.register(Holder)
    CALLS.clear()
    value = [item] * length
    with contextlib.suppress(PayloadError):
        converter.structure({field: value, "counted": ["bad"] * length}, Holder)
    assert len(CALLS) <= 4


# --- nesting depth ----------------------------------------------------------------------------


def _nested(depth: int, kinds: Sequence[str]) -> str:
    """Independently written: ``depth`` levels of arrays and objects, outermost first."""
    opening = "".join('{"k":' if kinds[i % len(kinds)] == "o" else "[" for i in range(depth))
    closing = "".join("}" if kinds[i % len(kinds)] == "o" else "]" for i in reversed(range(depth)))
    return opening + "1" + closing


@pytest.mark.parametrize("depth", [1, LIMIT - 1, LIMIT])
def test_nesting_up_to_the_limit_is_read(depth: int) -> None:
    text = _nested(depth, "oa")
    assert load_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize("depth", [LIMIT + 1, 500, 990, 1_100, 100_000])
def test_nesting_past_the_limit_is_refused(depth: int) -> None:
    with pytest.raises(PayloadError) as info:
        load_json(_nested(depth, "ao").encode(), vendor="acme")
    assert info.value.reason == "too deep"
    assert info.value.vendor == "acme"


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 1000 + "{" * 1000, "b": ['\\"[[[' * 100]})
    assert load_json(text.encode()) == json.loads(text)


def test_many_shallow_arrays_are_not_deep() -> None:
    text = json.dumps([[[1]]] * 10_000)
    assert load_json(text.encode()) == json.loads(text)


@settings(max_examples=60)
@given(
    depth=st.integers(min_value=1, max_value=3 * LIMIT), kinds=st.text(alphabet="oa", min_size=1, max_size=5)
)
def test_property_refused_exactly_past_the_limit(depth: int, kinds: str) -> None:
    text = _nested(depth, kinds)
    if depth <= LIMIT:
        assert load_json(text.encode()) == json.loads(text)
    else:
        with pytest.raises(PayloadError, match="nested too deeply"):
            load_json(text.encode())
