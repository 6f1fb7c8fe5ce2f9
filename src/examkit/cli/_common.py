"""What the ``examkit`` sub-commands share: exit codes, secrets, request input and report output."""

from __future__ import annotations

import getpass
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Final

import attrs

from examkit.core._tabular import terminal_safe
from examkit.core.diagnosis import Diagnosis, Outcome

__all__ = [
    "EXIT_API",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "SECRET_VARIABLES",
    "SETTING_VARIABLES",
    "VENDORS",
    "CliError",
    "Report",
    "SecretSource",
    "curl_command",
    "default_stdin",
    "is_interactive",
    "parse_header_lines",
    "parse_overrides",
    "preview",
    "read_body",
    "shell_expanded",
    "terminal_lines",
    "terminal_safe",
]

EXIT_OK: Final = 0
"""The command did what was asked (a webhook verified, a call succeeded)."""
EXIT_FAILED: Final = 1
"""A check failed: the webhook does not verify, or some candidates were refused."""
EXIT_USAGE: Final = 2
"""Bad usage or configuration: an unknown option, a missing or malformed secret or setting."""
EXIT_API: Final = 3
"""A vendor API call failed: an error answer, a timeout, no connection."""
EXIT_PIPE: Final = 141
"""The output stream was closed early (``examkit demo | head -1``): 128 + SIGPIPE, as a shell reports it."""

VENDORS: Final = {
    "itep": "itep",
    "integrity-advocate": "integrity-advocate",
    "integrity_advocate": "integrity-advocate",
    "ia": "integrity-advocate",
    "assessio": "assessio",
    "testpress": "testpress",
}
"""Every spelling of a vendor name the commands accept, and the vendor it names.

``demo --only``, ``verify``, ``sign`` and the ``ia`` command group all take the same spellings."""

SECRET_VARIABLES: Final = (
    "EXAMKIT_ITEP_API_KEY",
    "EXAMKIT_ITEP_WEBHOOK_TOKEN",
    "EXAMKIT_ITEP_WEBHOOK_PASSWORD",
    "EXAMKIT_ITEP_WEBHOOK_SECRET",
    "EXAMKIT_IA_API_KEY",
    "EXAMKIT_ASSESSIO_PROVIDER_KEY",
    "EXAMKIT_ASSESSIO_INTEGRATOR_SECRET",
    "EXAMKIT_ASSESSIO_API_KEY",
    "EXAMKIT_TESTPRESS_PRIVATE_KEY",
)
"""Environment variables that hold secrets: never printed, prompted for without echo."""

SETTING_VARIABLES: Final = (
    "EXAMKIT_ITEP_SIGNATURE_HEADER",
    "EXAMKIT_ITEP_WEBHOOK_USERNAME",
    "EXAMKIT_IA_APP_ID",
    "EXAMKIT_TESTPRESS_PUBLIC_KEY",
)
"""Environment variables that hold settings which are not secret (they may be shown)."""


class CliError(Exception):
    """Stops a command with one line on stderr and an exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class SecretSource:
    """Where the commands take credentials from: the environment, a prompt, or (on request) argv.

    Args:
        environ: The environment (``os.environ`` by default).
        overrides: Values given with ``--insecure-secret NAME=VALUE``.
        interactive: Whether a missing value may be asked for (stdin is a terminal and not the body).
        prompt: Asks for a value without echoing it (:func:`getpass.getpass` by default).
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, str] | None = None,
        interactive: bool = False,
        prompt: Callable[[str], str] | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._overrides = dict(overrides or {})
        self._interactive = interactive
        self._prompt = prompt or _getpass
        self._asked: dict[str, str] = {}

    def optional(self, name: str) -> str | None:
        """Return the value of ``name`` from argv overrides or the environment, never prompting."""
        value = self._overrides.get(name) or self._environ.get(name) or self._asked.get(name)
        return value or None

    def from_environment(self, name: str) -> bool:
        """Tell whether ``name`` is set in the environment (so ``$NAME`` works in a shell command)."""
        return bool(self._environ.get(name))

    def require(self, name: str, what: str) -> str:
        """Return the value of ``name``; prompt for it on a terminal.

        Raises:
            CliError: It is not set and cannot be asked for (exit code 2).
        """
        value = self.optional(name)
        if value:
            return value
        if self._interactive:
            try:
                value = self._prompt(f"{what} ({name}): ")
            except (EOFError, KeyboardInterrupt):
                value = ""
            if value:
                self._asked[name] = value
                return value
        raise CliError(
            f"{name} is not set: export it ({what}); examkit asks for it only when run in a terminal"
        )


def _getpass(prompt: str) -> str:
    # Looked up at call time, so a test can replace getpass.getpass.
    return getpass.getpass(prompt)


def parse_overrides(values: Sequence[str] | None, stderr: IO[str]) -> dict[str, str]:
    """Read ``--insecure-secret NAME=VALUE`` options (warning once that argv is not private).

    Raises:
        CliError: A value is not ``NAME=VALUE`` with a known variable name.
    """
    result: dict[str, str] = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in SECRET_VARIABLES + SETTING_VARIABLES:
            raise CliError(
                "--insecure-secret takes NAME=VALUE where NAME is one of "
                + ", ".join(SECRET_VARIABLES + SETTING_VARIABLES)
            )
        result[name] = value
    if result:
        print(
            "examkit: warning: secrets given on the command line can end up in your shell history "
            "and the process list; prefer environment variables",
            file=stderr,
        )
    return result


def read_body(path: str | None, stdin: IO[bytes] | None) -> bytes:
    """Read the request body from a file, or from stdin for ``-``; empty when no path is given.

    Raises:
        CliError: The file cannot be read.
    """
    if path is None:
        return b""
    if path == "-":
        if stdin is None:
            raise CliError("--body - needs a body on standard input")
        return stdin.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CliError(f"cannot read the body file {path}: {exc.strerror or type(exc).__name__}") from None


def parse_header_lines(lines: Iterable[str]) -> list[tuple[str, str]]:
    """Read ``-H 'Name: value'`` options into pairs (the value keeps inner spaces, not outer ones).

    Raises:
        CliError: A line has no ``:`` or an empty name.
    """
    pairs: list[tuple[str, str]] = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise CliError(f"a header must be given as 'Name: value', got {preview(line, 40)!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def preview(text: str, limit: int = 160) -> str:
    """Return ``text`` cut to ``limit`` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def terminal_lines(text: str) -> str:
    """Return multi-line text with each line passed through :func:`terminal_safe` (newlines kept)."""
    return "\n".join(terminal_safe(line) for line in text.split("\n"))


@attrs.define
class Report:
    """What ``examkit verify`` prints: the verdict, the checks, the signed strings and hints."""

    vendor: str
    checks: list[tuple[str, str]] = attrs.field(factory=list)
    sections: list[tuple[str, list[str]]] = attrs.field(factory=list)
    hints: list[str] = attrs.field(factory=list)
    verdict: str = ""
    code: int = EXIT_FAILED

    def render(self, out: IO[str]) -> None:
        """Write the report."""
        print(f"result: {terminal_safe(self.verdict)}", file=out)
        if self.checks:
            print("checks:", file=out)
            for mark, text in self.checks:
                print(f"  [{mark}]{' ' * (4 - len(mark))} {terminal_safe(text)}", file=out)
        for title, lines in self.sections:
            print(f"{terminal_safe(title)}:", file=out)
            for line in lines:
                print(f"  {terminal_safe(line)}", file=out)
        if self.hints and self.code != EXIT_OK:
            print("hints:", file=out)
            for text in self.hints:
                print(f"  - {terminal_safe(text)}", file=out)


def report_from(diagnosis: Diagnosis) -> Report:
    """The CLI's report of a library :class:`~examkit.core.Diagnosis` (its exit code too)."""
    report = Report(diagnosis.vendor)
    report.checks = [(check.mark, check.text) for check in diagnosis.checks]
    report.sections = [(section.title, list(section.lines)) for section in diagnosis.sections]
    report.hints = list(diagnosis.hints)
    report.verdict = diagnosis.verdict
    report.code = {
        Outcome.OK: EXIT_OK,
        Outcome.FAILED: EXIT_FAILED,
        Outcome.CANNOT_VERIFY: EXIT_USAGE,
    }[diagnosis.outcome]
    return report


def shell_expanded(text: str) -> str:
    """Double-quote ``text`` for a POSIX shell so that its ``$EXAMKIT_...`` references expand."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    return f'"{escaped}"'


def curl_command(
    *,
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    body_file: str | None,
    extra: Sequence[str] = (),
) -> str:
    """Return a curl command line sending exactly this request.

    Header values holding ``$EXAMKIT_...`` references (secrets kept in the environment) are left for
    the shell to expand; everything else is single-quoted. ``extra`` arguments are added as they are
    (already quoted). The body is sent with ``--data-binary`` from ``body_file``, or inline.
    """
    parts = ["curl", "--fail-with-body", "-sS", "-X", method, shlex.quote(url), *extra]
    for name, value in headers:
        if "$EXAMKIT_" in value:
            parts += ["-H", shell_expanded(f"{name}: {value}")]
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body_file is not None:
        parts += ["--data-binary", shlex.quote("@" + body_file)]
    elif body:
        parts += ["--data-binary", shlex.quote(body.decode("utf-8", "replace"))]
    return " ".join(parts)


def is_interactive(stdin: IO[bytes] | IO[str] | None, body_from_stdin: bool) -> bool:
    """Whether secrets may be prompted for: stdin is a terminal and does not carry the body."""
    if body_from_stdin or stdin is None:
        return False
    try:
        return bool(stdin.isatty())
    except (AttributeError, ValueError):
        return False


def default_stdin() -> IO[bytes] | None:
    """Return the binary standard input, if there is one."""
    return getattr(sys.stdin, "buffer", None)
