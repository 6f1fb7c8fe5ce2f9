"""FakeItep hands out only test IDs that ItepClient reads back, unchanged, from either answer style."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from examkit.core.errors import ValidationError
from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth
from examkit.testing.itep import FakeItep, build_results_webhook

# iTEP's own test IDs, from the fulfillment guide ("only the test ID 123982B8AP is available") and
# the results webhook sample.
VENDOR_IDS = ["123982B8AP", "3279B035APR"]


def make_fake(test_ids: list[str], style: str = "json") -> FakeItep:
    return FakeItep(
        api_key="k",
        signature_header="X-Sig",
        inventory={"Academic-Plus": test_ids},
        response_style="json" if style == "json" else "text",
    )


@pytest.mark.parametrize("style", ["json", "text"])
def test_vendor_shaped_ids_round_trip(style: str) -> None:
    fake = make_fake(VENDOR_IDS, style)
    with fake.client() as client:
        issued = [client.issue_test_id(product_code="GTX-Academic-Plus").test_id for _ in VENDOR_IDS]
    assert issued == VENDOR_IDS
    assert [i.test_id for i in fake.issued] == VENDOR_IDS


@pytest.mark.parametrize("test_id", ["ID3", "ABCDEFGH", "12 34", " 123982B8AP", "123982B8AP\n", "", "-1234"])
def test_an_id_the_client_cannot_read_is_refused_up_front(test_id: str) -> None:
    with pytest.raises(ValidationError, match="FakeItep cannot hand out the test ID"):
        make_fake([test_id])
    fake = make_fake([])
    with pytest.raises(ValidationError, match="ItepClient reads only"):
        fake.add_inventory("Academic-Plus", ["123982B8AP", test_id])
    assert fake.available("Academic-Plus") == []  # nothing of a refused batch is added


def test_one_string_is_not_an_inventory() -> None:
    with pytest.raises(ValidationError, match="not one string"):
        FakeItep(api_key="k", signature_header="X-Sig", inventory={"Academic-Plus": "123982B8AP"})


@given(
    test_id=st.text(alphabet=string.ascii_letters + string.digits + "-_ .\n", max_size=44),
    style=st.sampled_from(["json", "text"]),
)
@example(test_id="0e00", style="text")  # a bare ID that reads as a JSON number (found by CI's profile)
@example(test_id="12345678", style="text")
def test_every_id_the_fake_takes_comes_back_from_the_client_unchanged(test_id: str, style: str) -> None:
    try:
        fake = make_fake([test_id], style)
    except ValidationError:
        return  # refused up front: the fake will never hand it out
    with fake.client() as client:
        result = client.issue_test_id(product_code="GTX-Academic-Plus")
    assert result.test_id == test_id
    # ...and the results webhook for it verifies and carries it.
    verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Token", token="t"))
    request = build_results_webhook({"TestID": test_id, "Status": "Complete"}, token=("X-Token", "t"))
    assert verifier.verify(request).test_id == test_id
