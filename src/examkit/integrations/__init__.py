"""Framework adapters: verify webhooks inside Django and Flask views.

The adapters live in :mod:`examkit.integrations.django` and :mod:`examkit.integrations.flask`, each
behind its optional dependency (``pip install 'examkit[django]'`` or ``'examkit[flask]'``). This
package itself imports no framework: it holds what both adapters share, the mapping from an
examkit error to an HTTP status (:func:`status_for_error`), the generic response body
(:data:`REJECTED_BODY`), the logger they report to and the error raised when the body can no longer
be read (:class:`BodyAlreadyReadError`).

Status codes (see :func:`status_for_error`):

- 400: a missing or malformed signature, timestamp or nonce, or a malformed body
  (:class:`~examkit.core.errors.PayloadError`);
- 401: a signature mismatch, or a timestamp outside the tolerance;
- 409: a replayed request (its nonce or id was accepted before);
- 413: a body over the verifier's ``max_body_size`` (or the framework's own limit).
"""

from __future__ import annotations

import logging
from typing import Final

from examkit.integrations import _common
from examkit.integrations._common import BodyAlreadyReadError, status_for_error

__all__ = [
    "REJECTED_BODY",
    "BodyAlreadyReadError",
    "logger",
    "status_for_error",
]

logger: Final[logging.Logger] = _common.logger
"""The logger both adapters report rejected webhooks to (named ``examkit.integrations``).

Each rejection is logged once, at ``WARNING`` (``ERROR`` for a malformed body from an authentic
sender), with the error class, vendor, reason, header and message, and the extra record attributes
``examkit_error``, ``examkit_vendor``, ``examkit_reason`` and ``examkit_status``. Never a secret, a
signature or the body.
"""

REJECTED_BODY: Final[str] = _common.REJECTED_BODY
"""The body of every failure response (``"webhook rejected\\n"``, ``text/plain``), whatever the cause.

The specific cause goes to :data:`logger` only: a sender probing the endpoint learns nothing but the
status code.
"""

# Shown under this package in the docs and in tracebacks, where users import them from.
BodyAlreadyReadError.__module__ = __name__
status_for_error.__module__ = __name__
