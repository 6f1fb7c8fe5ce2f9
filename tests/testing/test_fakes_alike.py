"""Every fake has the same shape: .client(), injected failures, a clock that follows the client's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from examkit import ApiError, AuthenticationError, ServerError, TransportError
from examkit.core.clock import DEFAULT_TOLERANCE, FixedClock, SystemClock
from examkit.integrity_advocate import IntegrityAdvocateClient
from examkit.testing.assessio import FakeAssessio
from examkit.testing.integrity_advocate import (
    DEMO_API_KEY,
    DEMO_APP_ID,
    FakeIntegrityAdvocate,
    make_participant,
)
from examkit.testing.itep import FakeItep
from examkit.testing.testpress import FakeTestpress

PERSON = {"locale": "en", "email": "ann@example.org", "first_name": "Ann", "last_name": "Lee"}


def make_itep() -> tuple[Any, Callable[[], object]]:
    fake = FakeItep(api_key="k", signature_header="X-Sig", inventory={"Core": ["4279C035CO", "4279C036CO"]})
    client = fake.client()
    return fake, lambda: client.issue_test_id(product_code="GTX-Core")


def make_integrity_advocate() -> tuple[Any, Callable[[], object]]:
    fake = FakeIntegrityAdvocate()
    fake.add_participant(make_participant("p1", "590"))
    client = fake.client()
    return fake, lambda: client.get_participant("p1", "590")


def make_assessio() -> tuple[Any, Callable[[], object]]:
    fake = FakeAssessio(provider_key="pk", integrator_secret="s")
    client = fake.client()
    return fake, lambda: client.order_assessment_link(
        assessment_type="MAP",
        order_reference_id="o-1",
        webhook_callback_url="https://app.example/hook",
        redirect_url="https://app.example/done",
        person=PERSON,
    )


def make_testpress() -> tuple[Any, Callable[[], object]]:
    fake = FakeTestpress(public_key="pub", secret="sec")
    attempts = fake.client()
    session = fake.session()

    def start() -> object:
        form = attempts.create_attempt(
            exam_url=fake.exam_url,
            email="ann@example.org",
            first_name="Ann",
            institute_attempt_id="a-1",
            surl="https://app.example/done",
        )
        answer = session.post(form.url, data=dict(form.fields), allow_redirects=False)
        if answer.status_code >= 500:
            raise ServerError(f"fake answered {answer.status_code}")
        if answer.status_code != 302:
            raise ApiError(f"fake answered {answer.status_code}")
        return answer.headers["Location"]

    return fake, start


FAKES = {
    "itep": make_itep,
    "integrity_advocate": make_integrity_advocate,
    "assessio": make_assessio,
    "testpress": make_testpress,
}


@pytest.mark.parametrize("vendor", sorted(FAKES))
def test_every_fake_has_a_client_that_works(vendor: str) -> None:
    fake, call = FAKES[vendor]()
    assert call() is not None
    assert len(fake.adapter.requests) == 1


@pytest.mark.parametrize("vendor", sorted(FAKES))
def test_fail_next_answers_the_status(vendor: str) -> None:
    fake, call = FAKES[vendor]()
    fake.fail_next(count=50, status=503, body="down for maintenance")  # more than any retry policy
    with pytest.raises((ServerError, ApiError)):
        call()
    sent = len(fake.adapter.requests)
    assert 1 <= sent < 50
    fake.clear_failures()
    assert call() is not None
    assert len(fake.adapter.requests) == sent + 1


@pytest.mark.parametrize("vendor", ["itep", "assessio", "testpress"])  # calls that are never retried
def test_fail_next_fails_only_the_next_request(vendor: str) -> None:
    fake, call = FAKES[vendor]()
    fake.fail_next(status=500)
    with pytest.raises((ServerError, ApiError)):
        call()
    assert call() is not None


@pytest.mark.parametrize("vendor", sorted(FAKES))
@pytest.mark.parametrize("after_sending", [False, True])
def test_drop_next_fails_the_connection(vendor: str, after_sending: bool) -> None:
    fake, call = FAKES[vendor]()
    fake.drop_next(count=50, after_sending=after_sending)  # more than any retry policy
    expected = requests.ReadTimeout if after_sending else requests.ConnectionError
    with pytest.raises((TransportError, expected)) as caught:
        call()
    # examkit's clients wrap it in a TransportError; Testpress's form is posted with a plain session.
    cause = caught.value if vendor == "testpress" else caught.value.__cause__ or caught.value.__context__
    assert isinstance(caught.value, TransportError) or isinstance(cause, expected)
    if isinstance(caught.value, TransportError):  # the client tells a refused connection from a lost answer
        assert ("nothing was sent" in str(caught.value)) is not after_sending
    fake.clear_failures()
    assert call() is not None


@pytest.mark.parametrize("vendor", sorted(FAKES))
def test_delay_next_waits_then_answers(vendor: str) -> None:
    fake, call = FAKES[vendor]()
    waited: list[float] = []
    fake.sleep = waited.append
    fake.delay_next(2.5, count=2)
    assert call() is not None
    assert waited == [2.5]


def test_the_ia_fake_accepts_a_client_built_by_hand() -> None:
    # Issue 18: a client on the system clock got 401 "timestamp in the future" from a fake frozen in 2023.
    fake = FakeIntegrityAdvocate()
    fake.add_participant(make_participant("p1", "590"))
    client = IntegrityAdvocateClient(app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, session=fake.session())
    assert client.get_participant("p1", "590").participant_identifier == "p1"


@pytest.mark.parametrize("vendor", ["integrity_advocate", "assessio"])
def test_a_fake_follows_the_clock_of_its_client(vendor: str) -> None:
    fake, _ = FAKES[vendor]()
    far = FixedClock(SystemClock().time() + 10 * DEFAULT_TOLERANCE)
    fake.client(clock=far)
    assert fake.clock.time() == far.time()


def test_a_fake_with_its_own_clock_refuses_a_client_that_disagrees() -> None:
    fake = FakeIntegrityAdvocate(clock=FixedClock(1_700_000_000))
    fake.add_participant(make_participant("p1", "590"))
    late = fake.client(clock=FixedClock(1_700_000_000 + DEFAULT_TOLERANCE + 1))
    with pytest.raises(AuthenticationError):
        late.get_participant("p1", "590")
    assert fake.clock.time() == 1_700_000_000


def test_default_tolerances_are_the_one_default() -> None:
    import inspect

    for cls in (FakeIntegrityAdvocate, FakeAssessio):
        assert inspect.signature(cls).parameters["tolerance"].default == DEFAULT_TOLERANCE


@pytest.mark.parametrize("count", [0, -1, True, 1.5])
def test_injection_counts_are_checked(count: object) -> None:
    from examkit import ConfigurationError

    fake = FakeItep(api_key="k", signature_header="X-Sig")
    with pytest.raises(ConfigurationError, match="count"):
        fake.fail_next(count=count)  # type: ignore[arg-type]
