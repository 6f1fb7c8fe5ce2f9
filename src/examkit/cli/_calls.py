"""Real vendor calls from the terminal: ``examkit itep issue`` and ``examkit ia participants`` (private).

Credentials come from the environment (the clients' ``from_env``). :data:`session_factory` makes the
:class:`requests.Session` the clients use; tests replace it to reach an in-process fake.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import IO, TYPE_CHECKING, Any, Final

from examkit.cli._common import EXIT_API, EXIT_FAILED, EXIT_OK, CliError, SecretSource
from examkit.core._tabular import terminal_safe, write_csv
from examkit.core.errors import ApiError, ConfigurationError, ExamkitError, ValidationError

if TYPE_CHECKING:
    import requests

__all__ = ["PARTICIPANT_COLUMNS", "ia_participants", "itep_issue", "session_factory"]


def _no_session() -> requests.Session | None:
    """Return ``None``: the client makes its own session (the default :data:`session_factory`)."""
    return None


session_factory: Callable[[], requests.Session | None] = _no_session
"""Returns the session the clients send through (``None``: a fresh one). Tests swap it for a fake's."""


def _environ(secrets: SecretSource, names: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in names:
        value = secrets.optional(name)
        if value:
            found[name] = value
    return found


def itep_issue(args: argparse.Namespace, secrets: SecretSource, out: IO[str], err: IO[str]) -> int:
    """Issue one test ID (options) or one per CSV row (``--csv``); return the exit code."""
    from examkit.itep import ItepClient, ProductFamily  # noqa: PLC0415
    from examkit.itep.models import product_family  # noqa: PLC0415

    secrets.require("EXAMKIT_ITEP_API_KEY", "the iTEP API key")
    if not args.signature_header:
        secrets.require("EXAMKIT_ITEP_SIGNATURE_HEADER", "the name of iTEP's signature header")
    environ = _environ(secrets, ("EXAMKIT_ITEP_API_KEY", "EXAMKIT_ITEP_SIGNATURE_HEADER"))
    settings: dict[str, Any] = {"session": session_factory()}
    if args.endpoint:
        settings["endpoint"] = args.endpoint
    try:
        client = ItepClient.from_env(signature_header=args.signature_header, environ=environ, **settings)
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None
    with client:
        if args.csv:
            return _issue_csv(args, client, out, err)
        if not args.product_code:
            raise CliError("--product-code is required (or give --csv with a product_code column)")
        if args.output:
            raise CliError("--output goes with --csv")
        try:
            family = product_family(args.product_code)
            call = client.send_test_id if family is ProductFamily.STX else client.issue_test_id
            result = call(
                product_code=args.product_code,
                email=args.email,
                bcc=args.bcc,
                track=args.track,
                assigned_to=_assigned_to(args),
            )
        except ValidationError as exc:
            raise CliError(str(exc)) from None
        print(terminal_safe(result.test_id or ""), file=out)
        if family is ProductFamily.STX:
            print(f"iTEP e-mails the test ID to {args.email}", file=err)
        return EXIT_OK


def _assigned_to(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.candidate_id is None:
        return None
    if not args.email or not args.name:
        raise CliError("--candidate-id needs --email and --name (they fill iTEP's assigned-to)")
    return {"name": args.name, "email": args.email, "customer-candidate-id": args.candidate_id}


class _InterruptGuard:
    """While issuing from a CSV: the first Ctrl-C stops the run, later ones cannot lose the outcomes.

    The first SIGINT raises ``KeyboardInterrupt`` as usual, so the run stops starting candidates;
    every later one (and any once :meth:`shield` was called) only prints a note, so that the calls
    already sent are waited for and the outcomes file is written. Installed in the main thread only.
    """

    def __init__(self, err: IO[str], target: str) -> None:
        self._err = err
        self._target = target
        self._shielded = False
        self.interrupted = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def shield(self) -> None:
        self._shielded = True

    def _handle(self, signum: int, frame: object) -> None:
        first = not self.interrupted
        self.interrupted = True
        if first and not self._shielded:
            raise KeyboardInterrupt
        with contextlib.suppress(Exception):  # a note only; never break the writing under way
            print(
                "examkit: interrupted again: waiting for the calls already sent (they may allocate "
                f"test IDs), then writing the outcomes to {self._target}",
                file=self._err,
                flush=True,
            )


def _issue_csv(  # noqa: PLR0912, PLR0915 - one place for the run, its interruption and its record
    args: argparse.Namespace, client: Any, out: IO[str], err: IO[str]
) -> int:
    from examkit.itep import (  # noqa: PLC0415
        BulkIssueInterrupted,
        BulkOutcome,
        BulkReport,
        OutcomeStatus,
        read_candidates_csv,
    )

    try:
        candidates = read_candidates_csv(args.csv)
    except ExamkitError as exc:
        raise CliError(f"{args.csv}: {exc}") from None
    if not candidates:
        raise CliError(f"{args.csv} has no candidates")
    dry_run = bool(getattr(args, "dry_run", False))
    force = bool(getattr(args, "force", False))
    target = args.output or "itep_outcomes.csv"
    if not dry_run and not force and os.path.exists(target):
        # Checked before anything is sent: the outcomes must have somewhere to go.
        raise CliError(
            f"{target} already exists and may be the only record of test IDs already issued: choose "
            "another --output, resume from it with --resume, or pass --force to replace it"
        )
    earlier: BulkReport | None = None
    if getattr(args, "resume", None):
        try:
            earlier = BulkReport.read_csv(args.resume)
        except ExamkitError as exc:
            raise CliError(f"{args.resume}: {exc}") from None
    stop_after = getattr(args, "stop_after", 3)
    options: dict[str, Any] = {
        "product_code": args.product_code,
        "track": args.track,
        "bcc": args.bcc,
        "max_workers": args.workers,
        "resume": earlier,
        "dry_run": dry_run,
        "stop_after": stop_after or None,
    }
    if dry_run:
        try:
            report = client.issue_bulk(candidates, **options)
        except ConfigurationError as exc:
            raise CliError(str(exc)) from None
        return _show_dry_run(report, out)
    known: dict[int, BulkOutcome] = {}

    def record(outcome: BulkOutcome, done: int, total: int) -> None:
        known[outcome.index] = outcome

    report = None
    interrupted = False
    write_error: ConfigurationError | None = None
    with _InterruptGuard(err, target) as guard:
        try:
            report = client.issue_bulk(
                candidates,
                progress=record,
                progress_bar=False if args.no_progress else err,
                **options,
            )
        except BulkIssueInterrupted as exc:
            report = exc.report
            interrupted = True
        except KeyboardInterrupt:
            interrupted = True
        except ConfigurationError as exc:
            raise CliError(str(exc)) from None
        finally:
            guard.shield()
            if report is None:
                # The interrupt came outside the run's own handling (the run had finished, or not
                # yet started): every outcome it produced went through ``record``.
                report = BulkReport(
                    tuple(
                        known.get(i) or BulkOutcome(index=i, candidate=c, status=OutcomeStatus.NOT_ATTEMPTED)
                        for i, c in enumerate(candidates)
                    )
                )
            try:
                report.write_csv(
                    target,
                    overwrite=force,
                    neutralize_formulas=not getattr(args, "keep_formulas", False),
                    encoding="utf-8-sig" if getattr(args, "excel", False) else "utf-8",
                )
            except ConfigurationError as exc:
                write_error = exc
                # The outcomes are the only record of the test IDs issued: never lose them.
                with contextlib.suppress(Exception):
                    report.write_csv(out, neutralize_formulas=not getattr(args, "keep_formulas", False))
        interrupted = interrupted or guard.interrupted
    if write_error is not None:
        raise CliError(f"{write_error}; the outcomes were printed above instead, keep them")
    if interrupted:
        print(
            f"examkit: interrupted: {report.summary()}; outcomes written to {terminal_safe(target)}",
            file=err,
        )
        return 130
    return _show_outcomes(report, target, out)


def _who(outcome: Any) -> str:
    return terminal_safe(outcome.candidate.email or f"row {outcome.index + 1}")


def _show_dry_run(report: Any, out: IO[str]) -> int:
    for outcome in report:
        if outcome.body is not None:
            print(f"  {_who(outcome)}: would send {terminal_safe(outcome.body)}", file=out)
        else:
            where = f" [{terminal_safe(outcome.error_field)}]" if outcome.error_field else ""
            print(f"  {_who(outcome)}: invalid{where}: {terminal_safe(outcome.error_message)}", file=out)
    print(report.summary(), file=out)
    return EXIT_FAILED if report.failed else EXIT_OK


def _show_outcomes(report: Any, target: str, out: IO[str]) -> int:
    from examkit.itep import OutcomeStatus  # noqa: PLC0415

    print(report.summary(), file=out)
    for outcome in report.failed:
        where = f" [{terminal_safe(outcome.error_field)}]" if outcome.error_field else ""
        print(f"  {_who(outcome)}: failed{where}: {terminal_safe(outcome.error_message)}", file=out)
    checks = report.to_check
    if checks:
        print(
            f"{len(checks)} to check in the iTEP administration system (AVAILABLE TESTS panel) before "
            "issuing again; a test ID may have been allocated to:",
            file=out,
        )
        for outcome in checks:
            print(f"  {_who(outcome)}", file=out)
    if report.not_attempted:
        print(
            f"{len(report.not_attempted)} not attempted: nothing was sent for them; run again with "
            f"--resume {terminal_safe(target)} to try them",
            file=out,
        )
    print(f"outcomes written to {terminal_safe(target)}", file=out)
    if report.stopped or any(isinstance(o.error, ApiError) for o in report.failed):
        return EXIT_API
    failed = report.failed or any(o.status is OutcomeStatus.CHECK_IN_ITEP for o in report)
    return EXIT_FAILED if failed else EXIT_OK


PARTICIPANT_COLUMNS: Final = (
    "participant_identifier",
    "first_name",
    "last_name",
    "email",
    "status",
    "override_status",
    "modified",
)
"""The columns ``examkit ia participants`` shows, in order."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def ia_participants(args: argparse.Namespace, secrets: SecretSource, out: IO[str], err: IO[str]) -> int:
    """List a course's participants as a table, JSON or CSV; return the exit code."""
    from examkit.integrity_advocate.client import IntegrityAdvocateClient  # noqa: PLC0415
    from examkit.integrity_advocate.signing import validate_app_id  # noqa: PLC0415

    app_id = secrets.require("EXAMKIT_IA_APP_ID", "the Integrity Advocate App Id")
    api_key = secrets.require("EXAMKIT_IA_API_KEY", "the Integrity Advocate API key")
    settings: dict[str, Any] = {"session": session_factory()}
    if args.base_url:
        settings["base_url"] = args.base_url
    if args.max_pages is not None:
        settings["max_pages"] = args.max_pages
    try:
        validate_app_id(app_id, setting="EXAMKIT_IA_APP_ID")
        client = IntegrityAdvocateClient(app_id=app_id, api_key=api_key, **settings)
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None
    with client:
        try:
            rows = [
                {column: _cell(getattr(p, column)) for column in PARTICIPANT_COLUMNS}
                for p in client.iter_participants(args.course, page_size=args.page_size)
            ]
        except ValidationError as exc:
            raise CliError(str(exc)) from None
    _write_rows(rows, args, out)
    print(f"{len(rows)} participant{'s' if len(rows) != 1 else ''} in course {args.course}", file=err)
    return EXIT_OK


def _write_rows(rows: list[dict[str, str]], args: argparse.Namespace, out: IO[str]) -> None:
    # Vendor text reaches a terminal here: no raw control character or escape sequence may pass.
    fmt = args.format
    if fmt == "json":
        out.write(_json_safe(json.dumps(rows, indent=2, ensure_ascii=False)))
        out.write("\n")
    elif fmt == "csv":
        write_csv(
            out,
            PARTICIPANT_COLUMNS,
            ({c: terminal_safe(row[c]) for c in PARTICIPANT_COLUMNS} for row in rows),
            neutralize_formulas=not getattr(args, "keep_formulas", False),
            encoding="utf-8-sig" if getattr(args, "excel", False) else "utf-8",
            line_terminator="\n",
        )
    else:
        out.write(format_table(PARTICIPANT_COLUMNS, ([row[c] for c in PARTICIPANT_COLUMNS] for row in rows)))


def _json_safe(text: str) -> str:
    # json leaves DEL, C1 controls (U+009B is a one-byte CSI) and format characters raw; escape them.
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\n" else _json_escape(c) for c in text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def format_table(headings: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    r"""Return a plain-text table: the headings, a rule, then one line per row, columns aligned.

    Non-printable characters are shown escaped (``\x1b``), so a vendor value cannot move the
    terminal's cursor or break the table.
    """
    data = [list(headings), *([terminal_safe(c) for c in row] for row in rows)]
    widths = [max(len(r[i]) for r in data) for i in range(len(headings))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in data]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
