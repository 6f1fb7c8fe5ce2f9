"""Every CLI test starts from an environment without examkit variables and a non-interactive stdin."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("EXAMKIT_"):
            monkeypatch.delenv(name)
