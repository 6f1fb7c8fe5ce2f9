"""The base of every public examkit enum: members are the vendor's strings, on every Python version.

``str(member)``, f-strings, ``format`` and ``==`` give the vendor's value (``"Valid"``), and
:func:`json.dumps` writes it, on Python 3.10 as on 3.11+ (where :class:`enum.StrEnum` would do the same,
but 3.10 has none and the ``str``/``Enum`` mix-in formats differently from one version to the next).
The ``repr`` stays the enum's own (``<ParticipantStatus.VALID: 'Valid'>``), so a debugger still shows
which member it is.

>>> class Colour(StrEnum):
...     RED = "Red"
>>> str(Colour.RED), f"{Colour.RED}", f"{Colour.RED:>5}", Colour.RED == "Red"
('Red', 'Red', '  Red', True)
>>> import json; json.dumps({"colour": Colour.RED})
'{"colour": "Red"}'
"""

from __future__ import annotations

import enum

__all__ = ["StrEnum"]


class StrEnum(str, enum.Enum):
    """An enum whose members are strings and print as their value."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, format_spec: str) -> str:
        return str.__format__(str(self), format_spec)
