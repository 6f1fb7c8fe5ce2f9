"""Testpress: the signed create-attempt redirect, the completion response and the exam webhook.

Importing this package does not import ``requests``; :func:`explain` (the diagnosis) loads on first
use.

>>> from examkit.testpress import attempt_hmac
>>> len(attempt_hmac(secret="s", email="a@b.c", first_name="A", institute_attempt_id="1",
...                  key="k", time=1700000000))
64
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from examkit.core._exports import lazy_exports, publish

if TYPE_CHECKING:
    from examkit.testpress.attempts import (
        AttemptForm,
        TestpressAttempts,
    )
    from examkit.testpress.diagnose import explain
    from examkit.testpress.models import (
        AttemptResult,
        AttemptState,
        AttemptStatus,
        DifficultyLevelStats,
        Exam,
        ExamWebhookEvent,
        SubjectStats,
        WebhookUser,
    )
    from examkit.testpress.signing import (
        PRIVATE_KEY,
        PUBLIC_KEY,
        attempt_hmac,
        review_hmac,
        webhook_hash,
    )
    from examkit.testpress.webhooks import (
        CompletionHmacScheme,
        TestpressCompletionVerifier,
        TestpressWebhookVerifier,
        parse_unverified_attempt_result,
    )

__all__ = [
    "PRIVATE_KEY",
    "PUBLIC_KEY",
    "AttemptForm",
    "AttemptResult",
    "AttemptState",
    "AttemptStatus",
    "CompletionHmacScheme",
    "DifficultyLevelStats",
    "Exam",
    "ExamWebhookEvent",
    "SubjectStats",
    "TestpressAttempts",
    "TestpressCompletionVerifier",
    "TestpressWebhookVerifier",
    "WebhookUser",
    "attempt_hmac",
    "explain",
    "parse_unverified_attempt_result",
    "review_hmac",
    "webhook_hash",
]

_LAZY = {
    "AttemptForm": ".attempts",
    "TestpressAttempts": ".attempts",
    "AttemptResult": ".models",
    "AttemptState": ".models",
    "AttemptStatus": ".models",
    "DifficultyLevelStats": ".models",
    "Exam": ".models",
    "ExamWebhookEvent": ".models",
    "SubjectStats": ".models",
    "WebhookUser": ".models",
    "PRIVATE_KEY": ".signing",
    "PUBLIC_KEY": ".signing",
    "attempt_hmac": ".signing",
    "review_hmac": ".signing",
    "webhook_hash": ".signing",
    "CompletionHmacScheme": ".webhooks",
    "TestpressCompletionVerifier": ".webhooks",
    "TestpressWebhookVerifier": ".webhooks",
    "parse_unverified_attempt_result": ".webhooks",
    "explain": ".diagnose",
}

__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__)
