"""The vendor's name, as Assessio errors carry it (re-exported by ``models``).

A module of its own so that the verifier side (``signing``, ``webhooks``) names the vendor without
loading the models, which load with the first typed result.
"""

from __future__ import annotations

from typing import Final

VENDOR: Final = "assessio"
"""The vendor name examkit errors carry for Assessio."""
