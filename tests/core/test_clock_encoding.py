"""Tests for examkit.core.clock and examkit.core.encoding."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import ClassVar
from urllib.parse import unquote, unquote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.clock import (
    DEFAULT_TOLERANCE,
    Clock,
    FixedClock,
    SystemClock,
    check_freshness,
    epoch_to_datetime,
    parse_epoch_seconds,
    parse_iso_date,
    parse_iso_datetime,
    tolerance_seconds,
)
from examkit.core.encoding import PercentEncoding, canonical_json, percent_encode
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    TimestampOutsideToleranceError,
    ValidationError,
)

NOW = 1_700_000_000


class TestFreshness:
    # The boundary table: inclusive at the tolerance, refused one second beyond, both directions.
    @pytest.mark.parametrize(
        ("offset", "tolerance", "ok"),
        [
            (0, 300, True),
            (-300, 300, True),
            (300, 300, True),
            (-301, 300, False),
            (301, 300, False),
            (0, 0, True),
            (1, 0, False),
            (-1, 0, False),
        ],
    )
    def test_boundaries(self, offset: int, tolerance: float, ok: bool) -> None:
        clock = FixedClock(NOW)
        if ok:
            check_freshness(NOW + offset, clock=clock, tolerance=tolerance)
        else:
            with pytest.raises(TimestampOutsideToleranceError):
                check_freshness(NOW + offset, clock=clock, tolerance=tolerance)

    def test_error_carries_skew_and_direction(self) -> None:
        with pytest.raises(TimestampOutsideToleranceError) as old:
            check_freshness(NOW - 1000, clock=FixedClock(NOW), tolerance=300, vendor="assessio")
        assert old.value.skew == -1000
        assert old.value.reason == "timestamp too old"
        assert "1000 s old" in str(old.value)
        assert "clock" in str(old.value)
        with pytest.raises(TimestampOutsideToleranceError) as future:
            check_freshness(NOW + 1000, clock=FixedClock(NOW), tolerance=300)
        assert future.value.reason == "timestamp in the future"
        assert "in the future" in str(future.value)

    def test_default_is_five_minutes(self) -> None:
        assert DEFAULT_TOLERANCE == 300


class TestTolerance:
    def test_forms(self) -> None:
        assert tolerance_seconds(30) == 30.0
        assert tolerance_seconds(1.5) == 1.5
        assert tolerance_seconds(timedelta(minutes=2)) == 120.0

    @pytest.mark.parametrize("value", [-1, float("inf"), float("nan"), None, "300", True])
    def test_invalid(self, value: object) -> None:
        with pytest.raises(ConfigurationError):
            tolerance_seconds(value)  # type: ignore[arg-type]


class TestClocks:
    def test_fixed_clock(self) -> None:
        clock = FixedClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
        assert clock.time() == 1_704_067_200
        clock.advance(timedelta(seconds=5))
        clock.advance(-1)
        assert clock.time() == 1_704_067_204
        clock.set(10)
        assert clock.time() == 10
        assert isinstance(clock, Clock)

    def test_naive_datetime_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="timezone-aware"):
            FixedClock(datetime(2024, 1, 1))

    def test_system_clock(self) -> None:
        import time

        before = time.time()
        assert before <= SystemClock().time() <= time.time()


class TestParseEpochSeconds:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [(1586808802, 1586808802), ("1586808802", 1586808802), (b"42", 42), (" 7 ", 7), ("-5", -5)],
    )
    def test_valid(self, value: object, expected: int) -> None:
        assert parse_epoch_seconds(value) == expected

    @pytest.mark.parametrize(
        "value", ["", "1.5", "1e9", "1_000", "٣", "abc", True, 1.0, None, b"\xff", "9" * 13, 10**12]
    )
    def test_invalid(self, value: object) -> None:
        with pytest.raises(ValidationError):
            parse_epoch_seconds(value)

    def test_error_class_is_chosen_by_caller(self) -> None:
        with pytest.raises(MalformedSignatureError, match="X-Timestamp"):
            parse_epoch_seconds("soon", what="X-Timestamp", error=MalformedSignatureError)

    def test_epoch_to_datetime(self) -> None:
        assert epoch_to_datetime(0) == datetime(1970, 1, 1, tzinfo=timezone.utc)
        with pytest.raises(ValidationError):
            epoch_to_datetime(10**15)


class TestPercentEncoding:
    # Expected values written by hand from each function's documented rules, and cross-checked
    # against the reference implementations' known outputs (JS encodeURIComponent, PHP urlencode).
    SAMPLE = "Zoë O'Neil (a+b)/c~d*e!f@g.h"

    @pytest.mark.parametrize(
        ("variant", "expected"),
        [
            (PercentEncoding.RFC3986, "Zo%C3%AB%20O%27Neil%20%28a%2Bb%29%2Fc~d%2Ae%21f%40g.h"),
            (PercentEncoding.ENCODE_URI_COMPONENT, "Zo%C3%AB%20O'Neil%20(a%2Bb)%2Fc~d*e!f%40g.h"),
            (PercentEncoding.PHP_URLENCODE, "Zo%C3%AB+O%27Neil+%28a%2Bb%29%2Fc%7Ed%2Ae%21f%40g.h"),
            (PercentEncoding.PYTHON_QUOTE, "Zo%C3%AB%20O%27Neil%20%28a%2Bb%29/c~d%2Ae%21f%40g.h"),
            (PercentEncoding.QUOTE_PLUS, "Zo%C3%AB+O%27Neil+%28a%2Bb%29%2Fc~d%2Ae%21f%40g.h"),
        ],
    )
    def test_variants(self, variant: PercentEncoding, expected: str) -> None:
        assert percent_encode(self.SAMPLE, variant) == expected

    def test_lone_surrogate(self) -> None:
        with pytest.raises(ValidationError, match="UTF-8"):
            percent_encode("\udc80", PercentEncoding.RFC3986)

    SAFE: ClassVar[dict[PercentEncoding, str]] = {
        PercentEncoding.RFC3986: "-._~",
        PercentEncoding.ENCODE_URI_COMPONENT: "-._~!'()*",
        PercentEncoding.PHP_URLENCODE: "-._",
        PercentEncoding.PYTHON_QUOTE: "-._~/",
        PercentEncoding.QUOTE_PLUS: "-._~",
    }

    @given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60))
    @pytest.mark.parametrize("variant", list(PercentEncoding))
    def test_property_round_trip_and_alphabet(self, variant: PercentEncoding, text: str) -> None:
        encoded = percent_encode(text, variant)
        plus = variant in (PercentEncoding.PHP_URLENCODE, PercentEncoding.QUOTE_PLUS)
        assert (unquote_plus(encoded) if plus else unquote(encoded)) == text
        allowed = set(self.SAFE[variant]) | {"%"} | ({"+"} if plus else set())
        for char in encoded:
            assert (char.isascii() and char.isalnum()) or char in allowed
        # Percent escapes use upper-case hex.
        parts = encoded.split("%")[1:]
        assert all(p[:2] == p[:2].upper() for p in parts)


class TestCanonicalJson:
    def test_compact_ordered_utf8(self) -> None:
        assert canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"b":1,"a":[true,null,"é"]}'.encode()
        assert canonical_json({"b": 1, "a": 2}, sort_keys=True) == b'{"a":2,"b":1}'
        assert canonical_json({"a": "é"}, ensure_ascii=True) == b'{"a":"\\u00e9"}'

    @pytest.mark.parametrize("value", [{"a": float("nan")}, {"a": object()}, {1j: 1}])
    def test_unrepresentable(self, value: object) -> None:
        with pytest.raises(ValidationError):
            canonical_json(value)

    @given(
        value=st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda children: st.lists(children) | st.dictionaries(st.text(), children),
            max_leaves=20,
        )
    )
    def test_property_round_trip_without_whitespace_between_tokens(self, value: object) -> None:
        data = canonical_json(value)
        assert json.loads(data) == value
        assert data == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# --- one ISO 8601 grammar on every Python version ---------------------------------------------------

_IST = timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Python 3.10's fromisoformat refuses each of these first five; 3.11+ accepts them.
        ("2024-01-01T00:00:00.5+05:30", datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=_IST)),
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        ("2024-01-01T00:00:00,25z", datetime(2024, 1, 1, 0, 0, 0, 250000, tzinfo=timezone.utc)),
        ("2024-01-01T00:00+0530", datetime(2024, 1, 1, tzinfo=_IST)),
        (
            "2024-01-01T12:34:56.1234567-05",
            datetime(2024, 1, 1, 12, 34, 56, 123456, tzinfo=timezone(-timedelta(hours=5))),
        ),
        ("2024-02-29 23:59", datetime(2024, 2, 29, 23, 59)),
        (
            "2024-01-01t01:02:03+01:00:30",
            datetime(2024, 1, 1, 1, 2, 3, tzinfo=timezone(timedelta(hours=1, seconds=30))),
        ),
    ],
)
def test_iso_datetime_grammar(text: str, expected: datetime) -> None:
    parsed = parse_iso_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "20240101T000000",  # basic format: 3.11+ accepts it, the grammar does not
        "2024-W01-1T00:00",  # week date
        "2024-01-01T10",  # hour only
        "2024-01-01T24:00",
        "2023-02-29T00:00",
        "2024-01-01T00:00+24:00",
        "2024-01-01T00:00+05:60",
        "2024-01-01T00:00:00.",
        "2024-01-01X00:00",
        "\uff12\uff10\uff12\uff14-01-01T00:00",  # fullwidth digits
        " 2024-01-01T00:00",
        "",
    ],
)
def test_iso_datetime_grammar_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601|out of range|must be in|day is out"):
        parse_iso_datetime(text)


def test_iso_datetime_assumes_the_given_zone_only_without_an_offset() -> None:
    assert parse_iso_datetime("2024-01-01T00:00", assume=_IST) == datetime(2024, 1, 1, tzinfo=_IST)
    assert parse_iso_datetime("2024-01-01T00:00Z", assume=_IST).tzinfo is timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"), [("2024-02-29", date(2024, 2, 29)), ("0001-01-01", date(1, 1, 1))]
)
def test_iso_date_grammar(text: str, expected: date) -> None:
    assert parse_iso_date(text) == expected


@pytest.mark.parametrize("text", ["20240229", "2024-W09-4", "2023-02-29", "2024-1-1", "2024-01-01T00:00", ""])
def test_iso_date_grammar_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601|out of range|must be in|day is out"):
        parse_iso_date(text)
