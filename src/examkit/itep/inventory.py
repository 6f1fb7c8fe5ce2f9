"""Read the AVAILABLE TESTS export and reconcile it with your own list of test IDs.

iTEP has no inventory API: its administration system is the authority, and its AVAILABLE TESTS
panel exports a CSV. A test ID is *available* when its status is ``Ready`` and its ``assigned-to``
is empty. The export's column names are not documented, so they are a setting
(:class:`InventoryColumns`) whose defaults follow the panel's headings; each accepts several
spellings and is matched case-insensitively.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import IO, Any, Final

import attrs

from examkit.core._checks import check_instance, check_tuple_of
from examkit.core._tabular import read_sheet, read_text, table_format
from examkit.core.clock import Clock, SystemClock, parse_iso_date
from examkit.core.errors import ConfigurationError, PayloadError, ValidationError
from examkit.itep.models import VENDOR, ExamStatus

__all__ = [
    "Inventory",
    "InventoryColumns",
    "InventoryRecord",
    "Reconciliation",
    "StatusChange",
]

_US_DATE: Final = re.compile(r"\A([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\Z", re.ASCII)
_STATUSES: Final = {member.value.casefold(): member for member in ExamStatus}
_MAX_CSV_FIELD: Final = 1024 * 1024


def _names(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(kw_only=True)
class InventoryColumns:
    """The export's column headings; each is one name or several accepted spellings.

    Matching ignores case and surrounding spaces. The defaults are examkit's reading of the panel
    (unconfirmed): change them to match your export.

    Attributes:
        test_id: The test ID column.
        test_type: The test type column (``Academic-Plus``...).
        status: The status column.
        assigned_to: The ``Assigned-to`` column (JSON text, or empty).
    """

    test_id: str | tuple[str, ...] = ("Test ID", "TestID", "Test_ID", "ID")
    test_type: str | tuple[str, ...] = ("Test Type", "Type", "Product", "Test")
    status: str | tuple[str, ...] = ("Status", "Test Status")
    assigned_to: str | tuple[str, ...] = ("Assigned To", "Assigned-to", "Assigned_To", "AssignedTo")

    def __attrs_post_init__(self) -> None:
        for setting in ("test_id", "test_type", "status", "assigned_to"):
            value = getattr(self, setting)
            names = (
                (value,)
                if isinstance(value, str)
                else check_tuple_of(value, str, setting=setting, vendor=VENDOR)
            )
            if not all(name.strip() for name in names):
                raise ConfigurationError(
                    f"{setting} must be a column heading or several, none blank",
                    setting=setting,
                    vendor=VENDOR,
                )

    def resolve(self, header: Iterable[str]) -> dict[str, str]:
        """Return, for each setting, the actual heading in ``header`` that it matches.

        Raises:
            PayloadError: A column is missing; the message lists the headings found.
            ValidationError: ``header`` is not a sequence of headings.
        """
        if isinstance(header, str | bytes | Mapping) or not isinstance(header, Iterable):
            raise ValidationError("header must be a sequence of headings", field="header", vendor=VENDOR)
        names = tuple(header)
        if not all(isinstance(name, str) for name in names):
            raise ValidationError("header must be a sequence of headings", field="header", vendor=VENDOR)
        found = {name.strip().casefold(): name for name in names}
        resolved: dict[str, str] = {}
        for setting in ("test_id", "test_type", "status", "assigned_to"):
            options = _names(getattr(self, setting))
            match = next(
                (found[o.strip().casefold()] for o in options if o.strip().casefold() in found),
                None,
            )
            if match is None:
                raise PayloadError(
                    f"the inventory CSV has no {setting} column (looked for {', '.join(options)}; "
                    f"found {', '.join(found.values()) or 'no header'}): set "
                    f"InventoryColumns({setting}=...)",
                    field=options[0],
                    reason="missing column",
                    vendor=VENDOR,
                )
            resolved[setting] = match
        return resolved


def _parse_expiry(value: object) -> date | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _US_DATE.match(text)
    try:
        if match:
            month, day, year = (int(p) for p in match.groups())
            return date(year, month, day)
        return parse_iso_date(text[:10])
    except ValueError:
        return None


@attrs.frozen(kw_only=True)
class InventoryRecord:
    """One row of the AVAILABLE TESTS export.

    Attributes:
        test_id: The test ID.
        test_type: The test type.
        status: The status (an :class:`~examkit.itep.ExamStatus`, or the text as exported).
        assigned_to_text: The ``assigned-to`` cell as exported (empty when unassigned).
        assigned_to: The cell decoded as a JSON object, or ``None`` when empty or not JSON.
        expires: The assignment's expiry date read from ``assigned_to`` (see ``expiry_keys``).
        row: The whole row, by heading.
    """

    test_id: str
    test_type: str
    status: ExamStatus | str
    assigned_to_text: str = ""
    assigned_to: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    expires: date | None = None
    row: Mapping[str, str] = attrs.field(factory=dict, repr=False, hash=False)

    @property
    def is_assigned(self) -> bool:
        """Whether the ``assigned-to`` cell holds anything."""
        return bool(self.assigned_to_text.strip())

    @property
    def available(self) -> bool:
        """Whether the test ID can be used (status ``Ready`` and nothing in ``assigned-to``)."""
        return self.status is ExamStatus.READY and not self.is_assigned


@attrs.frozen
class StatusChange:
    """A test ID whose status in the export differs from yours.

    Attributes:
        test_id: The test ID.
        local: The status you recorded.
        remote: The status in the export (``"Ready (assigned)"`` style text is not invented: an
            assigned Ready test shows as ``Ready`` with :attr:`remote_available` false).
        remote_available: Whether the export says the ID is available.
    """

    test_id: str
    local: str
    remote: str
    remote_available: bool


@attrs.frozen
class Reconciliation:
    """How your list of test IDs compares with the export.

    Attributes:
        missing: IDs you hold that the export does not list.
        extra: IDs the export lists that you do not hold.
        status_changed: IDs in both whose status differs.
    """

    missing: tuple[str, ...]
    extra: tuple[str, ...]
    status_changed: tuple[StatusChange, ...]

    @property
    def in_sync(self) -> bool:
        """Whether nothing differs."""
        return not (self.missing or self.extra or self.status_changed)


def _status_text(status: ExamStatus | str) -> str:
    return status.value if isinstance(status, ExamStatus) else status


@attrs.frozen
class Inventory:
    """The AVAILABLE TESTS export, typed.

    Attributes:
        records: The rows, in file order.
    """

    records: tuple[InventoryRecord, ...]

    @classmethod
    def from_csv(
        cls,
        source: str | os.PathLike[str] | IO[str],
        *,
        columns: InventoryColumns | None = None,
        expiry_keys: tuple[str, ...] = ("expire", "expires", "expiry", "expiration"),
    ) -> Inventory:
        """Read an export: a path, or an open text file.

        Args:
            source: The CSV file's path or an open text stream (a UTF-8 byte-order mark is ignored).
            columns: The column headings (defaults: :class:`InventoryColumns`).
            expiry_keys: Keys of the ``assigned-to`` JSON that hold an expiry date (ISO or
                M/D/YYYY).

        Raises:
            PayloadError: The file cannot be read, a column is missing, a row has no test ID, or a
                test ID appears twice.
        """
        return read_inventory_csv(source, columns=columns, expiry_keys=expiry_keys)

    @classmethod
    def from_file(
        cls,
        source: str | os.PathLike[str] | IO[str],
        *,
        format: str | None = None,
        columns: InventoryColumns | None = None,
        expiry_keys: tuple[str, ...] = ("expire", "expires", "expiry", "expiration"),
    ) -> Inventory:
        """Read an export as the panel saves it: CSV, ``.xlsx`` or legacy ``.xls``.

        The format comes from the file name's ending (``.csv``, ``.xlsx``/``.xlsm``, ``.xls``; an open
        text stream is CSV) unless ``format`` says otherwise. A spreadsheet's first sheet is read, its
        first row being the headings; a test ID the spreadsheet stored as a number reads as its digits.
        ``.xlsx`` needs the ``xlsx`` extra (openpyxl) and ``.xls`` the ``xls`` extra (xlrd), imported
        only here.

        Args:
            source: A path (any format) or an open text stream (CSV only).
            format: ``"csv"``, ``"xlsx"`` or ``"xls"``, to override the file name.
            columns: The column headings (defaults: :class:`InventoryColumns`).
            expiry_keys: As for :meth:`from_csv`.

        Raises:
            ConfigurationError: The extra a spreadsheet needs is not installed (the message names
                it), or ``format``/``columns`` is wrong.
            PayloadError: The file cannot be read as that format, a column is missing, a row has no
                test ID, or a test ID appears twice.
        """
        return _read_inventory_file(source, format=format, columns=columns, expiry_keys=expiry_keys)

    def __len__(self) -> int:
        return len(self.records)

    def get(self, test_id: str) -> InventoryRecord | None:
        """Return the record for ``test_id``, or ``None``."""
        return next((r for r in self.records if r.test_id == test_id), None)

    def available(self, test_type: str | None = None) -> list[InventoryRecord]:
        """Return the available records, optionally of one test type only."""
        return [r for r in self.records if r.available and (test_type is None or r.test_type == test_type)]

    def available_by_type(self) -> dict[str, list[str]]:
        """Return the available test IDs grouped by test type, in file order."""
        grouped: dict[str, list[str]] = {}
        for record in self.available():
            grouped.setdefault(record.test_type, []).append(record.test_id)
        return grouped

    def expired_assignments(
        self, *, today: date | None = None, clock: Clock | None = None
    ) -> list[InventoryRecord]:
        """Return the assigned, still ``Ready`` tests whose expiry date has passed.

        These are the IDs iTEP suggests recycling (new password, assignment cleared). A test
        expiring today is not yet expired.

        Args:
            today: The date to compare with; by default today's date in UTC from ``clock``.
            clock: The clock that gives today's date (the system clock by default).
        """
        if today is None:
            now = (clock or SystemClock()).time()
            today = datetime.fromtimestamp(now, tz=timezone.utc).date()
        return [
            r
            for r in self.records
            if r.status is ExamStatus.READY and r.is_assigned and r.expires is not None and r.expires < today
        ]

    def reconcile(self, local: Mapping[str, str] | Iterable[str]) -> Reconciliation:
        """Compare your own record of test IDs with the export.

        Args:
            local: Either a mapping of test ID to the status you recorded (compared with the
                export's status, case-insensitively), or a plain list of the IDs you believe are
                available (an ID that the export shows as not available is a status change from
                ``Ready`` to what the export says).
        """
        remote = {r.test_id: r for r in self.records}
        if isinstance(local, Mapping):
            statuses = {str(k): str(v) for k, v in local.items()}
            believes_available = False
        else:
            statuses = {str(k): ExamStatus.READY.value for k in local}
            believes_available = True
        missing = tuple(i for i in statuses if i not in remote)
        extra = tuple(i for i in remote if i not in statuses)
        changed: list[StatusChange] = []
        for test_id, local_status in statuses.items():
            record = remote.get(test_id)
            if record is None:
                continue
            remote_status = _status_text(record.status)
            if believes_available:
                differs = not record.available
            else:
                differs = local_status.strip().casefold() != remote_status.strip().casefold()
            if differs:
                changed.append(StatusChange(test_id, local_status, remote_status, record.available))
        return Reconciliation(missing=missing, extra=extra, status_changed=tuple(changed))


def read_inventory_csv(
    source: str | os.PathLike[str] | IO[str],
    *,
    columns: InventoryColumns | None = None,
    expiry_keys: tuple[str, ...] = ("expire", "expires", "expiry", "expiration"),
) -> Inventory:
    """Read the AVAILABLE TESTS CSV export into an :class:`Inventory` (see ``Inventory.from_csv``).

    Raises:
        PayloadError: The file cannot be read, a column is missing, a row has no test ID, or a
            test ID appears twice.
        ConfigurationError: ``columns`` is not an :class:`InventoryColumns`.
    """
    columns = check_instance(
        columns or InventoryColumns(), InventoryColumns, setting="columns", vendor=VENDOR
    )
    text = read_text(source, "inventory CSV", vendor=VENDOR)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise PayloadError(
            f"the inventory CSV is malformed: {exc}", reason="not CSV", vendor=VENDOR
        ) from None
    return _from_rows(rows, columns, expiry_keys, "inventory CSV")


def _columns(columns: InventoryColumns | None) -> InventoryColumns:
    return check_instance(columns or InventoryColumns(), InventoryColumns, setting="columns", vendor=VENDOR)


def _read_inventory_file(
    source: str | os.PathLike[str] | IO[str],
    *,
    format: str | None,
    columns: InventoryColumns | None,
    expiry_keys: tuple[str, ...],
) -> Inventory:
    fmt = table_format(source, format, vendor=VENDOR)
    if fmt == "csv":
        return read_inventory_csv(source, columns=columns, expiry_keys=expiry_keys)
    columns = check_instance(
        columns or InventoryColumns(), InventoryColumns, setting="columns", vendor=VENDOR
    )
    what = f"inventory .{fmt} file"
    rows = read_sheet(source, fmt, what, vendor=VENDOR)
    return _from_rows(rows, columns, expiry_keys, what)


def _from_rows(
    rows: list[list[str]], columns: InventoryColumns, expiry_keys: tuple[str, ...], what: str
) -> Inventory:
    header = [h.lstrip("\ufeff") if i == 0 else h for i, h in enumerate(rows[0])] if rows else []
    resolved = columns.resolve(header)
    records: list[InventoryRecord] = []
    seen: set[str] = set()
    for line, cells in enumerate(rows[1:], start=2):
        clean = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
        test_id = clean.get(resolved["test_id"], "").strip()
        if not test_id:
            if not any(v.strip() for v in cells):
                continue  # a blank line
            raise PayloadError(
                f"row {line} of the {what} has no test ID",
                field=resolved["test_id"],
                reason="missing test ID",
                vendor=VENDOR,
            )
        if test_id in seen:
            raise PayloadError(
                f"test ID {test_id} appears twice in the {what} (row {line})",
                field=resolved["test_id"],
                reason="duplicate test ID",
                vendor=VENDOR,
            )
        seen.add(test_id)
        records.append(_record(clean, resolved, test_id, expiry_keys))
    return Inventory(records=tuple(records))


def _record(
    row: dict[str, str], resolved: dict[str, str], test_id: str, expiry_keys: tuple[str, ...]
) -> InventoryRecord:
    status_text = row.get(resolved["status"], "").strip()
    status: ExamStatus | str = _STATUSES.get(status_text.casefold(), status_text)
    assigned_text = row.get(resolved["assigned_to"], "")
    assigned: Mapping[str, Any] | None = None
    expires: date | None = None
    if assigned_text.strip():
        try:
            decoded = json.loads(assigned_text)
        except (ValueError, RecursionError):
            decoded = None
        if isinstance(decoded, dict):
            assigned = decoded
            for key in expiry_keys:
                if key in decoded:
                    expires = _parse_expiry(decoded[key])
                    if expires is not None:
                        break
    return InventoryRecord(
        test_id=test_id,
        test_type=row.get(resolved["test_type"], "").strip(),
        status=status,
        assigned_to_text=assigned_text,
        assigned_to=assigned,
        expires=expires,
        row=row,
    )
