"""``repr`` of a half-built object (its ``__init__`` raised) never raises and never shows a secret.

Error reporters that capture frame locals call ``repr`` on the ``self`` of a constructor that failed
half-way; a ``repr`` that raises there would hide the real error behind an ``AttributeError``.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import traceback
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import pytest

import examkit
from examkit.assessio import AssessioClient, AssessioWebhookVerifier, SignatureVerifier
from examkit.core._transport_sync import Transport
from examkit.core.clock import FixedClock
from examkit.core.signing import Secret
from examkit.core.webhook import Headers, InMemoryReplayGuard, WebhookRequest
from examkit.integrity_advocate import (
    AmxSigner,
    AmxVerifier,
    IntegrityAdvocateClient,
    IntegrityAdvocateWebhookVerifier,
)
from examkit.itep import (
    BasicAuth,
    CounterSequence,
    HmacBodyAuth,
    ItepClient,
    ItepWebhookVerifier,
    TimeSequence,
    TokenHeaderAuth,
)
from examkit.itep._fulfillment import FulfillmentSigner
from examkit.testing.assessio import FakeAssessio
from examkit.testing.integrity_advocate import DEMO_APP_ID
from examkit.testing.testpress import FakeTestpress
from examkit.testpress import (
    CompletionHmacScheme,
    TestpressAttempts,
    TestpressCompletionVerifier,
    TestpressWebhookVerifier,
)
from tests.hardening.strategies import CANARY
from tests.hardening.test_secret_hygiene import assert_clean
from tests.hardening.vendors import IA_API_KEY, NOW, TP_PUBLIC

# Valid settings for each class; each setting in turn is then replaced by a bad value.
RECIPES: dict[type, Callable[[], dict[str, Any]]] = {
    ItepWebhookVerifier: lambda: {"auth": TokenHeaderAuth(header="X-T", token=CANARY)},
    TokenHeaderAuth: lambda: {"header": "X-T", "token": CANARY},
    BasicAuth: lambda: {"username": "itep", "password": CANARY},
    HmacBodyAuth: lambda: {"header": "X-S", "secret": CANARY},
    FulfillmentSigner: lambda: {"api_key": CANARY, "header": "X-S"},
    ItepClient: lambda: {"api_key": CANARY, "signature_header": "X-S"},
    IntegrityAdvocateWebhookVerifier: lambda: {"app_id": DEMO_APP_ID, "api_key": IA_API_KEY},
    IntegrityAdvocateClient: lambda: {"app_id": DEMO_APP_ID, "api_key": IA_API_KEY},
    AmxSigner: lambda: {"app_id": DEMO_APP_ID, "api_key": IA_API_KEY},
    AmxVerifier: lambda: {"app_id": DEMO_APP_ID, "api_key": IA_API_KEY},
    AssessioWebhookVerifier: lambda: {"api_key": CANARY, "signature_secret": CANARY[::-1]},
    AssessioClient: lambda: {"provider_key": CANARY, "integrator_secret": CANARY[::-1]},
    SignatureVerifier: lambda: {"secret": CANARY},
    TestpressWebhookVerifier: lambda: {"public_key": TP_PUBLIC, "private_key": CANARY},
    TestpressAttempts: lambda: {"public_key": TP_PUBLIC, "secret": CANARY},
    TestpressCompletionVerifier: lambda: {
        "scheme": CompletionHmacScheme(fields=("attempt_id",)),
        "secret": CANARY,
    },
    FakeTestpress: lambda: {"public_key": TP_PUBLIC, "secret": CANARY},
    FakeAssessio: lambda: {"provider_key": CANARY, "integrator_secret": CANARY[::-1]},
    Transport: lambda: {"vendor": "itep", "secrets": (Secret(CANARY),)},
    InMemoryReplayGuard: lambda: {"clock": FixedClock(NOW)},
    CounterSequence: lambda: {"start": 1},
    TimeSequence: dict,
    Secret: lambda: {"value": CANARY},
    Headers: lambda: {"headers": {"X": "y"}},
    WebhookRequest: lambda: {"body": b"{}", "headers": {"X": "y"}},
}

BAD: tuple[object, ...] = (object(), "", -1, "\udcff", b"\xff", (), 10**30)


def _public_classes_with_a_repr() -> list[type]:
    found: dict[str, type] = {}
    for module in pkgutil.walk_packages(examkit.__path__, prefix="examkit."):
        if module.name == "examkit.__main__" or ".cli" in module.name or ".demo" in module.name:
            continue
        try:
            mod = importlib.import_module(module.name)
        except ImportError:
            continue
        names = list(getattr(mod, "__all__", ())) + list(vars(mod))
        for name in names:
            value: Any = getattr(mod, name, None)
            if (
                issubclass(type(value), type)  # not isinstance: lazy objects (Django settings) load
                and not name.startswith("_")
                and value.__module__.startswith("examkit")
                and not issubclass(value, BaseException | enum.Enum)
                and value.__repr__ is not object.__repr__
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[k] for k in sorted(found)]


def _frames(tb: TracebackType | None) -> Iterator[dict[str, Any]]:
    while tb is not None:
        yield tb.tb_frame.f_locals
        tb = tb.tb_next


def _init(cls: type) -> Callable[..., None]:
    init: Callable[..., None] = cls.__init__  # type: ignore[misc]
    return init


def _attempts(cls: type) -> Iterator[dict[str, Any]]:
    recipe = RECIPES.get(cls)
    params = [
        p
        for p in list(inspect.signature(_init(cls)).parameters.values())[1:]
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    base = recipe() if recipe is not None else {p.name: object() for p in params}
    for param in params:
        for bad in BAD:
            yield {**base, param.name: bad}


def _half_built(cls: type) -> list[tuple[object, str]]:
    """Build ``cls`` with each setting made bad in turn; return the examkit locals of each failure."""
    caught: list[tuple[object, str]] = []
    for kwargs in _attempts(cls):
        exc = _failure(cls, kwargs)
        if exc is None:
            continue
        # What a locals-capturing reporter does: it must not fail (and reprs must stay clean, below).
        traceback.TracebackException.from_exception(exc, capture_locals=True).format()
        caught.extend(
            (value, f"{cls.__name__} with {sorted(kwargs)}")
            for local in _frames(exc.__traceback__)
            for value in local.values()
            if type(value).__module__.startswith("examkit")
        )
    return caught


def _failure(cls: type, kwargs: dict[str, Any]) -> Exception | None:
    try:
        cls(**kwargs)
    except Exception as exc:  # any failure leaves a half-built self behind
        return exc
    return None


CLASSES = _public_classes_with_a_repr()


def test_every_recipe_class_is_discovered() -> None:
    missing = set(RECIPES) - set(CLASSES)
    assert not missing, missing


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_repr_of_a_half_built_object_is_safe(cls: type) -> None:
    for value, where in _half_built(cls):
        text = repr(value)  # must not raise
        assert_clean(text, f"repr of a half-built local from {where}")


def test_the_wrong_key_length_case_from_the_report() -> None:
    short = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"  # base64 of 30 bytes, not 32
    with pytest.raises(examkit.ConfigurationError) as caught:
        IntegrityAdvocateWebhookVerifier(app_id=DEMO_APP_ID, api_key=short)
    selves = [f["self"] for f in _frames(caught.value.__traceback__) if "self" in f]
    assert any(isinstance(s, IntegrityAdvocateWebhookVerifier) for s in selves)
    for half in selves:
        assert "not fully built" in repr(half) or repr(half)


def test_recipes_capture_half_built_selves() -> None:
    # The mutation really does leave half-built objects behind (else the test above proves nothing).
    for cls in RECIPES:
        if cls in (TimeSequence, Headers):
            continue
        assert any(type(v) is cls for v, _ in _half_built(cls)), cls.__name__
