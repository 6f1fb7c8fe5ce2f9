"""Real vendor calls from the terminal: ``examkit itep issue`` and ``examkit ia participants``.

Credentials come from the environment (the clients' ``from_env``). :data:`session_factory` makes the
:class:`requests.Session` the clients use; tests replace it to reach an in-process fake.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import IO, TYPE_CHECKING, Any, Final

from examkit.cli._common import EXIT_API, EXIT_FAILED, EXIT_OK, CliError, SecretSource
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
    from examkit.itep.client import ItepClient  # noqa: PLC0415
    from examkit.itep.models import ProductFamily, product_family  # noqa: PLC0415

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
        print(result.test_id, file=out)
        if family is ProductFamily.STX:
            print(f"iTEP e-mails the test ID to {args.email}", file=err)
        return EXIT_OK


def _assigned_to(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.candidate_id is None:
        return None
    if not args.email or not args.name:
        raise CliError("--candidate-id needs --email and --name (they fill iTEP's assigned-to)")
    return {"name": args.name, "email": args.email, "customer-candidate-id": args.candidate_id}


def _issue_csv(args: argparse.Namespace, client: Any, out: IO[str], err: IO[str]) -> int:
    from examkit.itep.bulk import BulkIssueInterrupted, read_candidates_csv  # noqa: PLC0415

    try:
        candidates = read_candidates_csv(args.csv)
    except ExamkitError as exc:
        raise CliError(f"{args.csv}: {exc}") from None
    if not candidates:
        raise CliError(f"{args.csv} has no candidates")
    target = args.output or "itep_outcomes.csv"
    try:
        report = client.issue_bulk(
            candidates,
            product_code=args.product_code,
            track=args.track,
            bcc=args.bcc,
            max_workers=args.workers,
            progress_bar=False if args.no_progress else err,
        )
    except BulkIssueInterrupted as exc:
        exc.report.write_csv(target)
        print(f"examkit: interrupted: {exc.report.summary()}; outcomes written to {target}", file=err)
        return 130
    try:
        report.write_csv(target)
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None
    print(report.summary(), file=out)
    for outcome in report.failed:
        where = f" [{outcome.error_field}]" if outcome.error_field else ""
        who = outcome.candidate.email or f"row {outcome.index + 1}"
        print(f"  {who}: failed{where}: {outcome.error_message}", file=out)
    print(f"outcomes written to {target}", file=out)
    if any(isinstance(o.error, ApiError) for o in report.failed):
        return EXIT_API
    return EXIT_FAILED if report.failed else EXIT_OK


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
    _write_rows(rows, args.format, out)
    print(f"{len(rows)} participant{'s' if len(rows) != 1 else ''} in course {args.course}", file=err)
    return EXIT_OK


def _write_rows(rows: list[dict[str, str]], fmt: str, out: IO[str]) -> None:
    if fmt == "json":
        json.dump(rows, out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=PARTICIPANT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        out.write(format_table(PARTICIPANT_COLUMNS, ([row[c] for c in PARTICIPANT_COLUMNS] for row in rows)))


def format_table(headings: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return a plain-text table: the headings, a rule, then one line per row, columns aligned."""
    data = [list(headings), *([_safe(c) for c in row] for row in rows)]
    widths = [max(len(r[i]) for r in data) for i in range(len(headings))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in data]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _safe(text: str) -> str:
    # A vendor value must not move the terminal's cursor or break the table.
    return "".join(c if c.isprintable() else "?" for c in text)
