"""``examkit itep issue --csv``: never replace the outcomes, resume, dry run, stop when iTEP is down.

Against a real HTTP server on 127.0.0.1, counting what reaches it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from examkit.cli import main
from tests.itep.bulk_server import API_KEY, HEADER, closed_port_url, itep_server

GTX = "GTX-Academic-Plus"
EMAILS = [f"c{i}@example.com" for i in range(5)]


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMKIT_ITEP_API_KEY", API_KEY)
    monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", HEADER)


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    source = tmp_path / "cohort.csv"
    lines = ["candidate_id,name,email"] + [f"{i},Candidate {i},{e}" for i, e in enumerate(EMAILS)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return source


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv, stdin=io.BytesIO(b""))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def issue(source: Path, target: Path, endpoint: str, *extra: str) -> list[str]:
    return [
        "itep",
        "issue",
        "--csv",
        str(source),
        "--output",
        str(target),
        "--product-code",
        GTX,
        "--endpoint",
        endpoint,
        "--no-progress",
        "--workers",
        "1",
        *extra,
    ]


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_an_existing_output_is_never_replaced_and_nothing_is_sent(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "outcomes.csv"
    target.write_text("yesterday's test IDs\n", encoding="utf-8")
    with itep_server() as server:
        code, _out, err = run(issue(cohort, target, server.url), capsys)
        assert sum(server.received.values()) == 0
        assert code == 2
        assert "already exists" in err
        assert "--force" in err
        assert target.read_text(encoding="utf-8") == "yesterday's test IDs\n"
        code, _out, err = run(issue(cohort, target, server.url, "--force"), capsys)
        assert code == 0, err
        assert server.received == Counter(EMAILS)
    assert [r["status"] for r in rows_of(target)] == ["issued"] * 5


def test_resume_skips_the_issued_and_lists_the_ones_to_check(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    with itep_server() as server:
        server.behaviour.update({EMAILS[1]: "stall", EMAILS[2]: 400})
        code, out, _ = run(issue(cohort, first, server.url), capsys)
        assert code == 3
        assert "may have been allocated" in out
        assert "1 to check in the iTEP administration system (AVAILABLE TESTS panel)" in out
        server.behaviour.clear()
        code, out, _ = run(issue(cohort, second, server.url, "--resume", str(first)), capsys)
        # Only c2 (refused by iTEP with a 400: nothing allocated) is sent again.
        assert server.received == Counter(EMAILS) + Counter([EMAILS[2]])
    assert code == 1  # one candidate still to check
    assert (
        "5 candidates: 4 issued, 0 failed (3 issued in an earlier run, not sent again), 1 to check in iTEP"
        in out
    )
    assert f"  {EMAILS[1]}\n" in out
    rows = rows_of(second)
    assert [r["status"] for r in rows] == ["issued", "check_in_itep", "issued", "issued", "issued"]
    assert next(r["test_id"] for r in rows) == rows_of(first)[0]["test_id"]


def test_dry_run_prints_what_would_be_sent_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "c.csv"
    source.write_text("email,Gender\nann@example.com,female\nbob@example.com,robot\n", encoding="utf-8")
    target = tmp_path / "o.csv"
    with itep_server() as server:
        code, out, _ = run(issue(source, target, server.url, "--dry-run"), capsys)
        assert sum(server.received.values()) == 0
    assert code == 1
    assert (
        '  ann@example.com: would send {"product-code":"GTX-Academic-Plus","email":"ann@example.com",'
        '"registration":{"Gender":"Female"}}\n'
    ) in out
    assert "  bob@example.com: invalid [Gender]: " in out
    assert "Invalid Gender [robot]" in out
    assert out.rstrip().endswith("2 candidates: 1 valid, 1 invalid (dry run: nothing was sent)")
    assert not target.exists()


def test_stops_when_itep_is_down(cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "o.csv"
    code, out, _ = run(issue(cohort, target, closed_port_url(), "--stop-after", "2"), capsys)
    assert code == 3
    assert out.count("nothing was sent") >= 3
    assert "may have been allocated" not in out
    assert "3 not attempted: nothing was sent for them; run again with --resume" in out
    assert "stopped: 2 transport failures in a row" in out
    assert [r["status"] for r in rows_of(target)] == ["failed"] * 2 + ["not_attempted"] * 3
    assert {r["allocated"] for r in rows_of(target)} == {"no"}


def test_stop_after_zero_tries_everyone(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "o.csv"
    code, _out, _ = run(issue(cohort, target, closed_port_url(), "--stop-after", "0"), capsys)
    assert code == 3
    assert [r["status"] for r in rows_of(target)] == ["failed"] * 5
    code, _, err = run(issue(cohort, tmp_path / "p.csv", closed_port_url(), "--stop-after", "-1"), capsys)
    assert code == 2
    assert "stop_after" in err
