"""Every Python block of the FastAPI, Redis guard, routing and queue pages runs as written and prints
what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ("fastapi", "replay_guards", "routing", "queues")


def blocks(page: str) -> list[str]:
    text = (DOCS / f"{page}.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def expected_output(block: str) -> list[str]:
    """What the block's ``print(...)  # value`` comments announce, in order."""
    return [m.group(1).split(" (")[0] for m in re.finditer(r"^\s*print\(.*\)\s+# (.+)$", block, flags=re.M)]


CASES = [(page, i) for page in PAGES for i in range(len(blocks(page)))]


@pytest.mark.parametrize(("page", "index"), CASES, ids=[f"{p}-{i}" for p, i in CASES])
def test_the_block_runs_and_prints_what_it_says(
    page: str, index: int, capsys: pytest.CaptureFixture[str]
) -> None:
    block = blocks(page)[index]
    namespace = {"__name__": f"docs_{page}_{index}"}
    exec(compile(block, str(DOCS / f"{page}.md"), "exec"), namespace)  # noqa: S102 - our own docs
    printed = iter(capsys.readouterr().out.splitlines())
    for announced in expected_output(block):  # each announced line is printed, in order
        assert any(line.startswith(announced.strip()) for line in printed), announced


def test_every_page_has_blocks() -> None:
    assert all(blocks(page) for page in PAGES)
