"""The results body's form decoding gives what the standard library's ``parse_qsl`` gives.

examkit decodes the percent escapes of the form body at C speed; the pairs, and which bodies are
refused (and whether as bad UTF-8), must be exactly those of ``urllib.parse.parse_qsl`` with strict
parsing, blank values kept, UTF-8 strict and the field limit.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import PayloadError
from examkit.itep.webhooks import _MAX_FORM_FIELDS, _form_data, _form_pairs


def stdlib(text: str) -> object:
    try:
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        return "not UTF-8"
    except ValueError:
        return "not a form"


def fast(text: str) -> object:
    try:
        return _form_pairs(text)
    except UnicodeDecodeError:
        return "not UTF-8"
    except ValueError:
        return "not a form"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data=%7B%22TestID%22%3A%223279B035APR%22%7D", [("data", '{"TestID":"3279B035APR"}')]),
        ("data=a+b%2Bc", [("data", "a b+c")]),
        ("data=%5C%22%5Cu00e9", [("data", '\\"\\u00e9')]),  # escaped backslashes stay backslashes
        ("data=a\\x41", [("data", "a\\x41")]),  # a literal backslash is no escape
        ("data=%C3%A9t%C3%A9", [("data", "été")]),
        ("data=été%21", [("data", "été!")]),
        ("data=100%", [("data", "100%")]),  # a lone % is kept, as the standard library keeps it
        ("data=%zz%41", [("data", "%zzA")]),
        ("data=%4", [("data", "%4")]),
        ("a=&b=2", [("a", ""), ("b", "2")]),
        ("d%61ta=1", [("data", "1")]),
        ("data=%C3", "not UTF-8"),
        ("data=%C3%28", "not UTF-8"),
        ("data=%FF%41", "not UTF-8"),
        ("data", "not a form"),
        ("data=1&&x=2", "not a form"),
        ("&".join(["a=1"] * (_MAX_FORM_FIELDS + 1)), "not a form"),
    ],
)
def test_examples(text: str, expected: object) -> None:
    assert fast(text) == expected
    assert stdlib(text) == expected


_form_text = st.text(alphabet="%+&=\\x4aAfFgG0123456789é\u20ac ", min_size=1, max_size=40)


@given(_form_text)
def test_same_as_parse_qsl_on_any_text(text: str) -> None:
    assert fast(text) == stdlib(text)


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=30)), min_size=1, max_size=5))
def test_same_as_parse_qsl_on_encoded_forms(fields: list[tuple[str, str]]) -> None:
    text = "&".join(f"{quote_plus(name)}={quote_plus(value)}" for name, value in fields)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no request body decodes to this text
        return
    assert fast(text) == stdlib(text) == fields


def test_form_data_reasons() -> None:
    assert _form_data(b"data=%7B%7D&x=1", "data") == "{}"
    with pytest.raises(PayloadError) as info:
        _form_data(b"data=%C3", "data")
    assert info.value.reason == "not UTF-8"
    with pytest.raises(PayloadError) as info:
        _form_data(b"data", "data")
    assert info.value.reason == "not a form body"
