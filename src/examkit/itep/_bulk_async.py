"""Bulk issuance from asyncio code: :meth:`examkit.itep.AsyncItepClient.issue_bulk`.

The twin of :func:`examkit.itep.issue_bulk`, with the same rules from the same code (the
resume and dry-run plan, the outcome of each error, the stop-early rule, the report and its CSV);
only the way the calls are run differs: tasks on one event loop, at most ``concurrency`` in flight
at once (an :class:`asyncio.Semaphore`), over the client's one ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable, Mapping
from typing import IO, TYPE_CHECKING, Final

from examkit.core._checks import check_count
from examkit.core.errors import ExamkitError
from examkit.itep.bulk import (
    _DEFAULT_STOP_AFTER,
    _SHIELD_LIMIT,
    BulkIssueInterrupted,
    BulkOutcome,
    BulkReport,
    Candidate,
    CandidateColumns,
    OutcomeStatus,
    ProgressCallback,
    _build_report,
    _failure,
    _issued,
    _make_bar,
    _plan,
    _request_for,
    _StopRule,
    _unexpected,
    logger,
)
from examkit.itep.models import VENDOR

if TYPE_CHECKING:
    from examkit.itep.client import AsyncItepClient

__all__: list[str] = []

_MAX_CONCURRENCY: Final = 256


async def _attempt(
    client: AsyncItepClient, index: int, candidate: Candidate, defaults: Mapping[str, str | None]
) -> BulkOutcome:
    try:
        result = await client.fulfil(_request_for(candidate, defaults))
    except ExamkitError as exc:
        return _failure(index, candidate, exc)
    except Exception as exc:
        return _unexpected(index, candidate, exc)
    return _issued(index, candidate, result)


async def issue_bulk_async(  # noqa: PLR0912, PLR0915 - tasks and interruption handling in one place
    client: AsyncItepClient,
    candidates: Iterable[Candidate | Mapping[str, str]],
    *,
    product_code: str | None = None,
    track: str | None = None,
    bcc: str | None = None,
    concurrency: int = 8,
    progress: ProgressCallback | None = None,
    progress_bar: bool | IO[str] = False,
    columns: CandidateColumns | None = None,
    resume: BulkReport | str | os.PathLike[str] | IO[str] | None = None,
    dry_run: bool = False,
    stop_after: int | None = _DEFAULT_STOP_AFTER,
) -> BulkReport:
    """See :meth:`examkit.itep.AsyncItepClient.issue_bulk`."""
    check_count(concurrency, setting="concurrency", vendor=VENDOR, most=_MAX_CONCURRENCY, unit="calls")
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
    outcomes, defaults, todo = plan.outcomes, plan.defaults, plan.todo
    total = len(todo)
    limit = asyncio.Semaphore(concurrency)
    rule = _StopRule(stop_after)
    interrupts: list[BaseException] = []
    stopping = False  # once set, a candidate not yet started is never started

    async def work(index: int, candidate: Candidate) -> BulkOutcome:
        nonlocal stopping
        outcome = BulkOutcome(index=index, candidate=candidate, status=OutcomeStatus.NOT_ATTEMPTED)
        async with limit:
            if stopping:
                return outcome
            try:
                outcome = await _attempt(client, index, candidate, defaults)
            except asyncio.CancelledError as exc:
                # examkit never cancels these tasks; whoever did means it. The call may have been
                # sent: the outcome says so (allocated "maybe").
                outcomes[index] = _failure(index, candidate, exc)
                stopping = True
                raise
            except BaseException as exc:
                # SystemExit (or similar) from a callable such as the client's ``sequence``: keep
                # the outcome and stop the run.
                outcome = _failure(index, candidate, exc)
                interrupts.append(exc)
                stopping = True
            outcomes[index] = outcome
            if rule.record(outcome, stopping=stopping):
                stopping = True
        return outcome

    bar = _make_bar(progress_bar, total) if total else None
    bar_closed = False
    tasks = [asyncio.ensure_future(work(i, c)) for i, c in todo]
    completed = False
    cause: BaseException | None = None
    try:
        done = 0
        for next_done in asyncio.as_completed(tasks):
            outcome = await next_done
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
    except BaseException as exc:
        # Cancelled (``task.cancel()``, a timeout, Ctrl-C under ``asyncio.run``), or a
        # BaseException from ``progress``: start nothing more, let the calls in flight finish.
        cause = exc
    finally:
        stopping = True
        # Tasks still waiting for the semaphore see ``stopping`` and end without a call; the ones
        # inside a call are waited for (each bounded by the client's timeout), so every test ID
        # they allocate is reported. Cancellations landing meanwhile are absorbed.
        tries = 0
        while True:
            try:
                pending = [t for t in tasks if not t.done()]
                if pending:
                    await asyncio.wait(pending)
                break
            except BaseException:
                tries += 1
                if tries > _SHIELD_LIMIT:
                    raise
                logger.warning(
                    "interrupted again: waiting for the iTEP calls already sent to finish (each "
                    "within the client's timeout) so that every test ID they allocate is reported"
                )
        for task in tasks:  # retrieve every result so that none is logged as never retrieved
            if not task.cancelled():
                with contextlib.suppress(BaseException):
                    task.result()
        if bar is not None and not bar_closed:
            with contextlib.suppress(Exception):
                bar.close()
    report = _build_report(plan.prepared, outcomes, rule.stopped)
    if interrupts or not completed:
        error = BulkIssueInterrupted(report)
        if cause is not None:
            raise error from cause
        raise error
    return report
