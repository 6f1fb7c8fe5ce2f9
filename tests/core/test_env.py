"""Tests for examkit.core.env."""

from __future__ import annotations

import pytest

from examkit.core.env import env_setting
from examkit.core.errors import ConfigurationError


def test_reads_the_variable() -> None:
    assert env_setting("EXAMKIT_X", environ={"EXAMKIT_X": "value"}) == "value"


@pytest.mark.parametrize("environ", [{}, {"EXAMKIT_X": ""}])
def test_missing_or_empty_names_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="EXAMKIT_X is not set") as info:
        env_setting("EXAMKIT_X", vendor="itep", environ=environ)
    assert info.value.setting == "EXAMKIT_X"
    assert info.value.vendor == "itep"


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMKIT_TEST_ONLY", "from-env")
    assert env_setting("EXAMKIT_TEST_ONLY") == "from-env"
