"""No verifier or client keeps a secret as plain text or bytes in its attributes.

Error reporters and debuggers print objects' attributes. Secrets must sit inside
:class:`~examkit.core.signing.Secret` (which never shows itself), and key material prepared for the
hot path inside :class:`~examkit.core.signing.KeyRing` (whose ``repr`` hides the values).
"""

from __future__ import annotations

from typing import Any

import pytest

from examkit.core.signing import KeyRing, Secret
from tests.hardening.clients import assessio_client, ia_client, itep_client
from tests.hardening.strategies import CANARY
from tests.hardening.vendors import CASES, IA_KEY_BYTES

FORMS = (CANARY, CANARY[::-1], IA_KEY_BYTES.decode("latin-1"))


def _attributes(obj: object) -> dict[str, Any]:
    found: dict[str, Any] = dict(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if isinstance(slot, str) and hasattr(obj, slot):
                found[slot] = getattr(obj, slot)
    return found


def _plain_secrets(obj: object, path: str, seen: set[int], depth: int = 0) -> list[str]:  # noqa: PLR0911
    """Paths where a secret form sits in plain sight (repr would show it); one return per kind."""
    if id(obj) in seen or depth > 6 or isinstance(obj, Secret):
        return []
    seen.add(id(obj))
    if isinstance(obj, KeyRing):
        shown = repr(obj)
        return [path] if any(form in shown for form in FORMS) else []
    if isinstance(obj, str | bytes):
        text = obj if isinstance(obj, str) else obj.decode("latin-1")
        return [path] if any(form in text for form in FORMS) else []
    if isinstance(obj, list | tuple | set | frozenset):
        return [
            hit for i, item in enumerate(obj) for hit in _plain_secrets(item, f"{path}[{i}]", seen, depth + 1)
        ]
    if isinstance(obj, dict):
        return [hit for k, v in obj.items() for hit in _plain_secrets(v, f"{path}[{k!r}]", seen, depth + 1)]
    if type(obj).__module__.startswith(("requests", "urllib3", "threading", "_thread")):
        return []
    return [
        hit
        for name, value in _attributes(obj).items()
        for hit in _plain_secrets(value, f"{path}.{name}", seen, depth + 1)
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verifiers_hold_no_plain_secret(case: Any) -> None:
    assert _plain_secrets(case.make(), case.name, set()) == []


@pytest.mark.parametrize("make", [itep_client, ia_client, assessio_client], ids=["itep", "ia", "assessio"])
def test_clients_hold_no_plain_secret(make: Any) -> None:
    assert _plain_secrets(make(), make.__name__, set()) == []


def test_the_walk_finds_a_plain_secret() -> None:
    class Leaky:
        def __init__(self) -> None:
            self.nested = {"keys": (CANARY.encode(),)}

    assert _plain_secrets(Leaky(), "leaky", set()) == ["leaky.nested['keys'][0]"]
