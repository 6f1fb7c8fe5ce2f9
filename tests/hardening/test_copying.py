"""Clients, verifiers and signers survive copy.copy and copy.deepcopy, and the copies still work.

What a copy shares is part of the contract: the requests.Session of a client, the replay guard and
clock of a verifier (a copy with its own guard would accept a request the original already accepted).
Pickling stays refused: secrets do not travel through pickle.
"""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Callable
from typing import Any

import pytest
import responses

from examkit.assessio import AssessioClient, SignatureVerifier
from examkit.assessio.signing import compute_signature
from examkit.core.clock import FixedClock
from examkit.core.errors import ConfigurationError, ReplayedRequestError, ServerError
from examkit.core.http import RetryPolicy
from examkit.core.signing import KeyRing, Secret
from examkit.core.webhook import InMemoryReplayGuard
from examkit.integrity_advocate import AmxSigner, IntegrityAdvocateClient
from examkit.itep import CounterSequence, ItepClient
from examkit.itep._fulfillment import FulfillmentSigner
from examkit.testing.integrity_advocate import DEMO_APP_ID
from examkit.testpress import CompletionHmacScheme, TestpressAttempts, TestpressCompletionVerifier
from tests.hardening.clients import ASSESSIO_BASE, IA_BASE, ITEP_URL
from tests.hardening.strategies import CANARY
from tests.hardening.vendors import CASES, IA_API_KEY, NOW, TP_PUBLIC, Case

COPIES: dict[str, Callable[[Any], Any]] = {"copy": copy.copy, "deepcopy": copy.deepcopy}


def _guarded(case: Case) -> tuple[Any, InMemoryReplayGuard | None]:
    if case.name == "integrity-advocate":
        verifier = case.make()  # built with its own guard
        return verifier, verifier._verifier._guard
    if case.name == "assessio-key":
        return case.make(), None  # no signature, so nothing unique to guard
    guard = InMemoryReplayGuard(clock=FixedClock(NOW))
    return case.make(replay_guard=guard), guard


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_copied_verifier_verifies(case: Case, how: str) -> None:
    verifier = case.make()
    copied = COPIES[how](verifier)
    assert repr(copied) == repr(verifier)
    assert copied.verify(case.valid()) == case.make().verify(case.valid())


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("case", [c for c in CASES if c.name != "assessio-key"], ids=lambda c: c.name)
def test_a_copied_verifier_shares_the_replay_guard(case: Case, how: str) -> None:
    original, guard = _guarded(case)
    copied = COPIES[how](original)
    copied.verify(case.valid())
    with pytest.raises(ReplayedRequestError):
        original.verify(case.valid())  # accepted by the copy: the original refuses it
    assert guard is not None
    assert len(guard) == 1

    original, _ = _guarded(case)
    copied = COPIES[how](original)
    original.verify(case.valid())
    with pytest.raises(ReplayedRequestError):
        copied.verify(case.valid())  # and the other way round


def test_a_deep_copied_guard_is_the_same_guard() -> None:
    guard = InMemoryReplayGuard()
    assert copy.deepcopy(guard) is guard
    assert copy.copy(guard) is guard
    sequence = CounterSequence(start=5)
    assert copy.deepcopy(sequence) is sequence  # a copied client must not reuse sequence numbers


@pytest.mark.parametrize("how", COPIES)
def test_copied_signers_sign_identically(how: str) -> None:
    itep = FulfillmentSigner(api_key=CANARY, header="X-Signature")
    assert COPIES[how](itep).headers(b'{"a":1}') == itep.headers(b'{"a":1}')
    amx = AmxSigner(app_id=DEMO_APP_ID, api_key=IA_API_KEY)
    args: dict[str, Any] = {"method": "GET", "url": "https://x.example/api", "timestamp": NOW, "nonce": "n-1"}
    assert COPIES[how](amx).authorization(**args) == amx.authorization(**args)
    attempts = TestpressAttempts(public_key=TP_PUBLIC, secret=CANARY, clock=FixedClock(NOW))
    form: dict[str, Any] = {
        "exam_url": "https://demo.testpress.in/exams/x/",
        "email": "a@b.example",
        "first_name": "A",
        "institute_attempt_id": "1",
        "surl": "https://app.example/done",
    }
    assert COPIES[how](attempts).create_attempt(**form) == attempts.create_attempt(**form)
    checker = SignatureVerifier(secret=CANARY, clock=FixedClock(NOW))
    body = b'{"eventType":"X"}'
    header = f"t={NOW},signature={compute_signature(secret=CANARY, body=body, timestamp=NOW)}"
    assert COPIES[how](checker).verify(body, header) == NOW
    completion = TestpressCompletionVerifier(
        scheme=CompletionHmacScheme(fields=("attempt_id",)), secret=CANARY
    )
    assert repr(COPIES[how](completion)) == repr(completion)


def _clients() -> list[tuple[Any, Callable[[Any], Any]]]:
    return [
        (
            ItepClient(api_key=CANARY, signature_header="X-Signature", endpoint=ITEP_URL),
            lambda c: c.issue_test_id(product_code="GTX-Academic-Plus", email="a@example.org"),
        ),
        (
            IntegrityAdvocateClient(
                app_id=DEMO_APP_ID, api_key=IA_API_KEY, base_url=IA_BASE, retry=RetryPolicy.none()
            ),
            lambda c: c.participant_status("p-1", "c-1", "a-1"),
        ),
        (
            AssessioClient(provider_key=CANARY, integrator_secret=CANARY[::-1], base_url=ASSESSIO_BASE),
            lambda c: c.order_assessment_link(
                assessment_type="MAP",
                order_reference_id="order-1",
                webhook_callback_url="https://app.example/hook",
                redirect_url="https://app.example/done",
                person={"locale": "en", "email": "a@example.org", "first_name": "A", "last_name": "B"},
            ),
        ),
    ]


@pytest.mark.parametrize("how", COPIES)
@responses.activate
def test_copied_clients_share_the_session_and_still_call(how: str) -> None:
    responses.add(responses.POST, re.compile(r"https://(itep|assessio)\.example/.*"), status=503)
    responses.add(responses.GET, re.compile(r"https://ia\.example/.*"), status=503)
    for client, call in _clients():
        copied = COPIES[how](client)
        assert copied is not client
        assert copied._transport.session is client._transport.session
        assert repr(copied) == repr(client)
        before = len(responses.calls)
        with pytest.raises(ServerError):
            call(copied)
        assert len(responses.calls) > before  # the copy reached the server, signed


def test_pickling_secrets_stays_refused_with_an_examkit_error() -> None:
    with pytest.raises(ConfigurationError, match="cannot be pickled"):
        pickle.dumps(Secret(CANARY, name="api_key"))
    with pytest.raises(ConfigurationError, match="cannot be pickled"):
        pickle.dumps(KeyRing([CANARY.encode()]))
    # Whatever holds a secret refuses too (a verifier's replay guard, with its lock, may refuse first).
    for case in CASES:
        with pytest.raises((ConfigurationError, TypeError), match=r"cannot (be )?pickle"):
            pickle.dumps(case.make())
    for client, _ in _clients():
        with pytest.raises((ConfigurationError, TypeError), match=r"cannot (be )?pickle"):
            pickle.dumps(client)
