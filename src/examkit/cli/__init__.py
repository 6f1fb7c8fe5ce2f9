"""The ``examkit`` command line.

Commands: ``demo`` (an offline tour), ``verify <vendor>`` (check a captured webhook and say why it
fails), ``sign <vendor>`` (a signed webhook and a curl line for testing a receiver), ``itep issue`` and
``ia participants`` (real vendor calls). Secrets come from environment variables or a prompt, never
from the command line unless ``--insecure-secret`` is given, and are never printed.

Exit codes: 0 success; 1 a check failed (a webhook does not verify, a demo step or a candidate
failed); 2 bad usage or configuration; 3 a vendor API call failed (error answer, timeout, no
connection); 130 interrupted; 141 the output was closed early (``examkit demo | head -1``).
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import sys
import time
from collections.abc import Sequence
from typing import IO, Any, TextIO

from examkit._version import __version__
from examkit.cli._common import (
    EXIT_API,
    EXIT_FAILED,  # noqa: F401 - documented exit codes, kept importable
    EXIT_OK,
    EXIT_PIPE,
    EXIT_USAGE,
    VENDORS,
    CliError,
    SecretSource,
    curl_command,
    default_stdin,
    is_interactive,
    parse_header_lines,
    parse_overrides,
    read_body,
    terminal_lines,
    terminal_safe,
)
from examkit.core._exports import lazy_exports, publish
from examkit.core.clock import DEFAULT_TOLERANCE

__all__ = ["main"]


def _secret_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--insecure-secret",
        action="append",
        metavar="NAME=VALUE",
        help="give a credential variable on the command line (it may land in your shell history; "
        "prefer the environment)",
    )


def _vendor_options(parser: argparse.ArgumentParser, *, signing: bool) -> None:
    parser.add_argument("vendor", choices=list(VENDORS), help="the vendor (ia = integrity-advocate)")
    parser.add_argument(
        "--body",
        metavar="FILE",
        help="the body file ('-' for standard input)"
        + ("; default: a sample payload" if signing else "; default: empty"),
    )
    parser.add_argument("--url", help="the URL the vendor called (signed by Integrity Advocate)")
    parser.add_argument("--method", help="the HTTP method (default POST)")
    itep = parser.add_argument_group("iTEP")
    itep.add_argument(
        "--auth",
        choices=["hmac", "token", "basic"] + ([] if signing else ["fulfillment"]),
        help="how the webhook is authenticated (default: guessed from which EXAMKIT_ITEP_WEBHOOK_* is set)",
    )
    itep.add_argument(
        "--auth-header",
        metavar="NAME",
        help="the header with the token or signature (hmac default: $EXAMKIT_ITEP_SIGNATURE_HEADER)",
    )
    itep.add_argument("--prefix", help="text before the token or signature in the header, e.g. 'Bearer '")
    if not signing:
        itep.add_argument("--encoding", choices=["hex", "base64"], default="hex", help="the digest encoding")
    assessio = parser.add_argument_group("Assessio")
    assessio.add_argument("--api-key-header", metavar="NAME", help="the header with the integrator-api-key")
    assessio.add_argument("--bearer", action="store_true", help="the key is sent as 'Bearer <key>'")
    assessio.add_argument(
        "--require-signature",
        action="store_true",
        help="check (or, when signing, add) the Signature header with EXAMKIT_ASSESSIO_INTEGRATOR_SECRET",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``examkit`` command."""
    parser = argparse.ArgumentParser(
        prog="examkit",
        description="Sign and verify requests for iTEP, Integrity Advocate, Assessio and Testpress.",
        epilog="Vendors: itep, integrity-advocate (also ia, integrity_advocate), assessio, testpress. "
        "Exit codes: 0 ok, 1 a check failed, 2 usage or configuration, 3 vendor API or transport "
        "failure, 130 interrupted, 141 output closed early. Reference: docs/cli.md.",
    )
    parser.add_argument("--version", action="version", version=f"examkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run an offline tour of every feature against built-in fake vendors",
        description="Run an offline tour of examkit against its built-in fake vendors. No network is used.",
    )
    demo.add_argument(
        "--only",
        choices=["core", *VENDORS],
        help="run one section only: core or a vendor (ia = integrity-advocate)",
    )

    verify = commands.add_parser(
        "verify",
        help="check a captured webhook and explain why it does or does not verify",
        description="Check a captured webhook with the vendor's verifier and show the signed string "
        "(secrets masked), the variants tried and the timestamp skew.",
    )
    _vendor_options(verify, signing=False)
    verify.add_argument(
        "-H",
        "--header",
        dest="headers",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="a request header (repeat for each)",
    )
    verify.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help=f"allowed clock skew in seconds ({DEFAULT_TOLERANCE:g})",
    )
    verify.add_argument("--now", type=float, help="check as of this Unix time (default: now)")
    _secret_options(verify)

    sign = commands.add_parser(
        "sign",
        help="print a correctly signed webhook and a curl command, for testing your receiver",
        description="Print a correctly signed webhook request (headers and body) and a curl command.",
    )
    _vendor_options(sign, signing=True)
    sign.add_argument("--timestamp", type=int, help="sign at this Unix time (default: now)")
    sign.add_argument("--nonce", help="the amx nonce (Integrity Advocate; default: random)")
    sign.add_argument("--body-out", metavar="FILE", help="write the body here; curl reads it from the file")
    _secret_options(sign)

    itep = commands.add_parser("itep", help="iTEP calls").add_subparsers(dest="action", metavar="ACTION")
    itep.required = True
    issue = itep.add_parser(
        "issue",
        help="issue a test ID (one candidate, or every row of --csv)",
        description="Issue iTEP test IDs: one from the options, or one per row of --csv (with a progress "
        "bar, outcomes written to --output). Fulfillment calls are never retried.",
    )
    issue.add_argument("--product-code", help="e.g. GTX-Academic-Plus (STX- codes make iTEP e-mail the ID)")
    issue.add_argument("--email", help="the candidate's e-mail")
    issue.add_argument("--name", help="the candidate's name (for assigned-to)")
    issue.add_argument("--candidate-id", help="your id for the candidate (fills assigned-to)")
    issue.add_argument("--track", help="your tracking code")
    issue.add_argument("--bcc", help="a copy address")
    issue.add_argument("--csv", metavar="FILE", help="a CSV of candidates (see docs/itep.md)")
    issue.add_argument(
        "--output",
        metavar="FILE",
        help="the outcomes CSV (default itep_outcomes.csv); an existing file is replaced only with --force",
    )
    issue.add_argument(
        "--force", action="store_true", help="replace an existing --output file (it may be the only record)"
    )
    issue.add_argument(
        "--resume",
        metavar="OUTCOMES",
        help="the outcomes CSV of an earlier run: skip candidates already issued, retry only those where "
        "nothing can have been allocated, list the others to check in iTEP",
    )
    issue.add_argument(
        "--dry-run",
        action="store_true",
        help="validate every row and print what would be sent; send nothing",
    )
    issue.add_argument(
        "--stop-after",
        type=int,
        default=3,
        metavar="N",
        help="stop after N transport failures in a row (iTEP unreachable); the rest is not attempted "
        "(default 3; 0 never stops)",
    )
    issue.add_argument("--workers", type=int, default=4, help="parallel calls for --csv (default 4)")
    issue.add_argument("--no-progress", action="store_true", help="no progress bar")
    _csv_options(issue, "the outcomes CSV")
    issue.add_argument("--endpoint", help="the fulfillment URL (default: iTEP's)")
    issue.add_argument("--signature-header", help="default: $EXAMKIT_ITEP_SIGNATURE_HEADER")
    _secret_options(issue)

    ia_names = [name for name, vendor in VENDORS.items() if vendor == "integrity-advocate"]
    ia = commands.add_parser(
        "ia", aliases=[name for name in ia_names if name != "ia"], help="Integrity Advocate calls"
    ).add_subparsers(dest="action", metavar="ACTION")
    ia.required = True
    participants = ia.add_parser(
        "participants",
        help="list a course's participants",
        description="List a course's participants as a table, JSON or CSV.",
    )
    participants.add_argument("--course", required=True, help="the course id")
    participants.add_argument("--format", choices=["table", "json", "csv"], default="table")
    participants.add_argument("--page-size", type=int, help="rows per request, 1 to 10")
    participants.add_argument("--max-pages", type=int, help="stop after this many pages")
    participants.add_argument("--base-url", help="the API host (default: Integrity Advocate's)")
    _csv_options(participants, "--format csv")
    _secret_options(participants)
    return parser


def _csv_options(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--keep-formulas",
        action="store_true",
        help=f"write cells of {what} verbatim (by default a cell beginning with = + - @ gets a ' in front)",
    )
    command.add_argument(
        "--excel",
        action="store_true",
        help=f"begin {what} with a UTF-8 byte-order mark, so that Excel reads names correctly",
    )


def _secrets(args: argparse.Namespace, stdin: IO[bytes] | None, err: IO[str]) -> SecretSource:
    return SecretSource(
        overrides=parse_overrides(args.insecure_secret, err),
        interactive=is_interactive(stdin, getattr(args, "body", None) == "-"),
    )


def _verify_command(args: argparse.Namespace, stdin: IO[bytes] | None, out: IO[str], err: IO[str]) -> int:
    from examkit.cli._verify import verify_request  # noqa: PLC0415
    from examkit.core.errors import ValidationError  # noqa: PLC0415
    from examkit.core.webhook import WebhookRequest  # noqa: PLC0415

    vendor = VENDORS[args.vendor]
    secrets = _secrets(args, stdin, err)
    body = read_body(args.body, stdin)
    headers = parse_header_lines(args.headers)
    try:
        request = WebhookRequest(body=body, headers=headers, url=args.url, method=args.method or "POST")
    except ValidationError as exc:
        raise CliError(str(exc)) from None
    now = time.time() if args.now is None else args.now
    print(
        terminal_safe(
            f"examkit verify {vendor}: {request.method} {request.url or '(no URL)'}, body {len(body)} bytes"
        ),
        file=out,
    )
    report = verify_request(vendor, args, request, secrets, now)
    report.render(out)
    return report.code


def _sign(args: argparse.Namespace, stdin: IO[bytes] | None, out: IO[str], err: IO[str]) -> int:
    from examkit.cli._signed import sign_request  # noqa: PLC0415

    vendor = VENDORS[args.vendor]
    secrets = _secrets(args, stdin, err)
    signed = sign_request(vendor, args, secrets, stdin)
    if args.body_out:
        try:
            with open(args.body_out, "wb") as handle:
                handle.write(signed.body)
        except OSError as exc:
            raise CliError(f"cannot write {args.body_out}: {exc.strerror or type(exc).__name__}") from None
    curl = curl_command(
        method=signed.method,
        url=signed.url,
        headers=signed.headers,
        body=signed.body,
        body_file=args.body_out,
        extra=signed.curl_extra,
    )
    if terminal_lines(curl) != curl:
        # The curl line must be pasted as printed; escaping would change what it sends.
        raise CliError(
            "the request holds control characters that a terminal would act on: pass --body-out FILE "
            "so that curl sends the body from the file (and keep them out of --url, --nonce and headers)"
        )
    print(terminal_safe(f"{signed.method} {signed.url}"), file=out)
    for name, value in signed.headers:
        print(terminal_safe(f"{name}: {value}"), file=out)
    print(file=out)
    print(terminal_lines(signed.body.decode("utf-8", "backslashreplace")), file=out)
    print(file=out)
    print(curl, file=out)
    missing = [name for name in signed.env_refs if not secrets.from_environment(name)]
    if missing:
        print(f"examkit: note: export {', '.join(missing)} before running the curl command", file=err)
    return EXIT_OK


def _run(args: argparse.Namespace, stdin: IO[bytes] | None, out: IO[str], err: IO[str]) -> int:
    if args.command == "verify":
        return _verify_command(args, stdin, out, err)
    if args.command == "sign":
        return _sign(args, stdin, out, err)
    from examkit.cli import _calls as calls  # noqa: PLC0415

    secrets = _secrets(args, stdin, err)
    if args.command == "itep":
        return calls.itep_issue(args, secrets, out, err)
    if VENDORS.get(args.command) == "integrity-advocate":
        return calls.ia_participants(args, secrets, out, err)
    raise CliError(f"unknown command {args.command!r}")  # pragma: no cover - argparse refuses it first


def main(argv: Sequence[str] | None = None, *, stdin: Any = None) -> int:
    """Run the ``examkit`` command and return its exit code.

    A closed output stream (``examkit demo | head -1``) ends the command quietly with
    ``EXIT_PIPE`` (141); standard output and standard error are then pointed at the null device,
    so that the interpreter's final flush does not fail again.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
        stdin: The binary standard input (default: ``sys.stdin.buffer``), for ``--body -``.
    """
    try:
        try:
            code = _main(argv, stdin, _stream(sys.stdout), _stream(sys.stderr))
        finally:
            # Flush here, not at exit (also after --help's SystemExit): buffered output meeting a
            # closed pipe must fail inside this handler, not in the interpreter's last flush.
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:  # None: started with that descriptor closed
                    stream.flush()
    except BrokenPipeError:
        _silence_closed_streams()
        return EXIT_PIPE
    return code


def _flushes(stream: IO[str]) -> bool:
    try:
        stream.flush()
    except (OSError, ValueError):
        return False
    return True


def _silence_closed_streams() -> None:
    """Point the closed standard streams at the null device (the Python docs' recipe for SIGPIPE).

    A stream whose pipe is closed still holds what it could not write, so flushing it fails again:
    that tells which one it is (standard output when neither does). A stream that is not a real file
    (a test's capture) is left alone.
    """
    closed = [stream for stream in (sys.stdout, sys.stderr) if stream is not None and not _flushes(stream)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in closed or [sys.stdout]:
            try:
                fd = stream.fileno()
            except (AttributeError, OSError, ValueError):
                continue
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class _ClosedStream(io.StringIO):
    """Stands for a standard stream the process was started without (``2>&-``): it is closed."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "the stream was closed when examkit started")


def _stream(stream: TextIO | None) -> TextIO:
    return _ClosedStream() if stream is None else stream


def _main(  # noqa: PLR0911 - one exit per cause
    argv: Sequence[str] | None, stdin: Any, out: TextIO, err: TextIO
) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return EXIT_USAGE
    from examkit.core.errors import ApiError, ExamkitError  # noqa: PLC0415

    try:
        if args.command == "demo":
            from examkit.demo import run  # noqa: PLC0415

            only = args.only if args.only in (None, "core") else VENDORS[args.only].replace("-", "_")
            return run(out, only=only)
        return _run(args, default_stdin() if stdin is None else stdin, out, err)
    except CliError as exc:
        print(terminal_safe(f"examkit: error: {exc}"), file=err)
        return exc.code
    except ApiError as exc:
        print(terminal_safe(f"examkit: error: {type(exc).__name__}: {exc}"), file=err)
        return EXIT_API
    except ExamkitError as exc:
        print(terminal_safe(f"examkit: error: {type(exc).__name__}: {exc}"), file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("examkit: interrupted", file=err)
        return 130


_LAZY: dict[str, str] = {}
__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
