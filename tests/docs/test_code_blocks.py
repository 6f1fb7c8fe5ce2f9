"""Every Python code block of docs/*.md and README.md runs as written: on its own, offline.

Each fenced block whose language is ``python`` (or ``py``, ``python3``, ``pycon`` is not one: use it for
sessions that are not meant to run) is executed in a fresh interpreter, so no block leans on another's
imports or on state left behind by the test suite. The working directory is a temporary one holding a
copy of ``examples/`` (so ``examples/itep_candidates.csv`` resolves), and opening a network connection
raises. A failure is reported as ``docs/page.md:LINE`` with the block's traceback, whose line numbers are
the page's own. Shell sessions, output and other text use other fence languages (``console``, ``text``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
LANGUAGES = {"python", "py", "python3"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")

# Runs before every block: no network, then the block compiled under its page's name and line numbers.
BOOTSTRAP = r"""
import socket, sys

def _refuse(*args, **kwargs):
    raise OSError("the docs tests are offline: this block tried to open a network connection")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
name, first_line = sys.argv[1], int(sys.argv[2])
source = sys.stdin.read()
code = compile("\n" * (first_line - 1) + source, name, "exec")
exec(code, {"__name__": "__main__", "__file__": name})
"""


def extract(text: str) -> list[tuple[int, str, str]]:
    """Return ``(first line of code, language, code)`` for every fenced block of a Markdown page."""
    blocks: list[tuple[int, str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, indent = match["fence"], match["indent"]
        language = match["info"].strip().split()[0].strip("{}") if match["info"].strip() else ""
        start = i + 1
        j = start
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence)) and not lines[j].strip().strip(fence[0])
        ):
            j += 1
        body = [line[len(indent) :] if line.startswith(indent) else line for line in lines[start:j]]
        blocks.append((start + 1, language, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def _cases() -> list[pytest.param]:  # type: ignore[valid-type]
    cases = []
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        for line, language, code in extract(page.read_text(encoding="utf-8")):
            if language in LANGUAGES:
                cases.append(pytest.param(name, line, code, id=f"{name}:{line}"))
    return cases


def test_the_extractor_finds_blocks_and_their_lines() -> None:
    page = "intro\n\n```python\nx = 1\n```\n\n```console\n$ ls\n```\n\n  ````py\n  y = 2\n  ````\n"
    assert extract(page) == [(4, "python", "x = 1\n"), (8, "console", "$ ls\n"), (12, "py", "y = 2\n")]


def test_a_failing_block_is_reported_with_its_page_and_line(tmp_path: Path) -> None:
    result = _run("docs/example.md", 41, "x = 1\nraise RuntimeError('boom')\n", tmp_path)
    assert result.returncode != 0
    assert 'File "docs/example.md", line 42' in result.stderr


def test_a_block_cannot_reach_the_network(tmp_path: Path) -> None:
    code = "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=2)\n"
    result = _run("docs/net.md", 1, code, tmp_path)
    assert result.returncode != 0
    assert "offline" in result.stderr


def _run(name: str, line: int, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, name, str(line)],
        input=code,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
        env={**_env(), "PYTHONDONTWRITEBYTECODE": "1"},
    )


def _env() -> dict[str, str]:
    import os

    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k in keep}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docs-blocks")
    shutil.copytree(ROOT / "examples", path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return path


@pytest.mark.parametrize(("page", "line", "code"), _cases())
def test_code_block_runs_on_its_own(page: str, line: int, code: str, workdir: Path, tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    shutil.copytree(workdir, cwd)
    result = _run(page, line, code, cwd)
    assert result.returncode == 0, f"{page}:{line} fails run on its own:\n{result.stderr[-4000:]}"
