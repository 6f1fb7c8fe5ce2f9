"""SignedWebhooks: every request it builds is accepted by its verifier, and only by a matching one."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit import ReplayedRequestError, SignatureMismatchError, TimestampOutsideToleranceError
from examkit.core.clock import DEFAULT_TOLERANCE, FixedClock
from examkit.core.webhook import InMemoryReplayGuard
from examkit.testing import FROZEN_NOW, SignedWebhooks
from examkit.testing.itep import SAMPLE_RESULT_RAW

test_ids = st.from_regex(r"\A[0-9A-Z]{4,20}\Z")


@given(test_id=test_ids)
def test_any_itep_result_is_accepted(test_id: str) -> None:
    hooks = SignedWebhooks(replay_guard=InMemoryReplayGuard())
    result = {**json.loads(SAMPLE_RESULT_RAW), "TestID": test_id}
    assert hooks.itep_verifier().verify(hooks.itep(result)).test_id == test_id


@given(attempt_id=st.integers(min_value=1, max_value=2**31), score=st.integers(min_value=0, max_value=100))
def test_any_testpress_attempt_is_accepted(attempt_id: int, score: int) -> None:
    hooks = SignedWebhooks()
    request = hooks.testpress(attempt_id=attempt_id, score=f"{score}.00")
    event = hooks.testpress_verifier().verify(request)
    assert event.attempt_id == attempt_id
    with pytest.raises(ReplayedRequestError):
        hooks.testpress_verifier().verify(request)  # one guard for every verifier of the object


@given(reference=st.from_regex(r"\A[a-z0-9-]{1,30}\Z"))
def test_any_assessio_order_is_accepted(reference: str) -> None:
    from examkit.assessio import AssessmentSubmittedEvent

    hooks = SignedWebhooks()
    event = hooks.assessio_verifier().verify(hooks.assessio(reference))
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.order_reference_id == reference


@given(seconds=st.floats(min_value=0, max_value=DEFAULT_TOLERANCE - 1))
def test_ia_callbacks_are_fresh_within_the_default_tolerance(seconds: float) -> None:
    clock = FixedClock(FROZEN_NOW)
    hooks = SignedWebhooks(clock=clock)
    request = hooks.integrity_advocate()
    clock.advance(seconds)
    assert hooks.integrity_advocate_verifier().verify(request).participant.participant_identifier == "42"


def test_ia_callbacks_go_stale_past_the_default_tolerance() -> None:
    clock = FixedClock(FROZEN_NOW)
    hooks = SignedWebhooks(clock=clock)
    request = hooks.integrity_advocate()
    clock.advance(DEFAULT_TOLERANCE + 1)
    with pytest.raises(TimestampOutsideToleranceError):
        hooks.integrity_advocate_verifier().verify(request)


def test_a_verifier_with_other_credentials_refuses() -> None:
    from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth

    hooks = SignedWebhooks()
    other = ItepWebhookVerifier(auth=TokenHeaderAuth(header=hooks.itep_header, token="another-token"))
    with pytest.raises(SignatureMismatchError):
        other.verify(hooks.itep())


def test_the_frozen_clock_is_the_ia_fakes_demo_time() -> None:
    from examkit.testing.integrity_advocate import DEMO_NOW

    assert FROZEN_NOW == DEMO_NOW == 1_700_000_000
    assert SignedWebhooks().clock.time() == 1_700_000_000


def test_no_credential_in_the_repr() -> None:
    text = repr(SignedWebhooks())
    assert "test-" not in text
    assert text == "SignedWebhooks(clock=FixedClock(1700000000.0))"
