"""The AVAILABLE TESTS export: availability, expiry, reconciliation, column settings."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from examkit.core.clock import FixedClock
from examkit.core.errors import PayloadError
from examkit.itep import ExamStatus, Inventory, InventoryColumns
from examkit.itep.inventory import read_inventory_csv

EXPORT = (
    "\ufeffTest ID,Test Type,Status,Assigned To\r\n"
    "123982B8AP,Academic-Plus,Ready,\r\n"
    '123983C9AP,Academic-Plus,Ready,"{""student-name"":""Ann"",""expire"":""2024-09-01""}"\r\n'
    '123984D1AP,Academic-Plus,Ready,"{""student-name"":""Bob"",""expire"":""9/30/2024""}"\r\n'
    "123985E2AP,Academic-Plus,Complete,Carol (manual note)\r\n"
    "223986F3CO,Core,ready,\r\n"
    "223987G4CO,Core,Archived,\r\n"
    ",,,\r\n"
)


def inventory() -> Inventory:
    return Inventory.from_csv(io.StringIO(EXPORT))


def test_records_are_typed() -> None:
    inv = inventory()
    assert len(inv) == 6
    ann = inv.get("123983C9AP")
    assert ann is not None
    assert ann.status is ExamStatus.READY
    assert ann.assigned_to == {"student-name": "Ann", "expire": "2024-09-01"}
    assert ann.expires == date(2024, 9, 1)
    assert not ann.available
    carol = inv.get("123985E2AP")
    assert carol is not None
    assert (carol.assigned_to, carol.is_assigned) == (None, True)
    archived = inv.get("223987G4CO")
    assert archived is not None
    assert archived.status == "Archived"


def test_available_means_ready_and_unassigned() -> None:
    inv = inventory()
    assert [r.test_id for r in inv.available()] == ["123982B8AP", "223986F3CO"]
    assert inv.available_by_type() == {"Academic-Plus": ["123982B8AP"], "Core": ["223986F3CO"]}
    assert [r.test_id for r in inv.available("Core")] == ["223986F3CO"]


def test_expired_assignments() -> None:
    inv = inventory()
    assert [r.test_id for r in inv.expired_assignments(today=date(2024, 9, 30))] == ["123983C9AP"]
    assert [r.test_id for r in inv.expired_assignments(today=date(2024, 10, 1))] == [
        "123983C9AP",
        "123984D1AP",
    ]
    clock = FixedClock(1_725_148_800)  # 2024-09-01T00:00:00Z: expiring today is not expired
    assert inv.expired_assignments(clock=clock) == []


def test_reconcile_with_statuses() -> None:
    result = inventory().reconcile({"123982B8AP": "ready", "123985E2AP": "Ready", "999999Z9ZZ": "Ready"})
    assert result.missing == ("999999Z9ZZ",)
    assert result.extra == ("123983C9AP", "123984D1AP", "223986F3CO", "223987G4CO")
    assert [(c.test_id, c.local, c.remote) for c in result.status_changed] == [
        ("123985E2AP", "Ready", "Complete")
    ]
    assert not result.in_sync


def test_reconcile_with_a_list_of_ids_believed_available() -> None:
    result = inventory().reconcile(["123982B8AP", "123983C9AP"])
    assert [(c.test_id, c.remote, c.remote_available) for c in result.status_changed] == [
        ("123983C9AP", "Ready", False)
    ]
    assert (
        Inventory.from_csv(io.StringIO("Test ID,Test Type,Status,Assigned To\nA1B2C3,X,Ready,\n"))
        .reconcile(["A1B2C3"])
        .in_sync
    )


def test_columns_are_a_setting(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Code,Kind,State,Owner\nQ1W2E3,Core,Ready,\n", encoding="utf-8")
    with pytest.raises(PayloadError) as info:
        read_inventory_csv(path)
    assert info.value.reason == "missing column"
    columns = InventoryColumns(test_id="code", test_type="Kind", status="STATE", assigned_to="Owner")
    assert read_inventory_csv(path, columns=columns).available_by_type() == {"Core": ["Q1W2E3"]}


def test_bad_files() -> None:
    with pytest.raises(PayloadError):
        read_inventory_csv("/nonexistent/export.csv")
    with pytest.raises(PayloadError) as info:
        Inventory.from_csv(io.StringIO("Test ID,Test Type,Status,Assigned To\nA1,X,Ready,\nA1,X,Ready,\n"))
    assert info.value.reason == "duplicate test ID"
    with pytest.raises(PayloadError) as info:
        Inventory.from_csv(io.StringIO("Test ID,Test Type,Status,Assigned To\n,X,Ready,\n"))
    assert info.value.reason == "missing test ID"
