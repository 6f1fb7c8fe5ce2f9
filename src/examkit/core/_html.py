"""Notebook views (private helper): one small HTML table, every value escaped, and pandas on demand.

Every ``_repr_html_`` of examkit builds its table here, so the escaping rule lives in one place:
captions, headers and cells all go through :func:`html.escape` (quotes too), and values are shown
as the vendor sent them (an enum as its value, a datetime as ISO 8601 text, ``None`` as an empty
cell). ``to_pandas()`` methods load pandas through :func:`pandas_frame`, only when called.
"""

from __future__ import annotations

import enum
import html
import importlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from examkit.core.errors import ConfigurationError

__all__ = ["cell_text", "html_table", "pandas_frame", "plain_value"]

PANDAS_HINT = "pip install 'examkit[notebook]'"


def plain_value(value: object) -> object:
    """Return ``value`` as a plain Python value for a record: an enum becomes its value, the rest is kept."""
    if isinstance(value, enum.Enum):
        return value.value
    return value


def cell_text(value: object) -> str:
    """Return the text shown for ``value`` in a table cell (not yet escaped)."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def html_table(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    caption: str | None = None,
    css_class: str | None = None,
    row_headers: bool = False,
) -> str:
    """Return an HTML table; the caption, the header and every cell are escaped.

    Args:
        header: The column names.
        rows: One sequence of values per row (shown through :func:`cell_text`).
        caption: A caption, or ``None`` for none.
        css_class: A ``class`` for the table, or ``None``.
        row_headers: Show each row's first value as a ``<th>``.
    """
    head = "".join(f"<th>{_escape(name)}</th>" for name in header)
    body: list[str] = []
    for row in rows:
        cells = []
        for position, value in enumerate(row):
            tag = "th" if row_headers and position == 0 else "td"
            cells.append(f"<{tag}>{_escape(cell_text(value))}</{tag}>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    opening = "<table>" if css_class is None else f'<table class="{_escape(css_class)}">'
    shown_caption = "" if caption is None else f"<caption>{_escape(caption)}</caption>"
    return f"{opening}{shown_caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def pandas_frame(records: Sequence[Mapping[str, Any]], columns: Sequence[str], *, vendor: str | None) -> Any:
    """Return ``records`` as a :class:`pandas.DataFrame` with ``columns``, importing pandas only now.

    Raises:
        ConfigurationError: pandas is not installed (the message names the extra to install).
    """
    try:
        pandas = importlib.import_module("pandas")
    except ImportError:
        message = f"to_pandas() needs pandas: {PANDAS_HINT}"
        raise ConfigurationError(message, setting="pandas", vendor=vendor) from None
    return pandas.DataFrame.from_records(list(records), columns=list(columns))


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
