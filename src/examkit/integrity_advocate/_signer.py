"""The signer of Integrity Advocate's API calls: the key decoded and the HMAC state prepared once.

It holds a key (state), so it lives outside the pure :mod:`examkit.integrity_advocate.signing`; it
signs with that module's functions. The client uses it; :func:`~examkit.integrity_advocate.sign_request`
is the one-call form.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from examkit.core._checks import check_instance
from examkit.core._copying import deepcopy_sharing
from examkit.core._repr import safe_repr
from examkit.core.signing import SecretInput
from examkit.integrity_advocate.models import VENDOR
from examkit.integrity_advocate.signing import (
    DEFAULT_REQUEST_FORM,
    CanonicalForm,
    _check_method,
    _check_nonce,
    _check_timestamp,
    api_key_from,
    authorization_value,
    canonical_uri,
    signing_string,
    validate_app_id,
)

__all__ = ["AmxSigner"]


class AmxSigner:
    """Signs requests for one app id and API key; the key is decoded once.

    Args:
        app_id: The App Id (a GUID).
        api_key: The API key (base64 text).
        form: The canonical URI form (default: no query, encode then lower-case).

    Raises:
        ConfigurationError: The app id or API key has the wrong form.
    """

    __slots__ = ("_app_id", "_base", "_form", "_secret")

    def __init__(
        self, *, app_id: str, api_key: SecretInput, form: CanonicalForm = DEFAULT_REQUEST_FORM
    ) -> None:
        self._app_id = validate_app_id(app_id)
        self._secret = api_key_from(api_key)
        self._form = check_instance(form, CanonicalForm, setting="form", vendor=VENDOR)
        self._base = hmac.new(self._secret.key, digestmod=hashlib.sha256)

    @property
    def app_id(self) -> str:
        """The App Id this signer signs as."""
        return self._app_id

    def authorization(self, *, method: str, url: str, timestamp: int, nonce: str) -> str:
        """Return the ``Authorization`` header value for one request.

        Raises:
            ValidationError: The method, URL, timestamp or nonce has the wrong form.
        """
        method = _check_method(method)
        ts = _check_timestamp(timestamp)
        nonce = _check_nonce(nonce)
        canonical = canonical_uri(url, self._form)
        mac = self._base.copy()
        mac.update(
            signing_string(app_id=self._app_id, method=method, canonical=canonical, timestamp=ts, nonce=nonce)
        )
        return authorization_value(self._app_id, mac.digest(), nonce, ts)

    def __deepcopy__(self, memo: dict[int, Any]) -> AmxSigner:
        # The prepared HMAC state cannot be deep-copied; it is never changed (each request signs a
        # .copy() of it), so the copy shares it.
        return deepcopy_sharing(self, memo, self._base)

    @safe_repr
    def __repr__(self) -> str:
        return f"AmxSigner(app_id={self._app_id!r}, api_key=Secret('***'))"
