"""Issue test IDs to a cohort: bounded concurrency, progress, at most one attempt per candidate.

:func:`issue_bulk` runs the client's fulfillment call for every candidate on a small thread pool.
Each candidate is attempted at most once (fulfillment calls are never retried: a retry could
allocate a second test ID), every candidate gets an outcome, in input order, even when the run is
interrupted, and the report can be written back to CSV next to the original columns (formula-safe).

The outcomes file is the only record of which test ID went to whom, so it is never replaced unless
asked (``overwrite=True``), and a run can resume from it: candidates already issued are skipped,
candidates where nothing can have been allocated are tried again, and candidates where a test ID
may have been allocated are listed for a person to check in the iTEP administration system.

Each worker thread uses its own copy of the client (:meth:`~examkit.itep.ItepClient.copy`, its own
:class:`requests.Session`), because a session's state is not documented as thread-safe.

From asyncio, :meth:`AsyncItepClient.issue_bulk <examkit.itep.client.AsyncItepClient.issue_bulk>` is
the twin: the same rules (from the same code here), tasks on one event loop under a semaphore.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import html
import importlib
import importlib.util
import io
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import IO, TYPE_CHECKING, Any, Final, Literal

import attrs

from examkit.core._checks import check_bool, check_choice, check_count, check_instance
from examkit.core._enums import StrEnum
from examkit.core._tabular import CSV_ENCODINGS, neutralize_formula, read_text, write_csv
from examkit.core.clock import parse_iso_date
from examkit.core.errors import (
    ApiError,
    ConfigurationError,
    ExamkitError,
    PayloadError,
    TransportError,
    ValidationError,
)
from examkit.itep.models import VENDOR, AssignedTo, FulfillmentRequest
from examkit.itep.registration import REGISTRATION_FIELDS, Registration

if TYPE_CHECKING:
    from examkit.itep.client import ItepClient
    from examkit.itep.models import FulfillmentResult

__all__ = [
    "BulkIssueInterrupted",
    "BulkOutcome",
    "BulkReport",
    "Candidate",
    "CandidateColumns",
    "OutcomeStatus",
    "issue_bulk",
    "read_candidates_csv",
]

logger = logging.getLogger("examkit.itep")

_MAX_WORKERS: Final = 32
_SHIELD_LIMIT: Final = 1000  # interrupts absorbed by one finishing step before giving up
_REGISTRATION_NAMES: Final = frozenset(REGISTRATION_FIELDS.values())
_DEFAULT_STOP_AFTER: Final = 3
OUTCOME_COLUMNS: Final = ("test_id", "status", "error", "error_field", "http_status", "allocated")
"""The columns :meth:`BulkReport.write_csv` adds after the candidate's own."""

Allocation = Literal["yes", "no", "maybe"]
"""Whether a test ID was allocated to a candidate: ``"yes"``, ``"no"`` (nothing can have been), or
``"maybe"`` (the request may have reached iTEP: check in the iTEP administration system)."""


class OutcomeStatus(StrEnum):
    """What happened to one candidate (the value is what the outcomes CSV's ``status`` column says)."""

    ISSUED = "issued"
    """A test ID was obtained (in this run, or in the earlier run it resumed)."""
    FAILED = "failed"
    """The attempt failed (see the outcome's error); it was not retried."""
    NOT_ATTEMPTED = "not_attempted"
    """Never sent: the run was interrupted, or stopped because iTEP could not be reached."""
    CHECK_IN_ITEP = "check_in_itep"
    """Not sent again: an earlier attempt may have allocated a test ID. A person checks the AVAILABLE
    TESTS panel of the iTEP administration system and records what they find."""
    VALID = "valid"
    """Dry run: the row is valid and this is what would be sent; nothing was sent."""


def _names(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(kw_only=True)
class CandidateColumns:
    """CSV headings for candidates; each is one name or several spellings (case-insensitive).

    Besides these, any column named exactly like an iTEP registration field (``First_Name``,
    ``Birthday``, ``Gender``...) is sent in ``registration``.

    Attributes:
        email: The candidate's e-mail (required for ``STX-`` codes).
        first_name: First name (used for ``assigned-to``).
        last_name: Last name (used for ``assigned-to``).
        name: A full name, when there are no first/last name columns.
        candidate_id: Your own candidate id (``assigned-to``'s ``customer-candidate-id``).
        product_code: A per-candidate product code (overrides the run's default).
        track: A per-candidate tracking code.
        bcc: A per-candidate copy address.
        expires: The assignment's expiry date (ISO ``YYYY-MM-DD``). A value that is not a date is
            reported on its row when the candidate is attempted.
    """

    email: str | tuple[str, ...] = ("email", "e-mail", "Email")
    first_name: str | tuple[str, ...] = ("first_name", "first name", "First_Name")
    last_name: str | tuple[str, ...] = ("last_name", "last name", "Last_Name")
    name: str | tuple[str, ...] = ("name", "full_name", "full name")
    candidate_id: str | tuple[str, ...] = ("candidate_id", "candidate id", "id")
    product_code: str | tuple[str, ...] = ("product_code", "product-code")
    track: str | tuple[str, ...] = ("track",)
    bcc: str | tuple[str, ...] = ("bcc",)
    expires: str | tuple[str, ...] = ("expires", "expire", "expiry")

    def pick(self, row: Mapping[str, str], setting: str) -> str | None:
        """Return the non-empty value of ``setting``'s column in ``row``, or ``None``."""
        items: list[tuple[object, object]] = list(row.items())
        folded = {k.strip().casefold(): v for k, v in items if isinstance(k, str)}
        for option in _names(getattr(self, setting)):
            value = folded.get(option.strip().casefold())
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None


def _expiry(value: date | str | None) -> date | str | None:
    """An ISO date text becomes a date; other text is kept (stripped) for the attempt to report."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return parse_iso_date(text)
    except ValueError:
        return text


@attrs.frozen(kw_only=True)
class Candidate:
    """One person to issue a test ID to.

    Attributes:
        email: The candidate's e-mail address.
        name: The candidate's name (for ``assigned-to``).
        candidate_id: Your own id; with a name and e-mail it fills ``assigned-to``.
        expires: An expiry date for the assignment. Text is read as an ISO date (``YYYY-MM-DD``);
            text that is not one is kept as given, and the candidate then fails with a
            :class:`~examkit.ValidationError` naming it, without anything being sent.
        product_code: Overrides the run's product code for this candidate.
        track: Overrides the run's tracking code.
        bcc: Overrides the run's copy address.
        assigned_to: An explicit ``assigned-to`` (instead of the one built from the fields above).
        registration: Registration fields (validated when the candidate is attempted).
        row: The CSV row it came from, written back with the outcome.
    """

    email: str | None = None
    name: str | None = None
    candidate_id: str | int | None = None
    expires: date | str | None = attrs.field(default=None, converter=_expiry)
    product_code: str | None = None
    track: str | None = None
    bcc: str | None = None
    # Mappings take no part in the hash (equality still uses them).
    assigned_to: AssignedTo | Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    registration: Registration | Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    row: Mapping[str, str] = attrs.field(factory=dict, repr=False, hash=False)

    @classmethod
    def from_row(cls, row: Mapping[str, str], columns: CandidateColumns | None = None) -> Candidate:
        """Build a candidate from a CSV row (see :class:`CandidateColumns`).

        An unreadable expiry date (in whichever column ``columns`` names) is kept for the attempt
        to report (the candidate then fails with a :class:`~examkit.ValidationError`),
        so reading a file never loses a row nor drops a date silently.
        """
        columns = columns or CandidateColumns()
        first = columns.pick(row, "first_name")
        last = columns.pick(row, "last_name")
        name = " ".join(p for p in (first, last) if p) or columns.pick(row, "name")
        registration = {k: v for k, v in row.items() if k in _REGISTRATION_NAMES and v}
        return cls(
            email=columns.pick(row, "email"),
            name=name or None,
            candidate_id=columns.pick(row, "candidate_id"),
            expires=columns.pick(row, "expires"),
            product_code=columns.pick(row, "product_code"),
            track=columns.pick(row, "track"),
            bcc=columns.pick(row, "bcc"),
            registration=registration or None,
            row=dict(row),
        )

    def request(
        self,
        *,
        product_code: str | None = None,
        track: str | None = None,
        bcc: str | None = None,
    ) -> FulfillmentRequest:
        """Build this candidate's fulfillment request (validated).

        Raises:
            ValidationError: No product code, or an invalid field.
        """
        code = self.product_code or product_code
        if not code:
            raise ValidationError(
                "no product code for this candidate: pass product_code= or add a product_code column",
                field="product-code",
                reason="missing",
                vendor=VENDOR,
            )
        expires = self.expires
        if isinstance(expires, str):
            raise ValidationError(
                f"expires {expires!r} is not an ISO date (YYYY-MM-DD)",
                field="assigned-to.expire",
                reason="not a date",
                vendor=VENDOR,
            )
        assigned = self.assigned_to
        if assigned is None and self.candidate_id is not None and self.email:
            assigned = AssignedTo(
                name=self.name or self.email,
                email=self.email,
                candidate_id=self.candidate_id,
                expires=expires,
            )
        return FulfillmentRequest(
            product_code=code,
            email=self.email,
            bcc=self.bcc or bcc,
            track=self.track or track,
            assigned_to=assigned,
            registration=self.registration,
        )


def _allocation(outcome: BulkOutcome) -> Allocation:  # noqa: PLR0911 - one answer per cause
    """Whether this outcome can have allocated a test ID (see :data:`Allocation`)."""
    status, error = outcome.status, outcome.error
    if status is OutcomeStatus.ISSUED:
        return "yes"
    if status in (OutcomeStatus.NOT_ATTEMPTED, OutcomeStatus.VALID):
        return "no"
    if status is OutcomeStatus.CHECK_IN_ITEP or error is None:
        return "maybe"
    if isinstance(error, TransportError):
        return "maybe" if error.may_have_been_sent else "no"
    if isinstance(error, ApiError):
        # An error answer that refuses the request (4xx) allocates nothing. A server failure (5xx)
        # or a success without a readable test ID may have allocated one: a person checks.
        code = error.status_code
        return "no" if code is not None and 400 <= code < 500 else "maybe"
    if isinstance(error, ExamkitError):
        return "no"  # a ValidationError or ConfigurationError: raised before anything was sent
    return "maybe"  # an unexpected error: it may have come after sending


@attrs.frozen(kw_only=True)
class BulkOutcome:
    """The result for one candidate.

    Attributes:
        index: The candidate's position in the input (0-based).
        candidate: The candidate.
        status: Issued, failed, not attempted, to check in iTEP, or valid (dry run).
        test_id: The test ID, when issued.
        error: The error, when failed (an examkit error, or whatever unexpected error occurred).
        http_status: The HTTP status of the answer, when there was one.
        note: What a person should know when there is no error object: why a row was not sent
            again (resumed runs), or what an earlier run reported.
        earlier: ``True`` when the outcome was carried over from the outcomes of an earlier run
            (nothing was sent for it in this run).
        body: Dry run only: the JSON body that would be sent (it holds no secret; the signature
            is made when sending).
        allocated: ``"yes"``, ``"no"`` (nothing can have been allocated, safe to send again) or
            ``"maybe"`` (check in the iTEP administration system first); worked out from the
            status and the error unless given.
    """

    index: int
    candidate: Candidate
    status: OutcomeStatus
    test_id: str | None = None
    error: BaseException | None = None
    http_status: int | None = None
    note: str | None = None
    earlier: bool = False
    body: str | None = attrs.field(default=None, repr=False)
    allocated: Allocation = attrs.field(default=attrs.Factory(_allocation, takes_self=True))

    @property
    def ok(self) -> bool:
        """Whether a test ID was issued."""
        return self.status is OutcomeStatus.ISSUED

    @property
    def error_message(self) -> str:
        """The error (or the note) as text; empty when there is neither."""
        if self.error is None:
            return self.note or ""
        return str(self.error) or type(self.error).__name__

    @property
    def error_field(self) -> str:
        """The field the error is about, when it names one."""
        field = getattr(self.error, "field", None)
        return field if isinstance(field, str) else ""

    def csv_row(self) -> dict[str, str]:
        """Return the candidate's own row plus the outcome columns.

        The outcome columns are ``test_id``, ``status``, ``error``, ``error_field``, ``http_status``
        and ``allocated``.
        """
        row = dict(self.candidate.row) or {
            "email": self.candidate.email or "",
            "name": self.candidate.name or "",
            "candidate_id": "" if self.candidate.candidate_id is None else str(self.candidate.candidate_id),
        }
        row.update(
            {
                "test_id": self.test_id or "",
                "status": self.status.value,
                "error": self.error_message,
                "error_field": self.error_field,
                "http_status": "" if self.http_status is None else str(self.http_status),
                "allocated": self.allocated,
            }
        )
        return row

    def to_record(self) -> dict[str, Any]:
        """Return this outcome as a plain dict: the candidate's columns, then the outcome's.

        Values are plain Python values with the vendor's spelling: ``status`` is the
        :class:`OutcomeStatus` value (``"issued"``), ``http_status`` an ``int`` or ``None``.
        """
        record: dict[str, Any] = dict(self.csv_row())
        record["http_status"] = self.http_status
        return record


@attrs.frozen(repr=False)
class BulkReport:
    """Every candidate's outcome, in input order.

    In a notebook the report shows as a table (``_repr_html_``, every value escaped);
    :meth:`to_records` and :meth:`to_pandas` give it to other tools.

    Attributes:
        outcomes: One outcome per candidate.
        stopped: Why the run stopped before trying every candidate (iTEP could not be reached),
            or ``None``.
        dry_run: ``True`` when nothing was sent (see :func:`issue_bulk`'s ``dry_run``).
    """

    outcomes: tuple[BulkOutcome, ...]
    stopped: str | None = attrs.field(default=None, kw_only=True)
    dry_run: bool = attrs.field(default=False, kw_only=True)

    def __repr__(self) -> str:
        # One line however large the cohort: the outcomes are in the table, the records, the CSV.
        return f"<BulkReport {self.summary()}>"

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[BulkOutcome]:
        return iter(self.outcomes)

    def _with(self, status: OutcomeStatus) -> list[BulkOutcome]:
        return [o for o in self.outcomes if o.status is status]

    @property
    def issued(self) -> list[BulkOutcome]:
        """The candidates who got a test ID (in this run or in the earlier run it resumed)."""
        return self._with(OutcomeStatus.ISSUED)

    @property
    def failed(self) -> list[BulkOutcome]:
        """The candidates whose attempt failed."""
        return self._with(OutcomeStatus.FAILED)

    @property
    def not_attempted(self) -> list[BulkOutcome]:
        """The candidates never sent (the run was interrupted or stopped)."""
        return self._with(OutcomeStatus.NOT_ATTEMPTED)

    @property
    def to_check(self) -> list[BulkOutcome]:
        """The candidates to check in the iTEP administration system before anything else.

        A test ID may have been allocated to them: by an earlier attempt whose answer never
        arrived, or by this run's attempt failing that way. They are never re-issued automatically.
        """
        return [
            o
            for o in self.outcomes
            if o.status is OutcomeStatus.CHECK_IN_ITEP
            or (o.status is OutcomeStatus.FAILED and o.allocated == "maybe")
        ]

    @property
    def valid(self) -> list[BulkOutcome]:
        """In a dry run, the candidates whose request is valid and would be sent."""
        return self._with(OutcomeStatus.VALID)

    @property
    def test_ids(self) -> list[str]:
        """The issued test IDs, in input order."""
        return [o.test_id for o in self.outcomes if o.test_id]

    def summary(self) -> str:
        """A one-line summary, e.g. ``"10 candidates: 8 issued, 2 failed"``."""
        if self.dry_run:
            text = f"{len(self)} candidates: {len(self.valid)} valid, {len(self.failed)} invalid"
        else:
            text = f"{len(self)} candidates: {len(self.issued)} issued, {len(self.failed)} failed"
        earlier = sum(1 for o in self.issued if o.earlier)
        if earlier:
            text += f" ({earlier} issued in an earlier run, not sent again)"
        checks = self._with(OutcomeStatus.CHECK_IN_ITEP)
        if checks:
            text += f", {len(checks)} to check in iTEP"
        if self.not_attempted:
            text += f", {len(self.not_attempted)} not attempted"
        if self.dry_run:
            text += " (dry run: nothing was sent)"
        if self.stopped:
            text += f"; stopped: {self.stopped}"
        return text

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per candidate, in input order (see :meth:`BulkOutcome.to_record`)."""
        return [o.to_record() for o in self.outcomes]

    def to_pandas(self) -> Any:
        """Return the outcomes as a :class:`pandas.DataFrame`, one row per candidate.

        The columns are those of :meth:`write_csv`. pandas is imported only here (install
        ``examkit[notebook]``).

        Raises:
            ConfigurationError: pandas is not installed.
        """
        try:
            pandas = importlib.import_module("pandas")
        except ImportError:
            raise ConfigurationError(
                "to_pandas() needs pandas: pip install 'examkit[notebook]'", setting="pandas", vendor=VENDOR
            ) from None
        return pandas.DataFrame.from_records(self.to_records(), columns=self._header())

    def _header(self) -> list[str]:
        header: list[str] = []
        for outcome in self.outcomes:
            for key in outcome.csv_row():
                if key not in header and key not in OUTCOME_COLUMNS:
                    header.append(key)
        header.extend(OUTCOME_COLUMNS)
        return header

    def _repr_html_(self) -> str:
        """An HTML table for notebooks: every candidate's outcome, every value escaped."""
        columns = ("#", "email", "name", "status", "test_id", "allocated", "error")
        head = "".join(f"<th>{c}</th>" for c in columns)
        rows = []
        for o in self.outcomes:
            cells = (
                str(o.index + 1),
                o.candidate.email or "",
                o.candidate.name or "",
                o.status.value,
                o.test_id or "",
                o.allocated,
                o.error_message,
            )
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        return (
            f'<table class="examkit-bulk-report"><caption>{html.escape(self.summary())}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def write_csv(
        self,
        destination: str | os.PathLike[str] | IO[str],
        *,
        overwrite: bool = False,
        neutralize_formulas: bool = True,
        encoding: str = "utf-8",
    ) -> None:
        """Write every outcome as CSV: the candidate's own columns, then the outcome columns.

        The outcomes file is the only record of which test ID went to whom, so an existing file
        is never replaced unless ``overwrite=True``.

        The file is meant for people and their spreadsheets, so by default a cell that a spreadsheet
        would run as a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
        is written with a ``'`` in front (OWASP's advice against CSV injection).

        Args:
            destination: A file path (created; replaced only with ``overwrite=True``) or a text
                stream.
            overwrite: Replace an existing file.
            neutralize_formulas: ``False`` writes every cell verbatim.
            encoding: ``"utf-8"`` (the default) or ``"utf-8-sig"``, which begins the file with a
                byte-order mark so that Excel shows non-ASCII names correctly.

        Raises:
            ConfigurationError: The file exists (and ``overwrite`` is not set) or cannot be
                written, or another encoding was asked for.
        """
        check_bool(overwrite, setting="overwrite", vendor=VENDOR)
        rows = [outcome.csv_row() for outcome in self.outcomes]
        options: dict[str, Any] = {"neutralize_formulas": neutralize_formulas, "vendor": VENDOR}
        if not isinstance(destination, str | os.PathLike):
            write_csv(destination, self._header(), rows, encoding=encoding, **options)
            return
        check_choice(encoding, CSV_ENCODINGS, setting="encoding", vendor=VENDOR)
        try:
            handle = open(destination, "w" if overwrite else "x", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            exists = isinstance(exc, FileExistsError)
            raise ConfigurationError(
                f"{os.fspath(destination)} already exists and may be the only record of test IDs "
                "already issued: write elsewhere, or pass overwrite=True to replace it"
                if exists
                else f"cannot write the CSV file: {exc.strerror or type(exc).__name__}",
                setting="destination",
                vendor=VENDOR,
            ) from None
        with handle:
            write_csv(handle, self._header(), rows, encoding=encoding, **options)

    @classmethod
    def read_csv(
        cls, source: str | os.PathLike[str] | IO[str], *, columns: CandidateColumns | None = None
    ) -> BulkReport:
        """Read an outcomes file written by :meth:`write_csv` (for resuming a run).

        Each row becomes an outcome marked ``earlier``: its candidate (the row's own columns), its
        status, test ID and whether a test ID may have been allocated. Files written before the
        ``allocated`` column existed are read too: a failure with an HTTP 4xx status or a field
        error allocated nothing, any other failure may have.

        Raises:
            PayloadError: The file cannot be read, is not CSV, or has no ``status`` column.
        """
        outcomes = []
        for index, row in enumerate(_csv_rows(source, "outcomes CSV")):
            if "status" not in row:
                raise PayloadError(
                    "the outcomes CSV has no status column: is it a file written by write_csv?",
                    reason="not an outcomes file",
                    vendor=VENDOR,
                )
            outcomes.append(_earlier_outcome(index, row, columns))
        return cls(tuple(outcomes))


def _earlier_outcome(index: int, row: Mapping[str, str], columns: CandidateColumns | None) -> BulkOutcome:
    own = {k: v for k, v in row.items() if k not in OUTCOME_COLUMNS}
    text = row.get("status", "").strip().lstrip("'")
    status = next((s for s in OutcomeStatus if s.value == text), OutcomeStatus.CHECK_IN_ITEP)
    code = row.get("http_status", "").strip()
    http_status = int(code) if code.isdigit() else None
    given = row.get("allocated", "").strip().casefold()
    allocated: Allocation
    if given in ("yes", "no", "maybe"):
        allocated = "yes" if given == "yes" else "no" if given == "no" else "maybe"
    elif status is OutcomeStatus.FAILED:
        refused = http_status is not None and 400 <= http_status < 500
        invalid = http_status is None and bool(row.get("error_field", "").strip())
        allocated = "no" if refused or invalid else "maybe"
    else:
        allocated = _allocation(BulkOutcome(index=index, candidate=Candidate(), status=status))
    return BulkOutcome(
        index=index,
        candidate=Candidate.from_row(own, columns),
        status=status,
        test_id=row.get("test_id", "").strip().lstrip("'") or None,
        http_status=http_status,
        note=row.get("error", "").strip() or None,
        earlier=True,
        allocated=allocated,
    )


class BulkIssueInterrupted(ExamkitError):  # noqa: N818 - reads as an event, like KeyboardInterrupt
    """The run was interrupted (Ctrl-C, or a ``BaseException`` from a worker or the progress callback).

    :attr:`report` holds every candidate's outcome. Candidates not yet started are
    ``NOT_ATTEMPTED`` and were never sent; the ones already running were allowed to finish (further
    interrupts meanwhile are absorbed), so no allocated test ID goes unrecorded.

    Attributes:
        report: The partial report.
    """

    def __init__(self, report: BulkReport) -> None:
        super().__init__(f"bulk issuance interrupted: {report.summary()}", vendor=VENDOR)
        self.report = report


ProgressCallback = Callable[[BulkOutcome, int, int], None]
"""Called in the calling thread after each candidate: ``(outcome, done, total)``."""


class _TextBar:
    """A tiny progress bar for terminals and notebooks, written to a text stream."""

    def __init__(self, total: int, stream: IO[str], width: int = 30) -> None:
        self._total = total
        self._stream = stream
        self._width = width
        self._failed = 0

    def update(self, outcome: BulkOutcome, done: int) -> None:
        if not outcome.ok:
            self._failed += 1
        filled = self._width * done // self._total if self._total else self._width
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(
            f"\r[{bar}] {done}/{self._total} issued {done - self._failed} failed {self._failed}"
        )
        self._stream.flush()

    def close(self) -> None:
        self._stream.write("\n")
        self._stream.flush()


class _TqdmBar:
    """``tqdm.auto``: a widget in Jupyter (with ipywidgets), a text bar in a terminal."""

    def __init__(self, total: int) -> None:
        from tqdm.auto import tqdm  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

        self._bar = tqdm(total=total, unit="candidate", desc="iTEP test IDs")

    def update(self, outcome: BulkOutcome, done: int) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def _make_bar(progress_bar: bool | IO[str], total: int) -> _TextBar | _TqdmBar | None:
    if progress_bar is False or progress_bar is None:
        return None
    if progress_bar is True:
        if importlib.util.find_spec("tqdm") is not None:
            return _TqdmBar(total)
        return _TextBar(total, sys.stderr)
    return _TextBar(total, progress_bar)


def _request_for(candidate: Candidate, defaults: Mapping[str, str | None]) -> FulfillmentRequest:
    return candidate.request(
        product_code=defaults["product_code"], track=defaults["track"], bcc=defaults["bcc"]
    )


def _failure(index: int, candidate: Candidate, exc: BaseException) -> BulkOutcome:
    status = exc.status_code if isinstance(exc, ApiError) else None
    return BulkOutcome(
        index=index, candidate=candidate, status=OutcomeStatus.FAILED, error=exc, http_status=status
    )


def _unexpected(index: int, candidate: Candidate, exc: Exception) -> BulkOutcome:
    """An error examkit does not raise itself: logged, and reported as the candidate's failure."""
    logger.exception("unexpected error while issuing a test ID to candidate %d", index)
    return _failure(index, candidate, exc)


def _issued(index: int, candidate: Candidate, result: FulfillmentResult) -> BulkOutcome:
    return BulkOutcome(
        index=index,
        candidate=candidate,
        status=OutcomeStatus.ISSUED,
        test_id=result.test_id,
        http_status=result.status_code,
    )


def _attempt(
    client: ItepClient,
    index: int,
    candidate: Candidate,
    defaults: Mapping[str, str | None],
) -> BulkOutcome:
    try:
        result = client.fulfil(_request_for(candidate, defaults))
    except ExamkitError as exc:
        return _failure(index, candidate, exc)
    except Exception as exc:
        return _unexpected(index, candidate, exc)
    return _issued(index, candidate, result)


def _dry_run(index: int, candidate: Candidate, defaults: Mapping[str, str | None]) -> BulkOutcome:
    try:
        request = _request_for(candidate, defaults)
    except ExamkitError as exc:
        return _failure(index, candidate, exc)
    return BulkOutcome(
        index=index,
        candidate=candidate,
        status=OutcomeStatus.VALID,
        body=request.body().decode("utf-8"),
        note=f"valid: would send {request.product_code}; nothing was sent (dry run)",
    )


def _key(candidate: Candidate) -> tuple[str, str]:
    """How a candidate is found again in an earlier run: its id, else its e-mail, else its row."""
    if candidate.candidate_id is not None and str(candidate.candidate_id).strip():
        return ("id", neutralize_formula(str(candidate.candidate_id).strip()).casefold())
    if candidate.email:
        return ("email", neutralize_formula(candidate.email.strip()).casefold())
    cells = sorted((k, neutralize_formula(v.strip())) for k, v in candidate.row.items() if v and v.strip())
    return ("row", repr(cells))


def _carry_over(index: int, candidate: Candidate, earlier: BulkOutcome) -> BulkOutcome | None:
    """The outcome an earlier run settles for good, or ``None`` when the candidate is tried again."""
    if earlier.status is OutcomeStatus.ISSUED:
        return BulkOutcome(
            index=index,
            candidate=candidate,
            status=OutcomeStatus.ISSUED,
            test_id=earlier.test_id,
            http_status=earlier.http_status,
            note="issued in an earlier run; not sent again",
            earlier=True,
        )
    if earlier.allocated == "no":
        return None
    was = f" (the earlier run said: {earlier.error_message})" if earlier.error_message else ""
    return BulkOutcome(
        index=index,
        candidate=candidate,
        status=OutcomeStatus.CHECK_IN_ITEP,
        test_id=earlier.test_id,
        http_status=earlier.http_status,
        note=(
            "not sent again: an earlier attempt may have allocated a test ID to this candidate"
            f"{was}. Check the AVAILABLE TESTS panel of the iTEP administration system and record "
            "what you find in the outcomes file"
        ),
        earlier=True,
        allocated="maybe",
    )


def _earlier(
    resume: BulkReport | str | os.PathLike[str] | IO[str] | None,
) -> dict[tuple[str, str], list[BulkOutcome]]:
    if resume is None:
        return {}
    report = resume if isinstance(resume, BulkReport) else BulkReport.read_csv(resume)
    found: dict[tuple[str, str], list[BulkOutcome]] = {}
    for outcome in report.outcomes:
        found.setdefault(_key(outcome.candidate), []).append(outcome)
    return found


def _prepare(
    candidates: Iterable[Candidate | Mapping[str, str]], columns: CandidateColumns | None
) -> list[Candidate]:
    prepared: list[Candidate] = []
    for item in candidates:
        if isinstance(item, Candidate):
            prepared.append(item)
        else:
            row: Mapping[str, str] = check_instance(
                item,
                Mapping,  # type: ignore[type-abstract]
                setting="candidates",
                vendor=VENDOR,
            )
            prepared.append(Candidate.from_row(row, columns))
    return prepared


class _StopRule:
    """Stop early when iTEP cannot be reached: ``stop_after`` transport failures in a row.

    Shared by the thread-pool and the asyncio runs; the caller serialises :meth:`record` calls.
    """

    def __init__(self, stop_after: int | None) -> None:
        self._stop_after = stop_after
        self._in_a_row = 0
        self.stopped: str | None = None

    def record(self, outcome: BulkOutcome, *, stopping: bool) -> bool:
        """Count ``outcome``; return ``True`` when the run must now stop starting candidates."""
        if isinstance(outcome.error, TransportError):
            self._in_a_row += 1
            limit = self._stop_after
            if limit is not None and self._in_a_row >= limit and not stopping and self.stopped is None:
                self.stopped = (
                    f"{self._in_a_row} transport failures in a row (iTEP cannot be reached); "
                    "the candidates not yet started were not attempted"
                )
                return True
        elif outcome.status is not OutcomeStatus.NOT_ATTEMPTED:
            self._in_a_row = 0
        return False


@attrs.define(kw_only=True)
class _Plan:
    """What a run starts from: every candidate, the outcomes already settled, and what to send."""

    prepared: list[Candidate]
    defaults: Mapping[str, str | None]
    outcomes: dict[int, BulkOutcome]
    todo: list[tuple[int, Candidate]]
    dry_run: bool

    def report(self, stopped: str | None = None) -> BulkReport:
        if self.dry_run:
            return BulkReport(tuple(self.outcomes[i] for i in range(len(self.prepared))), dry_run=True)
        return _build_report(self.prepared, self.outcomes, stopped)


def _plan(
    candidates: Iterable[Candidate | Mapping[str, str]],
    *,
    columns: CandidateColumns | None,
    resume: BulkReport | str | os.PathLike[str] | IO[str] | None,
    dry_run: bool,
    stop_after: int | None,
    defaults: Mapping[str, str | None],
) -> _Plan:
    """Check the run's settings, read the candidates and the earlier run, settle what needs no call.

    The one place the resume and dry-run rules are applied, for the sync and the async runs alike.
    """
    check_bool(dry_run, setting="dry_run", vendor=VENDOR)
    if stop_after is not None:
        check_count(stop_after, setting="stop_after", vendor=VENDOR, unit="failures")
    prepared = _prepare(candidates, columns)
    earlier = _earlier(resume)
    outcomes: dict[int, BulkOutcome] = {}
    todo: list[tuple[int, Candidate]] = []
    for i, c in enumerate(prepared):
        found = earlier.get(_key(c))
        settled = _carry_over(i, c, found.pop(0)) if found else None
        if settled is not None:
            outcomes[i] = settled
        elif dry_run:
            outcomes[i] = _dry_run(i, c, defaults)
        else:
            todo.append((i, c))
    return _Plan(prepared=prepared, defaults=defaults, outcomes=outcomes, todo=todo, dry_run=dry_run)


def issue_bulk(  # noqa: PLR0912, PLR0915 - validation, pool, and interruption handling in one place
    client: ItepClient,
    candidates: Iterable[Candidate | Mapping[str, str]],
    *,
    product_code: str | None = None,
    track: str | None = None,
    bcc: str | None = None,
    max_workers: int = 4,
    progress: ProgressCallback | None = None,
    progress_bar: bool | IO[str] = False,
    columns: CandidateColumns | None = None,
    resume: BulkReport | str | os.PathLike[str] | IO[str] | None = None,
    dry_run: bool = False,
    stop_after: int | None = _DEFAULT_STOP_AFTER,
) -> BulkReport:
    """Issue or send a test ID to every candidate, each attempted at most once.

    ``GTX-`` codes return the ID; ``STX-`` codes also make iTEP e-mail it. A candidate's own
    product code, tracking code and bcc override the run's.

    Interruption is safe: a ``KeyboardInterrupt`` (once or repeatedly, at any point of the run), or
    a ``SystemExit`` or other ``BaseException`` raised in a worker (for example by the client's
    ``sequence`` callable) or by ``progress``, stops the run. Candidates not yet started are never
    started and are reported ``NOT_ATTEMPTED``; calls already sent are waited for (each is bounded
    by the client's timeout), so every test ID iTEP allocated is in the report carried by
    :class:`BulkIssueInterrupted`. Each outcome is recorded by its worker the moment it is known, so
    no interrupt in the calling thread can lose it.

    Resuming: with ``resume`` (an earlier report, or the outcomes file it wrote), a candidate found
    there (by candidate id, else e-mail, else the whole row) who was issued a test ID keeps it and
    is not sent again; one where nothing can have been allocated (never attempted, the connection
    was refused, iTEP refused the request with a 4xx answer, the row was invalid) is tried again;
    one where a test ID may have been allocated (the request was sent but no answer arrived, a
    5xx answer, an answer without a readable test ID) is reported ``CHECK_IN_ITEP`` for a person to
    check in the iTEP administration system, and is never re-issued automatically.

    Args:
        client: The client whose settings (signature, endpoint, session) are used. Each worker
            thread gets its own :meth:`~examkit.itep.ItepClient.copy`.
        candidates: :class:`Candidate` objects, or CSV rows (mappings) read with ``columns``.
        product_code: The default product code.
        track: The default tracking code.
        bcc: The default copy address.
        max_workers: How many calls run at once (1 to 32).
        progress: Called in the calling thread after each candidate with
            ``(outcome, done, total)``. An exception it raises is logged and ignored, so that no
            outcome is lost; a ``KeyboardInterrupt`` or other ``BaseException`` interrupts the run.
        progress_bar: ``True`` shows a bar (``tqdm.auto`` when installed: a widget in Jupyter, a
            text bar in a terminal; else a plain text bar on stderr); a text stream shows the text
            bar there. A bar that fails to draw is turned off.
        columns: How to read candidates given as mappings.
        resume: The outcomes of an earlier run (a :class:`BulkReport`, or a path or text stream
            of the CSV that :meth:`BulkReport.write_csv` wrote).
        dry_run: Validate every candidate (registration rules, e-mail, product code) and build
            the body that would be sent, sending nothing: valid rows are ``VALID`` with their
            ``body``, invalid ones ``FAILED`` with the reason.
        stop_after: After this many transport failures in a row (iTEP cannot be reached: refused
            connections, timeouts), stop starting candidates: the rest are ``NOT_ATTEMPTED`` and
            :attr:`BulkReport.stopped` says why. ``None`` never stops. Default 3.

    Returns:
        A report with one outcome per candidate, in input order.

    Raises:
        ConfigurationError: A setting is out of range, or a candidate is not a candidate.
        PayloadError: The ``resume`` file cannot be read.
        BulkIssueInterrupted: The run was interrupted; the exception carries the full report.
    """
    check_count(max_workers, setting="max_workers", vendor=VENDOR, most=_MAX_WORKERS, unit="workers")
    plan = _plan(
        candidates,
        columns=columns,
        resume=resume,
        dry_run=dry_run,
        stop_after=stop_after,
        defaults={"product_code": product_code, "track": track, "bcc": bcc},
    )
    if dry_run:
        return plan.report()
    prepared, defaults, todo = plan.prepared, plan.defaults, plan.todo
    # Written only by the workers (and by the plan, before any starts), under ``state``, as each
    # outcome becomes known.
    outcomes = plan.outcomes

    total = len(todo)
    local = threading.local()
    state = threading.Condition()
    stop = threading.Event()  # once set (under ``state``), a candidate not yet started is never started
    interrupts: list[BaseException] = []
    rule = _StopRule(stop_after)
    running = 0  # workers inside an attempt; guarded by ``state``

    def work(index: int, candidate: Candidate) -> BulkOutcome:
        nonlocal running
        outcome = BulkOutcome(index=index, candidate=candidate, status=OutcomeStatus.NOT_ATTEMPTED)
        with state:
            if stop.is_set():  # set under the same lock: after it, no attempt can start
                outcomes[index] = outcome
                return outcome
            running += 1
        try:
            worker = getattr(local, "client", None)
            if worker is None:
                worker = client.copy()
                local.client = worker
            outcome = _attempt(worker, index, candidate, defaults)
        except Exception as exc:
            outcome = _unexpected(index, candidate, exc)
        except BaseException as exc:
            # SystemExit (or similar) from a callable such as the client's ``sequence``: keep the
            # outcome and stop the run.
            outcome = _failure(index, candidate, exc)
            with state:
                interrupts.append(exc)
                stop.set()
        finally:
            with state:
                outcomes[index] = outcome
                running -= 1
                if rule.record(outcome, stopping=stop.is_set()):
                    stop.set()
                state.notify_all()
        return outcome

    bar = _make_bar(progress_bar, total) if total else None
    bar_closed = False
    pool: concurrent.futures.ThreadPoolExecutor | None = None
    completed = False

    def finish(again: bool) -> tuple[BulkReport, BulkIssueInterrupted | None]:
        # Safe to run again after an interrupt: every step is idempotent.
        nonlocal bar_closed
        with state:
            stop.set()
        if again:
            logger.warning(
                "interrupted again: waiting for the iTEP calls already sent to finish (each within "
                "the client's timeout) so that every test ID they allocate is reported"
            )
        with state:
            # Wait for the calls in flight on our own count: Thread.join() is unreliable once a
            # KeyboardInterrupt has interrupted it (before Python 3.12 it may return at once).
            while running:
                state.wait(0.05)
        if pool is not None:
            pool.shutdown(wait=not again, cancel_futures=True)
        if bar is not None and not bar_closed:
            bar_closed = True
            with contextlib.suppress(Exception):
                bar.close()
        with state:
            snapshot = dict(outcomes)
        report = _build_report(prepared, snapshot, rule.stopped)
        if again or interrupts or not completed:
            error = BulkIssueInterrupted(report)
            error.__suppress_context__ = True
            return report, error
        return report, None

    try:
        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="examkit-itep"
        )
        futures: list[concurrent.futures.Future[BulkOutcome]] = []
        for i, c in todo:
            futures.append(pool.submit(work, i, c))
        done = 0
        for future in concurrent.futures.as_completed(futures):
            outcome = future.result()
            if outcome.status is OutcomeStatus.NOT_ATTEMPTED:
                continue
            done += 1
            if bar is not None and not bar_closed:
                try:
                    bar.update(outcome, done)
                except Exception:
                    logger.exception("the bulk progress bar failed; continuing without it")
                    bar_closed = True
            if progress is not None:
                try:
                    progress(outcome, done, total)
                except Exception:
                    logger.exception("the bulk progress callback raised; continuing")
        completed = True
    finally:
        # Whatever ended the loop (the last outcome, Ctrl-C, SystemExit...), the report is built, and
        # interrupts landing meanwhile (a second Ctrl-C) only make it start over.
        again = False
        tries = 0
        while True:
            try:
                report, error = finish(again)
                break
            except BaseException:
                again = True
                tries += 1
                if tries > _SHIELD_LIMIT:
                    raise
        if error is not None:
            raise error
    return report


def _build_report(
    prepared: list[Candidate], outcomes: Mapping[int, BulkOutcome], stopped: str | None = None
) -> BulkReport:
    """One outcome per candidate in input order; a candidate with none recorded was never started."""
    return BulkReport(
        tuple(
            outcomes.get(i) or BulkOutcome(index=i, candidate=c, status=OutcomeStatus.NOT_ATTEMPTED)
            for i, c in enumerate(prepared)
        ),
        stopped=stopped,
    )


def _csv_rows(source: str | os.PathLike[str] | IO[str], what: str) -> list[dict[str, str]]:
    text = read_text(source, what, vendor=VENDOR)
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise PayloadError(
            f"cannot read the {what}: {type(exc).__name__}", reason="not CSV", vendor=VENDOR
        ) from None
    clean = [{k.lstrip("\ufeff"): (v or "") for k, v in row.items() if isinstance(k, str)} for row in rows]
    return [row for row in clean if any(v.strip() for v in row.values())]


def read_candidates_csv(
    source: str | os.PathLike[str] | IO[str], *, columns: CandidateColumns | None = None
) -> list[Candidate]:
    """Read candidates from a CSV file with a header row (see :class:`CandidateColumns`).

    Every non-blank row becomes a candidate, even one with problems: those are reported when the
    candidate is attempted, so nothing is dropped silently.

    Raises:
        PayloadError: The file cannot be read or is not CSV.
        ValidationError: ``source`` is neither a path nor an open text file.
    """
    return [Candidate.from_row(row, columns) for row in _csv_rows(source, "candidates CSV")]
