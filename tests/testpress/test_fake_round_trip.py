"""FakeTestpress answers only with completion fields that the completion verifier accepts."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from examkit.core.clock import FixedClock
from examkit.core.encoding import PercentEncoding
from examkit.testing.testpress import FakeTestpress
from examkit.testpress import CompletionHmacScheme, TestpressAttempts, TestpressCompletionVerifier
from examkit.testpress.signing import PRIVATE_KEY, PUBLIC_KEY


@pytest.mark.parametrize(
    "fields", [("attempt_id", "score"), (PUBLIC_KEY, "email", "rank", "status", PRIVATE_KEY), ("first_name",)]
)
@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
@pytest.mark.parametrize("encoding", [PercentEncoding.PYTHON_QUOTE, PercentEncoding.PHP_URLENCODE, None])
def test_completion_fields_verify_under_every_scheme(
    fields: tuple[str, ...], algorithm: str, encoding: PercentEncoding | None
) -> None:
    clock = FixedClock(1_700_000_000)
    scheme = CompletionHmacScheme(fields=fields, algorithm=algorithm, encoding=encoding)  # type: ignore[arg-type]
    fake = FakeTestpress(public_key="pub key", secret="sec", clock=clock, completion_scheme=scheme)
    form = TestpressAttempts(public_key="pub key", secret="sec", clock=clock).create_attempt(
        exam_url=fake.exam_url,
        email="x+y@z.org",
        first_name="Jo Ñ/ø",
        institute_attempt_id="1",
        surl="https://me.example/done?from=exam",
    )
    answer = fake.session().post(form.url, data=dict(form.fields), allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = urlsplit(answer.headers["Location"]).query
    result = TestpressCompletionVerifier(scheme=scheme, secret="sec", public_key="pub key").verify(query)
    assert result.verified
    assert result.first_name == "Jo Ñ/ø"
