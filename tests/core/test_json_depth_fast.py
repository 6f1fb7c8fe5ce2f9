"""The depth check's quick cut of strings agrees with the nesting of the decoded value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.serde import exceeds_json_depth

_text = st.text(alphabet=st.sampled_from(list('ab[]{}":,\\ \u00e9\U0001f600')), max_size=8)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=25,
)


def _depth(value: Any) -> int:
    """Levels of arrays and objects, computed on the decoded value (independent of the text)."""
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(value=_json, limit=st.integers(0, 6), ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_exceeds_json_depth_matches_the_decoded_nesting(
    value: Any, limit: int, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    assert exceeds_json_depth(text, limit) == (_depth(value) > limit)


def test_brackets_and_escaped_quotes_inside_strings_are_not_nesting() -> None:
    text = json.dumps({"a": ['x"]]]]"', "[[[[", {"b": '\\"{{{{'}]})
    assert '\\"' in text  # the escaped-quote path
    assert not exceeds_json_depth(text, 3)
    assert exceeds_json_depth(text, 2)
    plain = json.dumps([["[[[[[[", {"k": "]]]]}}}}"}]])
    assert '\\"' not in plain  # the split path
    assert not exceeds_json_depth(plain, 3)
    assert exceeds_json_depth(plain, 2)


def test_a_large_text_takes_the_regular_expression_and_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    from examkit.core import serde

    text = json.dumps([["[[[[", {"k": "]]]]"}]])
    monkeypatch.setattr(serde, "_SPLIT_LIMIT", 0)
    assert not exceeds_json_depth(text, 3)
    assert exceeds_json_depth(text, 2)
