"""Correctly signed webhooks for each vendor, with verifiers that accept them: one object for a test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from examkit.core._repr import safe_repr
from examkit.core.clock import Clock, FixedClock
from examkit.core.webhook import InMemoryReplayGuard, ReplayGuard, WebhookRequest

if TYPE_CHECKING:
    from examkit.assessio import AssessioWebhookVerifier
    from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier
    from examkit.itep import ItepWebhookVerifier
    from examkit.testpress import TestpressWebhookVerifier

FROZEN_NOW: Final = 1_700_000_000
"""The frozen clock's reading (Unix seconds), the same as the Integrity Advocate fake's ``DEMO_NOW``."""

IA_CALLBACK_URL: Final = "https://app.example/integrity-advocate/review"


class SignedWebhooks:
    """Builds webhook requests each vendor would send, correctly signed, and verifiers that accept them.

    The credentials are made-up test values, the same for the request and the verifier; the clock
    is frozen (at :data:`FROZEN_NOW` unless you give one) and every verifier shares one replay guard.
    The pytest plugin gives one as the ``examkit_webhooks`` fixture.

    >>> hooks = SignedWebhooks()
    >>> hooks.itep_verifier().verify(hooks.itep()).test_id
    '3279B035APR'

    Args:
        clock: The clock of the signatures and of the verifiers.
        replay_guard: The guard every verifier uses (a new in-memory guard by default).

    Attributes:
        itep_header: The header of iTEP's token (``TokenHeaderAuth``).
        ia_app_id: The Integrity Advocate App Id.
        testpress_public_key: Testpress's public institute key.
    """

    itep_header: Final = "X-Itep-Token"
    _itep_token: Final = "test-itep-token"  # noqa: S105 - a made-up test credential
    _assessio_key: Final = "test-assessio-key"
    _assessio_secret: Final = "test-assessio-signature-secret"  # noqa: S105 - made up
    _testpress_private_key: Final = "test-testpress-private-key"
    testpress_public_key: Final = "test-testpress-public-key"

    def __init__(self, *, clock: Clock | None = None, replay_guard: ReplayGuard | None = None) -> None:
        from examkit.testing.integrity_advocate import DEMO_APP_ID  # noqa: PLC0415 - loaded when used

        self.clock: Clock = clock or FixedClock(FROZEN_NOW)
        self.replay_guard: ReplayGuard = replay_guard or InMemoryReplayGuard(clock=self.clock)
        self.ia_app_id = DEMO_APP_ID

    @safe_repr
    def __repr__(self) -> str:
        return f"SignedWebhooks(clock={self.clock!r})"

    # -- iTEP -------------------------------------------------------------------------------------

    def itep(self, result: Mapping[str, Any] | str | None = None) -> WebhookRequest:
        """An iTEP results webhook (the vendor's sample by default) carrying the test token."""
        from examkit.testing.itep import build_results_webhook  # noqa: PLC0415

        return build_results_webhook(result, token=(self.itep_header, self._itep_token))

    def itep_verifier(self, **settings: Any) -> ItepWebhookVerifier:
        """An ``ItepWebhookVerifier`` accepting :meth:`itep` (``settings`` pass through)."""
        from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth  # noqa: PLC0415

        settings.setdefault("auth", TokenHeaderAuth(header=self.itep_header, token=self._itep_token))
        settings.setdefault("replay_guard", self.replay_guard)
        return ItepWebhookVerifier(**settings)

    # -- Integrity Advocate -----------------------------------------------------------------------

    def integrity_advocate(
        self, participant: Mapping[str, Any] | None = None, *, url: str = IA_CALLBACK_URL
    ) -> WebhookRequest:
        """A review callback for ``participant`` (a sample one by default), signed now."""
        from examkit.testing import integrity_advocate as ia  # noqa: PLC0415

        record = participant or ia.make_participant("42", "bio-101", status="Valid")
        return ia.signed_review_callback(
            record, url=url, app_id=self.ia_app_id, api_key=ia.DEMO_API_KEY, timestamp=int(self.clock.time())
        )

    def integrity_advocate_verifier(self, **settings: Any) -> IntegrityAdvocateWebhookVerifier:
        """An ``IntegrityAdvocateWebhookVerifier`` accepting :meth:`integrity_advocate`."""
        from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier  # noqa: PLC0415
        from examkit.testing.integrity_advocate import DEMO_API_KEY  # noqa: PLC0415

        settings.setdefault("clock", self.clock)
        settings.setdefault("replay_guard", self.replay_guard)
        return IntegrityAdvocateWebhookVerifier(app_id=self.ia_app_id, api_key=DEMO_API_KEY, **settings)

    # -- Assessio ---------------------------------------------------------------------------------

    def assessio(self, order_reference_id: str = "order-1", **fields: Any) -> WebhookRequest:
        """An ``ASSESSMENT_SUBMITTED`` webhook for the order, with its ``Signature`` header.

        ``fields`` pass through to :func:`~examkit.testing.assessio.assessment_submitted_webhook`.
        """
        from examkit.testing.assessio import assessment_submitted_webhook  # noqa: PLC0415

        fields.setdefault("clock", self.clock)
        fields.setdefault("signature_secret", self._assessio_secret)
        return assessment_submitted_webhook(
            api_key=self._assessio_key, order_reference_id=order_reference_id, **fields
        )

    def assessio_verifier(self, **settings: Any) -> AssessioWebhookVerifier:
        """An ``AssessioWebhookVerifier`` accepting :meth:`assessio`."""
        from examkit.assessio import AssessioWebhookVerifier  # noqa: PLC0415

        settings.setdefault("clock", self.clock)
        settings.setdefault("replay_guard", self.replay_guard)
        settings.setdefault("signature_secret", self._assessio_secret)
        return AssessioWebhookVerifier(api_key=self._assessio_key, **settings)

    # -- Testpress --------------------------------------------------------------------------------

    def testpress(self, **payload: Any) -> WebhookRequest:
        """An exam webhook (``payload`` overrides the sample's fields, e.g. ``attempt_id=7``)."""
        from examkit.testing import testpress as tp  # noqa: PLC0415

        body = tp.sample_exam_webhook_payload(public_key=self.testpress_public_key, **payload)
        return tp.exam_webhook_request(body, private_key=self._testpress_private_key)

    def testpress_verifier(self, **settings: Any) -> TestpressWebhookVerifier:
        """A ``TestpressWebhookVerifier`` accepting :meth:`testpress`."""
        from examkit.testpress import TestpressWebhookVerifier  # noqa: PLC0415

        settings.setdefault("replay_guard", self.replay_guard)
        return TestpressWebhookVerifier(
            public_key=self.testpress_public_key, private_key=self._testpress_private_key, **settings
        )
