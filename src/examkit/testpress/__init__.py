"""Testpress: the signed create-attempt redirect, the completion response and the exam webhook.

Importing this package (or :mod:`examkit.testpress.webhooks`) does not import ``requests``.

>>> from examkit.testpress import attempt_hmac
>>> len(attempt_hmac(secret="s", email="a@b.c", first_name="A", institute_attempt_id="1",
...                  key="k", time=1700000000))
64
"""

from __future__ import annotations

from examkit.testpress.attempts import (
    ATTEMPT_VALIDITY,
    DEFAULT_REVIEW_PATH,
    REVIEW_QUERY_DOCUMENTED_TABLE,
    REVIEW_QUERY_URL_TEMPLATE,
    AttemptForm,
    CompletionHmacScheme,
    TestpressAttempts,
    TestpressCompletionVerifier,
    parse_unverified_attempt_result,
)
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
    DEFAULT_ENCODING,
    DEFAULT_WEBHOOK_HASH_FIELDS,
    DOCUMENTED_WEBHOOK_HASH_NAMES,
    PRIVATE_KEY,
    PUBLIC_KEY,
    WEBHOOK_HASH_NAME_MAPPING,
    attempt_hmac,
    review_hmac,
    webhook_hash,
)
from examkit.testpress.webhooks import DEFAULT_REPLAY_TTL, TestpressWebhookVerifier

__all__ = [
    "ATTEMPT_VALIDITY",
    "DEFAULT_ENCODING",
    "DEFAULT_REPLAY_TTL",
    "DEFAULT_REVIEW_PATH",
    "DEFAULT_WEBHOOK_HASH_FIELDS",
    "DOCUMENTED_WEBHOOK_HASH_NAMES",
    "PRIVATE_KEY",
    "PUBLIC_KEY",
    "REVIEW_QUERY_DOCUMENTED_TABLE",
    "REVIEW_QUERY_URL_TEMPLATE",
    "WEBHOOK_HASH_NAME_MAPPING",
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
    "parse_unverified_attempt_result",
    "review_hmac",
    "webhook_hash",
]
