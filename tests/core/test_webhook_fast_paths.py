"""The one-pass paths of Headers (a plain dict) and received() answer as the general paths do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import ConfigurationError, PayloadTooLargeError, ValidationError
from examkit.core.webhook import Headers, WebhookRequest, received


class Text(str):
    """A str subclass: not exactly text, so it takes the general path (which accepts it)."""

    __slots__ = ()


names = st.sampled_from(["Signature", "signature", "SIGNATURE", "X-Itep-Signature", "Content-Type", "Host"])
values = st.one_of(st.text(max_size=8), st.builds(Text, st.text(max_size=4)))


def _view(headers: Headers) -> object:
    return (
        list(headers),
        len(headers),
        list(headers.items_all()),
        {name: (headers[name], headers.get_all(name)) for name in ("signature", "x-itep-signature", "host")
         if name in headers},
    )  # fmt: skip


def _general(pairs: list[tuple[str, str]]) -> Headers:
    """The general path: pairs from an iterator, which no one-pass path takes."""
    return Headers(iter(pairs))


@given(st.dictionaries(names, values, max_size=6))
def test_a_dict_reads_as_its_pairs(given_headers: dict[str, str]) -> None:
    # The pairs in the same order take the general path; both must read the same, repeats included.
    assert _view(Headers(given_headers)) == _view(_general(list(given_headers.items())))


@given(st.lists(st.tuples(names, values), max_size=6))
def test_a_list_of_pairs_reads_as_the_general_path(pairs: list[tuple[str, str]]) -> None:
    # Repeated names (in any case) are common in a list: the general path keeps them in order.
    assert _view(Headers(pairs)) == _view(_general(pairs))
    as_lists: list[object] = [[name, value] for name, value in pairs]
    assert _view(Headers(as_lists)) == _view(_general(pairs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([("X-Sig", 1)], "header names and values must be text"),
        ([("Host", "h"), (b"X", "v")], "header names and values must be text"),
        ([("X-Sig", "v", "w")], "headers must be a mapping or"),
        (["X-Sig"], "headers must be a mapping or"),
    ],
)
def test_a_list_that_is_not_pairs_of_text_is_refused(bad: list[object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Headers(bad)  # type: ignore[arg-type]


def test_names_that_differ_in_case_are_one_header() -> None:
    headers = Headers({"Signature": "a", "signature": "b"})
    assert headers["SIGNATURE"] == "a, b"
    assert headers.get_all("signature") == ("a", "b")
    assert list(headers) == ["Signature"]
    assert len(headers) == 1


@pytest.mark.parametrize(
    "bad", [{"X-Sig": 1}, {"X-Sig": b"v"}, {b"X-Sig": "v"}, {1: "v"}, {"Host": "h", "X-Sig": None}]
)
def test_a_dict_with_a_value_that_is_not_text_is_refused(bad: dict[object, object]) -> None:
    with pytest.raises(ValidationError, match="header names and values must be text"):
        Headers(bad)  # type: ignore[arg-type]


def test_a_plain_dict_is_read_exactly() -> None:
    headers = Headers({"Content-Type": "application/json", "X-Itep-Signature": "ab" * 32})
    assert headers["content-type"] == "application/json"
    assert headers.get_single("X-ITEP-SIGNATURE") == "ab" * 32
    assert "x-itep-signature" in headers
    assert list(headers.items_all()) == [
        ("Content-Type", "application/json"),
        ("X-Itep-Signature", "ab" * 32),
    ]


def test_received_accepts_a_body_up_to_the_limit() -> None:
    request = WebhookRequest(body=b"x" * 10)
    assert received(request, limit=10) is request
    assert received(request, limit=None) is request
    with pytest.raises(PayloadTooLargeError, match="the body is 11 bytes, over the 10-byte limit"):
        received(WebhookRequest(body=b"x" * 11), limit=10, vendor="itep")


@pytest.mark.parametrize("limit", [0, -1, True, 10.0])
def test_received_refuses_a_limit_that_is_not_a_positive_whole_number(limit: object) -> None:
    with pytest.raises(ConfigurationError, match="max_body_size"):
        received(WebhookRequest(body=b"x"), limit=limit)  # type: ignore[arg-type]


def test_received_refuses_a_body_changed_into_text_after_construction() -> None:
    request = WebhookRequest(body=b"{}")
    request.body = "{}"  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="body must be bytes"):
        received(request, limit=None)


def test_received_refuses_what_is_not_a_request() -> None:
    with pytest.raises(ValidationError, match="verify\\(\\) takes a WebhookRequest"):
        received(b"{}", limit=None)
