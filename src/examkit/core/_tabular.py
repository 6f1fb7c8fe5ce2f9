"""Text for people: CSV cells safe to open in a spreadsheet, and text safe to show on a terminal.

Both CSV writers of examkit (the iTEP bulk outcomes and ``examkit ia participants --format csv``) write
through :func:`write_csv`, so they share one rule: a cell that a spreadsheet would run as a formula
(it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return; OWASP's "CSV injection") gets a
single quote in front, unless asked not to.
"""

from __future__ import annotations

import importlib
import io
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import IO, Any, Final

from examkit.core._checks import check_choice
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

    check_choice(encoding, CSV_ENCODINGS, setting="encoding", vendor=vendor)
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
    :class:`~examkit.ValidationError`; a file that cannot be read (missing, not UTF-8) is a
    :class:`~examkit.PayloadError`.
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


SPREADSHEET_SUFFIXES: Final = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls"}
"""The file name endings :func:`read_table` knows, and the format each names."""

_EXTRAS: Final = {"xlsx": ("openpyxl", "xlsx"), "xls": ("xlrd", "xls")}


def table_format(source: object, format: str | None, *, vendor: str | None = None) -> str:
    """Return ``"csv"``, ``"xlsx"`` or ``"xls"``: ``format`` when given, else from the file name.

    An open stream without a name is read as CSV.
    """
    if format is not None:
        return check_choice(format, _FORMATS, setting="format", vendor=vendor)
    name = os.fspath(source) if isinstance(source, str | os.PathLike) else getattr(source, "name", None)
    if not isinstance(name, str):
        return "csv"
    suffix = os.path.splitext(name)[1].casefold()
    return SPREADSHEET_SUFFIXES.get(suffix, "csv")


_FORMATS: Final = ("csv", "xlsx", "xls")


def _import_reader(fmt: str, what: str, vendor: str | None) -> Any:
    module, extra = _EXTRAS[fmt]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(
            f"reading the {what} as .{fmt} needs {module}: pip install 'examkit[{extra}]' "
            "(or export the file as CSV)",
            setting="format",
            vendor=vendor,
        ) from None


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a test ID typed as a number: 12345678.0 -> "12345678"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_sheet(source: object, fmt: str, what: str, *, vendor: str | None = None) -> list[list[str]]:
    """Read the first sheet of an ``.xlsx`` (openpyxl) or ``.xls`` (xlrd) file as rows of text cells.

    The reader library is imported here, only when a spreadsheet is read; a missing one is a
    :class:`~examkit.ConfigurationError` naming the extra to install. A file the library
    cannot read (missing, another format, damaged) is a :class:`~examkit.PayloadError`.
    Trailing empty cells of each row are dropped.
    """
    if not isinstance(source, str | os.PathLike):
        raise ValidationError(
            f"the {what} spreadsheet must be given as a path",
            field="source",
            reason="wrong type",
            vendor=vendor,
        )
    library = _import_reader(fmt, what, vendor)
    try:
        if fmt == "xlsx":
            book = library.load_workbook(io.BytesIO(_read_bytes(source)), read_only=True, data_only=True)
            try:
                raw = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
            finally:
                book.close()
        else:
            book = library.open_workbook(file_contents=_read_bytes(source))
            sheet = book.sheet_by_index(0)
            raw = [_xls_row(library, book, sheet.row(i)) for i in range(sheet.nrows)]
    except Exception as exc:
        raise PayloadError(
            f"cannot read the {what} as .{fmt}: {type(exc).__name__} (is it really a .{fmt} file?)",
            reason="unreadable file",
            vendor=vendor,
        ) from None
    rows = []
    for row in raw:
        cells = [_cell_text(value) for value in row]
        while cells and not cells[-1]:
            cells.pop()
        rows.append(cells)
    return rows


def _read_bytes(source: str | os.PathLike[str]) -> bytes:
    with open(source, "rb") as handle:
        return handle.read()


def _xls_row(xlrd: Any, book: Any, cells: list[Any]) -> list[object]:
    values: list[object] = []
    for cell in cells:
        if cell.ctype == xlrd.XL_CELL_DATE:
            values.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
        elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
            values.append(bool(cell.value))
        else:
            values.append(cell.value)
    return values
