"""Pins examkit's public face: every package's ``__all__``, exactly, and how its names read.

A change to the public face must be deliberate: edit the set of the package here, say why in the
change, and add a CHANGELOG entry. The faces are the packages users import from; a public submodule
(``examkit.itep.models``) may list names in its ``__all__`` only when a face exports the same object,
so it never adds a public name of its own.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import examkit

# -- examkit -------------------------------------------------------------------------------------------

EXAMKIT: frozenset[str] = frozenset(
    {
        "__version__",
        "ApiError",
        "AuthenticationError",
        "ConfigurationError",
        "ExamkitError",
        "MalformedSignatureError",
        "MissingSignatureError",
        "NotFoundError",
        "PayloadError",
        "PayloadTooLargeError",
        "RateLimitError",
        "ReplayedRequestError",
        "ServerError",
        "SignatureMismatchError",
        "TimestampOutsideToleranceError",
        "TransportError",
        "ValidationError",
        "WebhookRequest",
        "WebhookVerificationError",
    }
)

# -- examkit.core --------------------------------------------------------------------------------------

CORE: frozenset[str] | None = None  # pinned by issue 14's work on core

# -- examkit.itep --------------------------------------------------------------------------------------

ITEP: frozenset[str] | None = None  # pinned by issue 14's work on iTEP

# -- examkit.integrity_advocate ------------------------------------------------------------------------

INTEGRITY_ADVOCATE: frozenset[str] | None = None  # pinned by issue 14's work on Integrity Advocate

# -- examkit.assessio ----------------------------------------------------------------------------------

ASSESSIO: frozenset[str] | None = None  # pinned by issue 14's work on Assessio

# -- examkit.testpress ---------------------------------------------------------------------------------

TESTPRESS: frozenset[str] | None = None  # pinned by issue 14's work on Testpress

# -- examkit.integrations and its adapters -------------------------------------------------------------

INTEGRATIONS: dict[str, frozenset[str]] = {
    "examkit.integrations": frozenset(
        {"REJECTED_BODY", "BodyAlreadyReadError", "ReplayGuardUnavailableError", "logger", "status_for_error"}
    ),
    "examkit.integrations.django": frozenset(
        {"DjangoCacheReplayGuard", "verified_webhook", "webhook_request_from_django"}
    ),
    "examkit.integrations.flask": frozenset({"verified_webhook", "webhook_request_from_flask"}),
    "examkit.integrations.starlette": frozenset({"verified_webhook", "webhook_request_from_starlette"}),
    "examkit.integrations.redis": frozenset({"AsyncRedisReplayGuard", "RedisReplayGuard"}),
    "examkit.integrations.routing": frozenset(
        {"AssessioRouter", "IntegrityAdvocateRouter", "ItepRouter", "TestpressRouter", "WebhookRouter"}
    ),
}

# -- examkit.testing -----------------------------------------------------------------------------------

TESTING: dict[str, frozenset[str]] = {}

# -- examkit.cli and examkit.demo ----------------------------------------------------------------------

TOOLS: dict[str, frozenset[str]] = {}

# ------------------------------------------------------------------------------------------------------

FACES: dict[str, frozenset[str] | None] = {
    "examkit": EXAMKIT,
    "examkit.core": CORE,
    "examkit.itep": ITEP,
    "examkit.integrity_advocate": INTEGRITY_ADVOCATE,
    "examkit.assessio": ASSESSIO,
    "examkit.testpress": TESTPRESS,
    **INTEGRATIONS,
    **TESTING,
    **TOOLS,
}
MAX_PUBLIC_NAMES = 200
SKIP_IMPORT = {"examkit.__main__"}


def _public_modules() -> list[str]:
    names = ["examkit"]
    names += [
        info.name
        for info in pkgutil.walk_packages(examkit.__path__, prefix="examkit.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
    ]
    return sorted(set(names) - SKIP_IMPORT)


@pytest.mark.parametrize("face", sorted(FACES))
def test_each_face_is_pinned_exactly(face: str) -> None:
    pinned = FACES[face]
    assert pinned is not None, f"{face}'s __all__ is not pinned yet"
    module = importlib.import_module(face)
    assert sorted(module.__all__) == sorted(pinned)
    assert len(set(module.__all__)) == len(module.__all__), "a name is listed twice"
    for name in module.__all__:
        assert hasattr(module, name), f"{face}.{name} is listed but missing"


def _face_objects() -> dict[int, str]:
    found: dict[int, str] = {}
    for face, names in FACES.items():
        module = importlib.import_module(face)
        for name in names or module.__all__:
            value = getattr(module, name)
            key = (
                id(value)
                if not isinstance(value, (str, int, float, bool, tuple, frozenset))
                else hash((face, name))
            )
            found.setdefault(key, f"{face}.{name}")
    return found


def test_the_public_face_is_small() -> None:
    names = _face_objects()
    assert len(names) <= MAX_PUBLIC_NAMES, f"{len(names)} public names (at most {MAX_PUBLIC_NAMES})"


@pytest.mark.parametrize("name", [m for m in _public_modules() if m not in FACES])
def test_a_public_submodule_adds_no_public_name(name: str) -> None:
    module = importlib.import_module(name)
    on_faces = {
        id(importlib.import_module(face).__dict__.get(n, object()))
        for face, ns in FACES.items()
        for n in (ns or ())
    }
    extra = [n for n in getattr(module, "__all__", ()) if id(getattr(module, n)) not in on_faces]
    assert not extra, f"{name} makes {extra} public without a package face exporting them"


@pytest.mark.parametrize("face", sorted(FACES))
def test_public_names_read_as_their_face(face: str) -> None:
    module = importlib.import_module(face)
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        owner = value.__module__
        assert owner == face or owner in FACES, f"{face}.{name} reads as {owner}.{name}"
        assert not any(part.startswith("_") for part in owner.split(".")[1:])


@pytest.mark.parametrize("face", sorted(FACES))
def test_type_hints_of_public_classes_resolve(face: str) -> None:
    # Rewriting __module__ must not break the annotations of attrs models (the converters read them).
    import attrs

    module = importlib.import_module(face)
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) and attrs.has(value):
            for field in attrs.fields(value):
                assert not isinstance(field.type, str), f"{face}.{name}.{field.name}: {field.type!r}"


def test_every_public_enum_is_str_valued() -> None:
    import enum

    for face in FACES:
        module = importlib.import_module(face)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) and issubclass(value, enum.Enum):
                assert issubclass(value, str), f"{face}.{name} is not str-valued"
                for member in value:
                    assert str(member) == member.value
                    assert f"{member}" == member.value
                    assert member == member.value
