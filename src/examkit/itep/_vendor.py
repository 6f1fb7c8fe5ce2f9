"""The vendor's name, as iTEP errors carry it; :mod:`examkit.itep.models` re-exports it.

A module of its own so that the verifier side (``signing``, ``webhooks``) names the vendor without
loading the models, which load with the first typed result.
"""

from __future__ import annotations

from typing import Final

VENDOR: Final = "itep"
"""The vendor name examkit errors carry for iTEP."""
