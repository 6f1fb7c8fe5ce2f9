"""The command as a process: closed pipes, vendor-name spellings, and suggestions the CLI can take.

The pipe tests run ``python -m examkit`` with its standard output (or error) a real pipe that is closed
early, the way ``examkit demo | head -1`` closes it.
"""

from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import hmac
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import examkit.cli
from examkit.cli import build_parser, main

F_SETPIPE_SZ: int | None = (
    getattr(__import__("fcntl"), "F_SETPIPE_SZ", None) if sys.platform == "linux" else None
)
PIPE_SIZE = 4096
CLI_SOURCES = sorted(Path(examkit.cli.__file__).parent.glob("*.py"))

IA_APP_ID = "00000000-1111-2222-3333-444444444444"
IA_API_KEY = base64.b64encode(bytes(range(32))).decode()
NOW = 1_700_000_000


def child_environment(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("EXAMKIT_")}
    return {**env, **extra}


def run_with_stdout_closed_after_one_line(
    argv: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[bytes]:
    """Run the command into a small pipe, read its first line, close the pipe, collect stderr."""
    read_end, write_end = os.pipe()
    try:
        import fcntl

        # A one-page pipe: the command has more than a page left to write when the reader is gone.
        assert F_SETPIPE_SZ is not None
        fcntl.fcntl(write_end, F_SETPIPE_SZ, PIPE_SIZE)
        process = subprocess.Popen(
            [sys.executable, "-m", "examkit", *argv],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
        )
    finally:
        os.close(write_end)
    first = b""
    for _ in range(100_000):  # bounded: one line
        chunk = os.read(read_end, 1)
        first += chunk
        if not chunk or chunk == b"\n":
            break
    os.close(read_end)
    _, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, first, stderr)


def long_ia_request(tmp_path: Path) -> list[str]:
    """A verify run whose report is several pages long (every URL form of a long query is listed)."""
    url = "https://hooks.example.com/ia/callback?" + "&".join(f"field{n}=value{n}" for n in range(150))
    message = f"{IA_APP_ID}POSThttps%3a%2f%2fhooks.example.com%2fia%2fcallback{NOW}n-1".encode()
    signature = base64.b64encode(hmac.new(bytes(range(32)), message, hashlib.sha256).digest()).decode()
    body = tmp_path / "body"
    body.write_bytes(b'{"ParticipantIdentifier":"p-1","Course_Id":"c-1","Status":"Valid"}')
    header = f"Authorization: amx {IA_APP_ID}:{signature}:n-1:{NOW}"
    return ["verify", "ia", "--body", str(body), "--url", url, "-H", header, "--now", str(NOW)]


@pytest.mark.skipif(F_SETPIPE_SZ is None, reason="needs Linux pipes of a settable size")
@pytest.mark.parametrize("command", ["demo", "verify"])
def test_closed_stdout_ends_quietly_with_exit_141(command: str, tmp_path: Path) -> None:
    env = child_environment(EXAMKIT_IA_APP_ID=IA_APP_ID, EXAMKIT_IA_API_KEY=IA_API_KEY)
    argv = ["demo"] if command == "demo" else long_ia_request(tmp_path)
    complete = subprocess.run(
        [sys.executable, "-m", "examkit", *argv], capture_output=True, env=env, check=False, timeout=60
    )
    assert len(complete.stdout) > 2 * PIPE_SIZE  # the pipe must fill up for the test to mean anything
    result = run_with_stdout_closed_after_one_line(argv, env)
    assert result.stdout.endswith(b"\n")
    assert result.stderr == b""  # no "Traceback", no "Exception ignored ... BrokenPipeError"
    assert result.returncode == 141


def test_closed_stderr_ends_quietly_with_exit_141() -> None:
    # No Testpress keys are set: the command writes one error line to stderr, which is closed.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "examkit", "verify", "testpress"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=write_end,
            env=child_environment(),
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert b"Traceback" not in result.stdout


@pytest.mark.parametrize("closed", ["2>&-", ">&-"])
def test_a_stream_closed_at_start_ends_quietly_with_exit_141(closed: str) -> None:
    # The shell starts the command without that descriptor at all; Python then has no sys.stderr.
    result = subprocess.run(
        ["/bin/sh", "-c", f'exec "$0" -m examkit verify testpress {closed}', sys.executable],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=child_environment(),
        check=False,
        timeout=60,
    )
    assert result.returncode == 141
    assert result.stderr == b""


def test_closed_stream_in_process_returns_141(monkeypatch: pytest.MonkeyPatch) -> None:
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["demo", "--only", "core"]) == 141


# -- vendor names -----------------------------------------------------------------------------------

IA_SPELLINGS = ["ia", "integrity-advocate", "integrity_advocate"]
ALL_SPELLINGS = ["itep", *IA_SPELLINGS, "assessio", "testpress"]


def parses(argv: list[str]) -> argparse.Namespace | None:
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        return None


@pytest.mark.parametrize("spelling", ALL_SPELLINGS)
def test_every_subcommand_takes_every_vendor_spelling(
    spelling: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parses(["demo", "--only", spelling]) is not None
    assert parses(["verify", spelling]) is not None
    assert parses(["sign", spelling]) is not None
    if spelling in IA_SPELLINGS:
        assert parses([spelling, "participants", "--course", "c-1"]) is not None


def test_the_spellings_are_one_list() -> None:
    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    choices: dict[str, set[str]] = {}
    for name in ("demo", "verify", "sign"):
        sub = subcommands.choices[name]
        for action in sub._actions:
            if action.choices and action.dest in ("vendor", "only"):
                choices[name] = set(action.choices) - {"core"}
    assert choices["demo"] == choices["verify"] == choices["sign"] == set(ALL_SPELLINGS)
    assert {n for n in subcommands.choices if n in ALL_SPELLINGS} == {"itep", *IA_SPELLINGS}


@pytest.mark.parametrize("spelling", IA_SPELLINGS)
def test_demo_only_each_ia_spelling_runs_the_ia_section(
    spelling: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--only", spelling]) == 0
    out = capsys.readouterr().out
    assert out.count("\n== ") == 1
    assert "\n== Integrity Advocate" in out


# -- suggestions ------------------------------------------------------------------------------------

_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)(?:[ =]((?:[a-z0-9]+)(?:(?:, | or |,)[a-z0-9]+)*))?")


def cli_strings() -> list[str]:
    """Every string literal in the CLI's modules (messages, hints and help)."""
    found: list[str] = []
    for path in CLI_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                found.append("".join(str(v.value) for v in node.values if isinstance(v, ast.Constant)))
    return found


def all_options() -> dict[str, list[argparse.Action]]:
    """Every option of every (sub)command, by option string."""
    options: dict[str, list[argparse.Action]] = {}
    pending = [build_parser()]
    while pending:
        parser = pending.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
            for option in action.option_strings:
                options.setdefault(option, []).append(action)
    return options


def test_every_option_the_cli_mentions_exists() -> None:
    options = all_options()
    mentioned = {m.group(1) for text in cli_strings() for m in _FLAG.finditer(text)}
    assert "--auth" in mentioned
    assert "--prefix" in mentioned
    curl = {"--data-binary", "--fail-with-body"}  # the curl line's own options, not examkit's
    assert sorted(mentioned - set(options) - curl) == []


@pytest.mark.parametrize("command", ["verify", "sign"])
def test_the_itep_auth_suggestion_is_accepted(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    # No EXAMKIT_ITEP_* variable is set: the command says which --auth to pass.
    assert main([command, "itep"]) == 2
    err = capsys.readouterr().err
    match = re.search(r"pass --auth ((?:[a-z]+)(?:(?:, | or )[a-z]+)*)", err)
    assert match, err
    values = re.split(r", | or ", match.group(1))
    assert len(values) >= 3
    for value in values:
        assert parses([command, "itep", "--auth", value]) is not None, f"{command} refuses --auth {value}"


def test_every_suggested_choice_value_is_accepted() -> None:
    options = all_options()
    for text in cli_strings():
        for match in _FLAG.finditer(text):
            flag, values = match.group(1), match.group(2)
            actions = options.get(flag, [])
            with_choices = [a for a in actions if a.choices]
            if not values or not with_choices:
                continue
            for value in re.split(r", | or |,", values):
                assert any(value in a.choices for a in with_choices), (flag, value, text)  # type: ignore[operator]


# -- terminal_safe ----------------------------------------------------------------------------------


@given(st.text())
def test_terminal_safe_leaves_no_control_character(text: str) -> None:
    import unicodedata

    from examkit.cli._common import terminal_safe

    shown = terminal_safe(text)
    assert all(unicodedata.category(c) not in ("Cc", "Zl", "Zp") for c in shown)
    assert not set(shown) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp", "Cs"))))
def test_terminal_safe_keeps_printable_text(text: str) -> None:
    from examkit.cli._common import terminal_safe

    assert terminal_safe(text) == text


def test_terminal_safe_escapes_by_name() -> None:
    from examkit.cli._common import terminal_safe

    assert terminal_safe("a\r\nb\tc\x1b[0m\x00\u2028\u202e") == "a\\r\\nb\\tc\\x1b[0m\\x00\\u2028\\u202e"
