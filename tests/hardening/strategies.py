"""Hypothesis strategies for hostile input: bodies, header sets and URLs an attacker controls."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

CANARY = "CANARY-s3cr3t-Zq9x-7f1e-do-not-leak"
"""A secret value put into every client, verifier and signer; it must never be shown."""

# Header names the verifiers look at, plus a few they do not.
HEADER_NAMES = (
    "Authorization",
    "Redirect-Http-Authorization",
    "authorization",
    "integrator-api-key",
    "Signature",
    "signature",
    "X-Itep-Token",
    "X-Itep-Signature",
    "Content-Type",
    "Content-Length",
    "X-Other",
)

_text = st.text(max_size=64)
_ascii = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=64)
_digits = st.text("0123456789", min_size=1, max_size=14)


def _json_scalar() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=32),
        _digits,
    )


json_values: st.SearchStrategy[Any] = st.recursive(
    _json_scalar(),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)
"""Arbitrary JSON values (NaN and infinities included: ``json.dumps`` writes them)."""


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


deep_json = st.sampled_from([10, 900, 5_000, 100_000]).flatmap(
    lambda depth: st.sampled_from(
        [
            b"[" * depth + b"]" * depth,
            b'{"a":' * depth + b"1" + b"}" * depth,
            b"[" * depth,  # unterminated
        ]
    )
)
"""Deeply nested JSON, including nesting deeper than the interpreter's recursion limit."""

duplicate_keys = st.sampled_from(
    [
        b'{"a":1,"a":2}',
        b'{"eventType":"PING","eventType":"ASSESSMENT_SUBMITTED","payload":{}}',
        b'{"hash":"00","hash":"11","key":"k"}',
        b'{"TestID":"A","TestID":"B"}',
        b'{"Status":"Complete","Status":"Failed","Course_Id":"1"}',
    ]
)
"""JSON objects that repeat a key with different values."""

invalid_utf8 = st.tuples(
    st.binary(max_size=32), st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"])
)

huge_json = st.sampled_from([200_000, 1_000_000]).map(
    lambda n: b'{"eventType":"' + b"A" * n + b'","payload":{}}'
)
"""Large but plausible JSON bodies (some over the default 1 MiB limit once framed)."""

bodies: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=256),
    invalid_utf8.map(lambda parts: parts[0] + parts[1] + parts[0]),
    json_values.map(_dumps),
    st.dictionaries(st.text(max_size=12), json_values, max_size=6).map(_dumps),
    deep_json,
    duplicate_keys,
    huge_json,
    json_values.map(lambda v: b"data=" + _dumps(v)),
    st.lists(st.tuples(_text, _text), max_size=6).map(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")
    ),
)
"""Every kind of hostile body."""


def _header_value() -> st.SearchStrategy[str]:
    return st.one_of(
        _text,
        _ascii,
        st.just(""),
        st.just(" "),
        st.text(min_size=1, max_size=4).map(lambda s: s * 20_000),  # enormous
        st.builds(
            lambda parts: "amx " + ":".join(parts),
            st.lists(st.one_of(_ascii, _digits, st.just("")), min_size=1, max_size=6),
        ),
        st.builds(lambda t, s: f"t={t},signature={s}", st.one_of(_digits, _ascii), st.one_of(_ascii, _text)),
        st.builds(lambda s: "Basic " + s, _ascii),
        st.builds(lambda s: "Bearer " + s, _text),
        st.text("0123456789abcdefABCDEF", min_size=60, max_size=70),
        st.text("0123456789abcdefABCDEF", min_size=126, max_size=130),
    )


headers: st.SearchStrategy[list[tuple[str, str]]] = st.lists(
    st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), _text.filter(bool)), _header_value()),
    max_size=6,
)
"""Header sets: missing, repeated with conflicting values, non-ASCII, enormous, near-valid layouts."""

urls: st.SearchStrategy[str | None] = st.one_of(
    st.none(),
    _text,
    st.just(""),
    st.just("https://example.org/hook"),
    st.builds(lambda path, q: f"https://example.org/{path}?{q}", _text, _text),
    st.builds(lambda s: "http://[" + s, _ascii),
    st.just("https://ex\udcff.org/"),
    st.just("https://example.org/" + "a" * 100_000),
)
"""URLs, including ones that cannot be parsed or encoded."""

methods = st.one_of(st.sampled_from(["POST", "GET", "PATCH", "post"]), _ascii.filter(bool))
