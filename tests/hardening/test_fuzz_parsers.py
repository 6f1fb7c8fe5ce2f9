"""Hostile input to every public parse and signature-check function: only examkit errors come out."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.assessio.signing import parse_signature_header
from examkit.assessio.webhooks import parse_event, verify_signature_header
from examkit.core.clock import FixedClock
from examkit.core.errors import ExamkitError, PayloadError
from examkit.core.serde import load_json
from examkit.integrity_advocate import decode_data_uri
from examkit.integrity_advocate.models import (
    parse_participant,
    parse_participant_page,
    parse_participant_status,
    parse_session_page,
)
from examkit.integrity_advocate.signing import parse_authorization
from examkit.integrity_advocate.webhooks import verify_authorization
from examkit.itep import Inventory, read_candidates_csv
from examkit.itep.signing import verify_body
from examkit.itep.webhooks import parse_results_body, parse_results_json
from examkit.testing.integrity_advocate import DEMO_APP_ID, make_participant, make_session
from examkit.testpress import CompletionHmacScheme, TestpressCompletionVerifier, webhook_hash
from examkit.testpress.webhooks import parse_unverified_attempt_result
from tests.hardening import strategies as hs
from tests.hardening.strategies import CANARY
from tests.hardening.vendors import IA_API_KEY, NOW, SAMPLE_ITEP_JSON

_TEXTISH = st.one_of(hs.bodies, hs.bodies.map(lambda b: b.decode("utf-8", "replace")))

BODY_PARSERS: dict[str, Callable[[Any], object]] = {
    "core.load_json": load_json,
    "itep.parse_results_body": parse_results_body,
    "itep.parse_results_json": parse_results_json,
    "assessio.parse_event": parse_event,
    "testpress.parse_unverified_attempt_result": parse_unverified_attempt_result,
    "testpress.webhook_hash": lambda body: webhook_hash(private_key=CANARY, body=body),
    "itep.verify_body": lambda body: verify_body(api_key=CANARY, body=body, signature="00" * 32),
    "assessio.verify_signature_header": lambda body: verify_signature_header(
        secret=CANARY, body=body, header=f"t={NOW},signature={'ab' * 32}", clock=FixedClock(NOW)
    ),
}


@pytest.mark.parametrize("name", sorted(BODY_PARSERS))
@settings(max_examples=200)  # x8 parsers; some examples are 1 MB bodies or 100 000-deep JSON
@given(body=_TEXTISH)
def test_body_parsers_raise_only_examkit_errors(name: str, body: bytes | str) -> None:
    parse = BODY_PARSERS[name]
    if isinstance(body, str) and name in ("itep.parse_results_body", "itep.verify_body"):
        body = body.encode("utf-8", "surrogatepass")
    with contextlib.suppress(ExamkitError):
        parse(body)


DATA_PARSERS: dict[str, Callable[[Any], object]] = {
    "ia.parse_participant": parse_participant,
    "ia.parse_participant_page": parse_participant_page,
    "ia.parse_session_page": parse_session_page,
    "ia.parse_participant_status": parse_participant_status,
    "itep.parse_results_json": parse_results_json,
    "testpress.parse_unverified_attempt_result": parse_unverified_attempt_result,
}


@pytest.mark.parametrize("name", sorted(DATA_PARSERS))
@settings(max_examples=200)  # x6 parsers over the same JSON strategy
@given(data=hs.json_values)
def test_decoded_data_parsers_raise_only_payload_errors(name: str, data: Any) -> None:
    with contextlib.suppress(PayloadError):
        DATA_PARSERS[name](data)


def _set_path(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


_IA_PARTICIPANT = make_participant(
    "p-1",
    "course-1",
    sessions=[make_session("activity-1")],
)
_VALID_DOCUMENTS: dict[str, tuple[Any, Callable[[Any], object]]] = {
    "ia.participant": (_IA_PARTICIPANT, parse_participant),
    "ia.participant_page": ({"Participants": [_IA_PARTICIPANT], "NextToken": None}, parse_participant_page),
    "itep.results": (json.loads(SAMPLE_ITEP_JSON), parse_results_json),
    "assessio.event": (
        {
            "eventType": "ASSESSMENT_SUBMITTED",
            "payload": {
                "orderReferenceId": "o-1",
                "assessmentType": "MAP",
                "assessmentScores": [
                    {"type": "T", "key": "EX", "value": 10, "subScores": [{"key": "a", "value": 1}]}
                ],
            },
        },
        lambda doc: parse_event(json.dumps(doc).encode()),
    ),
}


@pytest.mark.parametrize("name", sorted(_VALID_DOCUMENTS))
def test_the_valid_documents_parse(name: str) -> None:
    doc, parse = _VALID_DOCUMENTS[name]
    assert parse(doc) is not None


@pytest.mark.parametrize("name", sorted(_VALID_DOCUMENTS))
@settings(max_examples=300)
@given(data=st.data(), value=hs.json_values)
def test_a_wrong_type_in_any_field_is_a_payload_error(name: str, data: st.DataObject, value: Any) -> None:
    doc, parse = _VALID_DOCUMENTS[name]
    path = data.draw(st.sampled_from(_paths(doc)), label="path")
    try:
        parse(_set_path(doc, path, value))
    except PayloadError as exc:
        assert exc.vendor is not None
        assert str(exc)


HEADER_PARSERS: dict[str, Callable[[Any], object]] = {
    "ia.parse_authorization": parse_authorization,
    "ia.verify_authorization": lambda value: verify_authorization(
        value,
        app_id=DEMO_APP_ID,
        api_key=IA_API_KEY,
        method="POST",
        url="https://lms.example.org/cb",
        clock=FixedClock(NOW),
    ),
    "assessio.parse_signature_header": parse_signature_header,
    "assessio.verify_signature_header": lambda value: verify_signature_header(
        secret=CANARY, body=b"{}", header=value, clock=FixedClock(NOW)
    ),
    "itep.verify_body": lambda value: verify_body(api_key=CANARY, body=b"x", signature=value),
    "itep.verify_body.base64": lambda value: verify_body(
        api_key=CANARY, body=b"x", signature=value, encoding="base64"
    ),
    "ia.decode_data_uri": decode_data_uri,
}


@pytest.mark.parametrize("name", sorted(HEADER_PARSERS))
@settings(max_examples=300)
@given(value=st.one_of(hs.headers.map(lambda h: h[0][1] if h else None), st.integers(), st.binary()))
def test_header_parsers_raise_only_examkit_errors(name: str, value: Any) -> None:
    if "verify" in name:
        # A verifier never accepts a random value.
        with pytest.raises(ExamkitError):
            HEADER_PARSERS[name](value)
        return
    with contextlib.suppress(ExamkitError):
        HEADER_PARSERS[name](value)  # a parser may read a well-formed value


@settings(max_examples=150)  # one verifier, a small input space (mappings and form text)
@given(
    fields=st.one_of(
        st.dictionaries(st.text(max_size=8), st.text(max_size=16), max_size=6),
        st.dictionaries(st.sampled_from(["hmac", "attempt_id", "email"]), hs.json_values, max_size=3),
        _TEXTISH,
        hs.json_values,
    )
)
def test_completion_verifier_raises_only_examkit_errors(fields: Any) -> None:
    verifier = TestpressCompletionVerifier(
        scheme=CompletionHmacScheme(fields=("attempt_id", "email")), secret=CANARY
    )
    with pytest.raises(ExamkitError):
        verifier.verify(fields)


_CSV = st.one_of(
    st.text(max_size=300),
    st.lists(st.lists(st.text(max_size=12), max_size=5), max_size=6).map(
        lambda rows: "\n".join(",".join(r) for r in rows)
    ),
    st.lists(st.text(max_size=12), max_size=5).map(
        lambda row: "Test ID,Test Type,Status,Assigned To\n" + ",".join(row)
    ),
    st.just('Test ID,Test Type,Status,Assigned To\nA1,Academic,Active,"{not json'),
    st.just('Test ID,Test Type,Status,Assigned To\nA1,Academic,Active,"[1,2]"\nA1,x,y,'),
    st.just("email,name\n" + "x" * 200_000 + ",y\n"),
    st.just('a,"b\n'),
    st.just("\x00,\x00\n\x00"),
)


@settings(max_examples=200)  # two readers per example; some texts are 200 kB
@given(text=_CSV)
def test_csv_readers_raise_only_payload_errors(text: str) -> None:
    for read in (Inventory.from_csv, read_candidates_csv):
        with contextlib.suppress(PayloadError):
            read(io.StringIO(text))
