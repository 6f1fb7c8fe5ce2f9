"""The AVAILABLE TESTS export as the panel saves it: CSV, .xlsx and legacy .xls, written by real writers."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

import pytest

from examkit import ConfigurationError, PayloadError
from examkit.itep import ExamStatus, Inventory

HEADER = ["Test ID", "Test Type", "Status", "Assigned To"]
ROWS: list[list[object]] = [
    ["123982B8AP", "Academic-Plus", "Ready", ""],
    ["123983C9AP", "Academic-Plus", "Ready", '{"student-name":"Ann","expire":"2024-09-01"}'],
    ["123984D1AP", "Academic-Plus", "Complete", '{"student-name":"Bob"}'],
    [12345678, "Core", "Ready", None],  # a test ID the spreadsheet stored as a number
]
# What each export must read as, written out by hand from ROWS.
AVAILABLE = {"Academic-Plus": ["123982B8AP"], "Core": ["12345678"]}


def write_csv(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([["" if c is None else c for c in row] for row in ROWS])
    return path


def write_xlsx(path: Path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    book.save(path)
    return path


def write_xls(path: Path) -> Path:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("AVAILABLE TESTS")
    for c, heading in enumerate(HEADER):
        sheet.write(0, c, heading)
    for r, row in enumerate(ROWS, start=1):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.save(str(path))
    return path


WRITERS = {"data.csv": write_csv, "data.xlsx": write_xlsx, "data.xls": write_xls}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_every_export_format_reads_the_same(tmp_path: Path, name: str) -> None:
    inventory = Inventory.from_file(WRITERS[name](tmp_path / name))
    assert [r.test_id for r in inventory.records] == ["123982B8AP", "123983C9AP", "123984D1AP", "12345678"]
    assert inventory.available_by_type() == AVAILABLE
    ann = inventory.get("123983C9AP")
    assert ann is not None
    assert ann.status is ExamStatus.READY
    assert ann.expires == date(2024, 9, 1)
    assert [r.test_id for r in inventory.expired_assignments(today=date(2024, 10, 1))] == ["123983C9AP"]


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_reconcile_from_any_format(tmp_path: Path, name: str) -> None:
    inventory = Inventory.from_file(WRITERS[name](tmp_path / name))
    result = inventory.reconcile({"123982B8AP": "Ready", "123984D1AP": "Ready", "999999Z9ZZ": "Ready"})
    assert result.missing == ("999999Z9ZZ",)
    assert result.extra == ("123983C9AP", "12345678")
    assert [(c.test_id, c.remote) for c in result.status_changed] == [("123984D1AP", "Complete")]


def test_format_overrides_the_file_name(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "export.bin")
    assert Inventory.from_file(path, format="xlsx").available_by_type() == AVAILABLE
    with pytest.raises(ConfigurationError, match="format must be one of"):
        Inventory.from_file(path, format="ods")


@pytest.mark.parametrize(
    ("name", "module", "extra"), [("a.xlsx", "openpyxl", "xlsx"), ("a.xls", "xlrd", "xls")]
)
def test_a_missing_extra_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, module: str, extra: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, module, None)  # import now fails as if not installed
    with pytest.raises(ConfigurationError, match=rf"pip install 'examkit\[{extra}\]'"):
        Inventory.from_file(path)


@pytest.mark.parametrize("name", ["a.xlsx", "a.xls"])
def test_an_unreadable_spreadsheet_is_a_payload_error(tmp_path: Path, name: str) -> None:
    path = write_csv(tmp_path / name)  # a CSV saved under a spreadsheet's name
    with pytest.raises(PayloadError, match=r"cannot read the inventory \.xlsx? file as"):
        Inventory.from_file(path)
    with pytest.raises(PayloadError, match="cannot read"):
        Inventory.from_file(tmp_path / ("missing-" + name))


def test_a_spreadsheet_with_a_missing_column_says_so(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["Test ID", "Status"])
    book.active.append(["123982B8AP", "Ready"])
    book.save(tmp_path / "a.xlsx")
    with pytest.raises(PayloadError, match="no test_type column"):
        Inventory.from_file(tmp_path / "a.xlsx")


def test_a_stream_is_csv(tmp_path: Path) -> None:
    with write_csv(tmp_path / "data.csv").open(encoding="utf-8") as handle:
        assert Inventory.from_file(handle).available_by_type() == AVAILABLE
