"""The fast strict-JSON path gives the full check's verdict on every body.

:func:`examkit.core.serde.load_json` takes a fast path on bytes (C-built dicts, keys counted, pairs and
depth counted on the bytes) and falls back to the full check (a Python hook per object) whenever it is
not sure. Here every body is decoded both ways: by ``load_json`` and by the full check alone
(``decode_strict_json`` without ``raw``); the outcome must be the same: the same value (types, key
order and decimal digits, compared by ``repr``) or the same refusal (reason and message).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from examkit.core.errors import PayloadError
from examkit.core.serde import MAX_JSON_DEPTH, decode_strict_json, load_json


def _outcome(decode: Any, body: bytes) -> tuple[str, str]:
    try:
        value = decode(body)
    except PayloadError as exc:
        return f"refused ({exc.reason})", str(exc)
    return "accepted", repr(value)


def _full_check(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return load_json(body)  # the UTF-8 refusal comes before either path
    return decode_strict_json(text, vendor=None, from_utf8=True)


def _same(body: bytes) -> tuple[str, str]:
    fast = _outcome(load_json, body)
    assert fast == _outcome(_full_check, body), body
    return fast


# Strings that hold the characters the fast path counts: colons, brackets, quotes, backslashes.
_TEXT = st.text(alphabet=st.sampled_from(list('ab:{}[]",\\ 0-é\u2028')), max_size=8)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | _TEXT
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=25,
)


def _dumps(value: Any, spaced: bool) -> str:
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(value, separators=separators, ensure_ascii=False, default=str)


@settings(max_examples=400, deadline=None)
@given(_VALUES, st.booleans())
def test_any_value_reads_the_same_both_ways(value: Any, spaced: bool) -> None:
    verdict, _ = _same(_dumps(value, spaced).encode("utf-8"))
    assert verdict == "accepted"


@settings(max_examples=400, deadline=None)
@given(_VALUES, _TEXT, st.data())
def test_a_repeated_key_anywhere_is_refused_both_ways(value: Any, key: str, data: st.DataObject) -> None:
    # Build {"k": value, ..., "k": ...} at a random depth by writing the pair twice in the text.
    pair = json.dumps(key) + ":" + _dumps(value, False)
    depth = data.draw(st.integers(0, 5))
    body = "[" * depth + "{" + pair + "," + pair + "}" + "]" * depth
    verdict, message = _same(body.encode("utf-8"))
    assert verdict == "refused (not JSON)"
    assert "appears more than once" in message


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('{}[]":,0 1a\\-.eEnul')), max_size=40))
def test_any_text_of_json_characters_gets_the_same_verdict(text: str) -> None:
    _same(text.encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(st.integers(MAX_JSON_DEPTH - 3, MAX_JSON_DEPTH + 3), st.sampled_from(["[]", "{}", '{"a":[]}']))
@example(MAX_JSON_DEPTH + 1, "[]")
def test_the_depth_limit_is_the_same_both_ways(depth: int, inner: str) -> None:
    opener = '{"k":['
    closer = "]}"
    body = opener * (depth // 2) + ("[" if depth % 2 else "") + inner
    body += ("]" if depth % 2 else "") + closer * (depth // 2)
    # depth counts the brackets the pattern opens around ``inner``; inner adds its own levels
    verdict, _ = _same(body.encode("utf-8"))
    levels = depth + inner.count("[") + inner.count("{")
    assert verdict == ("refused (too deep)" if levels > MAX_JSON_DEPTH else "accepted")


def test_fixed_bodies_where_the_counts_could_mislead() -> None:
    # A colon or bracket inside strings, next to structure; a string that starts with a colon.
    accepted = [
        b'{"t":"12:04:32","u":":x","v":"]]]}}}","w":[":"]}',
        b'{"a" : 1 , "b" :"2:3"}',
        b'{"a":{"b":"c:d","e":{"f":"g:h"}}}',
        b'{"x":"' + b"]" * 100 + b'","y":' + b"[" * 60 + b"]" * 60 + b"}",
        b"[" + b'{"a":"b:c"},' * 3000 + b"{}]",  # a large body: the other counting
        b'{"k":"' + b":" * 20_000 + b'"}',
    ]
    for body in accepted:
        assert _same(body)[0] == "accepted", body
    refused = [
        b'{"a":"x:y","a":"x:y"}',  # same pair twice: the colons in strings must not hide it
        b'{"a":"b:","a":1}',
        b"[" + b'{"a":"b:c"},' * 3000 + b'{"z":1,"z":1}]',
        b'{"a":1,"b":{"c":"' + b"[" * 70 + b'","c":2}}',
        b'{"s":"' + b"]" * 70 + b'","d":' + b"[" * 65 + b"]" * 65 + b"}",
    ]
    for body in refused:
        assert _same(body)[0] != "accepted", body
    # Brackets inside strings can make a count over all brackets look shallow: each level here holds
    # a string "]" (or "}"), and each level's end a string "[" (or "{"), so all the brackets pair up
    # at depth 1 while the real nesting is ``levels`` deep.
    for levels in (MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1):
        arrays = b'["]",' * levels + b'"["]' + b',"["]' * (levels - 1)
        objects = b'{"a":"}","b":' * levels + b'"{"}' + b',"c":"{"}' * (levels - 1)
        for body in (arrays, objects):
            expected = "accepted" if levels <= MAX_JSON_DEPTH else "refused (too deep)"
            assert _same(body)[0] == expected, body


def test_a_parse_float_hook_is_honoured_on_the_fast_path() -> None:
    # Fractions stay exact Decimals (the policy) whichever path reads them.
    assert load_json(b'{"a":[0.10,1e3,-0.0]}') == {"a": [Decimal("0.10"), Decimal("1E+3"), Decimal("-0.0")]}
    assert repr(load_json(b'{"a":0.10}')["a"]) == "Decimal('0.10')"


_PLAIN_TEXT = st.text(alphabet=st.sampled_from(list("ab:{}[], 0-é")), max_size=8)
_PLAIN_VALUES = st.recursive(
    st.none() | st.integers(-5, 10**6) | _PLAIN_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_PLAIN_TEXT, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_PLAIN_VALUES, st.booleans())
def test_the_fast_path_decides_most_bodies_without_a_backslash(value: Any, spaced: bool) -> None:
    from examkit.core import serde

    text = _dumps(value, spaced)
    decided = serde._decode_fast(text, text.encode("utf-8"), Decimal)
    # Undecided is allowed (the full check then runs), but a decided value must be the right one.
    if decided is not serde._UNDECIDED:
        assert repr(decided) == repr(json.loads(text, parse_float=Decimal))


def test_the_fast_path_decides_the_usual_webhook_bodies() -> None:
    from examkit.core import serde

    compact = b'{"a":"2023-03-31T16:27:41+05:30","b":[{"c":1,"d":"x"}],"e":{"f":"0:30:00"}}'
    spaced = b'{"a": "2023-03-31T16:27:41", "b": [{"c": 1}, {"c": 2}], "e": null}'
    large = b'{"t":"10:00","s":[' + b",".join([b'{"n":"x","m":7}'] * 2000) + b"]}"
    for body in (compact, spaced, large):
        decided = serde._decode_fast(body.decode(), body, Decimal)
        assert decided is not serde._UNDECIDED, body
        assert decided == json.loads(body)
    repeated = b'{"a":1,"b":{"c":1,"c":2}}'
    assert serde._decode_fast(repeated.decode(), repeated, Decimal) is serde._UNDECIDED
