"""Text for people: CSV cells safe to open in a spreadsheet, and text safe to show on a terminal.

Both CSV writers of examkit (the iTEP bulk outcomes and ``examkit ia participants --format csv``) write
through :func:`write_csv`, so they share one rule: a cell that a spreadsheet would run as a formula
(it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return; OWASP's "CSV injection") gets a
single quote in front, unless asked not to.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Final

from examkit.core.errors import ConfigurationError, PayloadError, ValidationError

__all__ = ["CSV_ENCODINGS", "FORMULA_PREFIXES", "neutralize_formula", "terminal_safe", "write_csv"]

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

CSV_ENCODINGS: Final = ("utf-8", "utf-8-sig")
"""The encodings :func:`write_csv` writes: plain UTF-8, or UTF-8 with a byte-order mark (for Excel)."""


def neutralize_formula(cell: str) -> str:
    """Return ``cell`` with a ``'`` in front when a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def terminal_safe(text: str) -> str:
    r"""Return ``text`` with what a terminal would act on escaped, for showing vendor or request text.

    Control characters (C0, DEL and C1, among them ESC and the one-byte CSI), line and paragraph
    separators, and bidirectional overrides are escaped, so shown text cannot move the cursor, recolour
    or retitle the terminal, or reorder what is shown; every other character is kept, so names stay
    readable. ``\r``, ``\n`` and ``\t`` become those two-character escapes, the rest ``\xNN`` or
    ``\uNNNN``.
    """
    if text.isprintable():
        return text
    out: list[str] = []
    for char in text:
        if char in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[char])
        elif _acts_on_terminal(char):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


_NAMED_ESCAPES: Final = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}
_BIDI_CONTROLS: Final = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _acts_on_terminal(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS


def write_csv(
    destination: str | os.PathLike[str] | IO[str],
    header: Sequence[str],
    rows: Iterable[Mapping[str, str]],
    *,
    neutralize_formulas: bool = True,
    encoding: str = "utf-8",
    line_terminator: str = "\r\n",
    vendor: str | None = None,
) -> None:
    r"""Write ``rows`` under ``header`` as CSV to a path or an open text stream.

    Args:
        destination: A file path (created or replaced) or a text stream.
        header: The column names, in order; keys of a row not in it are left out.
        rows: The rows.
        neutralize_formulas: Put a ``'`` before every cell (headings included) that begins with one
            of :data:`FORMULA_PREFIXES`, so that a spreadsheet shows it as text. ``False`` writes
            cells verbatim.
        encoding: ``"utf-8"``, or ``"utf-8-sig"`` to begin with a byte-order mark, which Excel
            needs to read UTF-8 names correctly. On a text stream the mark is written as ``\ufeff``.
        line_terminator: The end of each line (``"\r\n"`` as RFC 4180 says; ``"\n"`` for a terminal).
        vendor: The vendor named by errors.

    Raises:
        ConfigurationError: An encoding other than those of :data:`CSV_ENCODINGS`, or the file
            cannot be written.
    """
    import csv  # noqa: PLC0415 - only writers need it

    if encoding not in CSV_ENCODINGS:
        raise ConfigurationError(
            f"encoding must be one of {', '.join(CSV_ENCODINGS)}", setting="encoding", vendor=vendor
        )
    safe = neutralize_formula if neutralize_formulas else str

    def emit(handle: IO[str]) -> None:
        writer = csv.writer(handle, lineterminator=line_terminator)
        writer.writerow([safe(h) for h in header])
        for row in rows:
            writer.writerow([safe(row.get(h, "")) for h in header])

    try:
        if isinstance(destination, str | os.PathLike):
            with open(destination, "w", encoding=encoding, newline="") as handle:
                emit(handle)
        else:
            if encoding == "utf-8-sig":
                destination.write("\ufeff")
            emit(destination)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the CSV file: {exc.strerror or type(exc).__name__}",
            setting="destination",
            vendor=vendor,
        ) from None


def read_text(source: object, what: str, *, vendor: str | None = None) -> str:
    """Read a whole text file for people (a CSV export), from a path or an open text file.

    A byte-order mark is dropped. Anything else than a path or an open text-mode file is a
    :class:`~examkit.core.errors.ValidationError`; a file that cannot be read (missing, not UTF-8) is a
    :class:`~examkit.core.errors.PayloadError`.
    """
    is_path = isinstance(source, str | os.PathLike)
    if not is_path and not callable(getattr(source, "read", None)):
        raise ValidationError(
            f"the {what} source must be a path or an open text file, not {type(source).__name__}",
            field="source",
            reason="wrong type",
            vendor=vendor,
        )
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, encoding="utf-8-sig", newline="") as handle:
                text: object = handle.read()
        else:
            text = source.read()  # type: ignore[attr-defined]
    except (OSError, ValueError) as exc:  # UnicodeError and a NUL in a path are ValueErrors
        raise PayloadError(
            f"cannot read the {what}: {type(exc).__name__}", reason="unreadable file", vendor=vendor
        ) from None
    if not isinstance(text, str):
        raise ValidationError(
            f"the {what} must be opened in text mode (it read {type(text).__name__})",
            field="source",
            reason="not text",
            vendor=vendor,
        )
    return text[1:] if text.startswith("\ufeff") else text
