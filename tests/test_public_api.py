"""Pins the public names and enforces the architecture's rules on the whole package.

- (the public names themselves are pinned in ``tests/test_public_face.py``);
- every public module, class and function has a docstring;
- imports go the allowed way: ``core`` imports nothing else from examkit (but the leaf ``_version``),
  a vendor imports ``core`` and never another vendor, and nothing below imports the top layer.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import examkit
import examkit.core

SRC = Path(examkit.__file__).parent
VENDORS = ("itep", "integrity_advocate", "assessio", "testpress")
TOP_LAYER = ("integrations", "testing", "cli", "demo", "__main__")

ERRORS = [
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
    "WebhookVerificationError",
]


def test_error_hierarchy() -> None:
    from examkit import core as c

    for name in ERRORS:
        assert issubclass(getattr(examkit, name), examkit.ExamkitError)
    for name in ("ConfigurationError", "ValidationError", "WebhookVerificationError", "PayloadError"):
        assert issubclass(getattr(examkit, name), ValueError)
    for name in (
        "MissingSignatureError",
        "MalformedSignatureError",
        "SignatureMismatchError",
        "TimestampOutsideToleranceError",
        "ReplayedRequestError",
        "PayloadTooLargeError",
    ):
        assert issubclass(getattr(c, name), c.WebhookVerificationError)
    for name in ("AuthenticationError", "NotFoundError", "RateLimitError", "ServerError", "TransportError"):
        assert issubclass(getattr(c, name), c.ApiError)
    assert not issubclass(c.ApiError, ValueError)
    assert not issubclass(c.PayloadError, c.WebhookVerificationError)


def test_version_matches_metadata() -> None:
    from importlib.metadata import version

    assert examkit.__version__ == version("examkit") == "0.1.0.dev0"


def _modules() -> list[str]:
    infos = pkgutil.walk_packages([str(SRC)], prefix="examkit.")
    return ["examkit", *(info.name for info in infos if info.name != "examkit.__main__")]


def _public_members(module: object) -> list[tuple[str, object]]:
    names = getattr(module, "__all__", [])
    return [(n, getattr(module, n)) for n in names if not n.startswith("__")]


@pytest.mark.parametrize("name", _modules())
def test_every_public_name_has_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    assert inspect.getdoc(module), f"{name} has no docstring"
    for member_name, member in _public_members(module):
        if typing.get_origin(member) is not None:
            # A type alias such as ``Callable[[], int]``: documented where it is assigned, for Sphinx.
            # (Python 3.10's inspect.isclass calls such an alias a class; 3.11+ do not.)
            continue
        if inspect.isclass(member) or inspect.isfunction(member):
            assert inspect.getdoc(member), f"{name}.{member_name} has no docstring"
            if inspect.isclass(member) and member.__module__ == name:
                for attr, value in vars(member).items():
                    if attr.startswith("_") or not (inspect.isfunction(value) or isinstance(value, property)):
                        continue
                    assert inspect.getdoc(value), f"{name}.{member_name}.{attr} has no docstring"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import would slip past the area check below.
            assert node.level == 0, f"{path.name}: relative import of {node.module!r}"
            if node.module:
                found.add(node.module)
    return {name for name in found if name == "examkit" or name.startswith("examkit.")}


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_the_allowed_way(path: Path) -> None:
    area = path.relative_to(SRC).parts[0].removesuffix(".py")
    imported = _imports(path)
    if area == "core":
        allowed = {"core", "_version"}
    elif area in VENDORS:
        allowed = {"core", area}
    elif area in TOP_LAYER:
        return
    elif path.name == "__init__.py":
        # examkit re-exports every error, the vendors' and the adapters' lazily (by name, loaded on first
        # use): see test_importing_examkit_loads_no_vendor_package.
        allowed = {"core", "_version", *VENDORS, "integrations"}
    else:  # _version.py
        allowed = {"core", "_version"}
    bad = sorted(m for m in imported if _area(m) not in allowed)
    assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_importing_examkit_loads_no_vendor_package() -> None:
    code = (
        "import sys, examkit, examkit.core\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[:2][-1] in "
        f"{(*VENDORS, 'integrations')!r} and m.startswith('examkit.'))\n"
        "assert not loaded, loaded\n"
        "assert 'cattrs' not in sys.modules, 'the converter loads with the first model, not with examkit'\n"
        "examkit.RegistrationError, examkit.PageLimitError, examkit.BodyAlreadyReadError\n"
        "assert 'examkit.itep' in sys.modules and 'examkit.integrations' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_examkit_and_core_does_not_import_requests() -> None:
    code = "import sys, examkit, examkit.core; print('requests' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# What importing a vendor's verifier side loads, and the client that must load requests lazily.
VERIFIER_IMPORTS = {
    "itep": (
        (
            "from examkit.itep import ItepWebhookVerifier, Registration, sign_body\n"
            "import examkit.itep.webhooks, examkit.itep.inventory, examkit.itep.signing, examkit.itep.models"
        ),
        "ItepClient",
    ),
    "integrity_advocate": (
        (
            "from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier, sign_request\n"
            "import examkit.integrity_advocate.webhooks, examkit.integrity_advocate.embed\n"
            "import examkit.integrity_advocate.signing, examkit.integrity_advocate.models"
        ),
        "IntegrityAdvocateClient",
    ),
    "assessio": (
        (
            "from examkit.assessio import AssessioWebhookVerifier, SignatureVerifier\n"
            "import examkit.assessio.webhooks, examkit.assessio.signing, examkit.assessio.models"
        ),
        "AssessioClient",
    ),
    "testpress": (
        (
            "from examkit.testpress import TestpressWebhookVerifier, TestpressCompletionVerifier\n"
            "import examkit.testpress.webhooks, examkit.testpress.signing, examkit.testpress.attempts\n"
            "import examkit.testpress.models"
        ),
        None,
    ),
}


@pytest.mark.parametrize("vendor", VENDORS)
def test_importing_a_verifier_does_not_import_requests(vendor: str) -> None:
    imports, client = VERIFIER_IMPORTS[vendor]
    code = (
        "import sys\n"
        f"{imports}\n"
        "assert 'requests' not in sys.modules, 'requests was imported'\n"
        f"assert 'examkit.{vendor}.client' not in sys.modules, 'the client was imported'\n"
    )
    if client is not None:
        # The client is loaded lazily, on first use of its name, and only then brings requests.
        code += (
            f"import examkit.{vendor} as package\n"
            f"package.{client}\n"
            "assert 'requests' in sys.modules, 'the client did not load'\n"
        )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
