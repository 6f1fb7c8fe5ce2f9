"""The decorators tie the view's event type to the verifier: type checkers catch a mismatch.

A Testpress verifier on a view typed for an iTEP ``ExamResult`` must fail ``mypy --strict`` (and
pyright, from the test extra), for each adapter; the matching view must pass, and keep its signature
(the route's URL variables stay typed for callers).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

HEADER = """
from examkit.itep import ExamResult
from examkit.testpress import ExamWebhookEvent, TestpressWebhookVerifier

verifier = TestpressWebhookVerifier(public_key="p", private_key="k")
"""

VIEWS = {
    "flask": """
from examkit.integrations.flask import verified_webhook

@verified_webhook(verifier)
def results(event: {event}, tenant: str) -> str:
    return tenant

reveal_type(results)
""",
    "django": """
from typing import Any
from examkit.integrations.django import verified_webhook

@verified_webhook(verifier)
def results(request: Any, event: {event}, tenant: str) -> str:
    return tenant
""",
    "starlette": """
from starlette.requests import Request
from examkit.integrations.starlette import verified_webhook

@verified_webhook(verifier)
async def results(request: Request, event: {event}, tenant: str) -> str:
    return tenant
""",
}


def snippet(adapter: str, event: str) -> str:
    return textwrap.dedent(HEADER) + textwrap.dedent(VIEWS[adapter]).replace("{event}", event)


_CACHE: list[Path] = []


@pytest.fixture(autouse=True)
def _shared_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    if not _CACHE:  # one mypy cache for every snippet: examkit is analysed once
        _CACHE.append(tmp_path_factory.mktemp("mypy-cache"))


def run_mypy(tmp_path: Path, source: str) -> tuple[str, int]:
    path = tmp_path / "snippet.py"
    path.write_text(source, encoding="utf-8")
    out, err, status = mypy_api.run(["--strict", "--cache-dir", str(_CACHE[0]), str(path)])
    return out + err, status


@pytest.mark.parametrize("adapter", sorted(VIEWS))
def test_mypy_refuses_a_view_typed_for_another_vendors_event(tmp_path: Path, adapter: str) -> None:
    output, status = run_mypy(tmp_path, snippet(adapter, "ExamResult"))
    assert status == 1, output
    assert "ExamResult" in output
    assert "ExamWebhookEvent" in output
    assert "snippet.py:" in output


@pytest.mark.parametrize("adapter", sorted(VIEWS))
def test_mypy_accepts_the_matching_view(tmp_path: Path, adapter: str) -> None:
    source = snippet(adapter, "ExamWebhookEvent").replace("reveal_type(results)\n", "")
    output, status = run_mypy(tmp_path, source)
    assert status == 0, output


def test_the_flask_view_keeps_its_url_variables(tmp_path: Path) -> None:
    output, _ = run_mypy(tmp_path, snippet("flask", "ExamWebhookEvent"))
    assert re.search(r'Revealed type is "def \(tenant: (builtins\.)?str\) -> ', output), output


@pytest.mark.parametrize("adapter", sorted(VIEWS))
def test_pyright_refuses_it_too(tmp_path: Path, adapter: str) -> None:
    # pyright is in the test extra: a missing one is a broken environment, not a reason to skip.
    assert shutil.which("pyright") is not None, "pyright is not installed: pip install -e '.[test]'"
    for event, expected in (("ExamResult", 1), ("ExamWebhookEvent", 0)):
        path = tmp_path / f"snippet_{event}.py"
        path.write_text(snippet(adapter, event).replace("reveal_type(results)\n", ""), encoding="utf-8")
        result = subprocess.run(
            [shutil.which("pyright") or "pyright", "--pythonpath", sys.executable, str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == expected, result.stdout
