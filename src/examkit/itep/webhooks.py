"""The iTEP results webhook: authenticate the raw request, then read the ``data`` form field.

iTEP posts one form-encoded field named ``data`` whose value is a JSON string with the results. How
the request is authenticated is set per tracking code by iTEP staff and is not documented, so
:class:`ItepWebhookVerifier` takes an explicit ``auth`` setting: a shared token in a header
(:class:`TokenHeaderAuth`), HTTP basic credentials (:class:`BasicAuth`), an HMAC of the body in a
header (:class:`HmacBodyAuth`), or :class:`NoAuthentication`, which has to be chosen on purpose.
Every comparison is on bytes and in constant time.

Nothing here imports :mod:`requests`.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable
from urllib.parse import unquote

import attrs

from examkit.core import auth as _auth
from examkit.core._checks import check_choice, check_replay_guard, check_seconds, check_text
from examkit.core._copying import sharing_deepcopy
from examkit.core._exports import deferred
from examkit.core._repr import safe_repr
from examkit.core.env import env_setting
from examkit.core.errors import ConfigurationError, PayloadError, SignatureMismatchError, ValidationError
from examkit.core.serde import load_json
from examkit.core.signing import Secret, SecretInput
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    ReplayGuard,
    Verified,
    WebhookRequest,
    body_size_limit,
    claim_once,
    received,
)
from examkit.itep._vendor import SECTION_PREFIXES, VENDOR

if TYPE_CHECKING:
    from examkit.itep import models as _models
    from examkit.itep.models import ExamResult
else:  # the models, and the converter's cattrs, load with the first typed result
    _models = deferred("examkit.itep.models", globals(), "_models")

__all__ = [
    "BasicAuth",
    "HmacBodyAuth",
    "ItepWebhookAuth",
    "ItepWebhookVerifier",
    "NoAuthentication",
    "TokenHeaderAuth",
]

_SECTION_KEYS: Final = frozenset({"Level", "Score", "Percent", "cefr", "Question_Count"})
_TEST_DATE_RE: Final = re.compile(r"\A([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\Z", re.ASCII)
_MAX_FORM_FIELDS: Final = 64
# Section fields are gathered under "<prefix><mark>" before structuring. The mark is a control character
# no real key uses (a payload key spelled that way is still kept, in ``extra``), and not NUL: cattrs before
# 26.2 writes renamed keys into generated source, which cannot hold a NUL.
_SECTION_MARK: Final = "\x1f"
# "Grammar_Level" -> ("Grammar<mark>", "Level"): the same split as partitioning a key at its first "_".
_SECTION_OF: Final = {
    f"{prefix}_{key}": (prefix + _SECTION_MARK, key) for prefix in SECTION_PREFIXES for key in _SECTION_KEYS
}


@runtime_checkable
class ItepWebhookAuth(Protocol):
    """How a results webhook proves it comes from iTEP; implement it for a scheme of your own.

    An implementation whose check covers the body's bytes (a MAC of the body) may set a
    ``covers_body = True`` attribute; the verifier then marks results ``body_authenticated``. One that
    also has ``match(request) -> int | None`` (the position of the credential that matched) lets
    :meth:`ItepWebhookVerifier.verify_detailed` say which secret of a rotation was used.
    """

    def authenticate(self, request: WebhookRequest) -> None:
        """Return when ``request`` is authentic.

        Raises:
            WebhookVerificationError: It is not (use the subclass that names the cause).
        """
        ...


class NoAuthentication(_auth.NoAuthentication):
    """Accept every request: the explicit choice for a tracking code set up without credentials.

    Only sensible behind another safeguard (a secret URL, an IP allow-list at the proxy).
    """

    __slots__ = ()


_TOKEN_MESSAGES: Final = _auth.TokenMessages(
    missing=(
        "the {header} header is missing: the request is not from iTEP, or the tracking code uses "
        "another authentication"
    ),
)


class TokenHeaderAuth(_auth.TokenHeaderAuth):
    """A shared token in a named header, e.g. ``X-Api-Key: <token>``.

    Args:
        header: The header's name (case-insensitive).
        token: The token, or several during a rotation.
        prefix: Text before the token in the header value, e.g. ``"Bearer "``.

    Raises:
        ConfigurationError: No header name or no token.
    """

    __slots__ = ()

    def __init__(self, *, header: str, token: SecretInput | Sequence[SecretInput], prefix: str = "") -> None:
        super().__init__(
            vendor=VENDOR,
            header=header,
            token=token,
            prefix=prefix,
            messages=_TOKEN_MESSAGES,
            example_header="X-Itep-Token",
        )


class BasicAuth(_auth.BasicAuth):
    """HTTP basic credentials in the ``Authorization`` header.

    Args:
        username: The user name iTEP sends.
        password: The password, or several during a rotation.
        header: The header that carries them.

    Raises:
        ConfigurationError: No user name or password.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        username: str,
        password: SecretInput | Sequence[SecretInput],
        header: str = "Authorization",
    ) -> None:
        super().__init__(
            vendor=VENDOR, username=username, password=password, header=header, example_header="X-Itep-Token"
        )


class HmacBodyAuth(_auth.HmacBodyAuth):
    """An HMAC-SHA256 of the raw body in a named header.

    Args:
        header: The header's name.
        secret: The shared secret, or several during a rotation.
        encoding: ``"hex"`` (either case accepted) or ``"base64"``.
        prefix: Text before the digest in the header value, e.g. ``"sha256="``.

    Raises:
        ConfigurationError: No header name or secret, or an unknown encoding.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        header: str,
        secret: SecretInput | Sequence[SecretInput],
        encoding: Literal["hex", "base64"] = "hex",
        prefix: str = "",
    ) -> None:
        super().__init__(
            vendor=VENDOR,
            header=header,
            secret=secret,
            encoding=encoding,
            prefix=prefix,
            example_header="X-Itep-Token",
        )


def _form_pairs(text: str) -> list[tuple[str, str]]:
    """Split a non-empty form body into its (name, value) pairs, as the standard library does.

    The same pairs, and a :class:`ValueError` (a :class:`UnicodeDecodeError` for bad UTF-8) for the same
    bodies, as ``parse_qsl(text, keep_blank_values=True, strict_parsing=True, encoding="utf-8",
    errors="strict", max_num_fields=_MAX_FORM_FIELDS)``; only the percent-decoding is faster.
    """
    if 1 + text.count("&") > _MAX_FORM_FIELDS:
        raise ValueError("too many form fields")
    pairs = []
    for piece in text.split("&"):
        name, has_eq, value = piece.partition("=")
        if not has_eq:
            raise ValueError("a form field without '='")
        pairs.append((_unquote_plus(name), _unquote_plus(value)))
    return pairs


def _unquote_plus(text: str) -> str:
    r"""``urllib.parse.unquote_plus(text, errors="strict")``, decoding the escapes at C speed.

    Every ``%XX`` becomes ``\xXX`` for the bytes-escape decoder (backslashes already in the text are
    doubled first, so they stay as they are). A ``%`` that is not followed by two hex digits makes that
    decoder refuse; the standard library, which keeps such a ``%`` as text, then decodes the value.
    """
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    try:
        escaped = text.encode("utf-8").replace(b"\\", b"\\\\").replace(b"%", b"\\x")
        raw: bytes = codecs.escape_decode(escaped)[0]
    except ValueError:
        return unquote(text, encoding="utf-8", errors="strict")
    return raw.decode("utf-8")


def _form_data(body: bytes, field: str) -> str:
    try:
        text = body.decode("utf-8")
        # parse_qsl refuses an empty string under strict parsing before Python 3.11 and accepts it
        # after; an empty body simply has no fields, on every version.
        pairs = _form_pairs(text) if text else []
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not a form body"
        raise PayloadError(
            "the body is not a form-encoded body (application/x-www-form-urlencoded) with one "
            f"'{field}' field: pass the raw request bytes, not a parsed form",
            reason=reason,
            vendor=VENDOR,
        ) from None
    values = [value for name, value in pairs if name == field]
    if not values:
        raise PayloadError(
            f"the body has no '{field}' form field; iTEP sends the results as {field}=<json>",
            field=field,
            reason="missing",
            vendor=VENDOR,
        )
    if len(values) > 1:
        raise PayloadError(
            f"the body has the '{field}' form field {len(values)} times; iTEP sends it once",
            field=field,
            reason="duplicated",
            vendor=VENDOR,
        )
    return values[0]


def _test_date(value: object) -> str | None:
    if value is None or value == "":
        return None
    match = _TEST_DATE_RE.match(value) if isinstance(value, str) else None
    if match:
        month, day, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            pass
    shown = value if isinstance(value, str) and len(value) <= 32 else type(value).__name__
    raise PayloadError(
        f"TestDate: expected a date as M/D/YYYY, got {shown!r}",
        field="TestDate",
        reason="expected M/D/YYYY",
        vendor=VENDOR,
    )


def parse_results_json(data: Mapping[str, Any] | bytes | str) -> ExamResult:
    """Read the results JSON (the value of the ``data`` field) into an :class:`ExamResult`.

    Numbers sent as strings or as numbers are both accepted; empty strings mean "absent"; unknown
    keys are kept in :attr:`ExamResult.extra`.

    Raises:
        PayloadError: The JSON is malformed or a value does not fit; ``field`` is the vendor's key.
    """
    decoded = data if isinstance(data, Mapping) else load_json(data, vendor=VENDOR)
    if not isinstance(decoded, Mapping):
        raise PayloadError("the results JSON must be an object", reason="not an object", vendor=VENDOR)
    shaped: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    marked: dict[str, Any] = {}
    section_of = _SECTION_OF.get
    for key, value in decoded.items():
        target = section_of(key)
        if target is not None:
            sections.setdefault(target[0], {})[target[1]] = value
        elif isinstance(key, str) and _SECTION_MARK in key:
            marked[key] = value
        else:
            shaped[key] = value
    if "TestDate" in shaped:
        shaped["TestDate"] = _test_date(shaped["TestDate"])
    shaped.update(sections)
    try:
        result = _models.CONVERTER.structure(shaped, _models.ExamResult)
    except PayloadError as exc:
        field = exc.field.replace(_SECTION_MARK + ".", "_") if exc.field else None
        where = field or "the payload"
        raise PayloadError(f"{where}: {exc.reason}", field=field, reason=exc.reason, vendor=VENDOR) from None
    if marked:  # keys spelled like the internal section keys are unknown keys, kept like any other
        result = attrs.evolve(result, extra={**result.extra, **marked})
    return result


def parse_results_body(body: bytes, *, field: str = "data") -> ExamResult:
    """Read a results webhook body (``data=<json>``, form-encoded) without authenticating it.

    Use :class:`ItepWebhookVerifier` for requests from the network; this is for bodies already
    authenticated (for example stored ones).

    Raises:
        PayloadError: Not a form body, ``data`` missing or repeated, or bad JSON.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise PayloadError(
            f"the body must be the raw request bytes, not {type(body).__name__}",
            reason="not bytes",
            vendor=VENDOR,
        )
    if not isinstance(field, str) or not field:
        raise ValidationError(
            "field must be a form field name", field="field", reason="wrong type", vendor=VENDOR
        )
    return parse_results_json(_form_data(bytes(body), field))


def _returned_a_value() -> SignatureMismatchError:
    # An authenticate() that returns (False, say) instead of raising must not let a request in.
    return SignatureMismatchError(
        "the configured auth returned a value instead of raising: authentication refused",
        vendor=VENDOR,
        reason="auth returned a value",
    )


class ItepWebhookVerifier:
    """Verifies an iTEP results webhook and returns its typed :class:`ExamResult`.

    The request is authenticated first (with ``auth``), then the body is read; an authentic request
    with a malformed body raises :class:`~examkit.PayloadError`.

    Args:
        auth: How the requests are authenticated. Required: iTEP configures this per tracking code
            and does not document it. Use :class:`NoAuthentication` to accept unauthenticated
            requests on purpose.
        max_body_size: Bodies larger than this many bytes are refused before anything is read.
        replay_guard: When given, a delivery whose exact body was already accepted within
            ``replay_ttl`` seconds is refused (the vendor sends no nonce, so the body's SHA-256 is
            the key). Off by default: iTEP may legitimately resend the same result.
        replay_ttl: How long accepted bodies are remembered, in seconds.
        field: The form field that carries the JSON (``data``).

    Raises:
        ConfigurationError: ``auth`` is missing or not an authentication setting.

    >>> from examkit.core.webhook import WebhookRequest
    >>> verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Token", token="s3cret-token"))
    >>> body = b"data=%7B%22TestID%22%3A%223279B035APR%22%2C%22Status%22%3A%22Complete%22%7D"
    >>> verifier.verify(WebhookRequest(body=body, headers={"X-Token": "s3cret-token"})).test_id
    '3279B035APR'
    """

    __slots__ = ("_auth", "_field", "_guard", "_limit", "_ttl")

    def __init__(
        self,
        *,
        auth: ItepWebhookAuth,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        replay_guard: ReplayGuard | None = None,
        replay_ttl: float = 86_400.0,
        field: str = "data",
    ) -> None:
        if isinstance(auth, type) or not isinstance(auth, ItepWebhookAuth):
            raise ConfigurationError(
                "auth is required: pass TokenHeaderAuth(...), BasicAuth(...), HmacBodyAuth(...) "
                "or, on purpose, NoAuthentication()",
                setting="auth",
                vendor=VENDOR,
            )
        self._limit = body_size_limit(max_body_size, vendor=VENDOR)
        self._ttl = check_seconds(replay_ttl, setting="replay_ttl", vendor=VENDOR)
        self._field = check_text(field, setting="field", vendor=VENDOR)
        self._auth = auth
        self._guard = check_replay_guard(replay_guard, vendor=VENDOR)

    @classmethod
    def from_env(
        cls,
        *,
        scheme: Literal["token", "basic", "hmac"],
        header: str | None = None,
        environ: Mapping[str, str] | None = None,
        **settings: Any,
    ) -> ItepWebhookVerifier:
        """Build a verifier whose credentials come from environment variables.

        ``scheme="token"`` reads ``EXAMKIT_ITEP_WEBHOOK_TOKEN`` (``header`` required);
        ``scheme="basic"`` reads ``EXAMKIT_ITEP_WEBHOOK_USERNAME`` and
        ``EXAMKIT_ITEP_WEBHOOK_PASSWORD``; ``scheme="hmac"`` reads ``EXAMKIT_ITEP_WEBHOOK_SECRET``
        (``header`` required). Other keyword arguments go to the constructor.

        Raises:
            ConfigurationError: A variable is missing (the message names it), or a setting is bad.
        """

        def need(name: str) -> str:
            return env_setting(name, vendor=VENDOR, environ=environ)

        check_choice(scheme, ("token", "basic", "hmac"), setting="scheme", vendor=VENDOR)
        auth: ItepWebhookAuth
        if scheme == "basic":
            auth = BasicAuth(
                username=need("EXAMKIT_ITEP_WEBHOOK_USERNAME"),
                password=Secret(need("EXAMKIT_ITEP_WEBHOOK_PASSWORD"), name="password"),
                **({"header": header} if header else {}),
            )
        else:  # token and hmac name their header: checked before any variable is read
            name = _auth.header_name(header, vendor=VENDOR, example="X-Itep-Token")
            if scheme == "token":
                auth = TokenHeaderAuth(header=name, token=need("EXAMKIT_ITEP_WEBHOOK_TOKEN"))
            else:
                auth = HmacBodyAuth(header=name, secret=need("EXAMKIT_ITEP_WEBHOOK_SECRET"))
        return cls(auth=auth, **settings)

    @property
    def max_body_size(self) -> int | None:
        """The largest body accepted, in bytes (``None``: no limit); the framework adapters read no more."""
        return self._limit

    def verify(self, request: WebhookRequest) -> ExamResult:
        """Authenticate ``request`` and return its results.

        Raises:
            PayloadTooLargeError: The body is over ``max_body_size``.
            MissingSignatureError: The credentials are absent.
            MalformedSignatureError: They cannot be read.
            SignatureMismatchError: They do not match.
            ReplayedRequestError: The same body was already accepted (with a replay guard).
            PayloadError: The request is authentic but the body is malformed.
            ValidationError: ``request`` is not a :class:`~examkit.WebhookRequest`.
        """
        body = received(request, limit=self._limit, vendor=VENDOR).body
        outcome: object = self._auth.authenticate(request)  # type: ignore[func-returns-value]
        if outcome is not None:
            raise _returned_a_value()
        return self._accept(body)

    def verify_detailed(self, request: WebhookRequest) -> Verified[ExamResult]:
        """Like :meth:`verify`, and say which configured credential matched (for secret rotation).

        ``key_index`` is the position of the token, password or secret that matched (every one is
        still compared in constant time); ``None`` with :class:`NoAuthentication` or an ``auth`` of
        your own without a ``match`` method.

        >>> from examkit.core.webhook import WebhookRequest
        >>> auth = TokenHeaderAuth(header="X-Token", token=["old-token-1", "new-token-2"])
        >>> body = b"data=%7B%22TestID%22%3A%223279B035APR%22%7D"
        >>> request = WebhookRequest(body=body, headers={"X-Token": "new-token-2"})
        >>> ItepWebhookVerifier(auth=auth).verify_detailed(request).rotation_note
        'secret 2 of 2 matched'

        Raises:
            The same errors as :meth:`verify`.
        """
        body = received(request, limit=self._limit, vendor=VENDOR).body
        match = getattr(self._auth, "match", None)
        index: object
        if callable(match):
            index = match(request)
            if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
                raise _returned_a_value()
        else:
            index = self._auth.authenticate(request)  # type: ignore[func-returns-value]
            if index is not None:
                raise _returned_a_value()
        count = getattr(self._auth, "key_count", 0)
        return Verified(
            event=self._accept(body),
            key_index=index,
            key_count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
        )

    def _accept(self, body: bytes) -> ExamResult:
        # Parsed before the replay claim: a body that does not parse must not be remembered as accepted.
        result = parse_results_body(body, field=self._field)
        if self._guard is not None:
            claim_once(
                self._guard,
                f"examkit:{VENDOR}:{hashlib.sha256(body).hexdigest()}",
                ttl=self._ttl,
                vendor=VENDOR,
                message="this exact results delivery was already accepted",
                reason="replayed body",
            )
        if getattr(self._auth, "covers_body", False) is True:
            result = attrs.evolve(result, body_authenticated=True)
        return result

    # A new object with its own settings; what it was given to talk to the world (guard) is shared.
    __deepcopy__ = sharing_deepcopy("_guard")

    @safe_repr
    def __repr__(self) -> str:
        return f"ItepWebhookVerifier(auth={self._auth!r}, max_body_size={self._limit!r})"
