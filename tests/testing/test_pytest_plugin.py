"""The pytest plugin, run the way users run it: a real pytest session (pytester) with examkit installed."""

from __future__ import annotations

import pytest

USES_EVERY_FIXTURE = """
from examkit.core.clock import FixedClock
from examkit.testing import FROZEN_NOW, SignedWebhooks
from examkit.testing.assessio import FakeAssessio
from examkit.testing.integrity_advocate import FakeIntegrityAdvocate, make_participant
from examkit.testing.itep import FakeItep
from examkit.testing.testpress import FakeTestpress


def test_clock_and_guard(examkit_clock, examkit_replay_guard):
    assert isinstance(examkit_clock, FixedClock)
    assert examkit_clock.time() == FROZEN_NOW == 1_700_000_000
    assert examkit_replay_guard.add("k", ttl=60) is True
    assert examkit_replay_guard.add("k", ttl=60) is False


def test_webhooks_verify(examkit_webhooks):
    assert isinstance(examkit_webhooks, SignedWebhooks)
    assert examkit_webhooks.itep_verifier().verify(examkit_webhooks.itep()).test_id == "3279B035APR"
    ia = examkit_webhooks.integrity_advocate_verifier().verify(examkit_webhooks.integrity_advocate())
    assert ia.participant.participant_identifier == "42"
    assessio = examkit_webhooks.assessio_verifier().verify(examkit_webhooks.assessio("o-9"))
    assert assessio.order_reference_id == "o-9"
    event = examkit_webhooks.testpress_verifier().verify(examkit_webhooks.testpress(attempt_id=7))
    assert event.attempt_id == 7


def test_fakes(fake_itep, fake_integrity_advocate, fake_assessio, fake_testpress, examkit_clock):
    assert isinstance(fake_itep, FakeItep)
    assert fake_itep.client().issue_test_id(product_code="GTX-Core").test_id == "4279C035CO"
    assert isinstance(fake_integrity_advocate, FakeIntegrityAdvocate)
    fake_integrity_advocate.add_participant(make_participant("p1", "590"))
    assert fake_integrity_advocate.client().get_participant("p1", "590").course_id == "590"
    assert isinstance(fake_assessio, FakeAssessio) and fake_assessio.clock is examkit_clock
    assert isinstance(fake_testpress, FakeTestpress) and fake_testpress.clock is examkit_clock
    assert fake_assessio.client() is not None and fake_testpress.client() is not None
"""

# One verifier and one guard for the whole module, as a Django app has (its cache outlives a test).
SHARED_GUARD = """
import pytest
from examkit.core.webhook import InMemoryReplayGuard
from examkit.testing import SignedWebhooks

GUARD = InMemoryReplayGuard()
HOOKS = SignedWebhooks(replay_guard=GUARD)
VERIFIER = HOOKS.testpress_verifier()
SAMPLE = HOOKS.testpress()  # the same sample payload in both tests


def test_first():
    VERIFIER.verify(SAMPLE)


def test_second_reuses_the_sample():
    VERIFIER.verify(SAMPLE)
"""


def test_every_fixture_works_in_a_real_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=USES_EVERY_FIXTURE)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3)


def test_the_plugin_is_registered_by_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app="def test_x(examkit_clock):\n    pass\n")
    assert pytester.runpytest("-p", "no:randomly").ret == 0
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:examkit")
    result.assert_outcomes(errors=1)  # fixture 'examkit_clock' not found without the plugin
    result.stdout.fnmatch_lines(["*fixture 'examkit_clock' not found*"])


def test_replays_are_forgotten_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=SHARED_GUARD)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_without_the_plugin_the_second_test_gets_a_replay(pytester: pytest.Pytester) -> None:
    # The failure issue 18 describes (409 in an unrelated test), so the test above can fail.
    pytester.makepyfile(test_app=SHARED_GUARD)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:examkit")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*ReplayedRequestError*"])


def test_a_marked_test_keeps_its_replays(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_app=SHARED_GUARD.replace("def test_first", "@pytest.mark.examkit_keep_replays\ndef test_first")
    )
    result = pytester.runpytest("-p", "no:randomly", "--strict-markers")
    result.assert_outcomes(passed=1, failed=1)


def test_replays_are_forgotten_from_a_django_cache(pytester: pytest.Pytester) -> None:
    pytest.importorskip("django")
    pytester.makepyfile(
        test_app="""
import django
from django.conf import settings

settings.configure(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
django.setup()

from django.core.cache import cache
from examkit.integrations.django import DjangoCacheReplayGuard
from examkit.testing import SignedWebhooks

HOOKS = SignedWebhooks(replay_guard=DjangoCacheReplayGuard())
VERIFIER = HOOKS.itep_verifier()
SAMPLE = HOOKS.itep()


def test_first():
    VERIFIER.verify(SAMPLE)
    assert len(cache._cache) == 1


def test_second():
    assert len(cache._cache) == 0  # forgotten, not left in the shared cache
    VERIFIER.verify(SAMPLE)
"""
    )
    # In a child process: settings.configure() must not touch this process's Django.
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=2)


def test_forget_replays_in_a_unittest_clean_up() -> None:
    import unittest

    from examkit.core.webhook import InMemoryReplayGuard
    from examkit.testing import forget_replays

    guard = InMemoryReplayGuard()

    class Case(unittest.TestCase):
        def setUp(self) -> None:
            self.addCleanup(forget_replays().stop)

        def test_it(self) -> None:
            assert guard.add("nonce-1", ttl=60)

    result = unittest.TestResult()
    Case("test_it").run(result)
    assert result.wasSuccessful()
    assert guard.add("nonce-1", ttl=60) is True  # forgotten after the test
    assert guard.add("nonce-1", ttl=60) is False  # while outside a test the guard still remembers
