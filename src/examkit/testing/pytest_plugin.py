"""examkit's pytest plugin: fixtures for testing your own app against the vendors, offline.

It is registered through the ``pytest11`` entry point, so it is on as soon as examkit is installed
with pytest (``pip install 'examkit[testing]'``); ask for the fixtures by name. Disable it with
``pytest -p no:examkit``.

Fixtures:
    ``examkit_clock``: a :class:`~examkit.core.FixedClock` frozen at
    :data:`~examkit.testing.FROZEN_NOW`, shared by everything below in the same test.
    ``examkit_replay_guard``: a new :class:`~examkit.core.InMemoryReplayGuard` on that clock.
    ``examkit_webhooks``: a :class:`~examkit.testing.SignedWebhooks` building correctly signed
    webhooks of each vendor and the verifiers that accept them.
    ``fake_itep``, ``fake_integrity_advocate``, ``fake_assessio``, ``fake_testpress``: each
    vendor's in-process fake with test credentials (``fake.client()`` is a client wired to it).

Around every test the plugin also forgets what examkit's replay guards accepted during it
(:func:`~examkit.testing.forget_replays`), so a Django or Redis cache shared by the suite never
answers 409 to a sample webhook that an earlier test posted. Mark a test
``@pytest.mark.examkit_keep_replays`` to keep them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from examkit.core.clock import FixedClock
from examkit.core.webhook import InMemoryReplayGuard
from examkit.testing._replays import forget_replays
from examkit.testing._webhooks import FROZEN_NOW, SignedWebhooks

if TYPE_CHECKING:
    from examkit.testing.assessio import FakeAssessio
    from examkit.testing.integrity_advocate import FakeIntegrityAdvocate
    from examkit.testing.itep import FakeItep
    from examkit.testing.testpress import FakeTestpress

__all__: list[str] = []

ITEP_API_KEY = "test-itep-api-key"
ITEP_SIGNATURE_HEADER = "X-Itep-Signature"
ITEP_INVENTORY = {"Academic-Plus": ["3279B035APR", "3279B036APR", "3279B037APR"], "Core": ["4279C035CO"]}


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin's marker."""
    config.addinivalue_line(
        "markers", "examkit_keep_replays: keep what replay guards remembered in this test (examkit)"
    )


@pytest.fixture(autouse=True)
def _examkit_forget_replays(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("examkit_keep_replays") is not None:
        yield
        return
    with forget_replays():
        yield


@pytest.fixture
def examkit_clock() -> FixedClock:
    """A clock frozen at ``FROZEN_NOW``; ``advance()`` and ``set()`` move it."""
    return FixedClock(FROZEN_NOW)


@pytest.fixture
def examkit_replay_guard(examkit_clock: FixedClock) -> InMemoryReplayGuard:
    """A new in-memory replay guard on the frozen clock."""
    return InMemoryReplayGuard(clock=examkit_clock)


@pytest.fixture
def examkit_webhooks(examkit_clock: FixedClock, examkit_replay_guard: InMemoryReplayGuard) -> SignedWebhooks:
    """Signed webhooks of each vendor and verifiers accepting them, on the frozen clock."""
    return SignedWebhooks(clock=examkit_clock, replay_guard=examkit_replay_guard)


@pytest.fixture
def fake_itep() -> FakeItep:
    """ITEP's fake, with a few test IDs of ``Academic-Plus`` and ``Core`` in its inventory."""
    from examkit.testing.itep import FakeItep  # noqa: PLC0415 - only tests asking for it load it

    return FakeItep(api_key=ITEP_API_KEY, signature_header=ITEP_SIGNATURE_HEADER, inventory=ITEP_INVENTORY)


@pytest.fixture
def fake_integrity_advocate(examkit_clock: FixedClock) -> FakeIntegrityAdvocate:
    """Integrity Advocate's fake (demo credentials) on the frozen clock."""
    from examkit.testing.integrity_advocate import FakeIntegrityAdvocate  # noqa: PLC0415

    return FakeIntegrityAdvocate(clock=examkit_clock)


@pytest.fixture
def fake_assessio(examkit_clock: FixedClock) -> FakeAssessio:
    """Assessio's fake (signed orders required) on the frozen clock."""
    from examkit.testing.assessio import FakeAssessio  # noqa: PLC0415

    return FakeAssessio(
        provider_key="test-provider-key",
        integrator_secret="test-integrator-secret",  # noqa: S106 - a made-up test credential
        clock=examkit_clock,
    )


@pytest.fixture
def fake_testpress(examkit_clock: FixedClock) -> FakeTestpress:
    """Testpress's fake exam URL on the frozen clock."""
    from examkit.testing.testpress import FakeTestpress  # noqa: PLC0415

    secret = "test-secret"  # noqa: S105 - a made-up test credential
    return FakeTestpress(public_key="test-public-key", secret=secret, clock=examkit_clock)
