"""The vendor's name, as Testpress errors carry it (re-exported by ``models``).

A module of its own so that the verifier side (``signing``, ``webhooks``) names the vendor without
loading the models, which load with the first typed result.
"""

from __future__ import annotations

from typing import Final

VENDOR: Final = "testpress"
"""The vendor name carried by every error this package raises."""
