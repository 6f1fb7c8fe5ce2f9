"""The iTEP fulfillment clients: obtain a test ID (``GTX-``) or have iTEP e-mail it (``STX-``).

Both calls are a signed POST of the same compact JSON body to the documented endpoint. They are
never retried automatically: a retry could allocate a second test ID. The calls are defined once,
without I/O (``_ItepCalls``); :class:`ItepClient` sends them through :mod:`requests`,
:class:`AsyncItepClient` through ``httpx`` (extra ``async``). Bulk issuance for a cohort is
:meth:`ItepClient.issue_bulk` (see :mod:`examkit.itep.bulk`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, Final, TypedDict

import requests
from typing_extensions import Unpack

from examkit.core._checks import (
    check_bool,
    check_session,
    check_timeout,
    check_tuple_of,
)
from examkit.core._copying import sharing_deepcopy
from examkit.core._repr import safe_repr
from examkit.core._transport_sync import Transport
from examkit.core.env import env_setting
from examkit.core.errors import (
    ApiError,
    ConfigurationError,
    PayloadError,
    TransportError,
    ValidationError,
)
from examkit.core.http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    HttpResponse,
    RetryPolicy,
    _Call,
    _redact,
)
from examkit.core.serde import load_json
from examkit.core.signing import Secret, SecretInput, secrets_from
from examkit.itep._fulfillment import DEFAULT_ENDPOINT, FulfillmentSigner, SequenceSource
from examkit.itep._ids import BARE_ID as _BARE_ID
from examkit.itep.models import (
    VENDOR,
    AssignedTo,
    FulfillmentRequest,
    FulfillmentResult,
    ProductFamily,
    product_family,
)
from examkit.itep.registration import Registration
from examkit.itep.signing import DigestEncoding

if TYPE_CHECKING:
    import httpx

    from examkit.core._transport_async import AsyncTransport
    from examkit.itep.bulk import BulkOutcome, BulkReport, Candidate, CandidateColumns

__all__ = ["AsyncItepClient", "ItepClient"]

DEFAULT_TEST_ID_KEYS: Final = ("TestID", "test_id", "testid", "test-id", "testId", "id")
"""JSON keys examkit looks for (case-insensitively) to read the test ID from a response."""


def _fulfilment_transport_error(exc: TransportError, *, stx: bool) -> TransportError:
    if exc.may_have_been_sent:
        advice = (
            ". A test ID may have been allocated"
            + (" and e-mailed" if stx else "")
            + ": check in the iTEP administration system before re-issuing (the AVAILABLE TESTS panel)"
        )
    else:
        advice = ". iTEP never saw this request: it is safe to send it again"
    return TransportError(
        exc.message + advice,
        vendor=VENDOR,
        method=exc.method,
        url=exc.url,
        status_code=exc.status_code,
        may_have_been_sent=exc.may_have_been_sent,
    )


def _clone_session(session: requests.Session) -> requests.Session:
    """Return a new session with ``session``'s settings and the same (thread-safe) adapters.

    :class:`requests.Session` is not documented as thread-safe (its cookie jar and settings are
    shared state), while its connection adapters are; each bulk worker gets its own session.
    """
    clone = requests.Session()
    clone.adapters.clear()
    for prefix, adapter in session.adapters.items():
        clone.mount(prefix, adapter)
    clone.headers.clear()
    clone.headers.update(session.headers)
    clone.auth = session.auth
    clone.proxies = dict(session.proxies)
    clone.verify = session.verify
    clone.cert = session.cert
    clone.trust_env = session.trust_env
    clone.max_redirects = session.max_redirects
    clone.params = dict(session.params) if isinstance(session.params, Mapping) else session.params
    clone.cookies.update(session.cookies)
    return clone


class _ItepSettings(TypedDict, total=False):
    """The settings :meth:`ItepClient.from_env` and :meth:`AsyncItepClient.from_env` pass on.

    Each key is the constructor argument of the same name.
    """

    endpoint: str
    signature_encoding: DigestEncoding
    stx_signature_header: str | None
    sequence: SequenceSource | None
    embed_json_as_text: bool
    require_test_id: bool
    test_id_keys: Sequence[str]
    timeout: float | tuple[float, float]
    deadline: float
    max_response_bytes: int


def _env_credentials(signature_header: str | None, environ: Mapping[str, str] | None) -> tuple[Secret, str]:
    env = os.environ if environ is None else environ
    if not env.get("EXAMKIT_ITEP_API_KEY"):
        raise ConfigurationError(
            "EXAMKIT_ITEP_API_KEY is not set: put the API key from the PRODUCT CODES screen there",
            setting="EXAMKIT_ITEP_API_KEY",
            vendor=VENDOR,
        )
    api_key = env_setting("EXAMKIT_ITEP_API_KEY", vendor=VENDOR, environ=env)
    if signature_header is None and not env.get("EXAMKIT_ITEP_SIGNATURE_HEADER"):
        raise ConfigurationError(
            "EXAMKIT_ITEP_SIGNATURE_HEADER is not set and no signature_header was given",
            setting="EXAMKIT_ITEP_SIGNATURE_HEADER",
            vendor=VENDOR,
        )
    header = (
        signature_header
        if signature_header is not None
        else env_setting("EXAMKIT_ITEP_SIGNATURE_HEADER", vendor=VENDOR, environ=env)
    )
    return Secret(api_key, name="EXAMKIT_ITEP_API_KEY"), header


class _ItepCalls:
    """iTEP's calls defined once, without I/O: settings, request bodies, signatures, reading answers."""

    _key: Secret
    _settings: dict[str, Any]

    def _setup(
        self,
        *,
        api_key: SecretInput,
        signature_header: str,
        endpoint: str = DEFAULT_ENDPOINT,
        signature_encoding: DigestEncoding = "hex",
        stx_signature_header: str | None = None,
        sequence: SequenceSource | None = None,
        embed_json_as_text: bool = False,
        require_test_id: bool = True,
        test_id_keys: Sequence[str] = DEFAULT_TEST_ID_KEYS,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        key = (
            api_key
            if isinstance(api_key, Secret)
            else secrets_from(api_key, name="api_key", vendor=VENDOR)[0]
        )
        url: object = endpoint
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ConfigurationError("endpoint must be an http(s) URL", setting="endpoint", vendor=VENDOR)
        if sequence is not None and not callable(sequence):
            raise ConfigurationError(
                "sequence must be a callable returning the next number",
                setting="sequence",
                vendor=VENDOR,
            )
        test_id_keys = check_tuple_of(test_id_keys, str, setting="test_id_keys", vendor=VENDOR)
        self._key = key
        self._signer = FulfillmentSigner(api_key=key, header=signature_header, encoding=signature_encoding)
        self._stx_signer = (
            FulfillmentSigner(api_key=key, header=stx_signature_header, encoding=signature_encoding)
            if stx_signature_header is not None
            else self._signer
        )
        self._endpoint = endpoint
        self._sequence = sequence
        self._embed = check_bool(embed_json_as_text, setting="embed_json_as_text", vendor=VENDOR)
        self._require_test_id = check_bool(require_test_id, setting="require_test_id", vendor=VENDOR)
        self._test_id_keys = tuple(k.casefold() for k in test_id_keys)
        check_timeout(timeout, vendor=VENDOR)
        self._timeout = timeout
        self._settings: dict[str, Any] = {
            "api_key": key,
            "signature_header": signature_header,
            "endpoint": endpoint,
            "signature_encoding": signature_encoding,
            "stx_signature_header": stx_signature_header,
            "sequence": sequence,
            "embed_json_as_text": embed_json_as_text,
            "require_test_id": require_test_id,
            "test_id_keys": tuple(test_id_keys),
            "timeout": timeout,
            "deadline": deadline,
            "max_response_bytes": max_response_bytes,
        }

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The fulfillment URL."""
        return self._endpoint

    @property
    def signature_header(self) -> str:
        """The signature header's name (for ``GTX-`` calls)."""
        return self._signer.header

    # A new object with its own settings; what it was given to talk to the world (sequence) is shared.
    __deepcopy__ = sharing_deepcopy("_sequence")

    def _fulfil_call(self, request: FulfillmentRequest) -> _Call[FulfillmentResult]:
        """The signed POST of ``request``: never retried, its answer read into a result."""
        if not isinstance(request, FulfillmentRequest):
            raise ValidationError("request must be a FulfillmentRequest", reason="wrong type", vendor=VENDOR)
        if self._sequence is not None and "sequence" not in request.extra:
            request = FulfillmentRequest(
                product_code=request.product_code,
                email=request.email,
                bcc=request.bcc,
                track=request.track,
                assigned_to=request.assigned_to,
                registration=request.registration,
                extra={**request.extra, "sequence": self._sequence()},
            )
        stx = request.family is ProductFamily.STX
        product_code = request.product_code
        return _Call(
            "POST",
            self._endpoint,
            read=lambda response: self._result(response, product_code),
            headers={"Content-Type": "application/json"},
            body=request.body(embed_json_as_text=self._embed),
            sign=self._sign_stx if stx else self._sign_gtx,
            retry=False,
            remap=lambda exc: (
                _fulfilment_transport_error(exc, stx=stx) if isinstance(exc, TransportError) else None
            ),
        )

    def _sign_gtx(self, _method: str, _url: str, body: bytes) -> Mapping[str, str]:
        return self._signer.headers(body)

    def _sign_stx(self, _method: str, _url: str, body: bytes) -> Mapping[str, str]:
        return self._stx_signer.headers(body)

    def _request(
        self,
        family: ProductFamily,
        *,
        product_code: str,
        email: str | None,
        bcc: str | None,
        track: str | None,
        assigned_to: AssignedTo | Mapping[str, Any] | None,
        registration: Registration | Mapping[str, Any] | None,
        extra: Mapping[str, Any],
    ) -> FulfillmentRequest:
        actual = product_family(product_code)
        if actual is not family:
            method = "send_test_id" if actual is ProductFamily.STX else "issue_test_id"
            raise ValidationError(
                f"{product_code} is an {actual.value}- code: use {method}() for it "
                f"({'iTEP e-mails the candidate' if actual is ProductFamily.STX else 'no e-mail'})",
                field="product-code",
                reason=f"expected a {family.value}- code",
                vendor=VENDOR,
            )
        return FulfillmentRequest(
            product_code=product_code,
            email=email,
            bcc=bcc,
            track=track,
            assigned_to=assigned_to,
            registration=registration,
            extra=dict(extra),
        )

    def _result(self, response: HttpResponse, product_code: str) -> FulfillmentResult:
        data, test_id = self._parse(response)
        if test_id is None and self._require_test_id:
            raise self._no_test_id(response)
        return FulfillmentResult(
            test_id=test_id,
            status_code=response.status_code,
            text=response.text,
            data=data,
            product_code=product_code,
        )

    def _parse(self, response: HttpResponse) -> tuple[Any, str | None]:
        try:
            data: Any = load_json(response.body, vendor=VENDOR) if response.body.strip() else None
        except PayloadError:
            data = None
        return data, self._read_test_id(data, response.text)

    def _no_test_id(self, response: HttpResponse) -> ApiError:
        # Built here and returned, so that the vendor's text is no local of a frame on the traceback.
        excerpt = _redact(response.text[:65536], (self._key,))[:500].strip()
        return ApiError(
            f"iTEP answered {response.status_code} but no test ID could be read from the "
            f"response{': ' + excerpt[:200] if excerpt else ' (empty body)'}. The call may "
            "still have allocated one: check the AVAILABLE TESTS panel",
            vendor=VENDOR,
            status_code=response.status_code,
            method="POST",
            url=response.url,
            response_excerpt=excerpt or None,
        )

    def _read_test_id(self, data: Any, text: str) -> str | None:
        if isinstance(data, str):
            return data.strip() if _BARE_ID.match(data.strip()) else None
        if isinstance(data, Mapping):
            found = self._from_mapping(data)
            if found is None:
                for value in data.values():
                    if isinstance(value, Mapping):
                        found = self._from_mapping(value)
                        if found is not None:
                            break
            return found
        if data is None or (isinstance(data, int | Decimal) and not isinstance(data, bool)):
            # No JSON, or a bare ID that happens to read as a JSON number ("12345678", "0e00"): the
            # text as sent is the ID.
            stripped = text.strip()
            return stripped if _BARE_ID.match(stripped) else None
        return None

    def _from_mapping(self, data: Mapping[str, Any]) -> str | None:
        items: list[tuple[object, Any]] = list(data.items())
        folded = {k.casefold(): v for k, v in items if isinstance(k, str)}
        for key in self._test_id_keys:
            value = folded.get(key)
            if isinstance(value, str) and _BARE_ID.match(value.strip()):
                return value.strip()
        return None


class ItepClient(_ItepCalls):
    """Calls iTEP's fulfillment API.

    Args:
        api_key: The API key from the PRODUCT CODES screen. Kept as a
            :class:`~examkit.core.Secret`; never shown.
        signature_header: The name of the header that carries the HMAC signature. Required: the
            vendor's documents do not name it (ask iTEP).
        endpoint: The fulfillment URL (the documented one by default).
        signature_encoding: How the digest is written: ``"hex"`` (lower case, default), ``"HEX"``
            or ``"base64"``. Unconfirmed.
        stx_signature_header: A different header name for ``STX-`` calls, if iTEP gives you one
            (the documents say the two calls differ only in "a header value").
        sequence: A source of sequence numbers (e.g. ``CounterSequence``);
            when set, each body carries ``"sequence": <next number>`` unless you pass one.
        embed_json_as_text: Send ``assigned-to`` and ``registration`` as JSON text in a string
            rather than as nested objects (the vendor's example nests them).
        require_test_id: Raise :class:`~examkit.ApiError` when a successful response
            holds no readable test ID (default). Off: return the result with ``test_id=None``.
        test_id_keys: JSON keys tried, case-insensitively, to read the test ID.
        session: A :class:`requests.Session` (proxies, certificates, or a fake's adapter).
        timeout: Seconds for connecting and reading, one number or a pair.
        deadline: The longest one call may take in all, in seconds (default 60; see
            :data:`~examkit.core.DEFAULT_DEADLINE`).
        max_response_bytes: The largest answer read, in bytes after decompression (default 10 MiB;
            see :data:`~examkit.core.DEFAULT_MAX_RESPONSE_BYTES`).

    Raises:
        ConfigurationError: A setting is missing or malformed.
    """

    def __init__(
        self,
        *,
        api_key: SecretInput,
        signature_header: str,
        endpoint: str = DEFAULT_ENDPOINT,
        signature_encoding: DigestEncoding = "hex",
        stx_signature_header: str | None = None,
        sequence: SequenceSource | None = None,
        embed_json_as_text: bool = False,
        require_test_id: bool = True,
        test_id_keys: Sequence[str] = DEFAULT_TEST_ID_KEYS,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._setup(
            api_key=api_key,
            signature_header=signature_header,
            endpoint=endpoint,
            signature_encoding=signature_encoding,
            stx_signature_header=stx_signature_header,
            sequence=sequence,
            embed_json_as_text=embed_json_as_text,
            require_test_id=require_test_id,
            test_id_keys=test_id_keys,
            timeout=timeout,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )
        check_session(session, vendor=VENDOR)
        self._transport = Transport(
            vendor=VENDOR,
            session=session,
            timeout=timeout,
            retry=RetryPolicy.none(),
            secrets=(self._key,),
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )

    @classmethod
    def from_env(
        cls,
        *,
        signature_header: str | None = None,
        environ: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        **settings: Unpack[_ItepSettings],
    ) -> ItepClient:
        """Build a client from ``EXAMKIT_ITEP_API_KEY`` (and ``EXAMKIT_ITEP_SIGNATURE_HEADER``).

        Args:
            signature_header: The header name; read from ``EXAMKIT_ITEP_SIGNATURE_HEADER`` when not
                given.
            environ: The environment to read (``os.environ`` by default).
            session: A :class:`requests.Session` to send through.
            settings: Other constructor arguments (those of the constructor).

        Raises:
            ConfigurationError: A variable is missing; the message names it.
        """
        api_key, header = _env_credentials(signature_header, environ)
        return cls(api_key=api_key, signature_header=header, session=session, **settings)

    def close(self) -> None:
        """Close the HTTP session if the client made it."""
        self._transport.close()

    def __enter__(self) -> ItepClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def copy(self) -> ItepClient:
        """Return a client with the same settings on its own :class:`requests.Session`.

        The copy's session has this one's settings (headers, proxies, certificates, cookies) and
        shares its connection adapters, which are thread-safe, while a session is not documented
        to be: give each worker thread its own copy. The ``sequence`` source is shared.
        """
        return ItepClient(**self._settings, session=_clone_session(self._transport.session))

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"ItepClient(endpoint={self._endpoint!r}, signature_header={self._signer.header!r}, "
            f"api_key='***')"
        )

    # -- calls ----------------------------------------------------------------------------------

    def issue_test_id(
        self,
        *,
        product_code: str,
        email: str | None = None,
        bcc: str | None = None,
        track: str | None = None,
        assigned_to: AssignedTo | Mapping[str, Any] | None = None,
        registration: Registration | Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> FulfillmentResult:
        """Obtain an available test ID for a ``GTX-`` product code; iTEP sends no e-mail.

        Args:
            product_code: A ``GTX-`` code, e.g. ``"GTX-Academic-Plus"``.
            email: The candidate's e-mail (optional for ``GTX-``).
            bcc: A copy address.
            track: Your tracking code (needed for results webhooks).
            assigned_to: The ``assigned-to`` object; see :class:`~examkit.itep.AssignedTo`.
            registration: A :class:`~examkit.itep.Registration` or a mapping with
                the vendor's field names (validated either way).
            extra: Further top-level fields, sent unchanged (e.g. ``sequence=3``).

        Raises:
            ValidationError: Invalid input, including an ``STX-`` code; nothing was sent.
            ApiError: iTEP answered with an error, or with no readable test ID.
            TransportError: No answer arrived; the call was not retried and may have allocated a
                test ID.
        """
        return self.fulfil(
            self._request(
                ProductFamily.GTX,
                product_code=product_code,
                email=email,
                bcc=bcc,
                track=track,
                assigned_to=assigned_to,
                registration=registration,
                extra=extra,
            )
        )

    def send_test_id(
        self,
        *,
        product_code: str,
        email: str | None = None,
        bcc: str | None = None,
        track: str | None = None,
        assigned_to: AssignedTo | Mapping[str, Any] | None = None,
        registration: Registration | Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> FulfillmentResult:
        """Obtain a test ID for an ``STX-`` product code; iTEP also e-mails it to ``email``.

        Takes the same arguments as :meth:`issue_test_id`; ``email`` is required.

        Raises:
            ValidationError: Invalid input, including a ``GTX-`` code or no e-mail; nothing was
                sent.
            ApiError: iTEP answered with an error, or with no readable test ID.
            TransportError: No answer arrived; the call was not retried and may have allocated a
                test ID (and sent the e-mail).
        """
        return self.fulfil(
            self._request(
                ProductFamily.STX,
                product_code=product_code,
                email=email,
                bcc=bcc,
                track=track,
                assigned_to=assigned_to,
                registration=registration,
                extra=extra,
            )
        )

    def fulfil(self, request: FulfillmentRequest) -> FulfillmentResult:
        """Send a prepared :class:`~examkit.itep.FulfillmentRequest` (either family).

        Raises:
            ValidationError: The request is not a ``FulfillmentRequest``.
            ApiError: iTEP answered with an error, or with no readable test ID.
            TransportError: No answer arrived; not retried.
        """
        return self._transport.run(self._fulfil_call(request))

    def issue_bulk(
        self,
        candidates: Iterable[Candidate | Mapping[str, str]],
        *,
        product_code: str | None = None,
        track: str | None = None,
        bcc: str | None = None,
        max_workers: int = 4,
        progress: Callable[[BulkOutcome, int, int], None] | None = None,
        progress_bar: bool | IO[str] = False,
        columns: CandidateColumns | None = None,
        resume: BulkReport | str | os.PathLike[str] | IO[str] | None = None,
        dry_run: bool = False,
        stop_after: int | None = 3,
    ) -> BulkReport:
        """Issue (``GTX-``) or send (``STX-``) a test ID to each candidate; see :func:`~examkit.itep.issue_bulk`."""  # noqa: E501
        from examkit.itep.bulk import issue_bulk  # noqa: PLC0415 - loaded on first use

        return issue_bulk(
            self,
            candidates,
            product_code=product_code,
            track=track,
            bcc=bcc,
            max_workers=max_workers,
            progress=progress,
            progress_bar=progress_bar,
            columns=columns,
            resume=resume,
            dry_run=dry_run,
            stop_after=stop_after,
        )


class AsyncItepClient(_ItepCalls):
    """Calls iTEP's fulfillment API from asyncio code, through ``httpx`` (extra ``async``).

    The twin of :class:`ItepClient`: the same arguments (``client``, an ``httpx.AsyncClient``,
    instead of ``session``), the same bodies and signatures, the same results and errors. Issuing
    and sending test IDs are never retried. One client may serve many concurrent calls, so an
    ``asyncio.Semaphore`` bounds a cohort's issuance::

        async with AsyncItepClient.from_env() as client:
            limit = asyncio.Semaphore(8)

            async def issue(email: str) -> FulfillmentResult:
                async with limit:
                    return await client.issue_test_id(product_code="GTX-Academic-Plus", email=email)

            results = await asyncio.gather(*(issue(e) for e in emails), return_exceptions=True)

    Raises:
        ConfigurationError: A setting is missing or malformed.
    """

    def __init__(
        self,
        *,
        api_key: SecretInput,
        signature_header: str,
        endpoint: str = DEFAULT_ENDPOINT,
        signature_encoding: DigestEncoding = "hex",
        stx_signature_header: str | None = None,
        sequence: SequenceSource | None = None,
        embed_json_as_text: bool = False,
        require_test_id: bool = True,
        test_id_keys: Sequence[str] = DEFAULT_TEST_ID_KEYS,
        client: httpx.AsyncClient | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._setup(
            api_key=api_key,
            signature_header=signature_header,
            endpoint=endpoint,
            signature_encoding=signature_encoding,
            stx_signature_header=stx_signature_header,
            sequence=sequence,
            embed_json_as_text=embed_json_as_text,
            require_test_id=require_test_id,
            test_id_keys=test_id_keys,
            timeout=timeout,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )
        from examkit.core._transport_async import AsyncTransport  # noqa: PLC0415 - httpx only here

        self._transport: AsyncTransport = AsyncTransport(
            vendor=VENDOR,
            client=client,
            timeout=timeout,
            retry=RetryPolicy.none(),
            secrets=(self._key,),
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )

    @classmethod
    def from_env(
        cls,
        *,
        signature_header: str | None = None,
        environ: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        **settings: Unpack[_ItepSettings],
    ) -> AsyncItepClient:
        """Build a client from ``EXAMKIT_ITEP_API_KEY`` (and ``EXAMKIT_ITEP_SIGNATURE_HEADER``).

        Args:
            signature_header: The header name; read from ``EXAMKIT_ITEP_SIGNATURE_HEADER`` when not
                given.
            environ: The environment to read (``os.environ`` by default).
            client: An ``httpx.AsyncClient`` to send through.
            settings: Other constructor arguments (those of the constructor).

        Raises:
            ConfigurationError: A variable is missing; the message names it.
        """
        api_key, header = _env_credentials(signature_header, environ)
        return cls(api_key=api_key, signature_header=header, client=client, **settings)

    async def aclose(self) -> None:
        """Close the ``httpx.AsyncClient`` if the client made it."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncItepClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"AsyncItepClient(endpoint={self._endpoint!r}, signature_header={self._signer.header!r}, "
            f"api_key='***')"
        )

    # -- calls ----------------------------------------------------------------------------------

    async def issue_test_id(
        self,
        *,
        product_code: str,
        email: str | None = None,
        bcc: str | None = None,
        track: str | None = None,
        assigned_to: AssignedTo | Mapping[str, Any] | None = None,
        registration: Registration | Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> FulfillmentResult:
        """Obtain an available test ID for a ``GTX-`` product code; iTEP sends no e-mail.

        Args:
            product_code: A ``GTX-`` code, e.g. ``"GTX-Academic-Plus"``.
            email: The candidate's e-mail (optional for ``GTX-``).
            bcc: A copy address.
            track: Your tracking code (needed for results webhooks).
            assigned_to: The ``assigned-to`` object; see :class:`~examkit.itep.AssignedTo`.
            registration: A :class:`~examkit.itep.Registration` or a mapping with
                the vendor's field names (validated either way).
            extra: Further top-level fields, sent unchanged (e.g. ``sequence=3``).

        Raises:
            ValidationError: Invalid input, including an ``STX-`` code; nothing was sent.
            ApiError: iTEP answered with an error, or with no readable test ID.
            TransportError: No answer arrived; the call was not retried and may have allocated a
                test ID.
        """
        return await self.fulfil(
            self._request(
                ProductFamily.GTX,
                product_code=product_code,
                email=email,
                bcc=bcc,
                track=track,
                assigned_to=assigned_to,
                registration=registration,
                extra=extra,
            )
        )

    async def send_test_id(
        self,
        *,
        product_code: str,
        email: str | None = None,
        bcc: str | None = None,
        track: str | None = None,
        assigned_to: AssignedTo | Mapping[str, Any] | None = None,
        registration: Registration | Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> FulfillmentResult:
        """Obtain a test ID for an ``STX-`` product code; iTEP also e-mails it to ``email``.

        Takes the same arguments as :meth:`AsyncItepClient.issue_test_id`; ``email`` is required.

        Raises:
            ValidationError: Invalid input, including a ``GTX-`` code or no e-mail; nothing was
                sent.
            ApiError: iTEP answered with an error, or with no readable test ID.
            TransportError: No answer arrived; the call was not retried and may have allocated a
                test ID (and sent the e-mail).
        """
        return await self.fulfil(
            self._request(
                ProductFamily.STX,
                product_code=product_code,
                email=email,
                bcc=bcc,
                track=track,
                assigned_to=assigned_to,
                registration=registration,
                extra=extra,
            )
        )

    async def fulfil(self, request: FulfillmentRequest) -> FulfillmentResult:
        """Send a prepared :class:`~examkit.itep.FulfillmentRequest` (either family).

        Raises:
            ValidationError: The request is not a ``FulfillmentRequest``.
            ApiError: iTEP answered with an error, or with no readable test ID.
            TransportError: No answer arrived; not retried.
        """
        return await self._transport.run(self._fulfil_call(request))

    async def issue_bulk(
        self,
        candidates: Iterable[Candidate | Mapping[str, str]],
        *,
        product_code: str | None = None,
        track: str | None = None,
        bcc: str | None = None,
        concurrency: int = 8,
        progress: Callable[[BulkOutcome, int, int], None] | None = None,
        progress_bar: bool | IO[str] = False,
        columns: CandidateColumns | None = None,
        resume: BulkReport | str | os.PathLike[str] | IO[str] | None = None,
        dry_run: bool = False,
        stop_after: int | None = 3,
    ) -> BulkReport:
        """Issue (``GTX-``) or send (``STX-``) a test ID to each candidate, each attempted at most once.

        The async twin of :meth:`~examkit.itep.ItepClient.issue_bulk` (see
        :func:`~examkit.itep.issue_bulk`):
        the same resume, dry-run and stop-early rules, the same :class:`~examkit.itep.BulkReport`
        and outcomes CSV. At most ``concurrency`` calls are in flight at once (an
        :class:`asyncio.Semaphore`), all over this client's ``httpx.AsyncClient``.

        Cancellation is safe: when the task running this is cancelled (``task.cancel()``, a
        timeout, Ctrl-C under :func:`asyncio.run`), or ``progress`` raises a ``BaseException``,
        candidates not yet started are never started and are reported ``NOT_ATTEMPTED``; calls
        already sent are waited for (each bounded by the client's timeout; further cancellations
        meanwhile are absorbed), and :class:`~examkit.itep.BulkIssueInterrupted` is raised with
        the full report (its ``__cause__`` is what interrupted the run), as the sync run does on
        Ctrl-C.

        Args:
            candidates: :class:`~examkit.itep.Candidate` objects, or CSV rows read with ``columns``.
            product_code: The default product code.
            track: The default tracking code.
            bcc: The default copy address.
            concurrency: How many calls are in flight at once (1 to 256).
            progress: Called after each candidate with ``(outcome, done, total)``; an exception
                it raises is logged and ignored.
            progress_bar: As for :meth:`~examkit.itep.ItepClient.issue_bulk`.
            columns: How to read candidates given as mappings.
            resume: The outcomes of an earlier run (a report, or the CSV it wrote).
            dry_run: Validate every candidate and build its body, sending nothing.
            stop_after: Stop starting candidates after this many transport failures in a row
                (``None`` never stops).

        Returns:
            The report, with one outcome per candidate in input order.

        Raises:
            ConfigurationError: A setting is out of range, or a candidate is not a candidate.
            PayloadError: The ``resume`` file cannot be read.
            BulkIssueInterrupted: The run was cancelled or interrupted; it carries the full report.
        """
        from examkit.itep._bulk_async import issue_bulk_async  # noqa: PLC0415 - loaded on first use

        return await issue_bulk_async(
            self,
            candidates,
            product_code=product_code,
            track=track,
            bcc=bcc,
            concurrency=concurrency,
            progress=progress,
            progress_bar=progress_bar,
            columns=columns,
            resume=resume,
            dry_run=dry_run,
            stop_after=stop_after,
        )
