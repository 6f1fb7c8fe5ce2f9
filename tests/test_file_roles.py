"""Every vendor package has the same files for the same roles (ARCHITECTURE.md, "Layout").

A reader who knows one vendor knows where everything is in the others: the vendor's name and its one
converter in ``models``, pure signing functions in ``signing``, every verifier in ``webhooks``,
``explain`` in ``diagnose``, the calls in ``client`` (Testpress has no REST API: its signed attempt
redirect lives in ``attempts``), and a face built by the shared lazy-export helper.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import attrs
import pytest

import examkit
from examkit.core.serde import PayloadConverter

SRC = Path(examkit.__file__).parent
VENDORS = ("itep", "integrity_advocate", "assessio", "testpress")
WITH_CLIENT = ("itep", "integrity_advocate", "assessio")
ROLES = ("__init__.py", "models.py", "signing.py", "webhooks.py", "diagnose.py")
# Names whose use in a signing module would mean it keeps time or state of its own.
CLOCK_NAMES = {"Clock", "SystemClock", "FixedClock", "time", "monotonic", "datetime.now", "now"}


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_same_files_for_the_same_roles(vendor: str) -> None:
    files = {path.name for path in (SRC / vendor).glob("*.py")}
    assert set(ROLES) <= files
    assert ("client.py" in files) == (vendor in WITH_CLIENT)


@pytest.mark.parametrize("vendor", VENDORS)
def test_models_hold_the_vendors_name_and_one_converter(vendor: str) -> None:
    models = importlib.import_module(f"examkit.{vendor}.models")
    assert vendor == models.VENDOR
    assert isinstance(models.CONVERTER, PayloadConverter)
    converters = [
        name
        for module in (f"examkit.{vendor}.{role[:-3]}" for role in ROLES if role != "__init__.py")
        for name, value in vars(importlib.import_module(module)).items()
        if isinstance(value, PayloadConverter) and value is not models.CONVERTER
    ]
    assert not converters, f"a second converter: {converters}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_signing_holds_pure_functions_only(vendor: str) -> None:
    module = importlib.import_module(f"examkit.{vendor}.signing")
    for name, value in vars(module).items():
        if inspect.isclass(value) and value.__module__ == module.__name__:
            # Only frozen values (settings, parsed headers) and enums: nothing that holds a clock or keys.
            frozen = attrs.has(value) and getattr(value, "__setattr__", None) is not object.__setattr__
            assert frozen or issubclass(value, (str, int)), f"{vendor}.signing.{name} holds state"
    tree = ast.parse((SRC / vendor / "signing.py").read_text(encoding="utf-8"))
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    used |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not (used & {"Clock", "SystemClock", "FixedClock"}), f"{vendor}.signing reads a clock"
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert "time" not in imported, f"{vendor}.signing imports time"


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_verifier_lives_in_webhooks(vendor: str) -> None:
    package = importlib.import_module(f"examkit.{vendor}")
    verifiers = [
        name
        for name in package.__all__
        if inspect.isclass(getattr(package, name))
        and callable(getattr(getattr(package, name), "verify", None))
    ]
    requests_verifiers = [
        name for name in verifiers if "request" in inspect.signature(getattr(package, name).verify).parameters
    ]
    assert requests_verifiers
    assert verifiers
    for name in verifiers:
        # The class reads as its face (__module__ is rewritten): its code tells where it is defined.
        source = getattr(package, name).verify.__code__.co_filename
        assert Path(source).name == "webhooks.py", f"{vendor}.{name} is defined in {source}"
    for name in requests_verifiers:  # a verifier of whole requests says which secret matched
        assert callable(getattr(getattr(package, name), "verify_detailed", None)), f"{name}.verify_detailed"


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_face_is_built_by_the_shared_helper(vendor: str) -> None:
    tree = ast.parse((SRC / vendor / "__init__.py").read_text(encoding="utf-8"))
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert {"lazy_exports", "publish"} <= calls
    package = importlib.import_module(f"examkit.{vendor}")
    assert callable(package.explain)
    assert Path(package.explain.__code__.co_filename).name == "diagnose.py"
