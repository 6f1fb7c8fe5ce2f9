"""The Assessio Development API client: signed assessment-link orders.

>>> from examkit.testing.assessio import FakeAssessio
>>> fake = FakeAssessio(provider_key="pk-demo", integrator_secret="secret-demo")
>>> client = AssessioClient(
...     provider_key="pk-demo", integrator_secret="secret-demo", session=fake.session()
... )
>>> result = client.order_assessment_link(
...     assessment_type="MAP",
...     order_reference_id="order-1",
...     webhook_callback_url="https://hr.example.com/assessio/webhook",
...     redirect_url="https://hr.example.com/done",
...     person={"locale": "en-US", "email": "ada@example.com",
...             "first_name": "Ada", "last_name": "Lovelace"},
... )
>>> result.link.startswith("https://")
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict

import requests
from typing_extensions import Unpack

from examkit.assessio.models import (
    DEFAULT_LINK_PATHS,
    VENDOR,
    AssessmentLinkOrder,
    AssessmentLinkOrderResult,
    AssessmentType,
    LinkPath,
    PersonDetails,
    absolute_url,
    find_link,
    normalize_link_paths,
)
from examkit.assessio.signing import (
    DEFAULT_HEADER_FORMAT,
    SIGNATURE_HEADER,
    SignatureHeaderFormat,
    signature_header,
)
from examkit.core._checks import (
    check_choice,
    check_clock,
    check_instance,
    check_session,
    check_timeout,
)
from examkit.core._repr import safe_repr
from examkit.core._transport_sync import Transport
from examkit.core.clock import Clock, SystemClock
from examkit.core.encoding import canonical_json
from examkit.core.env import env_setting
from examkit.core.errors import ConfigurationError, PayloadError, ValidationError
from examkit.core.http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    HttpResponse,
    _Call,
)
from examkit.core.serde import load_json
from examkit.core.signing import Secret, SecretInput, secrets_from

if TYPE_CHECKING:
    import httpx

    from examkit.core._transport_async import AsyncTransport

__all__ = ["AssessioClient", "AsyncAssessioClient"]

SANDBOX_URL: Final = "https://sandbox.api.assessio.systems"
"""The sandbox host (integration testing; may have limitations)."""

PRODUCTION_URL: Final = "https://api.assessio.online"
"""The production host."""

Environment = Literal["sandbox", "production"]
"""Which Assessio environment a client talks to."""

ENVIRONMENTS: Final[Mapping[str, str]] = {"sandbox": SANDBOX_URL, "production": PRODUCTION_URL}
"""The base URL of each environment."""

ASSESSMENT_LINK_ORDER_PATH: Final = "/development/v1/assessment-link-order"
"""The path of the link-order endpoint."""

PROVIDER_KEY_HEADER: Final = "provider-key"
"""The header that carries the provider-key."""

_PLAIN_HEADERS: Final[Mapping[str, str]] = {"Content-Type": "application/json", "Accept": "application/json"}


class _Settings(TypedDict, total=False):
    """The settings both clients' ``from_env`` pass on (the constructor arguments of those names)."""

    environment: Environment
    base_url: str | None
    sign_requests: bool
    header_format: SignatureHeaderFormat
    link_paths: Sequence[LinkPath]
    timeout: float | tuple[float, float]
    clock: Clock | None
    deadline: float
    max_response_bytes: int


def _env_credentials(sign_requests: object) -> tuple[str, str | None]:
    provider_key = env_setting("EXAMKIT_ASSESSIO_PROVIDER_KEY", vendor=VENDOR)
    if sign_requests:
        return provider_key, env_setting("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", vendor=VENDOR)
    return provider_key, None


class _AssessioCalls:
    """Assessio's calls defined once, without I/O: settings, the signed body, reading the answer."""

    def _setup(
        self,
        *,
        provider_key: SecretInput,
        integrator_secret: SecretInput | None = None,
        environment: Environment = "sandbox",
        base_url: str | None = None,
        sign_requests: bool = True,
        header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
        link_paths: Sequence[LinkPath] = DEFAULT_LINK_PATHS,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Clock | None = None,
    ) -> None:
        self._provider_key: Secret = _single(provider_key, "provider_key")
        _header_text(self._provider_key)  # refuse a key that cannot travel in a header, now
        if not isinstance(sign_requests, bool):
            raise ConfigurationError(
                "sign_requests must be True or False", setting="sign_requests", vendor=VENDOR
            )
        self.sign_requests = sign_requests
        self._secret: Secret | None = None
        if sign_requests:
            if integrator_secret is None:
                raise ConfigurationError(
                    "integrator_secret is required to sign requests; pass sign_requests=False only "
                    "for a sandbox where Assessio disabled signing",
                    setting="integrator_secret",
                    vendor=VENDOR,
                )
            self._secret = _single(integrator_secret, "integrator_secret")
        elif integrator_secret is not None:
            self._secret = _single(integrator_secret, "integrator_secret")
        check_choice(environment, ENVIRONMENTS, setting="environment", vendor=VENDOR)
        self.environment: Environment = environment
        if base_url is None:
            base_url = ENVIRONMENTS[environment]
        else:
            try:
                base_url = absolute_url(base_url, "base_url")
            except ValidationError as exc:
                raise ConfigurationError(exc.message, setting="base_url", vendor=VENDOR) from None
        self.base_url = base_url.rstrip("/")
        self.header_format = check_instance(
            header_format, SignatureHeaderFormat, setting="header_format", vendor=VENDOR
        )
        self.link_paths = normalize_link_paths(link_paths)
        self._clock: Clock = check_clock(clock, vendor=VENDOR) or SystemClock()
        check_timeout(timeout, vendor=VENDOR)
        redact = [self._provider_key] + ([self._secret] if self._secret is not None else [])
        self._secrets = redact

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"sign_requests={self.sign_requests})"
        )

    def build_request(
        self, order: AssessmentLinkOrder, *, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """Return the exact body bytes and headers that :meth:`order_assessment_link` sends.

        Useful for logging or for sending through your own HTTP stack. The body is compact JSON,
        serialised once; the ``Signature`` header signs exactly these bytes.
        """
        body = canonical_json(order.to_json())
        return body, {**_PLAIN_HEADERS, **self._credentials(body, timestamp)}

    def _credentials(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The ``provider-key`` and ``Signature`` headers for ``body``, built only while sending."""
        headers = {PROVIDER_KEY_HEADER: self._provider_key.reveal()}
        if self.sign_requests and self._secret is not None:
            t = int(self._clock.time()) if timestamp is None else timestamp
            headers[SIGNATURE_HEADER] = signature_header(
                secret=self._secret, body=body, timestamp=t, header_format=self.header_format
            )
        return headers

    def _sign(self, _method: str, _url: str, body: bytes) -> Mapping[str, str]:
        return self._credentials(body)

    def _order_call(
        self,
        *,
        assessment_type: AssessmentType | str,
        order_reference_id: str,
        webhook_callback_url: str,
        redirect_url: str,
        person: PersonDetails | Mapping[str, Any],
    ) -> _Call[AssessmentLinkOrderResult]:
        order = AssessmentLinkOrder(
            assessment_type=assessment_type,
            order_reference_id=order_reference_id,
            webhook_callback_url=webhook_callback_url,
            redirect_url=redirect_url,
            person=person,
        )
        # The credentials are added by _sign while the request is prepared, so that no frame on an
        # error's traceback holds the provider-key in its locals.
        body = canonical_json(order.to_json())
        return _Call(
            "POST",
            self.base_url + ASSESSMENT_LINK_ORDER_PATH,
            read=lambda response: self._result(response, order, body),
            headers=_PLAIN_HEADERS,
            sign=self._sign,
            body=body,
            retry=False,
        )

    def _result(
        self, response: HttpResponse, order: AssessmentLinkOrder, body: bytes
    ) -> AssessmentLinkOrderResult:
        data: Any
        try:
            data = load_json(response.body, vendor=VENDOR) if response.body.strip() else None
        except PayloadError:
            data = None
        if data is None and response.body.strip():
            # Not JSON: a plain-text link is still a link.
            text = response.text.strip()
            link = find_link(text, ())
        else:
            link = find_link(data, self.link_paths)
        return AssessmentLinkOrderResult(
            link=link,
            data=data,
            status_code=response.status_code,
            body=response.body,
            order=order,
            request_body=body,
            link_paths=self.link_paths,
        )


class AssessioClient(_AssessioCalls):
    """A client for Assessio's Development API.

    Args:
        provider_key: Identifies your Assessio organisation; sent in the ``provider-key`` header.
        integrator_secret: Signs requests (``Signature`` header). Required unless ``sign_requests``
            is false.
        environment: ``"sandbox"`` (default) or ``"production"``.
        base_url: A base URL that replaces the environment's (for a proxy or a fake).
        sign_requests: Send the ``Signature`` header (default). Turn off only for a sandbox where
            Assessio disabled the signature requirement.
        header_format: The ``Signature`` header layout (default ``t=<t>,signature=<hex>``).
        link_paths: Where to look for the assessment link in the (undocumented) response, tried in
            order; dotted paths or sequences of keys and indexes (default:
            :data:`~examkit.assessio.DEFAULT_LINK_PATHS`).
        session: A :class:`requests.Session` to send through (proxies, certificates, fakes).
        timeout: Seconds for connecting and reading, one number or a ``(connect, read)`` pair.
        clock: The clock that stamps signatures.
        deadline: The longest one call may take in all, in seconds (default 60; see
            :data:`~examkit.core.DEFAULT_DEADLINE`).
        max_response_bytes: The largest answer read, in bytes after decompression (default 10 MiB;
            see :data:`~examkit.core.DEFAULT_MAX_RESPONSE_BYTES`).

    Raises:
        ConfigurationError: A setting is missing or invalid.
    """

    def __init__(
        self,
        *,
        provider_key: SecretInput,
        integrator_secret: SecretInput | None = None,
        environment: Environment = "sandbox",
        base_url: str | None = None,
        sign_requests: bool = True,
        header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
        link_paths: Sequence[LinkPath] = DEFAULT_LINK_PATHS,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Clock | None = None,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._setup(
            provider_key=provider_key,
            integrator_secret=integrator_secret,
            environment=environment,
            base_url=base_url,
            sign_requests=sign_requests,
            header_format=header_format,
            link_paths=link_paths,
            timeout=timeout,
            clock=clock,
        )
        check_session(session, vendor=VENDOR)
        self._transport = Transport(
            vendor=VENDOR,
            session=session,
            timeout=timeout,
            secrets=self._secrets,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )

    @classmethod
    def from_env(
        cls, *, session: requests.Session | None = None, **settings: Unpack[_Settings]
    ) -> AssessioClient:
        """Build a client from the environment.

        Reads ``EXAMKIT_ASSESSIO_PROVIDER_KEY`` and ``EXAMKIT_ASSESSIO_INTEGRATOR_SECRET`` (not
        needed with ``sign_requests=False``); other settings (those of the constructor) are passed
        through.

        Raises:
            ConfigurationError: A required variable is missing or empty.
        """
        provider_key, integrator_secret = _env_credentials(settings.get("sign_requests", True))
        return cls(
            provider_key=provider_key, integrator_secret=integrator_secret, session=session, **settings
        )

    def close(self) -> None:
        """Release the HTTP session if the client created it."""
        self._transport.close()

    def __enter__(self) -> AssessioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def order_assessment_link(
        self,
        *,
        assessment_type: AssessmentType | str,
        order_reference_id: str,
        webhook_callback_url: str,
        redirect_url: str,
        person: PersonDetails | Mapping[str, Any],
    ) -> AssessmentLinkOrderResult:
        """Order an assessment link for an employee (``POST .../assessment-link-order``).

        Everything is validated before anything is sent. The request is never retried
        automatically (a retry could create a second order); on a
        :class:`~examkit.TransportError` check with Assessio before ordering again.

        Args:
            assessment_type: ``AssessmentType.MAP``, ``AssessmentType.MATCH_V_V2``, or the name of a
                newer type as a string (sent as given).
            order_reference_id: Your reference for the order; webhooks carry it back.
            webhook_callback_url: Your absolute http(s) URL for result updates.
            redirect_url: The absolute http(s) URL the employee is sent to afterwards.
            person: :class:`PersonDetails`, or a mapping with ``locale``, ``email``, ``first_name``
                and ``last_name``.

        Returns:
            The whole JSON response and the link found through ``link_paths``.

        Raises:
            ValidationError: An argument is invalid; nothing was sent.
            AuthenticationError: Assessio refused the provider-key or the signature (401/403).
            ApiError: Any other error status.
            TransportError: No response arrived; the request was not retried.
        """
        return self._transport.run(
            self._order_call(
                assessment_type=assessment_type,
                order_reference_id=order_reference_id,
                webhook_callback_url=webhook_callback_url,
                redirect_url=redirect_url,
                person=person,
            )
        )


class AsyncAssessioClient(_AssessioCalls):
    """A client for Assessio's Development API from asyncio code, through ``httpx`` (extra ``async``).

    The twin of :class:`AssessioClient`: the same arguments (``client``, an ``httpx.AsyncClient``,
    instead of ``session``), the same signed bodies, results and errors. Ordering a link is never
    retried. Use it as an async context manager (``async with``) or call :meth:`aclose`.

    Raises:
        ConfigurationError: A setting is missing or invalid.
    """

    def __init__(
        self,
        *,
        provider_key: SecretInput,
        integrator_secret: SecretInput | None = None,
        environment: Environment = "sandbox",
        base_url: str | None = None,
        sign_requests: bool = True,
        header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
        link_paths: Sequence[LinkPath] = DEFAULT_LINK_PATHS,
        client: httpx.AsyncClient | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Clock | None = None,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._setup(
            provider_key=provider_key,
            integrator_secret=integrator_secret,
            environment=environment,
            base_url=base_url,
            sign_requests=sign_requests,
            header_format=header_format,
            link_paths=link_paths,
            timeout=timeout,
            clock=clock,
        )
        from examkit.core._transport_async import AsyncTransport  # noqa: PLC0415 - httpx only here

        self._transport: AsyncTransport = AsyncTransport(
            vendor=VENDOR,
            client=client,
            timeout=timeout,
            secrets=self._secrets,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )

    @classmethod
    def from_env(
        cls, *, client: httpx.AsyncClient | None = None, **settings: Unpack[_Settings]
    ) -> AsyncAssessioClient:
        """Build a client from the environment.

        Reads ``EXAMKIT_ASSESSIO_PROVIDER_KEY`` and ``EXAMKIT_ASSESSIO_INTEGRATOR_SECRET`` (not
        needed with ``sign_requests=False``); other settings (those of the constructor) are passed
        through.

        Raises:
            ConfigurationError: A required variable is missing or empty.
        """
        provider_key, integrator_secret = _env_credentials(settings.get("sign_requests", True))
        return cls(provider_key=provider_key, integrator_secret=integrator_secret, client=client, **settings)

    async def aclose(self) -> None:
        """Release the ``httpx.AsyncClient`` if the client created it."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncAssessioClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def order_assessment_link(
        self,
        *,
        assessment_type: AssessmentType | str,
        order_reference_id: str,
        webhook_callback_url: str,
        redirect_url: str,
        person: PersonDetails | Mapping[str, Any],
    ) -> AssessmentLinkOrderResult:
        """Order an assessment link for an employee (``POST .../assessment-link-order``).

        Everything is validated before anything is sent. The request is never retried
        automatically (a retry could create a second order); on a
        :class:`~examkit.TransportError` check with Assessio before ordering again.

        Args:
            assessment_type: ``AssessmentType.MAP``, ``AssessmentType.MATCH_V_V2``, or the name of a
                newer type as a string (sent as given).
            order_reference_id: Your reference for the order; webhooks carry it back.
            webhook_callback_url: Your absolute http(s) URL for result updates.
            redirect_url: The absolute http(s) URL the employee is sent to afterwards.
            person: :class:`PersonDetails`, or a mapping with ``locale``, ``email``, ``first_name``
                and ``last_name``.

        Returns:
            The whole JSON response and the link found through ``link_paths``.

        Raises:
            ValidationError: An argument is invalid; nothing was sent.
            AuthenticationError: Assessio refused the provider-key or the signature (401/403).
            ApiError: Any other error status.
            TransportError: No response arrived; the request was not retried.
        """
        return await self._transport.run(
            self._order_call(
                assessment_type=assessment_type,
                order_reference_id=order_reference_id,
                webhook_callback_url=webhook_callback_url,
                redirect_url=redirect_url,
                person=person,
            )
        )


def _single(value: SecretInput, name: str) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str | bytes):
        raise ConfigurationError(f"{name} must be text", setting=name, vendor=VENDOR)
    return secrets_from(value, name=name, vendor=VENDOR)[0]


def _header_text(secret: Secret) -> str:
    text = secret.reveal()
    if not text.isascii() or not text.isprintable() or text != text.strip():
        raise ConfigurationError(
            f"{secret.name} must be printable ASCII without surrounding spaces (it is sent in a header)",
            setting=secret.name,
            vendor=VENDOR,
        )
    return text
