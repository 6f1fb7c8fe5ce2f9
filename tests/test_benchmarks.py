"""The benchmark suite still imports and its quick cases still agree with examkit (no timing here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import harness, system, webhooks  # noqa: E402


@pytest.mark.parametrize("vendor", sorted(webhooks.ALL_VENDORS))
@pytest.mark.parametrize("size", ["300B", "2KB"])
def test_every_case_accepts_valid_and_refuses_tampered_input(vendor: str, size: str) -> None:
    cases = webhooks.ALL_VENDORS[vendor](size)
    assert cases.body_len >= webhooks.SIZES[size]
    assert "floor" in cases.checks
    for name, check in cases.checks.items():
        assert check(False), f"{vendor} {size}: {name} refused a valid request"
        assert not check(True), f"{vendor} {size}: {name} accepted a tampered request"


def test_typed_cases_run_and_agree() -> None:
    cases = webhooks.typed_cases("2KB")
    for name, check in cases.checks.items():
        assert check(False), name
        assert not check(True), name
    for func in cases.cases.values():
        func()


def test_grow_reaches_the_target_size() -> None:
    body = webhooks._grow(webhooks.ia_body, 2048)
    assert len(body) >= 2048
    assert len(webhooks.ia_body(0)) < 2048


def test_harness_reports_ratios_of_its_cases() -> None:
    stats = harness.measure({"a": lambda: None, "b": lambda: sum(range(50))}, rounds=4, batch_seconds=0.001)
    assert set(stats) == {"a", "b"}
    assert all(len(s.samples) == 4 for s in stats.values())
    assert harness.ratio(stats, "a", "a") == 1.0


def test_bulk_and_paging_cases_run_small() -> None:
    bulk = system.bulk_itep(candidates=6, workers=3, latency=0.0)
    assert bulk.all_issued
    assert bulk.min_attempts_per_candidate == bulk.max_attempts_per_candidate == 1
    paging = system.ia_paging(35)
    assert paging.participants == 35
    assert paging.pages == 4


def test_client_throughput_case_uses_one_connection_each() -> None:
    result = system.client_throughput(total=10, rounds=2)
    assert result.requests == 10
    assert result.examkit_connections == 1
    assert result.handwritten_connections == 1
    assert len(result.round_ratios) == 2


def test_async_client_throughput_case_uses_one_connection_each() -> None:
    result = system.async_client_throughput(total=10, rounds=2)
    assert result.requests == 10
    assert result.examkit_connections == 1
    assert result.handwritten_connections == 1
    assert result.examkit_rps > 0
    assert result.handwritten_rps > 0
