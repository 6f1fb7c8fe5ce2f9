"""Every verifier of Integrity Advocate: the ``amx`` header, and the review callback as a typed participant.

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

from binascii import a2b_base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from examkit.core._checks import (
    argument_number,
    check_bool,
    check_clock,
    check_replay_guard,
    check_tuple_of,
    label,
)
from examkit.core._copying import sharing_deepcopy
from examkit.core._exports import defer
from examkit.core._repr import safe_repr
from examkit.core.clock import (
    DEFAULT_TOLERANCE,
    Clock,
    SystemClock,
    Tolerance,
    _At,
    check_freshness,
    tolerance_seconds,
)
from examkit.core.env import env_setting
from examkit.core.errors import (
    ConfigurationError,
    MissingSignatureError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.core.serde import load_json
from examkit.core.signing import KeyRing, SecretInput
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    ReplayGuard,
    Verified,
    WebhookRequest,
    body_size_limit,
    claim_once,
    received,
    verification_time,
)
from examkit.integrity_advocate._vendor import VENDOR
from examkit.integrity_advocate.signing import (
    _FAST_HEADER_RE,
    _METHOD_RE,
    DEFAULT_CALLBACK_FORMS,
    DEFAULT_REQUEST_FORM,
    CanonicalForm,
    _api_keys_from,
    authorization_parts,
    signed_message,
    validate_app_id,
)

if TYPE_CHECKING:
    from examkit.integrity_advocate.models import AmxAuthorization, ReviewCallback, parse_participant
else:  # the models load with the first request checked, not with the verifier
    defer(
        "examkit.integrity_advocate.models",
        globals(),
        "AmxAuthorization",
        "ReviewCallback",
        "parse_participant",
    )

__all__ = [
    "AmxVerifier",
    "IntegrityAdvocateWebhookVerifier",
]

AUTHORIZATION_HEADERS: Final = ("Authorization", "Redirect-Http-Authorization")
"""Where the ``amx`` header is looked for, in order. Apache and some proxies move ``Authorization``
to ``Redirect-Http-Authorization``."""

_MAX_CACHED_URLS: Final = 256
_COMMON_METHODS: Final = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


def _request_arguments(method: object, url: object) -> None:
    # The request a header is checked against is the caller's to give; a wrong type is API misuse.
    for field, value in (("method", method), ("url", url)):
        if not isinstance(value, str):
            raise ValidationError(
                f"{field} must be text, not {type(value).__name__} (for a request without a URL, set the "
                "callback_url setting)",
                field=field,
                reason="not text",
                vendor=VENDOR,
            )


def _normal_guid(value: str) -> str:
    return value.strip("{}").replace("-", "").lower()


def _authorization_builder() -> Callable[[str, bytes, str, int, str], AmxAuthorization]:
    """What builds a verified header's :class:`AmxAuthorization` on the hot path.

    The class is a frozen, slotted attrs class with plain fields; its ``__init__`` stores each field
    through ``object.__setattr__``. The builder stores them straight into the slots, the same values
    in the same object, for about a third less per request. A class with anything more in its
    ``__init__`` (a validator, a converter, a post-init hook, a field outside the slots) is built by
    its own ``__init__``.
    """
    from examkit.integrity_advocate import models  # noqa: PLC0415 - the models load here, on first use

    cls = models.AmxAuthorization
    fields = cls.__attrs_attrs__
    names = tuple(f.name for f in fields)
    plain = (
        not hasattr(cls, "__attrs_post_init__")
        and not hasattr(cls, "__attrs_pre_init__")
        and names == ("app_id", "signature", "nonce", "timestamp", "timestamp_text")
        and all(f.validator is None and f.converter is None and f.init and f.alias == f.name for f in fields)
        and set(vars(cls).get("__slots__", ())) - {"__weakref__"} == set(names)
    )
    if not plain:  # pragma: no cover - the model as it is takes the branch below
        return cls
    setters = tuple(vars(cls)[name].__set__ for name in names)
    set_app_id, set_signature, set_nonce, set_timestamp, set_text = setters
    new = object.__new__

    def build(app_id: str, signature: bytes, nonce: str, timestamp: int, text: str) -> AmxAuthorization:
        auth: AmxAuthorization = new(cls)
        set_app_id(auth, app_id)
        set_signature(auth, signature)
        set_nonce(auth, nonce)
        set_timestamp(auth, timestamp)
        set_text(auth, text)
        return auth

    return build


def _first_authorization(
    app_id: str, signature: bytes, nonce: str, timestamp: int, text: str
) -> AmxAuthorization:
    # The builder reads the model class, so it is made with the first verified header (the models load
    # then, not with the verifier); it takes this function's place for every later request.
    global _authorization  # noqa: PLW0603 - replaced once, on first use
    _authorization = _authorization_builder()
    return _authorization(app_id, signature, nonce, timestamp, text)


_authorization: Callable[[str, bytes, str, int, str], AmxAuthorization] = _first_authorization


class AmxVerifier:
    """Verifies ``amx`` headers for one app id and one or several API keys (rotation).

    Keys and forms are prepared once; :meth:`verify` does the per-request work only.

    Args:
        app_id: The App Id the header must name (compared as a GUID: case and hyphens ignored).
        api_key: One API key or several (any may match).
        forms: The canonical URI forms to try, in order.
        tolerance: Allowed clock difference either way, in seconds (default
            :data:`~examkit.core.DEFAULT_TOLERANCE`, 300).
        clock: The clock for the freshness check.
        replay_guard: Remembers nonces so each is accepted once; ``None`` disables the check.

    Raises:
        ConfigurationError: A credential or setting has the wrong form.
    """

    __slots__ = (
        "_app_id",
        "_app_id_text",
        "_canonical",
        "_clock",
        "_forms",
        "_guard",
        "_keys",
        "_tolerance",
        "_ttl",
    )

    def __init__(
        self,
        *,
        app_id: str,
        api_key: SecretInput | Sequence[SecretInput],
        forms: Sequence[CanonicalForm] = (DEFAULT_REQUEST_FORM,),
        tolerance: Tolerance = DEFAULT_TOLERANCE,
        clock: Clock | None = None,
        replay_guard: ReplayGuard | None = None,
    ) -> None:
        self._app_id_text = validate_app_id(app_id)
        self._app_id = _normal_guid(self._app_id_text)
        secrets = _api_keys_from(api_key, setting="api_key")
        self._keys = KeyRing(s.key for s in secrets)
        self._canonical: dict[str, tuple[str, ...] | None] = {}
        self._forms = check_tuple_of(forms, CanonicalForm, setting="url_forms", vendor=VENDOR)
        self._tolerance = tolerance_seconds(tolerance)
        self._ttl = 2 * self._tolerance + 1
        self._clock: Clock = check_clock(clock, vendor=VENDOR) or SystemClock()
        self._guard = check_replay_guard(replay_guard, vendor=VENDOR)

    def verify(
        self, value: str | None, *, method: str, url: str, header: str = "Authorization"
    ) -> AmxAuthorization:
        """Verify one header value for a request ``method url``; return the parsed header.

        Checks, in order: layout, app id, signature (in constant time, against every key, for each
        form until one matches), timestamp (either way), then the nonce against the replay guard.

        Raises:
            MissingSignatureError: No header.
            MalformedSignatureError: The header cannot be read.
            SignatureMismatchError: Another app id, or no key and form reproduce the signature.
            TimestampOutsideToleranceError: The timestamp is outside the tolerance.
            ReplayedRequestError: The nonce was already accepted.
            ValidationError: ``method`` or ``url`` is not text.
        """
        now = self._clock.time()
        fast = self._fast_authentic(value, method, url, now)
        if header != "Authorization":
            header = label(header, "Authorization")
        auth = (
            fast[0]
            if fast is not None
            else self._authentic(value, method=method, url=url, header=header, now=now)[0]
        )
        if self._guard is not None:
            self._claim(auth, header=header)
        return auth

    def verify_detailed(
        self,
        value: str | None,
        *,
        method: str,
        url: str,
        header: str = "Authorization",
        received_at: float | None = None,
    ) -> Verified[AmxAuthorization]:
        """Like :meth:`verify`, and say which API key matched (for secret rotation).

        ``received_at`` (Unix seconds) is when the request arrived; freshness is judged then, when
        given (verifying later, from a queue), else at the clock's time.

        Raises:
            WebhookVerificationError: As :meth:`verify`.
        """
        header = label(header, "Authorization")
        now = self._clock.time() if received_at is None else argument_number(received_at, field="received_at")
        auth, index = self._authentic(value, method=method, url=url, header=header, now=now)
        self._claim(auth, header=header)
        return Verified(auth, key_index=index, key_count=len(self._keys))

    def _authentic(
        self, value: str | None, *, method: str, url: str, header: str, now: float
    ) -> tuple[AmxAuthorization, int]:
        """Check layout, app id, signature and timestamp at ``now``, without touching the replay guard.

        Returns the parsed header and the position of the API key that matched.
        """
        fast = self._fast_authentic(value, method, url, now)
        if fast is not None:
            return fast
        if type(method) is not str or type(url) is not str:
            _request_arguments(method, url)
        # Read into parts: the AmxAuthorization is built only for a header whose signature matched.
        app_id, digest, nonce, timestamp_text = authorization_parts(value, header=header)
        if app_id != self._app_id_text and _normal_guid(app_id) != self._app_id:
            raise SignatureMismatchError(
                f"the {header} header is for another App Id: check the app_id setting",
                vendor=VENDOR,
                reason="app id mismatch",
                header=header,
            )
        if method not in _COMMON_METHODS and not _METHOD_RE.match(method):
            raise SignatureMismatchError(
                "the request method cannot have been signed",
                vendor=VENDOR,
                reason="bad method",
                header=header,
            )
        prefix = app_id + method.upper()
        suffix = timestamp_text + nonce
        # The keyed work happens inside the KeyRing (every key, constant time): no key is a local here.
        index = None
        for canonical in self._canonical_forms(url):
            index = self._keys.hmac_index((digest,), signed_message(prefix, canonical, suffix))
            if index is not None:
                break
        if index is None:
            raise SignatureMismatchError(
                "the amx signature does not match: check the API key, and that the URL passed is "
                "the "
                "public URL the vendor called (behind a proxy, set the callback URL explicitly)",
                vendor=VENDOR,
                reason="signature mismatch",
                header=header,
            )
        timestamp = int(timestamp_text)
        if not abs(timestamp - now) <= self._tolerance:  # a clock answering NaN is never "within"
            check_freshness(
                timestamp,
                clock=_At(now),
                tolerance=self._tolerance,
                vendor=VENDOR,
                header=header,
            )
        auth = _authorization(app_id, digest, nonce, timestamp, timestamp_text)
        return auth, index

    def _fast_authentic(
        self, value: object, method: object, url: object, now: float
    ) -> tuple[AmxAuthorization, int] | None:
        """The common authentic request in one pass, or ``None``: then :meth:`_authentic` decides.

        Only a request that passes every check of the general path is accepted here (a header of the
        canonical layout, this verifier's app id as configured, a common method, a URL whose canonical
        forms are cached, a matching signature, a fresh timestamp); anything else returns ``None`` and
        the general path gives the answer and the error message. The parsed header is built only once
        the signature is known to match.
        """
        if type(value) is not str or type(method) is not str or type(url) is not str:
            return None
        if method not in _COMMON_METHODS:
            return None
        forms = self._canonical.get(url)
        match = _FAST_HEADER_RE.match(value)
        if forms is None or match is None:
            return None
        app_id, signature, nonce, timestamp = match.groups()
        seconds = int(timestamp)
        if app_id != self._app_id_text or not abs(seconds - now) <= self._tolerance:
            return None
        # The pattern admits only canonical base64 of 32 bytes, so the lenient decoder reads it exactly.
        digest = a2b_base64(signature)
        prefix = app_id + method  # a common method is already upper-case
        suffix = timestamp + nonce
        for canonical in forms:
            index = self._keys.hmac_index((digest,), (prefix + canonical + suffix).encode("utf-8"))
            if index is not None:
                auth = _authorization(app_id, digest, nonce, seconds, timestamp)
                return auth, index
        return None

    def _claim(self, auth: AmxAuthorization, *, header: str) -> None:
        """Claim the nonce of an authentic header in the replay guard (when one is set)."""
        if self._guard is not None:
            claim_once(
                self._guard,
                f"examkit:{VENDOR}:{auth.nonce}",
                ttl=self._ttl,
                vendor=VENDOR,
                message="this request's nonce was already accepted: it is a replay (or a retried delivery)",
                reason="nonce seen before",
                header=header,
            )

    def _canonical_forms(self, url: str) -> tuple[str, ...]:
        cached = self._canonical.get(url)
        if cached is not None:
            return cached
        try:
            forms = tuple(dict.fromkeys(form.canonicalize(url) for form in self._forms))
        except (ValidationError, UnicodeEncodeError):
            return ()
        if len(self._canonical) >= _MAX_CACHED_URLS:
            self._canonical.clear()
        self._canonical[url] = forms
        return forms

    # A new object with its own settings; what it was given to talk to the world (guard, clock) is shared.
    __deepcopy__ = sharing_deepcopy("_guard", "_clock")

    @safe_repr
    def __repr__(self) -> str:
        return f"AmxVerifier(keys={len(self._keys)}, forms={len(self._forms)}, tolerance={self._tolerance:g})"


def verify_authorization(
    value: str | None,
    *,
    app_id: str,
    api_key: SecretInput | Sequence[SecretInput],
    method: str,
    url: str,
    forms: Sequence[CanonicalForm] = (DEFAULT_REQUEST_FORM,),
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    clock: Clock | None = None,
    replay_guard: ReplayGuard | None = None,
) -> AmxAuthorization:
    """Verify an ``amx`` ``Authorization`` value for a request; return the parsed header.

    A one-call form of :class:`AmxVerifier` (which prepares the keys once; prefer it on a hot path).

    Raises:
        ConfigurationError: A credential or setting has the wrong form.
        WebhookVerificationError: A subclass saying why the header must not be trusted.
    """
    api_key = _api_keys_from(api_key, setting="api_key")  # masked from here on
    verifier = AmxVerifier(
        app_id=app_id,
        api_key=api_key,
        forms=forms,
        tolerance=tolerance,
        clock=clock,
        replay_guard=replay_guard,
    )
    return verifier.verify(value, method=method, url=url)


class IntegrityAdvocateWebhookVerifier:
    """Verifies review callbacks and returns them typed (:class:`ReviewCallback`).

    Args:
        app_id: Your App Id (a GUID); the header must name it.
        api_key: Your API key, or several during a rotation (any may match).
        tolerance: Allowed difference between the header's timestamp and the time the request was
            received (its ``received_at``, else the clock's now), either way, in seconds or as a
            timedelta (default :data:`~examkit.core.DEFAULT_TOLERANCE`, 300).
        clock: The clock for the freshness check (tests inject a fixed one).
        replay_guard: Remembers accepted nonces (for twice the tolerance) so each is accepted once;
            ``None`` (default) skips the check.
        url_forms: The canonical URI forms tried, in order (default
            ``DEFAULT_CALLBACK_FORMS``: the callback URL
            without its query, then with it, both percent-encoded then lower-cased, then the full URL
            lower-cased then ``encodeURIComponent``-encoded). The form the vendor signs is not
            documented.
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
        tolerance: Tolerance = DEFAULT_TOLERANCE,
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
    def from_env(
        cls,
        *,
        tolerance: Tolerance = DEFAULT_TOLERANCE,
        clock: Clock | None = None,
        replay_guard: ReplayGuard | None = None,
        url_forms: Sequence[CanonicalForm] = DEFAULT_CALLBACK_FORMS,
        callback_url: str | None = None,
        accept_redirect_header: bool = True,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
    ) -> IntegrityAdvocateWebhookVerifier:
        """Build a verifier from ``EXAMKIT_IA_APP_ID`` and ``EXAMKIT_IA_API_KEY``.

        The other settings are those of the constructor.

        Raises:
            ConfigurationError: A variable is missing or has the wrong form.
        """
        return cls(
            app_id=env_setting("EXAMKIT_IA_APP_ID", vendor=VENDOR),
            api_key=env_setting("EXAMKIT_IA_API_KEY", vendor=VENDOR),
            tolerance=tolerance,
            clock=clock,
            replay_guard=replay_guard,
            url_forms=url_forms,
            callback_url=callback_url,
            accept_redirect_header=accept_redirect_header,
            max_body_size=max_body_size,
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

        Order: body size, header layout, app id, signature (constant time), timestamp (either way,
        judged at the request's ``received_at`` when set), then the body is decoded, and only a body
        that fits has its nonce claimed (when a replay guard is set), so a refused body does not use
        up the header.

        Raises:
            PayloadTooLargeError: The body is over ``max_body_size``.
            MissingSignatureError: No ``amx`` header, or no URL to verify against.
            MalformedSignatureError: The header cannot be read.
            SignatureMismatchError: Another app id, or no key and URL form reproduce the signature.
            TimestampOutsideToleranceError: The timestamp is outside the tolerance.
            ReplayedRequestError: The nonce was already accepted.
            PayloadError: The request is authentic but the body is not a participant.
        """
        return self.verify_detailed(request).event

    def verify_detailed(self, request: WebhookRequest) -> Verified[ReviewCallback]:
        """Like :meth:`verify`, and say which API key matched (``key_index``), for secret rotation.

        Every key is tried in constant time, whichever matches.

        Raises:
            WebhookVerificationError: As :meth:`verify`.
            PayloadError: As :meth:`verify`.
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
        now = verification_time(request, verifier._clock)
        auth, index = verifier._authentic(value, method=request.method, url=url, header=header, now=now)
        # Parsed before the nonce is claimed: a body that does not parse must not use up the header.
        participant = parse_participant(load_json(request.body, vendor=VENDOR))
        verifier._claim(auth, header=header)
        callback = ReviewCallback(participant=participant, authorization=auth, body=request.body)
        return Verified(callback, key_index=index, key_count=len(verifier._keys))

    @property
    def callback_url(self) -> str | None:
        """The public callback URL verified against, or ``None`` (the request's ``url`` is used)."""
        return self._callback_url

    @safe_repr
    def __repr__(self) -> str:
        return f"IntegrityAdvocateWebhookVerifier({self._verifier!r})"
