"""Signing vectors for Testpress, with every expected value built by hand in the test."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.encoding import PercentEncoding
from examkit.core.errors import ExamkitError, ValidationError
from examkit.testpress import attempt_hmac, review_hmac, webhook_hash

SECRET = b"tp-secret"

# Hand-written percent-encodings (ë is U+00EB = C3 AB in UTF-8, é is U+00E9 = C3 A9).
EMAIL = "ana+1@x.org"
FIRST = "Zoë Ann/Lée"
ATTEMPT = "order 7/a"
ENCODED = {
    PercentEncoding.RFC3986: ("ana%2B1%40x.org", "Zo%C3%AB%20Ann%2FL%C3%A9e", "order%207%2Fa"),
    PercentEncoding.ENCODE_URI_COMPONENT: (
        "ana%2B1%40x.org",
        "Zo%C3%AB%20Ann%2FL%C3%A9e",
        "order%207%2Fa",
    ),
    PercentEncoding.PHP_URLENCODE: ("ana%2B1%40x.org", "Zo%C3%AB+Ann%2FL%C3%A9e", "order+7%2Fa"),
    PercentEncoding.PYTHON_QUOTE: ("ana%2B1%40x.org", "Zo%C3%AB%20Ann/L%C3%A9e", "order%207/a"),
    PercentEncoding.QUOTE_PLUS: ("ana%2B1%40x.org", "Zo%C3%AB+Ann%2FL%C3%A9e", "order+7%2Fa"),
    None: ("ana+1@x.org", "Zoë Ann/Lée", "order 7/a"),
}


def _sha256(message: str) -> str:
    return hmac.new(SECRET, message.encode("utf-8"), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("encoding", list(ENCODED))
def test_attempt_hmac_under_each_encoding(encoding: PercentEncoding | None) -> None:
    email, first, attempt = ENCODED[encoding]
    expected = _sha256(f"{email}|{first}|{attempt}|pubKEY|1700000000")
    got = attempt_hmac(
        secret=SECRET,
        email=EMAIL,
        first_name=FIRST,
        institute_attempt_id=ATTEMPT,
        key="pubKEY",
        time=1700000000,
        encoding=encoding,
    )
    assert got == expected


def test_attempt_hmac_default_is_python_quote_with_slash_kept() -> None:
    expected = _sha256("ana%2B1%40x.org|Zo%C3%AB%20Ann/L%C3%A9e|order%207/a|pubKEY|1700000000")
    got = attempt_hmac(
        secret=SECRET,
        email=EMAIL,
        first_name=FIRST,
        institute_attempt_id=ATTEMPT,
        key="pubKEY",
        time="1700000000",
    )
    assert got == expected


def test_the_variants_really_differ_for_these_names() -> None:
    digests = {
        attempt_hmac(
            secret=SECRET,
            email=EMAIL,
            first_name=FIRST,
            institute_attempt_id=ATTEMPT,
            key="k",
            time=1,
            encoding=enc,
        )
        for enc in ENCODED
    }
    # RFC3986 and ENCODE_URI_COMPONENT agree here, PHP and QUOTE_PLUS too; the rest differ.
    assert len(digests) == 4


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", ""),
        ("first_name", ""),
        ("institute_attempt_id", ""),
        ("key", ""),
        ("time", "soon"),
    ],
)
def test_attempt_hmac_refuses_empty_values(field: str, value: str) -> None:
    values: dict[str, object] = {
        "email": "a@b.c",
        "first_name": "A",
        "institute_attempt_id": "1",
        "key": "k",
        "time": 1,
    }
    values[field] = value
    with pytest.raises(ValidationError) as info:
        attempt_hmac(secret=SECRET, **values)  # type: ignore[arg-type]
    assert info.value.field == field


def test_review_hmac_vector() -> None:
    expected = _sha256("93|order%207/a|pubKEY|1700000000")
    assert (
        review_hmac(
            secret=SECRET,
            attempt_id=93,
            institute_attempt_id=ATTEMPT,
            key="pubKEY",
            time=1700000000,
        )
        == expected
    )


# --- webhook hash: the literal rule ----------


def _sha512(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha512).hexdigest()


SAMPLE_2023_END = (
    b'{"username": "student", "accuracy": 0, "hash": "x", "attempt_id": 130, '
    b'"attempt_state": "completed", "incorrect_answers_count": 0, "unanswered_answers_count": 1, '
    b'"key": "YDRAXrgV3STf7EH5", "user_id": 2, "percentage": "0.00", "score": "0.00", '
    b'"speed": 0, "institute_attempt_id": null, "correct_answers_count": 0}'
)


def test_webhook_hash_2023_shape() -> None:
    expected = _sha512(b"priv", "YDRAXrgV3STf7EH5|130|0|priv|0|1|0.00|0.00|2")
    assert webhook_hash(private_key=b"priv", body=SAMPLE_2023_END) == expected


@pytest.mark.parametrize(
    ("literal", "contributes"),
    [
        (b'"0.00"', "0.00"),
        (b"0.00", "0.00"),
        (b"3", "3"),
        (b"-0", "-0"),
        (b"-0.0", "-0.0"),
        (b"1e3", "1e3"),
        (b"1E+3", "1E%2B3"),
        (b"1.50", "1.50"),
        (b'"50"', "50"),
        (b'"caf\\u00e9"', "caf%C3%A9"),
    ],
)
def test_webhook_hash_takes_each_literal_as_written(literal: bytes, contributes: str) -> None:
    body = (
        b'{"key":"k","attempt_id":1,"correct_answers_count":2,"incorrect_answers_count":3,'
        b'"unanswered_answers_count":4,"percentage":"5","score":' + literal + b',"user_id":6}'
    )
    expected = _sha512(b"p", f"k|1|2|p|3|4|5|{contributes}|6")
    assert webhook_hash(private_key="p", body=body) == expected


def test_webhook_hash_encodes_the_private_key_and_values() -> None:
    body = (
        b'{"key":"a b/c","attempt_id":"1","correct_answers_count":"2",'
        b'"incorrect_answers_count":"3","unanswered_answers_count":"4","percentage":"5","score":"6","user_id":"7"}'
    )
    assert webhook_hash(private_key="p+q", body=body) == _sha512(b"p+q", "a%20b/c|1|2|p%2Bq|3|4|5|6|7")
    assert webhook_hash(private_key="p+q", body=body, encoding=PercentEncoding.QUOTE_PLUS) == _sha512(
        b"p+q", "a+b%2Fc|1|2|p%2Bq|3|4|5|6|7"
    )
    assert webhook_hash(private_key="p+q", body=body, encoding=None) == _sha512(
        b"p+q", "a b/c|1|2|p+q|3|4|5|6|7"
    )


@pytest.mark.parametrize("bad", [b"", b"[]", b"{", b"\xff", b'{"key":true}', b'{"a":NaN}'])
def test_webhook_hash_refuses_unhashable_bodies(bad: bytes) -> None:
    with pytest.raises(ValidationError):
        webhook_hash(private_key="p", body=bad)


# --- properties ----------

text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30)


@given(email=text, first=text, attempt=text)
def test_attempt_hmac_round_trips_for_any_unicode(email: str, first: str, attempt: str) -> None:
    # An independent encoder: the standard library's quote with "/" kept.
    message = "|".join(quote(v, safe="/") for v in (email, first, attempt, "K", "1700000000"))
    expected = _sha256(message)
    got = attempt_hmac(
        secret=SECRET,
        email=email,
        first_name=first,
        institute_attempt_id=attempt,
        key="K",
        time=1700000000,
    )
    assert got == expected
    changed = attempt_hmac(
        secret=SECRET,
        email=email,
        first_name=first + "x",
        institute_attempt_id=attempt,
        key="K",
        time=1700000000,
    )
    assert changed != got


@given(st.binary(max_size=200))
def test_webhook_hash_on_arbitrary_bytes_raises_only_examkit_errors(body: bytes) -> None:
    with contextlib.suppress(ExamkitError):
        webhook_hash(private_key="p", body=body)


def test_a_body_of_numbers_costs_one_plain_object_per_number() -> None:
    import tracemalloc

    from examkit.testpress._literals import literal_text, load_json_with_literals

    body = b'{"a":[' + b",".join([b"123"] * 250_000) + b'],"b":[' + b",".join([b"1.50"] * 100_000) + b"]}"
    tracemalloc.start()
    try:
        decoded = load_json_with_literals(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024 * 1024  # one literal-keeping object per number took over 100 MiB
    assert type(decoded["a"][0]) is int
    assert (literal_text(decoded["a"][0]), literal_text(decoded["b"][0])) == ("123", "1.50")
    odd = load_json_with_literals(b'{"z": -0, "e": 1e3, "f": 0.0000001}')
    assert [literal_text(odd[k]) for k in ("z", "e", "f")] == ["-0", "1e3", "0.0000001"]
