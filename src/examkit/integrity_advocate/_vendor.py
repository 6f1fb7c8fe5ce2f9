"""The vendor's name, as Integrity Advocate errors carry it (re-exported by ``models``).

A module of its own so that the verifier side (``signing``, ``webhooks``) names the vendor without
loading the models, which load with the first request checked.
"""

from __future__ import annotations

from typing import Final

VENDOR: Final = "integrity_advocate"
"""The vendor name carried by every examkit error about Integrity Advocate."""
