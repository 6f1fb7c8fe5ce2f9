"""The status each error is answered with, the generic body, and the logger's name."""

from __future__ import annotations

import logging

import pytest

import examkit
from examkit.integrations import BodyAlreadyReadError
from examkit.integrations._common import REJECTED_BODY, logger, status_for_error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (examkit.MissingSignatureError("m"), 400),
        (examkit.MalformedSignatureError("m"), 400),
        (examkit.WebhookVerificationError("m"), 400),
        (examkit.PayloadError("m"), 400),
        (examkit.ValidationError("m"), 400),
        (examkit.SignatureMismatchError("m"), 401),
        (examkit.TimestampOutsideToleranceError("m", timestamp=0, now=1000, tolerance=300), 401),
        (examkit.ReplayedRequestError("m"), 409),
        (examkit.PayloadTooLargeError("m", size=2, limit=1), 413),
        (examkit.ConfigurationError("m"), None),
        (BodyAlreadyReadError("m"), None),
        (examkit.ApiError("m"), None),
        (examkit.ExamkitError("m"), None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_status_for_error(error: examkit.ExamkitError, status: int | None) -> None:
    assert status_for_error(error) == status


def test_the_generic_body_and_the_logger() -> None:
    assert REJECTED_BODY == "webhook rejected\n"
    assert logger is logging.getLogger("examkit.integrations")
    assert issubclass(BodyAlreadyReadError, examkit.ConfigurationError)
