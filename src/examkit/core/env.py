"""Settings from environment variables, for the ``from_env()`` constructors and the CLI.

The variables examkit reads are listed in the CLI reference. A missing, empty or blank variable, or one
with whitespace around its value, is a :class:`~examkit.ConfigurationError` that names it,
never a ``KeyError``; its value is never repeated in a message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from examkit.core.errors import ConfigurationError

__all__: list[str] = []


def env_setting(name: str, *, vendor: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Return the value of the environment variable ``name``.

    Args:
        name: The variable, e.g. ``"EXAMKIT_IA_API_KEY"``.
        vendor: The vendor, for the error.
        environ: The environment to read (``os.environ`` by default; tests pass a dict).

    Raises:
        ConfigurationError: The variable is not set, is empty or only whitespace, or has whitespace
            around its value (often a newline from a file or a copy): it is refused rather than
            stripped, since a secret with a stray space is not the vendor's secret; ``setting`` is its name.
    """
    if not isinstance(name, str) or not name or not name.isascii() or not name.isprintable():
        raise ConfigurationError("the variable name must be non-empty text", setting="name", vendor=vendor)
    if environ is not None and not isinstance(environ, Mapping):
        raise ConfigurationError(
            "environ must be a mapping of names to values", setting="environ", vendor=vendor
        )
    value = (os.environ if environ is None else environ).get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"the environment variable {name} is not set (or empty)", setting=name, vendor=vendor
        )
    if value != value.strip():
        raise ConfigurationError(
            f"the environment variable {name} has whitespace before or after its value (a trailing "
            "newline?): remove it",
            setting=name,
            vendor=vendor,
        )
    return value
