"""Reconcile your own list of iTEP test IDs with the AVAILABLE TESTS export (CSV)."""

from __future__ import annotations

import io
from datetime import date

from examkit.itep import Inventory

EXPORT = """Test ID,Test Type,Status,Assigned To
123982B8AP,Academic-Plus,Ready,
123983C9AP,Academic-Plus,Ready,"{""student-name"":""Ann"",""expire"":""2024-09-01""}"
123984D1AP,Academic-Plus,Complete,"{""student-name"":""Bob""}"
223985E2CO,Core,Ready,
"""

if __name__ == "__main__":
    inventory = Inventory.from_csv(io.StringIO(EXPORT))
    print("available by type:", inventory.available_by_type())
    expired = inventory.expired_assignments(today=date(2024, 10, 1))
    print("expired assignments:", [r.test_id for r in expired])
    mine = {"123982B8AP": "Ready", "123984D1AP": "Ready", "999999Z9ZZ": "Ready"}
    result = inventory.reconcile(mine)
    print("missing from export:", result.missing)
    print("not in my list:", result.extra)
    for change in result.status_changed:
        print(f"status changed: {change.test_id} {change.local} -> {change.remote}")
