"""What iTEP's test IDs look like. Private to examkit: the client and the testing fake share it."""

from __future__ import annotations

import re
from typing import Final

BARE_ID: Final = re.compile(r"\A(?=[A-Za-z0-9-]*[0-9])[A-Za-z0-9][A-Za-z0-9-]{3,39}\Z", re.ASCII)
"""A bare test ID: 4-40 letters, digits and hyphens, with at least one digit."""
