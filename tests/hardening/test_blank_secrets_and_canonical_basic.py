"""Blank secrets are refused everywhere a secret is given; Basic credentials are read in canonical base64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from examkit import ConfigurationError, MalformedSignatureError
from examkit.assessio import AssessioClient, AssessioWebhookVerifier
from examkit.core.env import env_setting
from examkit.core.signing import Secret
from examkit.core.webhook import WebhookRequest
from examkit.integrity_advocate import IntegrityAdvocateClient, IntegrityAdvocateWebhookVerifier
from examkit.itep import BasicAuth, ItepClient, ItepWebhookVerifier, sign_body
from examkit.testpress import TestpressAttempts, TestpressWebhookVerifier

# "itep:s3cret" in base64 is "aXRlcDpzM2NyZXQ=": its last data character, "Q", is 16 = 0b010000, and its
# two low bits are unused (11 bytes fill 88 of the 90 bits of 15 characters). Setting the lowest gives
# index 17, "R": the same bytes for a lenient decoder, but not the text any encoder writes.
CANONICAL = "Basic aXRlcDpzM2NyZXQ="
NON_CANONICAL = "Basic aXRlcDpzM2NyZXR="


def _basic_request(value: str) -> WebhookRequest:
    body = b"data=%7B%22TestID%22%3A%22T1%22%2C%22Status%22%3A%22Complete%22%7D"
    return WebhookRequest(body=body, headers={"Authorization": value})


def test_basic_auth_accepts_the_canonical_credentials() -> None:
    verifier = ItepWebhookVerifier(auth=BasicAuth(username="itep", password="s3cret"))
    assert verifier.verify(_basic_request(CANONICAL)).test_id == "T1"


def test_basic_auth_refuses_non_canonical_base64() -> None:
    verifier = ItepWebhookVerifier(auth=BasicAuth(username="itep", password="s3cret"))
    with pytest.raises(MalformedSignatureError) as info:
        verifier.verify(_basic_request(NON_CANONICAL))
    assert info.value.header == "Authorization"


@pytest.mark.parametrize("blank", [" ", "   ", "\t", "\n", " \r\n ", "\u00a0", "\u3000"])
def test_a_whitespace_only_secret_is_refused(blank: str) -> None:
    with pytest.raises(ConfigurationError):
        Secret(blank)


BLANK = "   "
IA_APP_ID = "2b6a5a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"

SECRET_SETTINGS: list[tuple[str, Callable[[], Any]]] = [
    ("itep basic password", lambda: BasicAuth(username="u", password=BLANK)),
    ("itep sign_body", lambda: sign_body(api_key=BLANK, body=b"{}")),
    ("itep client", lambda: ItepClient(api_key=BLANK, signature_header="X-Sig")),
    ("assessio verifier api_key", lambda: AssessioWebhookVerifier(api_key=BLANK)),
    ("assessio verifier secret", lambda: AssessioWebhookVerifier(api_key="k", signature_secret=BLANK)),
    ("assessio client", lambda: AssessioClient(provider_key=BLANK)),
    ("ia verifier", lambda: IntegrityAdvocateWebhookVerifier(app_id=IA_APP_ID, api_key=BLANK)),
    ("ia client", lambda: IntegrityAdvocateClient(app_id=IA_APP_ID, api_key=BLANK)),
    ("testpress verifier", lambda: TestpressWebhookVerifier(public_key="p", private_key=BLANK)),
    ("testpress attempts", lambda: TestpressAttempts(public_key="p", secret=BLANK)),
    ("secret among several", lambda: AssessioWebhookVerifier(api_key=["good-key", BLANK])),
]


@pytest.mark.parametrize(("what", "build"), SECRET_SETTINGS, ids=[w for w, _ in SECRET_SETTINGS])
def test_every_secret_setting_refuses_a_blank_value(what: str, build: Callable[[], Any]) -> None:
    with pytest.raises(ConfigurationError):
        build()


@pytest.mark.parametrize("value", ["   ", "\t"])
def test_a_blank_environment_variable_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        env_setting("EXAMKIT_X", environ={"EXAMKIT_X": value})
    assert info.value.setting == "EXAMKIT_X"


@pytest.mark.parametrize("value", ["key\n", " key", "key ", "\tkey\r\n"])
def test_an_environment_value_with_surrounding_whitespace_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        env_setting("EXAMKIT_X", environ={"EXAMKIT_X": value})
    assert info.value.setting == "EXAMKIT_X"
    assert "key" not in str(info.value).replace("EXAMKIT", "")


ENV_BUILDERS: list[tuple[str, str, Callable[[dict[str, str]], Any], dict[str, str]]] = [
    (
        "itep client",
        "EXAMKIT_ITEP_API_KEY",
        lambda env: ItepClient.from_env(environ=env),
        {"EXAMKIT_ITEP_API_KEY": "k", "EXAMKIT_ITEP_SIGNATURE_HEADER": "X-Sig"},
    ),
    (
        "itep verifier",
        "EXAMKIT_ITEP_WEBHOOK_TOKEN",
        lambda env: ItepWebhookVerifier.from_env(scheme="token", header="X-T", environ=env),
        {"EXAMKIT_ITEP_WEBHOOK_TOKEN": "t"},
    ),
]


@pytest.mark.parametrize(("what", "name", "build", "env"), ENV_BUILDERS, ids=[b[0] for b in ENV_BUILDERS])
def test_from_env_refuses_a_secret_with_a_trailing_newline(
    what: str, name: str, build: Callable[[dict[str, str]], Any], env: dict[str, str]
) -> None:
    build(env)  # the clean environment works
    with pytest.raises(ConfigurationError) as info:
        build({**env, name: env[name] + "\n"})
    assert info.value.setting == name
