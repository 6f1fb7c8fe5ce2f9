"""The vendor's name, as iTEP errors carry it, and its section key prefixes (both re-exported by ``models``).

A module of its own so that the verifier side (``signing``, ``webhooks``) reads them without
loading the models, which load with the first typed result.
"""

from __future__ import annotations

from typing import Final

VENDOR: Final = "itep"
"""The vendor name examkit errors carry for iTEP."""

SECTION_PREFIXES: Final = ("Grammar", "Listening", "Reading", "Writing", "Speaking")
"""The vendor's section key prefixes, in the order the sample sends them."""
