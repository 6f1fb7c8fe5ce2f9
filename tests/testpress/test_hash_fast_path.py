"""The webhook hash's shortcut for plain values agrees with percent-encoding them, for every encoding."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.encoding import PercentEncoding
from examkit.testpress.signing import _UNRESERVED_RE, encode_value, webhook_parts

ENCODINGS = [*PercentEncoding, None]
_ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_PLAIN_TEXT = st.from_regex(r"\A[A-Za-z0-9._-]{0,12}\Z")


@settings(max_examples=400, deadline=None)
@given(value=_ANY_TEXT | _PLAIN_TEXT)
@pytest.mark.parametrize("encoding", ENCODINGS, ids=str)
def test_unreserved_text_is_left_as_it_is_by_every_encoding(
    value: str, encoding: PercentEncoding | None
) -> None:
    if _UNRESERVED_RE.fullmatch(value) is not None:
        assert encode_value(value, encoding) == value


@settings(max_examples=200, deadline=None)
@given(score=_ANY_TEXT | st.sampled_from(["7.00", "a b", "x/y~"]))
def test_webhook_parts_match_quoting_each_value(score: str) -> None:
    payload = {"key": "pk", "score": score, "n": 7}
    parts = webhook_parts(payload, ("key", "score", "n"), PercentEncoding.PYTHON_QUOTE)
    # An independent computation: Python's quote with safe="/" is what PYTHON_QUOTE reproduces.
    assert parts == [b"pk", quote(score.encode("utf-8"), safe="/").encode("ascii"), b"7"]
