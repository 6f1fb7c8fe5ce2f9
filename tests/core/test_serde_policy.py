"""The one strict-JSON policy: ``load_json`` and Testpress's literal decoder refuse the same inputs.

Both decoders go through :func:`examkit.core.serde.decode_strict_json`; these tests feed both the same
bodies (fixed refusals and generated ones) and require the same verdict, and, when both accept, the
same value once the literal-keeping numbers are made plain.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.errors import PayloadError
from examkit.core.serde import (
    _SURROGATE_ESCAPE_RE,
    MAX_JSON_DEPTH,
    _has_lone_surrogate,
    _holds_lone_surrogate,
    _lone_surrogate_escape,
    load_json,
)
from examkit.testpress._literals import load_json_with_literals, plain_json

# Each is refused by both paths, with the reason given; written by hand from the policy's rules.
REFUSED: list[tuple[bytes, str]] = [
    (b'{"a": 1, "a": 2}', "not JSON"),  # a repeated key
    (b'{"a": {"b": 1, "b": 1}}', "not JSON"),  # repeated, nested, same value
    (b'{"a": NaN}', "not JSON"),
    (b'{"a": Infinity}', "not JSON"),
    (b'{"a": -Infinity}', "not JSON"),
    (b'{"a": "\\ud800"}', "not JSON"),  # a lone high surrogate
    (b'{"a": "x\\udfffy"}', "not JSON"),  # a lone low surrogate
    (b'{"\\udc00": 1}', "not JSON"),  # in a key
    (b'["\\ude00\\ud83d"]', "not JSON"),  # the pair in the wrong order
    (b'{"a": "\xff"}', "not UTF-8"),
    (b'{"a": ' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"}", "too deep"),
    (b'{"a": 1', "not JSON"),
]

ACCEPTED: list[bytes] = [
    b'{"a": "\\ud83d\\ude00"}',  # a surrogate pair is one character
    b'{"a": "\\\\ud800"}',  # an escaped backslash: the text \ud800, no surrogate
    b'{"a": 0.10, "b": -0, "c": 1e3, "d": [1, 2.50]}',
    b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH,
]


def _verdict(decode: Any, body: bytes) -> tuple[str, Any]:
    try:
        value = decode(body)
    except PayloadError as exc:
        return f"refused: {exc.reason}", None
    return "accepted", plain_json(value)


@pytest.mark.parametrize(("body", "reason"), REFUSED)
def test_both_paths_refuse_the_same_bodies(body: bytes, reason: str) -> None:
    assert _verdict(load_json, body) == (f"refused: {reason}", None)
    assert _verdict(load_json_with_literals, body) == (f"refused: {reason}", None)


@pytest.mark.parametrize("body", ACCEPTED)
def test_both_paths_accept_the_same_bodies(body: bytes) -> None:
    expected = json.loads(body, parse_float=Decimal)
    assert _verdict(load_json, body) == ("accepted", expected)
    assert _verdict(load_json_with_literals, body) == ("accepted", expected)


def test_fractions_are_exact_on_both_paths() -> None:
    body = b'{"a": 0.1, "b": 1.50}'
    for decode in (load_json, load_json_with_literals):
        value = decode(body)
        assert isinstance(value["a"], Decimal)
        assert value["a"] == Decimal("0.1")
        assert isinstance(value["b"], Decimal)
        assert str(value["b"]) == "1.50"


def test_a_text_body_with_a_raw_lone_surrogate_is_refused() -> None:
    with pytest.raises(PayloadError, match="lone surrogate"):
        load_json('{"a": "\ud800"}')


class _Raw(str):
    """A number literal to put in the JSON text as it is (NaN and Infinity included)."""


# Characters including every kind of surrogate, for strings and keys.
_CHARS = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\U0001f600", "\\", '"', "u"]),
)
_TEXT = st.text(_CHARS, max_size=6)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from(["NaN", "Infinity", "-0", "1e3", "0.10", "-0.0"]).map(_Raw),
    _TEXT,
)


def _write(value: Any, ensure_ascii: bool) -> str:
    """Independently written JSON writer: keeps literals raw and may repeat keys (a list of pairs)."""
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, tuple):  # an object, as a tuple of (key, value) pairs
        items = ", ".join(
            f"{json.dumps(k, ensure_ascii=ensure_ascii)}: {_write(v, ensure_ascii)}" for k, v in value
        )
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_write(v, ensure_ascii) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii)


_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(st.tuples(st.sampled_from(["a", "b", "\ud800", "k"]), inner), max_size=4).map(tuple),
    ),
    max_leaves=12,
)


@settings(max_examples=250, deadline=None)
@given(value=_VALUES, ensure_ascii=st.booleans(), nest=st.integers(min_value=0, max_value=2 * MAX_JSON_DEPTH))
def test_property_both_paths_agree(value: Any, ensure_ascii: bool, nest: int) -> None:
    text = "[" * nest + _write(value, ensure_ascii) + "]" * nest
    body = text.encode("utf-8", "surrogatepass")  # a raw surrogate becomes bytes that are not UTF-8
    assert _verdict(load_json, body) == _verdict(load_json_with_literals, body)


@settings(max_examples=250, deadline=None)
@given(value=_VALUES, ensure_ascii=st.booleans(), nest=st.integers(min_value=0, max_value=2 * MAX_JSON_DEPTH))
def test_property_the_policy_matches_an_independent_oracle(value: Any, ensure_ascii: bool, nest: int) -> None:
    text = "[" * nest + _write(value, ensure_ascii) + "]" * nest
    body = text.encode("utf-8", "surrogatepass")
    expected_refusal = _oracle(value, body, nest)
    verdict, _ = _verdict(load_json, body)
    assert (verdict != "accepted") == expected_refusal, (text, verdict)


def _oracle(value: Any, body: bytes, nest: int) -> bool:
    """Whether the policy must refuse: computed from the generated value, not from examkit's code."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    depth = nest + _depth(value)
    return depth > MAX_JSON_DEPTH or _bad(value)


def _depth(value: Any) -> int:
    if isinstance(value, tuple):
        return 1 + max((_depth(v) for _, v in value), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _lone(text: str) -> bool:
    # What a reader sees: written with escapes, a high surrogate followed by a low one is one
    # escaped pair ("\\ud800\\udc00" is U+10000), not two lone halves. (Written raw, as with
    # ensure_ascii=False, the body is not UTF-8 and the oracle refuses it before it gets here.)
    text = json.loads(json.dumps(text))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad(value: Any) -> bool:
    if isinstance(value, _Raw):
        return str(value) in ("NaN", "Infinity")
    if isinstance(value, str):
        return _lone(value)
    if isinstance(value, tuple):
        keys = [k for k, _ in value]
        return len(set(keys)) != len(keys) or any(_lone(k) or _bad(v) for k, v in value)
    if isinstance(value, list):
        return any(_bad(v) for v in value)
    return False


@settings(max_examples=400, deadline=None)
@given(value=_VALUES, ensure_ascii=st.booleans())
def test_property_the_surrogate_check_agrees_with_the_walk(value: Any, ensure_ascii: bool) -> None:
    # fast(...) or general(...): the escape search (fast) and the escape analysis (general) together
    # give the walk's answer, and the walk agrees with an independent check (a lone surrogate cannot be
    # encoded as UTF-8).
    text = _write(value, ensure_ascii).replace("NaN", "0").replace("Infinity", "1")
    decoded = json.loads(text, object_pairs_hook=lambda pairs: [list(p) for p in pairs])
    walk = _holds_lone_surrogate(decoded)
    assert walk == _lone(json.dumps(decoded, ensure_ascii=False))
    from_utf8 = not _lone(text)  # text that UTF-8 bytes could have decoded to
    assert _has_lone_surrogate(text, decoded, from_utf8=from_utf8) == walk
    if from_utf8 and _SURROGATE_ESCAPE_RE.search(text) is None:
        assert not walk


@pytest.mark.parametrize(
    ("text", "lone"),
    [
        (r'["\ud83d\ude00"]', False),
        (r'["\ud800"]', True),
        (r'["\\ud800"]', False),  # an escaped backslash, then the text ud800
        (r'["\\\ud800"]', True),  # an escaped backslash, then a real escape
        (r'["\uD800\uD800\uDC00"]', True),  # the first high has no low after it
        (r'["\uDBFF\uDC00\uDC00"]', True),  # the second low has no high before it
        (r'["\ud800", "\udc00"]', True),  # a pair split over two strings is two lone halves
        (r'{"\udbff\udfff": "\u00e9"}', False),
    ],
)
def test_surrogate_escapes_by_hand(text: str, lone: bool) -> None:
    assert _lone_surrogate_escape(text) is lone
    assert _holds_lone_surrogate(json.loads(text)) is lone


def test_an_escaped_surrogate_pair_is_one_character_not_two_lone_halves() -> None:
    # JSON's escapes spell U+10000 as the pair \ud800\udc00 (RFC 8259, section 7); only a half on its
    # own is refused.
    assert load_json(b'["\\ud800\\udc00"]') == ["\U00010000"]
    with pytest.raises(PayloadError, match="lone surrogate"):
        load_json(b'["\\ud800"]')
