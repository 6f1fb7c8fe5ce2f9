"""The one HTML-table helper behind every notebook view: everything escaped, values shown as the vendor's."""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from examkit import ConfigurationError
from examkit.core._enums import StrEnum
from examkit.core._html import cell_text, html_table, pandas_frame, plain_value


class Colour(StrEnum):
    RED = "Red <1>"


def test_every_part_is_escaped_quotes_too() -> None:
    text = html_table(['<th a="1">'], [['"x" & <y>', None]], caption="<caption>", css_class='c" onclick="x')
    assert text == (
        '<table class="c&quot; onclick=&quot;x"><caption>&lt;caption&gt;</caption>'
        "<thead><tr><th>&lt;th a=&quot;1&quot;&gt;</th></tr></thead>"
        "<tbody><tr><td>&quot;x&quot; &amp; &lt;y&gt;</td><td></td></tr></tbody></table>"
    )


def test_row_headers_and_no_caption() -> None:
    assert html_table(("a", "b"), [("k", 1)], row_headers=True) == (
        "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><th>k</th><td>1</td></tr></tbody></table>"
    )


def test_cells_show_the_vendors_values() -> None:
    assert cell_text(None) == ""
    assert cell_text(Colour.RED) == "Red <1>"
    assert cell_text(datetime(2020, 4, 13, 20, 13, 22, tzinfo=timezone.utc)) == "2020-04-13T20:13:22+00:00"
    assert cell_text(date(2024, 1, 31)) == "2024-01-31"
    assert cell_text(Decimal("7.50")) == "7.50"
    assert cell_text(0) == "0"
    assert plain_value(Colour.RED) == "Red <1>"
    assert type(plain_value(Colour.RED)) is str
    moment = datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert plain_value(moment) is moment


def test_pandas_missing_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(
        ConfigurationError, match=r"to_pandas\(\) needs pandas: pip install 'examkit\[notebook\]'"
    ):
        pandas_frame([], ("a",), vendor="testpress")
