"""A canary secret in every client, verifier, signer and the CLI never shows anywhere.

Not in repr, str, error messages, log records (every logger at DEBUG) or the command's output.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from examkit.assessio import AssessioClient, signature_header
from examkit.assessio.signing import compute_signature
from examkit.cli import main as cli_main
from examkit.core.clock import FixedClock
from examkit.core.errors import ExamkitError
from examkit.core.signing import Secret
from examkit.core.webhook import WebhookRequest
from examkit.integrity_advocate import (
    AmxSigner,
    IntegrityAdvocateClient,
    IntegrityAdvocateWebhookVerifier,
    sign_request,
)
from examkit.itep import ItepClient, ItepWebhookVerifier, sign_body
from examkit.itep._fulfillment import FulfillmentSigner
from examkit.testing.integrity_advocate import DEMO_APP_ID
from examkit.testpress import (
    CompletionHmacScheme,
    TestpressAttempts,
    TestpressCompletionVerifier,
    attempt_hmac,
    review_hmac,
    webhook_hash,
)
from tests.hardening.clients import calls
from tests.hardening.strategies import CANARY
from tests.hardening.vendors import CASES, IA_API_KEY, NOW, TP_PUBLIC, Case

# Any 16 characters of a secret in view is a leak: the canary, the Assessio secret (the canary reversed)
# and the Integrity Advocate key as text (its decoded bytes are the canary's first 32 characters).
NEEDLES = (CANARY[:16], CANARY[-16:], CANARY[::-1][:16], IA_API_KEY[:16], IA_API_KEY[-16:])


def assert_clean(text: str, where: str) -> None:
    for needle in NEEDLES:
        assert needle not in text, f"a secret appears in {where}: ...{needle}..."


def _exception_text(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), *(repr(a) for a in exc.args)]
    parts += [repr(v) for v in vars(exc).values()]
    return "\n".join(parts)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every logger, existing or not, at DEBUG."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "") + repr(record.__dict__)
        assert_clean(text, f"log record {record.name}")


def _check(action: Callable[[], Any], where: str) -> None:
    try:
        result = action()
    except ExamkitError as exc:
        assert_clean(_exception_text(exc), f"the error from {where}")
        if exc.__context__ is not None and not exc.__suppress_context__:  # what a traceback shows
            assert_clean(_exception_text(exc.__context__), f"the context of the error from {where}")
    else:
        assert_clean(repr(result) + str(result), f"the result of {where}")


@pytest.mark.usefixtures("logs")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verifiers_never_show_the_secret(case: Case) -> None:
    verifier = case.make()
    assert_clean(repr(verifier) + str(verifier), f"{case.name} repr")
    valid = case.valid()
    _check(lambda: verifier.verify(valid), f"{case.name} accepting")
    _check(lambda: verifier.verify(valid), f"{case.name} replayed")
    for name, value in list(valid.headers.items()):
        # Each header in turn with its end changed (a near-miss credential or signature).
        bad = WebhookRequest(body=valid.body, headers={**dict(valid.headers), name: value[:-3] + "abc"})
        _check(functools.partial(verifier.verify, bad), name)
    _check(lambda: verifier.verify(WebhookRequest(body=valid.body[:-5], headers=valid.headers)), "cut body")
    _check(lambda: verifier.verify(WebhookRequest(body=CANARY.encode(), headers={"X": CANARY})), "echo")


@pytest.mark.usefixtures("logs")
def test_signers_never_show_the_secret() -> None:
    itep = FulfillmentSigner(api_key=CANARY, header="X-Signature")
    amx = AmxSigner(app_id=DEMO_APP_ID, api_key=IA_API_KEY)
    attempts = TestpressAttempts(public_key=TP_PUBLIC, secret=CANARY, clock=FixedClock(NOW))
    completion = TestpressCompletionVerifier(
        scheme=CompletionHmacScheme(fields=("attempt_id",)), secret=CANARY
    )
    for obj in (itep, amx, attempts, completion, Secret(CANARY)):
        assert_clean(repr(obj) + str(obj), type(obj).__name__)
    actions: dict[str, Callable[[], Any]] = {
        "itep.signer.headers": lambda: itep.headers(b"{}"),
        "itep.sign_body bad body": lambda: sign_body(api_key=CANARY, body=CANARY),  # type: ignore[arg-type]
        "amx bad url": lambda: amx.authorization(
            method="GET", url="https://x/\udcff", timestamp=NOW, nonce="n"
        ),
        "amx bad nonce": lambda: amx.authorization(
            method="GET", url="https://x", timestamp=NOW, nonce=CANARY + ":"
        ),
        "ia.sign_request bad key": lambda: sign_request(
            app_id=DEMO_APP_ID,
            api_key=CANARY,
            method="GET",
            url="https://x",
            timestamp=1_700_000_000,
            nonce="1700000000123456",
        ),
        "ia.sign_request key as app id": lambda: sign_request(
            app_id=CANARY,
            api_key=IA_API_KEY,
            method="GET",
            url="https://x",
            timestamp=1_700_000_000,
            nonce="1700000000123456",
        ),
        "assessio.compute_signature": lambda: compute_signature(secret=CANARY, body=b"{}", timestamp=NOW),
        "assessio.signature_header bad ts": lambda: signature_header(secret=CANARY, body=b"{}", timestamp=-1),
        "testpress.attempt_hmac bad time": lambda: attempt_hmac(
            secret=CANARY, email="a@b", first_name="A", institute_attempt_id="1", key=TP_PUBLIC, time="x"
        ),
        "testpress.review_hmac": lambda: review_hmac(
            secret=CANARY, attempt_id=1, institute_attempt_id="1", key=TP_PUBLIC, time=NOW
        ),
        "testpress.webhook_hash bad body": lambda: webhook_hash(
            private_key=CANARY, body=b"{" + CANARY.encode()
        ),
        "testpress.create_attempt bad url": lambda: attempts.create_attempt(
            exam_url=CANARY, email="a@b.c", first_name="A", institute_attempt_id="1", surl="https://x"
        ),
        "testpress.completion": lambda: completion.verify({"attempt_id": "1", "hmac": CANARY}),
    }
    for where, action in actions.items():
        _check(action, where)


@pytest.mark.usefixtures("logs")
def test_bad_settings_never_echo_the_secret() -> None:
    actions: dict[str, Callable[[], Any]] = {
        "ia client key not base64": lambda: IntegrityAdvocateClient(
            app_id=DEMO_APP_ID, api_key=CANARY + "!!"
        ),
        "ia verifier key not base64": lambda: IntegrityAdvocateWebhookVerifier(
            app_id=DEMO_APP_ID, api_key=CANARY
        ),
        "ia verifier secret as app id": lambda: IntegrityAdvocateWebhookVerifier(
            app_id=CANARY, api_key=IA_API_KEY
        ),
        "itep client bad endpoint": lambda: ItepClient(api_key=CANARY, signature_header="X", endpoint=CANARY),
        "itep client secret as header": lambda: ItepClient(api_key=CANARY, signature_header=CANARY + ":"),
        "assessio client": lambda: AssessioClient(
            provider_key=CANARY, integrator_secret=CANARY[::-1], base_url=CANARY
        ),
        "assessio non-ascii key": lambda: AssessioClient(
            provider_key=CANARY + "\n", integrator_secret=CANARY[::-1]
        ),
        "itep verifier from_env": lambda: ItepWebhookVerifier.from_env(
            scheme="basic",
            environ={"EXAMKIT_ITEP_WEBHOOK_USERNAME": CANARY + ":", "EXAMKIT_ITEP_WEBHOOK_PASSWORD": CANARY},
        ),
    }
    for where, action in actions.items():
        _check(action, where)


@pytest.mark.usefixtures("logs")
@pytest.mark.parametrize("status", [200, 400, 401, 404, 429, 500])
@responses.activate
def test_clients_never_show_the_secret_even_when_the_server_echoes_it(status: int) -> None:
    # Each server echoes the secrets its client was given (a client cannot know another's).
    own = {"itep": (CANARY,), "assessio": (CANARY, CANARY[::-1]), "ia": (IA_API_KEY, CANARY[:32])}
    for call in calls():
        echo = ("invalid key " + " / ".join(own[call.name.split(".")[0]])).encode()
        responses.add(call.method, re.compile(re.escape(call.url) + r"(\?.*)?$"), status=status, body=echo)
    for call in calls():
        _check(call.run, f"{call.name} on {status}")
    for client in (
        ItepClient(api_key=CANARY, signature_header="X-Signature"),
        IntegrityAdvocateClient(app_id=DEMO_APP_ID, api_key=IA_API_KEY),
        AssessioClient(provider_key=CANARY, integrator_secret=CANARY[::-1]),
    ):
        assert_clean(repr(client) + str(client), "client")


@pytest.mark.usefixtures("logs")
def test_from_env_never_shows_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "EXAMKIT_ITEP_API_KEY": CANARY,
        "EXAMKIT_IA_APP_ID": DEMO_APP_ID,
        "EXAMKIT_IA_API_KEY": IA_API_KEY,
        "EXAMKIT_ASSESSIO_PROVIDER_KEY": CANARY,
        "EXAMKIT_ASSESSIO_INTEGRATOR_SECRET": CANARY[::-1],
        "EXAMKIT_ASSESSIO_API_KEY": CANARY,
        "EXAMKIT_TESTPRESS_PUBLIC_KEY": TP_PUBLIC,
        "EXAMKIT_TESTPRESS_PRIVATE_KEY": CANARY,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from examkit.assessio import AssessioWebhookVerifier
    from examkit.testpress import TestpressWebhookVerifier

    builders: dict[str, Callable[[], Any]] = {
        "itep client": lambda: ItepClient.from_env(signature_header="X-Signature"),
        "ia client": IntegrityAdvocateClient.from_env,
        "ia verifier": IntegrityAdvocateWebhookVerifier.from_env,
        "assessio client": AssessioClient.from_env,
        "assessio verifier": lambda: AssessioWebhookVerifier.from_env(check_signature=True),
        "testpress verifier": TestpressWebhookVerifier.from_env,
        "testpress attempts": TestpressAttempts.from_env,
    }
    for where, build in builders.items():
        _check(build, where)


def test_the_cli_never_shows_the_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("EXAMKIT_ITEP_API_KEY", "EXAMKIT_ASSESSIO_PROVIDER_KEY", "EXAMKIT_TESTPRESS_PRIVATE_KEY"):
        monkeypatch.setenv(name, CANARY)
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", IA_API_KEY)
    for argv in (["demo"], [], ["--version"], ["demo", "--only", CANARY], ["nonsense", CANARY]):
        with contextlib.suppress(SystemExit):
            cli_main(argv)
        captured = capsys.readouterr()
        assert captured.out or captured.err
        if CANARY in argv:
            continue  # argparse repeats a bad argument the user typed; that is not a leak
        assert_clean(captured.out + captured.err, f"examkit {' '.join(argv)}")


def test_the_canary_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        assert_clean(f"oops {CANARY}", "a planted string")
    with pytest.raises(AssertionError):
        assert_clean(f"oops {IA_API_KEY}", "a planted string")


def test_the_log_capture_sees_examkit_debug_records(logs: pytest.LogCaptureFixture) -> None:
    with responses.RequestsMock() as mock:
        call = calls()[-1]
        mock.add(call.method, re.compile(re.escape(call.url) + r"(\?.*)?$"), status=500, body=b"")
        with contextlib.suppress(ExamkitError):
            call.run()
    assert any(r.name == "examkit.http" and r.levelno == logging.DEBUG for r in logs.records)
