"""Every setting of every public verifier, signer and client is checked when the object is built.

For each constructor and each of its settings, a list of wrong values is tried with the other settings
valid. Each value is either accepted by design (listed per setting below, with the reason) or refused with
a :class:`~examkit.ConfigurationError` at construction; never another exception, never at first use.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

import pytest

from examkit import ConfigurationError
from examkit.assessio import AssessioClient, AssessioWebhookVerifier, SignatureHeaderFormat, SignatureVerifier
from examkit.core.clock import FixedClock
from examkit.core.signing import Secret
from examkit.core.webhook import InMemoryReplayGuard
from examkit.integrity_advocate import (
    AmxSigner,
    AmxVerifier,
    CanonicalForm,
    IntegrityAdvocateClient,
    IntegrityAdvocateWebhookVerifier,
)
from examkit.itep import (
    BasicAuth,
    CounterSequence,
    HmacBodyAuth,
    InventoryColumns,
    ItepClient,
    ItepWebhookVerifier,
    TimeSequence,
    TokenHeaderAuth,
)
from examkit.itep._fulfillment import FulfillmentSigner
from examkit.testpress import (
    CompletionHmacScheme,
    TestpressAttempts,
    TestpressCompletionVerifier,
    TestpressWebhookVerifier,
)

HOSTILE: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    10**5000,
    math.nan,
    math.inf,
    "",
    "   ",
    "x",
    b"x",
    object(),
    [],
    {},
)

IA_APP_ID = "2b6a5a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
IA_KEY = base64.b64encode(bytes(range(32))).decode("ascii")

# Values accepted on purpose, per setting name (shared by every constructor that has the setting).
TEXT_SECRET = ("x", b"x")  # any non-blank text or bytes can be a secret
OPTIONAL = (None,)
ANY_INT = (0, -1, 10**5000, True)  # CounterSequence start: any integer (True is refused below)


HUGE = 10**5000  # a whole number of bytes or entries beyond any real size: accepted, it is no limit
# Every bool setting accepts True (and is refused 0, 1, "x": a switch is said plainly); every size
# accepts a huge whole number. These are added to each constructor's own list below.
COMMON: dict[str, tuple[Any, ...]] = dict.fromkeys(
    (
        "accept_redirect_header",
        "pre_encode_surl",
        "embed_json_as_text",
        "require_test_id",
        "sign_requests",
        "timestamp_first",
        "uppercase_hex",
        "include_query",
    ),
    (True,),
) | dict.fromkeys(("max_body_size", "max_entries", "max_pages"), (HUGE,))


CONSTRUCTORS: dict[str, tuple[Callable[..., Any], dict[str, Any], dict[str, tuple[Any, ...]]]] = {
    "TokenHeaderAuth": (
        TokenHeaderAuth,
        {"header": "X-Token", "token": "tok"},
        {"token": TEXT_SECRET, "header": ("x",), "prefix": ("", "   ", "x")},
    ),
    "BasicAuth": (
        BasicAuth,
        {"username": "u", "password": "p"},
        {"username": ("x", "   "), "password": TEXT_SECRET, "header": ("x",)},
    ),
    "HmacBodyAuth": (
        HmacBodyAuth,
        {"header": "X-Sig", "secret": "s"},
        {"secret": TEXT_SECRET, "header": ("x",), "prefix": ("", "   ", "x")},
    ),
    "ItepWebhookVerifier": (
        ItepWebhookVerifier,
        {"auth": TokenHeaderAuth(header="X-Token", token="tok")},
        {"max_body_size": (None,), "replay_guard": OPTIONAL, "field": ("x",)},
    ),
    "FulfillmentSigner": (
        FulfillmentSigner,
        {"api_key": "k", "header": "X-Sig"},
        {"api_key": TEXT_SECRET, "header": ("x",)},
    ),
    "CounterSequence": (CounterSequence, {}, {"start": (0, -1, 10**5000)}),
    "TimeSequence": (TimeSequence, {}, {}),
    "ItepClient": (
        ItepClient,
        {"api_key": "k", "signature_header": "X-Sig"},
        {
            "api_key": TEXT_SECRET,
            "signature_header": ("x",),
            "stx_signature_header": ("x", None),
            "sequence": OPTIONAL,
            "session": OPTIONAL,
        },
    ),
    "AssessioWebhookVerifier": (
        AssessioWebhookVerifier,
        {"api_key": "k"},
        {
            "api_key": TEXT_SECRET,
            "header": ("x",),
            "signature_secret": (None, "x", b"x"),
            "tolerance": (0,),
            "clock": OPTIONAL,
            "replay_guard": OPTIONAL,
            "max_body_size": (None,),
        },
    ),
    "SignatureVerifier": (
        SignatureVerifier,
        {"secret": "s"},
        {"secret": TEXT_SECRET, "tolerance": (0,), "clock": OPTIONAL},
    ),
    "SignatureHeaderFormat": (
        SignatureHeaderFormat,
        {},
        {"timestamp_label": ("x",), "signature_label": ("x",)},
    ),
    "AssessioClient": (
        AssessioClient,
        {"provider_key": "k", "integrator_secret": "s"},
        {
            "provider_key": TEXT_SECRET,
            "integrator_secret": (None, "x", b"x"),
            "base_url": (None,),
            "clock": OPTIONAL,
            "session": OPTIONAL,
        },
    ),
    "AmxSigner": (AmxSigner, {"app_id": IA_APP_ID, "api_key": IA_KEY}, {}),
    "AmxVerifier": (
        AmxVerifier,
        {"app_id": IA_APP_ID, "api_key": IA_KEY},
        {"tolerance": (0,), "clock": OPTIONAL, "replay_guard": OPTIONAL},
    ),
    "IntegrityAdvocateWebhookVerifier": (
        IntegrityAdvocateWebhookVerifier,
        {"app_id": IA_APP_ID, "api_key": IA_KEY},
        {
            "tolerance": (0,),
            "clock": OPTIONAL,
            "replay_guard": OPTIONAL,
            "callback_url": OPTIONAL,
            "max_body_size": (None,),
        },
    ),
    "CanonicalForm": (CanonicalForm, {}, {}),
    "IntegrityAdvocateClient": (
        IntegrityAdvocateClient,
        {"app_id": IA_APP_ID, "api_key": IA_KEY},
        {"session": OPTIONAL, "retry": OPTIONAL, "clock": OPTIONAL},
    ),
    "TestpressWebhookVerifier": (
        TestpressWebhookVerifier,
        {"public_key": "pub", "private_key": "priv"},
        {
            "public_key": ("x",),
            "private_key": TEXT_SECRET,
            "encoding": OPTIONAL,
            "max_body_size": (None,),
            "replay_guard": OPTIONAL,
        },
    ),
    "TestpressAttempts": (
        TestpressAttempts,
        {"public_key": "pub", "secret": "priv"},
        {"public_key": ("x",), "secret": TEXT_SECRET, "encoding": OPTIONAL, "clock": OPTIONAL},
    ),
    "CompletionHmacScheme": (
        CompletionHmacScheme,
        {"fields": ("a",)},
        {"fields": ("x",), "encoding": OPTIONAL},
    ),
    "TestpressCompletionVerifier": (
        TestpressCompletionVerifier,
        {"scheme": CompletionHmacScheme(fields=("a",)), "secret": "s"},
        {"secret": TEXT_SECRET, "public_key": ("x", None)},
    ),
    "InMemoryReplayGuard": (InMemoryReplayGuard, {}, {"clock": OPTIONAL}),
    "InventoryColumns": (
        InventoryColumns,
        {},
        dict.fromkeys(("test_id", "test_type", "status", "assigned_to"), ("x",)),
    ),
    "FixedClock": (FixedClock, {"now": 1_700_000_000}, {"now": (0, -1)}),
    "Secret": (Secret, {"value": "s"}, {"value": ("x", b"x"), "key": (None, b"x"), "name": ("x",)}),
}


def _settings(factory: Callable[..., Any]) -> list[str]:
    import inspect

    target = factory.__init__ if isinstance(factory, type) else factory  # type: ignore[misc]
    names = [
        name
        for name, p in inspect.signature(target).parameters.items()
        if name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if isinstance(factory, type) and hasattr(factory, "__attrs_attrs__"):
        names = [a.alias or a.name for a in factory.__attrs_attrs__]
    return names


CASES = [
    pytest.param(name, setting, index, id=f"{name}-{setting}-{index}")
    for name, (factory, _, _) in CONSTRUCTORS.items()
    for setting in _settings(factory)
    for index in range(len(HOSTILE))
]


@pytest.mark.parametrize(("name", "setting", "index"), CASES)
def test_a_wrong_setting_is_refused_at_construction(name: str, setting: str, index: int) -> None:
    factory, valid, accepted = CONSTRUCTORS[name]
    value = HOSTILE[index]
    kwargs = {**valid, setting: value}
    allowed = accepted.get(setting, ()) + COMMON.get(setting, ())
    by_design = any(value is ok or (type(value) is type(ok) and value == ok) for ok in allowed)
    try:
        factory(**kwargs)
    except ConfigurationError as exc:
        assert exc.setting, f"{name}({setting}=...) raised a ConfigurationError that names no setting"
        return
    assert by_design, f"{name}({setting}={value!r}) was accepted: it should be refused at construction"


@pytest.mark.parametrize("name", sorted(CONSTRUCTORS))
def test_the_valid_settings_build(name: str) -> None:
    # Each row's valid settings must build, or every refusal above would be vacuous.
    factory, valid, _ = CONSTRUCTORS[name]
    factory(**valid)


def test_every_setting_of_every_constructor_is_covered() -> None:
    # A setting added later falls under the parametrized test automatically; this pins that each
    # constructor has settings to try (so a signature change cannot silently empty the table).
    for factory, _, _ in CONSTRUCTORS.values():
        assert _settings(factory)


@pytest.mark.parametrize(
    ("factory", "kwargs", "setting"),
    [
        (
            ItepWebhookVerifier,
            {"auth": TokenHeaderAuth(header="X", token="t"), "replay_guard": True},
            "replay_guard",
        ),
        (AssessioWebhookVerifier, {"api_key": "k", "clock": True}, "clock"),
        (AmxVerifier, {"app_id": IA_APP_ID, "api_key": IA_KEY, "forms": None}, "url_forms"),
        (
            IntegrityAdvocateWebhookVerifier,
            {"app_id": IA_APP_ID, "api_key": IA_KEY, "url_forms": None},
            "url_forms",
        ),
        (
            TestpressWebhookVerifier,
            {"public_key": "p", "private_key": "k", "hash_fields": None},
            "hash_fields",
        ),
        (SignatureVerifier, {"secret": "s", "header_format": None}, "header_format"),
        (AssessioWebhookVerifier, {"api_key": "k", "tolerance": 10**5000}, "tolerance"),
        (AmxVerifier, {"app_id": IA_APP_ID, "api_key": IA_KEY, "tolerance": 10**5000}, "tolerance"),
    ],
)
def test_the_reviewed_settings_name_themselves(
    factory: Callable[..., Any], kwargs: dict[str, Any], setting: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        factory(**kwargs)
    assert info.value.setting == setting
