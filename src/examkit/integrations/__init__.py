"""Framework adapters: verify webhooks inside Django and Flask views.

The adapters live in :mod:`examkit.integrations.django` and :mod:`examkit.integrations.flask`, each
behind its optional dependency (``pip install 'examkit[django]'`` or ``'examkit[flask]'``). This
package itself imports no framework: it holds what both adapters share, the mapping from an
examkit error to an HTTP status (:func:`status_for_error`), the generic response body
(:data:`REJECTED_BODY`), the logger they report to and the error raised when the body can no longer
be read (:class:`BodyAlreadyReadError`).

Status codes (see :func:`status_for_error`):

========================================================  ======
Cause                                                     Status
========================================================  ======
missing or malformed signature, timestamp or nonce        400
malformed body (:class:`~examkit.core.errors.PayloadError`)  400
body over the verifier's ``max_body_size``                413
signature mismatch, timestamp outside the tolerance       401
replayed request (nonce or id already seen)               409
========================================================  ======
"""

from __future__ import annotations

from examkit.integrations._common import (
    REJECTED_BODY,
    BodyAlreadyReadError,
    logger,
    status_for_error,
)

__all__ = [
    "REJECTED_BODY",
    "BodyAlreadyReadError",
    "logger",
    "status_for_error",
]

# Shown under this package in the docs and in tracebacks, where users import them from.
BodyAlreadyReadError.__module__ = __name__
status_for_error.__module__ = __name__
