"""Reconcile your own list of iTEP test IDs with the AVAILABLE TESTS export.

The panel exports "a csv or xls file": ``Inventory.from_file`` reads CSV, ``.xlsx`` (``examkit[xlsx]``)
and legacy ``.xls`` (``examkit[xls]``), by the file name's ending. Run from the repository root, or give
the export's path as the first argument.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from examkit.itep import Inventory

EXPORT = Path(__file__).with_name("itep_available_tests.csv")

if __name__ == "__main__":
    inventory = Inventory.from_file(sys.argv[1] if len(sys.argv) > 1 else EXPORT)
    print("available by type:", inventory.available_by_type())
    expired = inventory.expired_assignments(today=date(2024, 10, 1))
    print("expired assignments:", [r.test_id for r in expired])
    mine = {"123982B8AP": "Ready", "123984D1AP": "Ready", "999999Z9ZZ": "Ready"}
    result = inventory.reconcile(mine)
    print("missing from export:", result.missing)
    print("not in my list:", result.extra)
    for change in result.status_changed:
        print(f"status changed: {change.test_id} {change.local} -> {change.remote}")
