"""Issue test IDs to a cohort: bounded concurrency, progress, at most one attempt per candidate.

:func:`issue_bulk` runs the client's fulfillment call for every candidate on a small thread pool.
Each candidate is attempted at most once (fulfillment calls are never retried: a retry could
allocate a second test ID), every candidate gets an outcome, in input order, even when the run is
interrupted, and the report can be written back to CSV next to the original columns (formula-safe).
Each worker thread uses its own :class:`requests.Session` (a copy of the client's settings and
adapters), because a session's state is not documented as thread-safe.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import enum
import importlib.util
import io
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import IO, TYPE_CHECKING, Any, Final

import attrs

from examkit.core._tabular import read_text, write_csv
from examkit.core.clock import parse_iso_date
from examkit.core.errors import (
    ApiError,
    ConfigurationError,
    ExamkitError,
    PayloadError,
    ValidationError,
)
from examkit.itep.models import VENDOR, AssignedTo, FulfillmentRequest
from examkit.itep.registration import REGISTRATION_FIELDS, Registration

if TYPE_CHECKING:
    from examkit.itep.client import ItepClient

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
OUTCOME_COLUMNS: Final = ("test_id", "status", "error", "error_field", "http_status")
"""The columns :meth:`BulkReport.write_csv` adds after the candidate's own."""


class OutcomeStatus(enum.Enum):
    """What happened to one candidate."""

    ISSUED = "issued"
    """A test ID was obtained."""
    FAILED = "failed"
    """The attempt failed (see the outcome's error); it was not retried."""
    NOT_ATTEMPTED = "not_attempted"
    """The run was interrupted before this candidate was tried."""


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
        expires: The assignment's expiry date (ISO ``YYYY-MM-DD``).
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


@attrs.frozen(kw_only=True)
class Candidate:
    """One person to issue a test ID to.

    Attributes:
        email: The candidate's e-mail address.
        name: The candidate's name (for ``assigned-to``).
        candidate_id: Your own id; with a name and e-mail it fills ``assigned-to``.
        expires: An expiry date for the assignment.
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
    expires: date | None = None
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

        An unreadable expiry date is kept for the attempt to report (the candidate then fails with
        a :class:`~examkit.core.errors.ValidationError`), so reading a file never loses a row.
        """
        columns = columns or CandidateColumns()
        first = columns.pick(row, "first_name")
        last = columns.pick(row, "last_name")
        name = " ".join(p for p in (first, last) if p) or columns.pick(row, "name")
        registration = {k: v for k, v in row.items() if k in _REGISTRATION_NAMES and v}
        expires_text = columns.pick(row, "expires")
        return cls(
            email=columns.pick(row, "email"),
            name=name or None,
            candidate_id=columns.pick(row, "candidate_id"),
            expires=_iso_date(expires_text),
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
        expires_text = CandidateColumns().pick(self.row, "expires") if self.row else None
        if expires_text and self.expires is None:
            raise ValidationError(
                f"expires {expires_text!r} is not an ISO date (YYYY-MM-DD)",
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
                expires=self.expires,
            )
        return FulfillmentRequest(
            product_code=code,
            email=self.email,
            bcc=self.bcc or bcc,
            track=self.track or track,
            assigned_to=assigned,
            registration=self.registration,
        )


def _iso_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return parse_iso_date(text)
    except ValueError:
        return None


@attrs.frozen(kw_only=True)
class BulkOutcome:
    """The result for one candidate.

    Attributes:
        index: The candidate's position in the input (0-based).
        candidate: The candidate.
        status: Issued, failed, or not attempted.
        test_id: The test ID, when issued.
        error: The error, when failed (an examkit error, or whatever unexpected error occurred).
        http_status: The HTTP status of the answer, when there was one.
    """

    index: int
    candidate: Candidate
    status: OutcomeStatus
    test_id: str | None = None
    error: BaseException | None = None
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        """Whether a test ID was issued."""
        return self.status is OutcomeStatus.ISSUED

    @property
    def error_message(self) -> str:
        """The error as text (empty when none)."""
        if self.error is None:
            return ""
        return str(self.error) or type(self.error).__name__

    @property
    def error_field(self) -> str:
        """The field the error is about, when it names one."""
        field = getattr(self.error, "field", None)
        return field if isinstance(field, str) else ""

    def csv_row(self) -> dict[str, str]:
        """Return the candidate's own row plus the outcome columns."""
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
            }
        )
        return row


@attrs.frozen
class BulkReport:
    """Every candidate's outcome, in input order.

    Attributes:
        outcomes: One outcome per candidate.
    """

    outcomes: tuple[BulkOutcome, ...]

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[BulkOutcome]:
        return iter(self.outcomes)

    @property
    def issued(self) -> list[BulkOutcome]:
        """The candidates who got a test ID."""
        return [o for o in self.outcomes if o.status is OutcomeStatus.ISSUED]

    @property
    def failed(self) -> list[BulkOutcome]:
        """The candidates whose attempt failed."""
        return [o for o in self.outcomes if o.status is OutcomeStatus.FAILED]

    @property
    def not_attempted(self) -> list[BulkOutcome]:
        """The candidates not tried because the run was interrupted."""
        return [o for o in self.outcomes if o.status is OutcomeStatus.NOT_ATTEMPTED]

    @property
    def test_ids(self) -> list[str]:
        """The issued test IDs, in input order."""
        return [o.test_id for o in self.outcomes if o.test_id]

    def summary(self) -> str:
        """A one-line summary, e.g. ``"10 candidates: 8 issued, 2 failed"``."""
        text = f"{len(self)} candidates: {len(self.issued)} issued, {len(self.failed)} failed"
        if self.not_attempted:
            text += f", {len(self.not_attempted)} not attempted"
        return text

    def write_csv(
        self,
        destination: str | os.PathLike[str] | IO[str],
        *,
        neutralize_formulas: bool = True,
        encoding: str = "utf-8",
    ) -> None:
        """Write every outcome as CSV: the candidate's own columns, then :data:`OUTCOME_COLUMNS`.

        The file is meant for people and their spreadsheets, so by default a cell that a spreadsheet
        would run as a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
        is written with a ``'`` in front (OWASP's advice against CSV injection).

        Args:
            destination: A file path (created or replaced) or a text stream.
            neutralize_formulas: ``False`` writes every cell verbatim.
            encoding: ``"utf-8"`` (the default) or ``"utf-8-sig"``, which begins the file with a
                byte-order mark so that Excel shows non-ASCII names correctly.

        Raises:
            ConfigurationError: The file cannot be written, or another encoding was asked for.
        """
        header: list[str] = []
        rows = [outcome.csv_row() for outcome in self.outcomes]
        for row in rows:
            for key in row:
                if key not in header and key not in OUTCOME_COLUMNS:
                    header.append(key)
        header.extend(OUTCOME_COLUMNS)
        write_csv(
            destination,
            header,
            rows,
            neutralize_formulas=neutralize_formulas,
            encoding=encoding,
            vendor=VENDOR,
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
    def __init__(self, total: int) -> None:
        import tqdm  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

        self._bar = tqdm.tqdm(total=total, unit="candidate")

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


def _attempt(
    client: ItepClient,
    index: int,
    candidate: Candidate,
    defaults: Mapping[str, str | None],
) -> BulkOutcome:
    try:
        request = candidate.request(
            product_code=defaults["product_code"], track=defaults["track"], bcc=defaults["bcc"]
        )
        result = client.fulfil(request)
    except ExamkitError as exc:
        status = exc.status_code if isinstance(exc, ApiError) else None
        return BulkOutcome(
            index=index,
            candidate=candidate,
            status=OutcomeStatus.FAILED,
            error=exc,
            http_status=status,
        )
    except Exception as exc:
        logger.exception("unexpected error while issuing a test ID to candidate %d", index)
        return BulkOutcome(index=index, candidate=candidate, status=OutcomeStatus.FAILED, error=exc)
    return BulkOutcome(
        index=index,
        candidate=candidate,
        status=OutcomeStatus.ISSUED,
        test_id=result.test_id,
        http_status=result.status_code,
    )


def _build_report(prepared: list[Candidate], outcomes: Mapping[int, BulkOutcome]) -> BulkReport:
    """One outcome per candidate in input order; a candidate with none recorded was never started."""
    return BulkReport(
        tuple(
            outcomes.get(i) or BulkOutcome(index=i, candidate=c, status=OutcomeStatus.NOT_ATTEMPTED)
            for i, c in enumerate(prepared)
        )
    )


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

    Args:
        client: The client whose settings (signature, endpoint, session) are used. Each worker
            thread gets a copy on its own session.
        candidates: :class:`Candidate` objects, or CSV rows (mappings) read with ``columns``.
        product_code: The default product code.
        track: The default tracking code.
        bcc: The default copy address.
        max_workers: How many calls run at once (1 to 32).
        progress: Called in the calling thread after each candidate with
            ``(outcome, done, total)``. An exception it raises is logged and ignored, so that no
            outcome is lost; a ``KeyboardInterrupt`` or other ``BaseException`` interrupts the run.
        progress_bar: ``True`` shows a bar on stderr (``tqdm`` when installed, else a text bar);
            a text stream shows the text bar there. A bar that fails to draw is turned off.
        columns: How to read candidates given as mappings.

    Returns:
        The report: one outcome per candidate, in input order.

    Raises:
        ConfigurationError: ``max_workers`` is out of range, or a candidate is not a candidate.
        BulkIssueInterrupted: The run was interrupted; the exception carries the full report.
    """
    if isinstance(max_workers, bool) or not isinstance(max_workers, int):
        raise ConfigurationError("max_workers must be an integer", setting="max_workers", vendor=VENDOR)
    if not 1 <= max_workers <= _MAX_WORKERS:
        raise ConfigurationError(
            f"max_workers must be between 1 and {_MAX_WORKERS}",
            setting="max_workers",
            vendor=VENDOR,
        )
    prepared: list[Candidate] = []
    for item in candidates:
        if isinstance(item, Candidate):
            prepared.append(item)
        elif isinstance(item, Mapping):
            prepared.append(Candidate.from_row(item, columns))
        else:
            raise ConfigurationError(
                f"candidates must be Candidate objects or CSV rows, not {type(item).__name__}",
                setting="candidates",
                vendor=VENDOR,
            )
    total = len(prepared)
    defaults = {"product_code": product_code, "track": track, "bcc": bcc}
    local = threading.local()
    # Written only by the workers, under ``state``, as each outcome becomes known.
    outcomes: dict[int, BulkOutcome] = {}
    state = threading.Condition()
    stop = threading.Event()  # once set (under ``state``), a candidate not yet started is never started
    interrupts: list[BaseException] = []

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
                worker = client._worker_copy()
                local.client = worker
            outcome = _attempt(worker, index, candidate, defaults)
        except Exception as exc:
            logger.exception("unexpected error while issuing a test ID to candidate %d", index)
            outcome = BulkOutcome(index=index, candidate=candidate, status=OutcomeStatus.FAILED, error=exc)
        except BaseException as exc:
            # SystemExit (or similar) from a callable such as the client's ``sequence``: keep the
            # outcome and stop the run.
            outcome = BulkOutcome(index=index, candidate=candidate, status=OutcomeStatus.FAILED, error=exc)
            with state:
                interrupts.append(exc)
                stop.set()
        finally:
            with state:
                outcomes[index] = outcome
                running -= 1
                state.notify_all()
        return outcome

    bar = _make_bar(progress_bar, total)
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
        report = _build_report(prepared, snapshot)
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
        for i, c in enumerate(prepared):
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
    text = read_text(source, "candidates CSV", vendor=VENDOR)
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise PayloadError(
            f"cannot read the candidates CSV: {type(exc).__name__}", reason="not CSV", vendor=VENDOR
        ) from None
    candidates: list[Candidate] = []
    for row in rows:
        clean = {k.lstrip("\ufeff"): (v or "") for k, v in row.items() if isinstance(k, str)}
        if any(v.strip() for v in clean.values()):
            candidates.append(Candidate.from_row(clean, columns))
    return candidates
