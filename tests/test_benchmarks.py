"""The benchmark suite still imports and its quick cases still agree with examkit (no timing here)."""

from __future__ import annotations

import sys
import time
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


@pytest.mark.parametrize("vendor", sorted(webhooks.TYPED))
def test_typed_cases_run_and_agree(vendor: str) -> None:
    cases = webhooks.TYPED[vendor]("2KB")
    assert "examkit typed" in cases.cases
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


@pytest.mark.parametrize("own_session", [False, True], ids=["your session", "its own session"])
def test_client_throughput_case_uses_one_connection_each(own_session: bool) -> None:
    result = system.client_throughput(total=10, rounds=2, own_session=own_session)
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


def test_async_bulk_case_counts_every_run_and_keeps_one_time_per_round() -> None:
    result = system.async_bulk_itep(candidates=6, latency=0.01, widths=(1, 3), rounds=2, repeats=2)
    assert result.all_issued
    assert result.min_attempts_per_candidate == result.max_attempts_per_candidate == 1  # every run
    assert [len(result.seconds[w]) for w in (1, 3)] == [2, 2]
    assert len(result.ratios(3)) == 2


@pytest.mark.parametrize("vendor", sorted(webhooks.ALL_VENDORS))
def test_every_scheme_has_a_signature_row(vendor: str) -> None:
    cases = webhooks.ALL_VENDORS[vendor]("2KB")
    assert "examkit sig" in cases.cases
    assert set(cases.floors) <= set(cases.cases)


def test_integrity_advocate_is_compared_with_its_best_floor() -> None:
    cases = webhooks.ia_cases("2KB", with_typed=False)
    assert cases.floors == ("floor", "floor, URL canonicalised once")
    fast = harness.Stats("fast", (1.0, 1.0, 1.0, 1.0))
    slow = harness.Stats("slow", (2.0, 2.0, 2.0, 2.0))
    assert cases.best_floor({"floor": slow, "floor, URL canonicalised once": fast}) == (
        "floor, URL canonicalised once"
    )
    assert cases.best_floor({"floor": fast, "floor, URL canonicalised once": slow}) == "floor"


@pytest.mark.parametrize("vendor", sorted(webhooks.TYPED))
def test_no_orjson_row(vendor: str) -> None:
    assert not any("orjson" in name for name in webhooks.TYPED[vendor]("2KB").cases)


def test_a_control_off_by_more_than_the_tolerance_makes_the_verdict_inconclusive() -> None:
    base = harness.Stats("floor", (1.0, 1.0, 1.0, 1.0))
    near = harness.Stats("twin", (1.02, 1.02, 1.02, 1.02))
    far = harness.Stats("twin", (0.82, 0.82, 0.82, 0.82))
    assert harness.control_ok({"floor": base, "twin": near}, "twin", "floor")
    assert not harness.control_ok({"floor": base, "twin": far}, "twin", "floor")
    from benchmarks import run  # the script module, imported only here

    assert run._verdict(run.Budget("b", "≤ 1.3x", "1.10x", met=True, conclusive=False)) == "inconclusive"
    assert run._verdict(run.Budget("b", "≤ 1.3x", "1.10x", met=True)) == "yes"
    assert run._verdict(run.Budget("b", "≤ 1.3x", "1.50x", met=False)) == "**no**"


def test_harness_times_cpu_by_default() -> None:
    calls: list[int] = []

    def timer() -> float:
        calls.append(1)
        return float(len(calls))

    harness.measure({"a": lambda: None}, rounds=2, batch_seconds=0.0001, timer=timer)
    assert len(calls) == 4  # two readings per round
    defaults = harness.measure.__kwdefaults__
    assert defaults is not None
    assert defaults["timer"] is time.process_time


def test_testpress_peak_memory_case_runs_small() -> None:
    length, peak = webhooks.tp_peak_memory(4096)
    assert length >= 4096
    assert peak > length  # at least the decoded text is allocated during the call
