"""The results webhook: authentication settings, strict form parsing, and the vendor's sample."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.clock import FixedClock
from examkit.core.errors import (
    ConfigurationError,
    ExamkitError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    PayloadTooLargeError,
    ReplayedRequestError,
    SignatureMismatchError,
)
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.itep import (
    BasicAuth,
    CefrLevel,
    ExamStatus,
    HmacBodyAuth,
    ItepWebhookVerifier,
    NoAuthentication,
    TokenHeaderAuth,
)
from examkit.itep.webhooks import parse_results_body
from examkit.testing.itep import build_results_webhook

# The vendor's "Webhook Output Sample", raw, as printed (PDF line breaks removed).
RAW_SAMPLE = (
    '{"OID":"","TestID":"3279B035APR","Duration":"67.5","TestDate":"6\\/10\\/2024","TestMonth":"6",'
    '"TestDay":"10","TestYear":"2024","score_report_url":"https://www.iteptest.com/reports/ScoreReport'
    '.php?p=8bee14e7f73fc44d9db69ff8bccfe36aAfcvq","Overall_Level":"4.5","Overall_cefr":"C1",'
    '"Grammar_Level":"3.5","Grammar_Score":"68","Grammar_Percent":"72","Grammar_cefr":"B2",'
    '"Listening_Level":"5.0","Listening_Score":"87","Listening_Percent":"86","Listening_cefr":"C1",'
    '"Reading_Level":"6.0","Reading_Score":"100","Reading_Percent":"100","Reading_cefr":"C2",'
    '"Writing_Level":"4.0","Writing_Score":"77","Writing_Percent":"67","Writing_cefr":"B2",'
    '"Writing_Question_Count":2,"Writing_Question_1":"","Writing_Answer_1":"","Writing_Question_2":'
    '"","Writing_Answer_2":"","Speaking_Level":"4.0","Speaking_Score":"77","Speaking_Percent":"67",'
    '"Speaking_cefr":"B2","Status":"Complete"}'
)

# The same sample, "Formatted".
FORMATTED_SAMPLE = """{
  "OID": "",
  "TestID": "3279B035APR",
  "Duration": "67.5",
  "TestDate": "6/10/2024",
  "TestMonth": "6",
  "TestDay": "10",
  "TestYear": "2024",
  "score_report_url":
"https://www.iteptest.com/reports/ScoreReport.php?p=8bee14e7f73fc44d9db69ff8bccfe36aAfcvq",
  "Overall_Level": "4.5",
  "Overall_cefr": "C1",
  "Grammar_Level": "3.5",
  "Grammar_Score": "68",
  "Grammar_Percent": "72",
  "Grammar_cefr": "B2",
  "Listening_Level": "5.0",
  "Listening_Score": "87",
  "Listening_Percent": "86",
  "Listening_cefr": "C1",
  "Reading_Level": "6.0",
  "Reading_Score": "100",
  "Reading_Percent": "100",
  "Reading_cefr": "C2",
  "Writing_Level": "4.0",
  "Writing_Score": "77",
  "Writing_Percent": "67",
  "Writing_cefr": "B2",
  "Writing_Question_Count": 2,
  "Writing_Question_1": "",
  "Writing_Answer_1": "",
  "Writing_Question_2": "",
  "Writing_Answer_2": "",
  "Speaking_Level": "4.0",
  "Speaking_Score": "77",
  "Speaking_Percent": "67",
  "Speaking_cefr": "B2",
  "Status": "Complete"
}"""

TOKEN = "itep-shared-token-123"


def form(json_text: str) -> bytes:
    return ("data=" + quote(json_text, safe="")).encode("ascii")


@pytest.mark.parametrize("sample", [RAW_SAMPLE, FORMATTED_SAMPLE])
def test_vendor_sample_parses_field_by_field(sample: str) -> None:
    result = parse_results_body(form(sample))
    assert result.oid is None
    assert result.test_id == "3279B035APR"
    assert result.duration == Decimal("67.5")
    assert result.test_date == date(2024, 6, 10)
    assert (result.test_month, result.test_day, result.test_year) == (6, 10, 2024)
    assert result.score_report_url == (
        "https://www.iteptest.com/reports/ScoreReport.php?p=8bee14e7f73fc44d9db69ff8bccfe36aAfcvq"
    )
    assert result.overall_level == Decimal("4.5")
    assert result.overall_cefr is CefrLevel.C1
    assert result.status is ExamStatus.COMPLETE
    assert result.is_complete
    expected = {
        "grammar": (Decimal("3.5"), Decimal("68"), Decimal("72"), CefrLevel.B2),
        "listening": (Decimal("5.0"), Decimal("87"), Decimal("86"), CefrLevel.C1),
        "reading": (Decimal("6.0"), Decimal("100"), Decimal("100"), CefrLevel.C2),
        "writing": (Decimal("4.0"), Decimal("77"), Decimal("67"), CefrLevel.B2),
        "speaking": (Decimal("4.0"), Decimal("77"), Decimal("67"), CefrLevel.B2),
    }
    assert {name: (s.level, s.score, s.percent, s.cefr) for name, s in result.sections.items()} == expected
    assert result.writing is not None
    assert result.writing.question_count == 2
    assert result.grammar is not None
    assert result.grammar.question_count is None
    assert dict(result.extra) == {
        "Writing_Question_1": "",
        "Writing_Answer_1": "",
        "Writing_Question_2": "",
        "Writing_Answer_2": "",
    }


def test_numbers_as_json_numbers_and_both_status_vocabularies() -> None:
    body = form(
        '{"TestID":"X1","Overall_Level":4.5,"Duration":67,"Status":"Technical Difficulty",'
        '"Reading_Level":6,"New_Field":{"a":1}}'
    )
    result = parse_results_body(body)
    assert result.overall_level == Decimal("4.5")
    assert result.duration == Decimal("67")
    assert result.status is ExamStatus.TECHNICAL_DIFFICULTY
    assert result.reading is not None
    assert result.reading.level == Decimal("6")
    assert result.grammar is None
    assert result.extra == {"New_Field": {"a": 1}}
    for status, member in (
        ("Completed", ExamStatus.COMPLETED),
        ("Problem", ExamStatus.PROBLEM),
        ("Incomplete", ExamStatus.INCOMPLETE),
        ("Started", ExamStatus.STARTED),
    ):
        assert parse_results_body(form(f'{{"TestID":"X","Status":"{status}"}}')).status is member
    unknown = parse_results_body(form('{"TestID":"X","Status":"Archived","Overall_cefr":"A0"}'))
    assert (unknown.status, unknown.overall_cefr) == ("Archived", "A0")
    assert parse_results_body(form('{"TestID":"X","Status":"Completed"}')).is_complete


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (b"", "data", "missing"),
        (b"other=1", "data", "missing"),
        (form("{}") + b"&" + form("{}"), "data", "duplicated"),
        (b"data", None, "not a form body"),
        (b"data=%FF", None, "not UTF-8"),
        (b"\xff=1", None, "not UTF-8"),
        (form("[1]"), None, "not an object"),
        (form("{"), None, "not JSON"),
        (form('{"Status":"Complete"}'), "TestID", "is missing"),
        (form('{"TestID":"X","TestDate":"2024-06-10"}'), "TestDate", "expected M/D/YYYY"),
        (form('{"TestID":"X","TestDate":"2/30/2024"}'), "TestDate", "expected M/D/YYYY"),
        (form('{"TestID":"X","Grammar_Level":"high"}'), "Grammar_Level", None),
        (form('{"TestID":"X","Overall_Level":true}'), "Overall_Level", None),
    ],
)
def test_malformed_bodies_are_payload_errors(body: bytes, field: str | None, reason: str | None) -> None:
    with pytest.raises(PayloadError) as info:
        parse_results_body(body)
    assert info.value.field == field
    if reason is not None:
        assert info.value.reason == reason


def test_auth_is_required_and_none_must_be_explicit() -> None:
    with pytest.raises(TypeError):
        ItepWebhookVerifier()  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError):
        ItepWebhookVerifier(auth=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        ItepWebhookVerifier(auth="token")  # type: ignore[arg-type]
    result = ItepWebhookVerifier(auth=NoAuthentication()).verify(build_results_webhook())
    assert result.test_id == "3279B035APR"


def test_token_header_auth() -> None:
    verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Itep-Token", token=TOKEN))
    assert verifier.verify(build_results_webhook(token=("x-itep-token", TOKEN))).test_id
    with pytest.raises(SignatureMismatchError):
        verifier.verify(build_results_webhook(token=("X-Itep-Token", TOKEN + "x")))
    with pytest.raises(MissingSignatureError):
        verifier.verify(build_results_webhook())
    rotated = TokenHeaderAuth(header="Authorization", token=["old-token-1", TOKEN], prefix="Bearer ")
    request = build_results_webhook(headers={"Authorization": f"Bearer {TOKEN}"})
    assert ItepWebhookVerifier(auth=rotated).verify(request).test_id == "3279B035APR"
    assert TOKEN not in repr(rotated)


def test_basic_auth() -> None:
    auth = BasicAuth(username="itep", password="pa55word-xyz")
    verifier = ItepWebhookVerifier(auth=auth)
    ok = build_results_webhook(basic=("itep", "pa55word-xyz"))
    credentials = base64.b64encode(b"itep:pa55word-xyz").decode()
    assert ok.headers["Authorization"] == f"Basic {credentials}"
    assert verifier.verify(ok).test_id == "3279B035APR"
    with pytest.raises(SignatureMismatchError):
        verifier.verify(build_results_webhook(basic=("itep", "wrong")))
    with pytest.raises(SignatureMismatchError):
        verifier.verify(build_results_webhook(basic=("other", "pa55word-xyz")))
    for value in ("Basic !!!", "Bearer abc", "Basic", "Basic ÿÿ"):
        with pytest.raises(MalformedSignatureError):
            verifier.verify(build_results_webhook(headers={"Authorization": value}))
    assert "pa55word-xyz" not in repr(auth)


def test_hmac_body_auth_against_an_independent_hmac() -> None:
    body = form(RAW_SAMPLE)
    signature = hmac.new(b"hmac-secret-abc", body, hashlib.sha256).hexdigest()
    verifier = ItepWebhookVerifier(auth=HmacBodyAuth(header="X-Itep-Hmac", secret="hmac-secret-abc"))
    request = WebhookRequest(body=body, headers={"X-Itep-Hmac": signature.upper()})
    assert verifier.verify(request).test_id == "3279B035APR"
    with pytest.raises(SignatureMismatchError):
        verifier.verify(WebhookRequest(body=body + b"&x=1", headers={"X-Itep-Hmac": signature}))
    with pytest.raises(MalformedSignatureError):
        verifier.verify(WebhookRequest(body=body, headers={"X-Itep-Hmac": "zz"}))
    prefixed = ItepWebhookVerifier(
        auth=HmacBodyAuth(header="X-Sig", secret="hmac-secret-abc", prefix="sha256=")
    )
    assert prefixed.verify(WebhookRequest(body=body, headers={"X-Sig": f"sha256={signature}"})).test_id
    with pytest.raises(MalformedSignatureError):
        prefixed.verify(WebhookRequest(body=body, headers={"X-Sig": signature}))


def test_verify_then_parse() -> None:
    verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Itep-Token", token=TOKEN))
    garbage = WebhookRequest(body=b"\xff\x00not a form", headers={"X-Itep-Token": "nope-nope"})
    with pytest.raises(SignatureMismatchError):
        verifier.verify(garbage)
    authentic = WebhookRequest(body=b"\xff\x00not a form", headers={"X-Itep-Token": TOKEN})
    with pytest.raises(PayloadError):
        verifier.verify(authentic)


def test_body_size_limit_comes_first() -> None:
    verifier = ItepWebhookVerifier(
        auth=TokenHeaderAuth(header="X-Itep-Token", token=TOKEN), max_body_size=100
    )
    with pytest.raises(PayloadTooLargeError):
        verifier.verify(WebhookRequest(body=b"x" * 101))


def test_optional_replay_guard() -> None:
    guard = InMemoryReplayGuard(clock=FixedClock(1_700_000_000))
    verifier = ItepWebhookVerifier(auth=NoAuthentication(), replay_guard=guard)
    verifier.verify(build_results_webhook())
    with pytest.raises(ReplayedRequestError):
        verifier.verify(build_results_webhook())
    digest = hashlib.sha256(form(RAW_SAMPLE)).hexdigest()
    assert not guard.add(f"examkit:itep:{digest}", ttl=10)


def test_from_env() -> None:
    verifier = ItepWebhookVerifier.from_env(
        scheme="token", header="X-Itep-Token", environ={"EXAMKIT_ITEP_WEBHOOK_TOKEN": TOKEN}
    )
    assert verifier.verify(build_results_webhook(token=("X-Itep-Token", TOKEN))).test_id
    with pytest.raises(ConfigurationError) as info:
        ItepWebhookVerifier.from_env(scheme="basic", environ={})
    assert info.value.setting == "EXAMKIT_ITEP_WEBHOOK_USERNAME"
    with pytest.raises(ConfigurationError):
        ItepWebhookVerifier.from_env(scheme="hmac", environ={"EXAMKIT_ITEP_WEBHOOK_SECRET": "s"})


def test_builder_uses_the_one_data_field() -> None:
    request = build_results_webhook({"TestID": "ABC123", "Status": "Finished"})
    assert request.body == b"data=%7B%22TestID%22%3A%22ABC123%22%2C%22Status%22%3A%22Finished%22%7D"
    assert json.loads(SAMPLE_JSON_FROM_BUILDER()) == json.loads(RAW_SAMPLE)


def SAMPLE_JSON_FROM_BUILDER() -> str:  # noqa: N802
    from urllib.parse import parse_qs

    return parse_qs(build_results_webhook().body.decode())["data"][0]


# -- properties ---------------------------------------------------------------------------------


@given(body=st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_examkit_errors(body: bytes) -> None:
    with contextlib.suppress(PayloadError):
        ItepWebhookVerifier(auth=NoAuthentication()).verify(WebhookRequest(body=body))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
keys = st.sampled_from(
    [
        "TestID",
        "OID",
        "Duration",
        "TestDate",
        "Status",
        "Overall_Level",
        "Overall_cefr",
        "Grammar_Level",
        "Writing_Question_Count",
        "Reading_cefr",
        "TestMonth",
        "other",
    ]
)


@given(data=st.dictionaries(keys, json_values, max_size=8))
def test_arbitrary_results_json_raises_only_payload_errors(data: dict[str, object]) -> None:
    with contextlib.suppress(PayloadError):
        parse_results_body(form(json.dumps(data)))


@given(body=st.binary(max_size=200), data=st.data())
def test_hmac_auth_rejects_any_changed_byte(body: bytes, data: st.DataObject) -> None:
    auth = HmacBodyAuth(header="X-Sig", secret="prop-secret")
    signature = hmac.new(b"prop-secret", body, hashlib.sha256).hexdigest()
    auth.authenticate(WebhookRequest(body=body, headers={"X-Sig": signature}))
    if body:
        i = data.draw(st.integers(0, len(body) - 1))
        changed = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        with pytest.raises(SignatureMismatchError):
            auth.authenticate(WebhookRequest(body=changed, headers={"X-Sig": signature}))


@given(value=st.text(max_size=60))
def test_arbitrary_header_values_raise_only_examkit_errors(value: str) -> None:
    for auth in (
        TokenHeaderAuth(header="Authorization", token=TOKEN),
        BasicAuth(username="u", password="p-secret"),
        HmacBodyAuth(header="Authorization", secret="s-secret", encoding="base64"),
    ):
        with contextlib.suppress(ExamkitError):
            auth.authenticate(WebhookRequest(body=b"data={}", headers={"Authorization": value}))
