"""Verify Integrity Advocate's review callback and read it into a typed participant.

After a reviewer rules on a session, Integrity Advocate POSTs the participant (the same JSON as the
single-participant lookup) to the ``reviewcallback`` URL, with the same ``amx`` ``Authorization``
header it expects on API calls, signed with the same API key.

.. warning::
   The ``amx`` signature covers the app id, method, URL, timestamp and nonce, **not the body**.
   Someone who captures one delivery could replay its header with another body within the tolerance
   window (a replay guard stops the header from being reused). When a ruling matters, confirm it
   with
   ``IntegrityAdvocateClient.confirm_callback(callback)``, which re-fetches the participant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from examkit.core._checks import check_bool
from examkit.core._repr import safe_repr
from examkit.core.clock import Clock, Tolerance
from examkit.core.env import env_setting
from examkit.core.errors import (
    ConfigurationError,
    MissingSignatureError,
)
from examkit.core.serde import load_json
from examkit.core.signing import SecretInput
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    ReplayGuard,
    WebhookRequest,
    body_size_limit,
    received,
)
from examkit.integrity_advocate.models import ReviewCallback, parse_participant
from examkit.integrity_advocate.signing import (
    DEFAULT_CALLBACK_FORMS,
    VENDOR,
    AmxVerifier,
    CanonicalForm,
)

__all__ = ["AUTHORIZATION_HEADERS", "IntegrityAdvocateWebhookVerifier"]

AUTHORIZATION_HEADERS: Final = ("Authorization", "Redirect-Http-Authorization")
"""Where the ``amx`` header is looked for, in order. Apache and some proxies move ``Authorization``
to ``Redirect-Http-Authorization``."""


class IntegrityAdvocateWebhookVerifier:
    """Verifies review callbacks and returns them typed (:class:`ReviewCallback`).

    Args:
        app_id: Your App Id (a GUID); the header must name it.
        api_key: Your API key, or several during a rotation (any may match).
        tolerance: Allowed difference between the header's timestamp and the clock, either way, in
            seconds or as a timedelta (default 300).
        clock: The clock for the freshness check (tests inject a fixed one).
        replay_guard: Remembers accepted nonces (for twice the tolerance) so each is accepted once;
            ``None`` (default) skips the check.
        url_forms: The canonical URI forms tried, in order (default
            :data:`~examkit.integrity_advocate.signing.DEFAULT_CALLBACK_FORMS`: the callback URL
            without its query, then with it, both percent-encoded then lower-cased). The URL the
            vendor signs is not documented.
        callback_url: The public callback URL to verify against. When ``None`` (default) the
            request's ``url`` is used; set it when a proxy rewrites the URL your framework sees.
        accept_redirect_header: Also read ``Redirect-Http-Authorization`` (default ``True``).
        max_body_size: Bodies larger than this many bytes are refused before anything else
            (default 1 MiB; ``None`` for no limit).

    Raises:
        ConfigurationError: A credential or setting has the wrong form.
    """

    __slots__ = ("_callback_url", "_headers", "_max_body_size", "_verifier")

    def __init__(
        self,
        *,
        app_id: str,
        api_key: SecretInput | Sequence[SecretInput],
        tolerance: Tolerance = 300,
        clock: Clock | None = None,
        replay_guard: ReplayGuard | None = None,
        url_forms: Sequence[CanonicalForm] = DEFAULT_CALLBACK_FORMS,
        callback_url: str | None = None,
        accept_redirect_header: bool = True,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self._verifier = AmxVerifier(
            app_id=app_id,
            api_key=api_key,
            forms=url_forms,
            tolerance=tolerance,
            clock=clock,
            replay_guard=replay_guard,
        )
        if callback_url is not None and (
            not isinstance(callback_url, str) or "://" not in callback_url or not callback_url.isprintable()
        ):
            raise ConfigurationError(
                "callback_url must be the absolute public URL of your callback endpoint",
                setting="callback_url",
                vendor=VENDOR,
            )
        self._callback_url = callback_url
        redirect = check_bool(accept_redirect_header, setting="accept_redirect_header", vendor=VENDOR)
        self._headers = AUTHORIZATION_HEADERS if redirect else AUTHORIZATION_HEADERS[:1]
        self._max_body_size = body_size_limit(max_body_size, vendor=VENDOR)

    @classmethod
    def from_env(cls, **settings: Any) -> IntegrityAdvocateWebhookVerifier:
        """Build a verifier from ``EXAMKIT_IA_APP_ID`` and ``EXAMKIT_IA_API_KEY``.

        Other settings are passed through as keyword arguments.

        Raises:
            ConfigurationError: A variable is missing or has the wrong form.
        """
        return cls(
            app_id=env_setting("EXAMKIT_IA_APP_ID", vendor=VENDOR),
            api_key=env_setting("EXAMKIT_IA_API_KEY", vendor=VENDOR),
            **settings,
        )

    def _header(self, request: WebhookRequest) -> tuple[str | None, str]:
        present: tuple[str, str] | None = None
        for name in self._headers:
            value = request.headers.get_single(name, vendor=VENDOR)
            if value is None:
                continue
            if value.lstrip()[:4].lower() == "amx ":
                return value, name
            present = present or (value, name)
        if present is not None:
            return present
        return None, self._headers[0]

    @property
    def max_body_size(self) -> int | None:
        """The largest body accepted, in bytes (``None``: no limit); the framework adapters read no more."""
        return self._max_body_size

    def verify(self, request: WebhookRequest) -> ReviewCallback:
        """Verify a review callback and return it typed.

        Order: body size, header layout, app id, signature (constant time), timestamp (either way),
        then the body is decoded, and only a body that fits has its nonce claimed (when a replay
        guard is set), so a refused body does not use up the header.

        Raises:
            PayloadTooLargeError: The body is over ``max_body_size``.
            MissingSignatureError: No ``amx`` header, or no URL to verify against.
            MalformedSignatureError: The header cannot be read.
            SignatureMismatchError: Another app id, or no key and URL form reproduce the signature.
            TimestampOutsideToleranceError: The timestamp is outside the tolerance.
            ReplayedRequestError: The nonce was already accepted.
            PayloadError: The request is authentic but the body is not a participant.
        """
        received(request, limit=self._max_body_size, vendor=VENDOR)
        url = self._callback_url or request.url
        if not url:
            raise MissingSignatureError(
                "the review callback signs its URL: pass url= to WebhookRequest (the absolute "
                "public "
                "URL) or set callback_url on the verifier",
                vendor=VENDOR,
                reason="no url",
            )
        value, header = self._header(request)
        verifier = self._verifier
        auth = verifier._authentic(value, method=request.method, url=url, header=header)
        # Parsed before the nonce is claimed: a body that does not parse must not use up the header.
        participant = parse_participant(load_json(request.body, vendor=VENDOR))
        verifier._claim(auth, header=header)
        return ReviewCallback(participant=participant, authorization=auth, body=request.body)

    @safe_repr
    def __repr__(self) -> str:
        return f"IntegrityAdvocateWebhookVerifier({self._verifier!r})"
