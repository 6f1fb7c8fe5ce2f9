"""The fulfillment body, its signature, and the client against the fake and `responses`."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import (
    ApiError,
    ConfigurationError,
    ExamkitError,
    MalformedSignatureError,
    MissingSignatureError,
    ServerError,
    SignatureMismatchError,
    TransportError,
    ValidationError,
)
from examkit.itep import (
    DEFAULT_ENDPOINT,
    AssignedTo,
    CounterSequence,
    FulfillmentRequest,
    ItepClient,
    Registration,
    sign_body,
)
from examkit.itep._fulfillment import FulfillmentSigner
from examkit.itep.signing import verify_body
from examkit.testing.itep import FakeItep

API_KEY = "itep-test-api-key-0123"
HEADER = "X-Itep-Signature"


@pytest.fixture
def fake() -> FakeItep:
    return FakeItep(
        api_key=API_KEY,
        signature_header=HEADER,
        inventory={"Academic-Plus": ["3279B035APR", "123982B8AP", "555555A5AP"]},
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_body_is_compact_in_vendor_order_with_vendor_keys() -> None:
    request = FulfillmentRequest(
        product_code="STX-Academic-Plus",
        email="mary@example.com",
        bcc="office@example.com",
        track="RC",
        extra={"sequence": 3},
        assigned_to=AssignedTo(
            name="Mary Poppins",
            email="mary@example.com",
            candidate_id=9810283,
            extra={"sequence": 3},
        ),
        registration=Registration(last_name="Poppins", first_name="Mary", oin_type="1"),
    )
    assert request.body() == (
        b'{"product-code":"STX-Academic-Plus","email":"mary@example.com",'
        b'"bcc":"office@example.com","track":"RC","sequence":3,"assigned-to":'
        b'{"student-name":"Mary Poppins","email":"mary@example.com",'
        b'"customer-candidate-id":9810283,"sequence":3},"registration":'
        b'{"Last_Name":"Poppins","First_Name":"Mary","OIN_Type":"1"}}'
    )
    assert request.body(embed_json_as_text=True) == (
        b'{"product-code":"STX-Academic-Plus","email":"mary@example.com",'
        b'"bcc":"office@example.com","track":"RC","sequence":3,"assigned-to":'
        b'"{\\"student-name\\":\\"Mary Poppins\\",\\"email\\":\\"mary@example.com\\",'
        b'\\"customer-candidate-id\\":9810283,\\"sequence\\":3}","registration":'
        b'"{\\"Last_Name\\":\\"Poppins\\",\\"First_Name\\":\\"Mary\\",\\"OIN_Type\\":\\"1\\"}"}'
    )


def test_sign_body_is_hmac_sha256_hex_of_the_exact_bytes() -> None:
    body = b'{"product-code":"GTX-Academic-Plus"}'
    expected = hmac.new(b"itep-test-api-key-0123", body, hashlib.sha256).hexdigest()
    assert sign_body(api_key=API_KEY, body=body) == expected
    digest = hmac.new(b"itep-test-api-key-0123", body, hashlib.sha256).digest()
    assert FulfillmentSigner(api_key=API_KEY, header=HEADER, encoding="HEX").signature(body) == (
        expected.upper()
    )
    assert (
        FulfillmentSigner(api_key=API_KEY, header=HEADER, encoding="base64").signature(body)
        == base64.b64encode(digest).decode()
    )


@given(body=st.binary(max_size=300))
def test_sign_verify_round_trip(body: bytes) -> None:
    verify_body(api_key=API_KEY, body=body, signature=sign_body(api_key=API_KEY, body=body))


@given(body=st.binary(min_size=1, max_size=200), data=st.data())
def test_any_changed_byte_is_rejected(body: bytes, data: st.DataObject) -> None:
    signature = sign_body(api_key=API_KEY, body=body)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(SignatureMismatchError):
        verify_body(api_key=API_KEY, body=changed, signature=signature)


@given(signature=st.text(max_size=80))
def test_arbitrary_signatures_raise_only_examkit_errors(signature: str) -> None:
    with contextlib.suppress(MissingSignatureError, MalformedSignatureError, SignatureMismatchError):
        verify_body(api_key=API_KEY, body=b"{}", signature=signature)


def test_fake_receives_a_signature_matching_an_independent_hmac(fake: FakeItep) -> None:
    client = fake.client()
    result = client.issue_test_id(
        product_code="GTX-Academic-Plus",
        track="RC",
        assigned_to={"student-name": "Zoë", "customer-candidate-id": "c-1"},
    )
    assert result.test_id == "3279B035APR"
    assert result.status_code == 200
    (sent,) = fake.requests
    expected = hmac.new(API_KEY.encode(), sent.body, hashlib.sha256).hexdigest()
    assert sent.headers[HEADER] == expected
    assert sent.headers["Content-Type"] == "application/json"
    assert (
        sent.body
        == (
            '{"product-code":"GTX-Academic-Plus","track":"RC","assigned-to":'
            '{"student-name":"Zoë","customer-candidate-id":"c-1"}}'
        ).encode()
    )
    assert fake.available("Academic-Plus") == ["123982B8AP", "555555A5AP"]
    assert fake.emails == []


def test_send_test_id_records_the_email_it_would_send(fake: FakeItep) -> None:
    client = fake.client()
    result = client.send_test_id(
        product_code="STX-Academic-Plus", email="mary@example.com", bcc="copy@example.com"
    )
    assert result.test_id == "3279B035APR"
    assert [(e.to, e.bcc, e.test_id) for e in fake.emails] == [
        ("mary@example.com", "copy@example.com", "3279B035APR")
    ]


def test_wrong_family_or_missing_email_is_refused_before_sending(fake: FakeItep) -> None:
    client = fake.client()
    with pytest.raises(ValidationError) as info:
        client.issue_test_id(product_code="STX-Academic-Plus", email="a@example.com")
    assert info.value.field == "product-code"
    with pytest.raises(ValidationError):
        client.send_test_id(product_code="GTX-Academic-Plus")
    with pytest.raises(ValidationError) as info:
        client.send_test_id(product_code="STX-Academic-Plus")
    assert info.value.field == "email"
    with pytest.raises(ValidationError):
        client.issue_test_id(product_code="XTX-Academic-Plus")
    with pytest.raises(ValidationError):
        client.issue_test_id(product_code="GTX-Academic-Plus", registration={"Gender": "?"})
    with pytest.raises(ValidationError):
        client.issue_test_id(product_code="GTX-Academic-Plus", track="RC", bcc="nope")
    assert fake.requests == []


def test_signature_header_is_a_required_setting() -> None:
    with pytest.raises(TypeError):
        ItepClient(api_key=API_KEY)  # type: ignore[call-arg]
    for bad in ("", "  ", "X-Bad:Header"):
        with pytest.raises(ConfigurationError) as info:
            ItepClient(api_key=API_KEY, signature_header=bad)
        assert info.value.setting == "signature_header"


def test_wrong_key_is_refused_by_the_fake(fake: FakeItep) -> None:
    client = fake.client(api_key="another-key-9876")
    with pytest.raises(ApiError) as info:
        client.issue_test_id(product_code="GTX-Academic-Plus")
    assert info.value.status_code == 401
    assert fake.available("Academic-Plus") == ["3279B035APR", "123982B8AP", "555555A5AP"]


def test_encoding_setting_reaches_the_wire() -> None:
    fake = FakeItep(
        api_key=API_KEY,
        signature_header=HEADER,
        encoding="base64",
        inventory={"Core": ["CORE0001"]},
    )
    assert fake.client().issue_test_id(product_code="GTX-Core").test_id == "CORE0001"
    sent = fake.requests[0]
    digest = hmac.new(API_KEY.encode(), sent.body, hashlib.sha256).digest()
    assert sent.headers[HEADER] == base64.b64encode(digest).decode()


def test_stx_header_can_differ(fake: FakeItep) -> None:
    client = fake.client(stx_signature_header="X-Itep-Send-Signature")
    with pytest.raises(ApiError):
        client.send_test_id(product_code="STX-Academic-Plus", email="a@example.com")
    sent = fake.requests[0]
    assert "X-Itep-Send-Signature" in sent.headers
    assert HEADER not in sent.headers


def test_sequence_source_goes_into_the_signed_body(fake: FakeItep) -> None:
    client = fake.client(sequence=CounterSequence(start=7))
    client.issue_test_id(product_code="GTX-Academic-Plus")
    client.issue_test_id(product_code="GTX-Academic-Plus", sequence=99)
    client.issue_test_id(product_code="GTX-Academic-Plus")
    assert [json.loads(r.body)["sequence"] for r in fake.requests] == [7, 99, 8]


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ('{"TestID":"3279B035APR"}', "application/json", "3279B035APR"),
        ('{"result":{"test_id":"123982B8AP"}}', "application/json", "123982B8AP"),
        ('"123982B8AP"', "application/json", "123982B8AP"),
        ("123982B8AP\n", "text/plain", "123982B8AP"),
    ],
)
def test_test_id_is_read_from_json_or_bare_text(
    rsps: responses.RequestsMock, body: str, content_type: str, expected: str
) -> None:
    rsps.add(responses.POST, DEFAULT_ENDPOINT, body=body, status=200, content_type=content_type)
    client = ItepClient(api_key=API_KEY, signature_header=HEADER)
    result = client.issue_test_id(product_code="GTX-Academic-Plus")
    assert result.test_id == expected
    assert result.text == body


def test_unreadable_success_is_an_api_error_unless_allowed(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, DEFAULT_ENDPOINT, body="ERROR: no inventory", status=200)
    client = ItepClient(api_key=API_KEY, signature_header=HEADER)
    with pytest.raises(ApiError) as info:
        client.issue_test_id(product_code="GTX-Academic-Plus")
    assert info.value.status_code == 200
    assert "ERROR: no inventory" in str(info.value)
    lenient = ItepClient(api_key=API_KEY, signature_header=HEADER, require_test_id=False)
    result = lenient.issue_test_id(product_code="GTX-Academic-Plus")
    assert (result.test_id, result.text) == (None, "ERROR: no inventory")


def test_server_errors_are_never_retried(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, DEFAULT_ENDPOINT, body="boom", status=503)
    client = ItepClient(api_key=API_KEY, signature_header=HEADER)
    with pytest.raises(ServerError):
        client.issue_test_id(product_code="GTX-Academic-Plus")
    assert len(rsps.calls) == 1


def test_connection_failures_are_never_retried(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, DEFAULT_ENDPOINT, body=requests.ConnectionError("reset"))
    client = ItepClient(api_key=API_KEY, signature_header=HEADER)
    with pytest.raises(TransportError) as info:
        client.send_test_id(product_code="STX-Academic-Plus", email="a@example.com")
    assert len(rsps.calls) == 1
    assert "may have been allocated and e-mailed" in str(info.value)


def test_secret_never_shown(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, DEFAULT_ENDPOINT, body=f"bad key {API_KEY}", status=400)
    client = ItepClient(api_key=API_KEY, signature_header=HEADER)
    assert API_KEY not in repr(client)
    with pytest.raises(ApiError) as info:
        client.issue_test_id(product_code="GTX-Academic-Plus")
    assert API_KEY not in str(info.value)
    assert API_KEY not in (info.value.response_excerpt or "")


def test_from_env() -> None:
    with pytest.raises(ConfigurationError) as info:
        ItepClient.from_env(environ={})
    assert info.value.setting == "EXAMKIT_ITEP_API_KEY"
    with pytest.raises(ConfigurationError) as info:
        ItepClient.from_env(environ={"EXAMKIT_ITEP_API_KEY": API_KEY})
    assert info.value.setting == "EXAMKIT_ITEP_SIGNATURE_HEADER"
    client = ItepClient.from_env(
        environ={"EXAMKIT_ITEP_API_KEY": API_KEY, "EXAMKIT_ITEP_SIGNATURE_HEADER": HEADER}
    )
    assert client.signature_header == HEADER
    assert client.endpoint == "https://www.iteptest.com/requests/ecommerce_webhook.php"


def test_configuration_errors() -> None:
    kwargs: dict[str, Any]
    for kwargs in (
        {"endpoint": "ftp://x"},
        {"signature_encoding": "hex-ish"},
        {"sequence": 3},
    ):
        with pytest.raises(ConfigurationError):
            ItepClient(api_key=API_KEY, signature_header=HEADER, **kwargs)
    with pytest.raises(ConfigurationError):
        ItepClient(api_key="", signature_header=HEADER)


def test_errors_are_examkit_errors(fake: FakeItep) -> None:
    client = fake.client()
    with pytest.raises(ExamkitError):
        client.issue_test_id(product_code="GTX-Unknown-Type")
    assert fake.requests[-1].body == b'{"product-code":"GTX-Unknown-Type"}'
