"""Assessio public names (import rules for every vendor are in tests/test_public_api.py)."""

from __future__ import annotations

from pathlib import Path

import examkit.assessio

PACKAGE = Path(examkit.assessio.__file__).parent


def test_all_names_exist_and_are_documented() -> None:
    for name in examkit.assessio.__all__:
        value = getattr(examkit.assessio, name)
        if isinstance(value, type) or callable(value):
            assert value.__doc__, name
