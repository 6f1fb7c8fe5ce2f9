"""Framework adapters, shared replay guards and routing: verify webhooks inside any Python app.

- :mod:`examkit.integrations.django`, :mod:`examkit.integrations.flask` and
  :mod:`examkit.integrations.starlette` (FastAPI and Starlette): thin adapters, each behind its
  optional dependency (``pip install 'examkit[django]'``, ``'examkit[flask]'``, ``'examkit[fastapi]'``);
- :mod:`examkit.integrations.redis`: replay guards shared through Redis (``'examkit[redis]'``);
- :mod:`examkit.integrations.routing`: one endpoint, a typed handler per event kind.

This package itself imports no framework: it holds what the adapters share, the mapping from an
examkit error to an HTTP status (:func:`status_for_error`), the generic response body
(``webhook rejected``), the logger they report to, the error raised when the body can no longer
be read (:class:`BodyAlreadyReadError`) and the one raised when a shared replay guard is unreachable
(:class:`ReplayGuardUnavailableError`).

Status codes (see :func:`status_for_error`):

- 400: a missing or malformed signature, timestamp or nonce, or a malformed body
  (:class:`~examkit.PayloadError`);
- 401: a signature mismatch, or a timestamp outside the tolerance;
- 409: a replayed request (its nonce or id was accepted before);
- 413: a body over the verifier's ``max_body_size`` (or the framework's own limit);
- 503: the shared replay guard (Redis) is unreachable: nothing is accepted unguarded, the vendor
  retries later.
"""

from __future__ import annotations

import logging
from typing import Final

from examkit.core._exports import lazy_exports, publish
from examkit.integrations import _common
from examkit.integrations._common import BodyAlreadyReadError, ReplayGuardUnavailableError, status_for_error

__all__ = [
    "BodyAlreadyReadError",
    "ReplayGuardUnavailableError",
    "status_for_error",
]

_LAZY: Final[dict[str, str]] = {}

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

__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__)
