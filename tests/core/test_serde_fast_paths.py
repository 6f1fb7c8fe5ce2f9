"""The converter's fast paths read exactly what the general hooks read, and refuse the same values.

Optional fields marked ``NoneIf(...)`` take a one-call fast path for the usual string; a field whose
sentinels include a non-scalar value takes the general hook. The same field declared both ways must
give the same result (or the same error message) for every value.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal
from typing import Annotated, Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import PayloadError
from examkit.core.serde import NoneIf, PayloadConverter, _decimal_text

# The decimal literal grammar examkit documents (sign, digits with an optional fraction, an optional
# exponent; ASCII only), written out here independently of the code under test.
DECIMAL_LITERAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


class Level(enum.Enum):
    B2 = "B2"
    C1 = "C1"


# A tuple sentinel is no scalar: its presence sends every value through the general hook.
_SLOW: Any = ()


@attrs.frozen
class Fast:
    amount: Annotated[Decimal | None, NoneIf("", "-")] = None
    count: Annotated[int | None, NoneIf("", -1)] = None
    level: Annotated[Level | str | None, NoneIf("")] = None


@attrs.frozen
class Slow:
    amount: Annotated[Decimal | None, NoneIf("", "-", _SLOW)] = None
    count: Annotated[int | None, NoneIf("", -1, _SLOW)] = None
    level: Annotated[Level | str | None, NoneIf("", _SLOW)] = None


@pytest.fixture(scope="module")
def converter() -> PayloadConverter:
    conv = PayloadConverter(vendor="demo")
    conv.register(Fast)
    conv.register(Slow)
    return conv


def outcome(converter: PayloadConverter, cls: type, data: dict[str, Any]) -> object:
    try:
        result: Any = converter.structure(data, cls)
    except PayloadError as exc:
        return ("error", exc.field, str(exc))
    return attrs.astuple(result)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4.5", Decimal("4.5")),
        ("-0.10", Decimal("-0.10")),
        ("+.5", Decimal("0.5")),
        ("7.", Decimal("7")),
        ("1e3", Decimal("1000")),
        ("2.5E-2", Decimal("0.025")),
        ("1_000", None),  # Decimal() reads underscores; a vendor number never has them
        ("NaN", None),
        ("-Infinity", None),
        ("inf", None),
        ("sNaN", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits: Decimal() reads them as 12
        ("1 2", None),
        ("", None),
        (".", None),
        ("1e", None),
        ("0x10", None),
        ("1e1001", None),  # beyond the magnitude limit of 10**1000
        ("9" * 101, None),  # longer than 100 characters
    ],
)
def test_decimal_text(text: str, expected: Decimal | None) -> None:
    result = _decimal_text(text)
    assert result == expected
    if result is None:
        return
    assert result.as_tuple() == Decimal(text).as_tuple()  # the digits as sent (0.10 keeps its zero)


@given(st.text(alphabet="0123456789+-.eE_ nNaIifty\u0661", max_size=12))
def test_decimal_text_accepts_exactly_the_literal_grammar(raw: str) -> None:
    text = raw.strip()  # the hooks strip the value before reading it
    matches = DECIMAL_LITERAL.fullmatch(text) is not None
    result = _decimal_text(text)
    if not matches:
        assert result is None
    else:
        number = Decimal(text)
        if abs(number.adjusted()) <= 1000:
            assert result is not None
            assert result.as_tuple() == number.as_tuple()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"amount": "87.50"}, (Decimal("87.50"), None, None)),
        ({"amount": ""}, (None, None, None)),
        ({"amount": "-"}, (None, None, None)),
        ({"amount": " 3.25 "}, (Decimal("3.25"), None, None)),
        ({"amount": 12}, (Decimal(12), None, None)),
        ({"count": "42"}, (None, 42, None)),
        ({"count": -1}, (None, None, None)),
        ({"count": "-1"}, (None, -1, None)),  # only the number -1 is the sentinel, not the text
        ({"count": " 7 "}, (None, 7, None)),
        ({"count": 5}, (None, 5, None)),
        ({"level": "C1"}, (None, None, Level.C1)),
        ({"level": "A0"}, (None, None, "A0")),
        ({"level": ""}, (None, None, None)),
        ({"amount": None, "count": None, "level": None}, (None, None, None)),
    ],
)
def test_sentinel_fields_read(
    converter: PayloadConverter, data: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    fast = converter.structure(data, Fast)
    assert attrs.astuple(fast) == expected
    assert type(fast.amount) is type(expected[0])
    assert type(fast.count) is type(expected[1])
    assert outcome(converter, Slow, data) == expected


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "1_000"}, "amount", "amount: expected a decimal number, got the string '1_000'"),
        ({"amount": "NaN"}, "amount", "amount: expected a decimal number, got the string 'NaN'"),
        ({"amount": True}, "amount", "amount: expected a decimal number, got true"),
        ({"count": "1.5"}, "count", "count: expected an integer, got the string '1.5'"),
        ({"count": "\u0661"}, "count", "count: expected an integer, got the string '\u0661'"),
        ({"count": False}, "count", "count: expected an integer, got false"),
        ({"level": 3}, "level", "level: expected a string, got the number 3"),
    ],
)
def test_sentinel_fields_refuse_with_the_general_message(
    converter: PayloadConverter, data: dict[str, Any], field: str, message: str
) -> None:
    for cls in (Fast, Slow):
        with pytest.raises(PayloadError) as info:
            converter.structure(data, cls)
        assert info.value.field == field
        assert str(info.value) == message


_values = st.one_of(
    st.text(alphabet="0123456789-+.eE_ CB1", max_size=8),
    st.integers(min_value=-3, max_value=10**12),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)


@given(amount=_values, count=_values, level=_values)
def test_fast_path_and_general_hook_agree(
    converter: PayloadConverter, amount: object, count: object, level: object
) -> None:
    data = {"amount": amount, "count": count, "level": level}
    assert outcome(converter, Fast, data) == outcome(converter, Slow, data)
