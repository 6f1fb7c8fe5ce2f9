"""Run examkit's benchmark suite, print the table, and optionally rewrite ``docs/performance.md``.

Usage: ``python benchmarks/run.py [--quick] [--write]`` (or ``nox -s bench [-- --quick]``).

Every in-process figure is a ratio to a baseline measured in the same run (interleaved rounds, the
median over rounds, the interquartile spread beside it); no absolute time is a pass mark.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import system, webhooks
from benchmarks.harness import CONTROL_TOLERANCE, Stats, control_ok, measure

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "examkit",
    "attrs",
    "cattrs",
    "requests",
    "stripe",
    "svix",
    "standardwebhooks",
    "pydantic",
    "orjson",
)


@dataclass
class Budget:
    """One budget of the issue: what it is, what was measured, and whether it is met."""

    name: str
    limit: str
    measured: str
    met: bool
    conclusive: bool = True
    """False when the run's control (one case timed twice) did not read 1.00x within tolerance."""


@dataclass
class Settings:
    """How much work one run does."""

    quick: bool
    rounds: int
    batch_seconds: float
    import_runs: int
    client_requests: int
    bulk_candidates: int
    bulk_latency: float
    bulk_rounds: int
    paging_participants: int


def settings(quick: bool) -> Settings:
    if quick:
        return Settings(True, 3, 0.002, 3, 100, 16, 0.02, 1, 2_000)
    return Settings(False, 41, 0.01, 21, 1_000, 200, 0.05, 5, 100_000)


CONTROL = "control: floor again"
"""The floor timed a second time under another name: it must read 1.00x, or the run is noise."""


def _fmt(stats: dict[str, Stats], case: str, base: str) -> str:
    return f"{stats[case].median / stats[base].median:.2f}x (±{stats[case].spread * 100:.0f}%)"


def _with_control(
    cases: dict[str, Callable[[], object]], floor: str = "floor"
) -> dict[str, Callable[[], object]]:
    return {**cases, CONTROL: cases[floor]}


def run(  # noqa: PLR0915 - one straight report, section by section
    cfg: Settings, out: Callable[[str], None] = print
) -> tuple[list[str], list[Budget]]:
    """Run every case; return the report's Markdown lines and the budgets."""
    lines: list[str] = []
    budgets: list[Budget] = []

    def emit(text: str = "") -> None:
        lines.append(text)
        out(text)

    # -- signature checks and typed events per vendor and size ------------------------------------
    emit("## Webhook verification, per vendor scheme and body size")
    emit()
    emit(
        "Ratios to the vendor's *best* floor in the same run (the fastest of its floor rows; median over "
        "interleaved rounds of CPU time; ± is the interquartile spread). The row "
        f"`{CONTROL}` is the floor timed a second time, read against the floor: when it is not 1.00x within "
        f"{CONTROL_TOLERANCE * 100:.0f} %, the run is too noisy and its verdicts read *inconclusive*."
    )
    emit()
    for vendor, make in webhooks.ALL_VENDORS.items():
        emit(f"### {vendor}")
        emit()
        per_size = {size: make(size) for size in webhooks.SIZES}
        names = [*dict.fromkeys(name for vc in per_size.values() for name in vc.cases), CONTROL]
        emit("| case | " + " | ".join(f"{s} ({vc.body_len} B)" for s, vc in per_size.items()) + " |")
        emit("|---|" + "---|" * len(per_size))
        results = {
            size: measure(_with_control(vc.cases), rounds=cfg.rounds, batch_seconds=cfg.batch_seconds)
            for size, vc in per_size.items()
        }
        best = {size: vc.best_floor(results[size]) for size, vc in per_size.items()}
        for name in names:
            # The control is read against its twin (the plain floor), the other rows against the best.
            cells = [
                _fmt(results[s], name, "floor" if name == CONTROL else best[s]) if name in results[s] else ""
                for s in per_size
            ]
            emit(f"| {name} | " + " | ".join(cells) + " |")
        floor_us = ", ".join(
            f"{s}: {results[s][best[s]].median * 1e6:.1f} µs (`{best[s]}`)" for s in per_size
        )
        emit()
        emit(f"Best floor per call on this machine (for scale only): {floor_us}.")
        emit()
        for size, limit in (("2KB", 1.3), ("64KB", 1.1)):
            r = results[size]["examkit sig"].median / results[size][best[size]].median
            budgets.append(
                Budget(
                    f"{vendor}: signature check at {size}",
                    f"≤ {limit}x best floor",
                    _fmt(results[size], "examkit sig", best[size]),
                    r <= limit,
                    control_ok(results[size], CONTROL, "floor"),
                )
            )

    body_len, peak = webhooks.tp_peak_memory(64 * 1024 if cfg.quick else 1 << 20)
    emit(
        f"Testpress `verify` of a {body_len} B body: peak traced memory during the call "
        f"{peak / 1e6:.2f} MB, **{peak / body_len:.1f}x** the body (tracemalloc, after one warm-up call)."
    )
    emit()
    budgets.append(
        Budget(
            f"testpress: peak memory at {body_len // 1024} KB",
            "≤ 3x the body",
            f"{peak / body_len:.1f}x",
            peak <= 3 * body_len,
        )
    )

    # -- the typed event at 2 KB, per vendor ----------------------------------------------------------
    emit("## Verified, typed event at 2 KB, per vendor")
    emit()
    emit(
        "Ratios to `floor+pydantic`: the vendor's signature floor, then pydantic v2 `model_validate_json` of "
        "an equivalent model (same fields, wire names and conversions; no orjson). The other rows show "
        "where the time goes."
    )
    emit()
    for vendor in webhooks.ALL_VENDORS:
        make_typed = webhooks.TYPED.get(vendor)
        name = f"{vendor}: typed event at 2 KB, without orjson"
        if make_typed is None:
            budgets.append(Budget(name, "≤ 1.2x floor+pydantic", "n/a: no typed case in the suite", False))
            continue
        typed = make_typed("2KB")
        stats = measure(_with_control(typed.cases), rounds=cfg.rounds, batch_seconds=cfg.batch_seconds)
        base = "floor+pydantic" if "floor+pydantic" in stats else typed.best_floor(stats)
        emit(f"### {vendor} ({typed.body_len} B)")
        emit()
        emit("| case | ratio |")
        emit("|---|---|")
        for case in stats:
            emit(f"| {case} | {_fmt(stats, case, 'floor' if case == CONTROL else base)} |")
        emit()
        if base != "floor+pydantic":
            budgets.append(Budget(name, "≤ 1.2x floor+pydantic", "n/a: pydantic is not installed", False))
            continue
        r = stats["examkit typed"].median / stats[base].median
        budgets.append(
            Budget(
                name,
                "≤ 1.2x floor+pydantic",
                _fmt(stats, "examkit typed", base),
                r <= 1.2,
                control_ok(stats, CONTROL, "floor"),
            )
        )

    # -- imports -----------------------------------------------------------------------------------
    emit("## Import time (whole processes)")
    emit()
    imports = system.import_times(cfg.import_runs)
    bare = imports.medians["bare interpreter"]
    emit(f"Median of {cfg.import_runs} interpreter starts each, interleaved; bare start {bare * 1e3:.0f} ms.")
    emit()
    emit("| statement | over a bare interpreter | imports requests |")
    emit("|---|---|---|")
    worst = 0.0
    clean = True
    for name, value in imports.medians.items():
        if name == "bare interpreter":
            continue
        over = (value - bare) * 1e3
        emit(f"| {name} | {over:.0f} ms | {'yes' if imports.loads_requests[name] else 'no'} |")
        if name.endswith("verifier"):
            worst = max(worst, over)
            clean = clean and not imports.loads_requests[name]
    emit()
    budgets.append(
        Budget("verifier import does not import requests", "never", "never" if clean else "it does", clean)
    )
    budgets.append(
        Budget(
            "verifier import time",
            "≤ 50 ms over a bare interpreter",
            f"{worst:.0f} ms (worst vendor)",
            worst <= 50,
        )
    )

    # -- client, bulk, paging ------------------------------------------------------------------------
    emit("## Client throughput, bulk issuance, paging memory")
    emit()
    for own, whose in ((True, "its own session"), (False, "your requests.Session")):
        tp = system.client_throughput(cfg.client_requests, own_session=own)
        ratio = tp.examkit_rps / tp.handwritten_rps
        emit(
            f"- {tp.requests} signed GETs to 127.0.0.1: IntegrityAdvocateClient over {whose} "
            f"{tp.examkit_rps:.0f}/s, hand-written requests.Session loop {tp.handwritten_rps:.0f}/s, "
            f"ratio **{ratio:.2f}x** (±{tp.spread * 100:.0f}% over rounds); connections seen by the "
            f"server: {tp.examkit_connections} (examkit), {tp.handwritten_connections} (hand-written)."
        )
        one = tp.examkit_connections == 1 and tp.handwritten_connections == 1
        budgets.append(
            Budget(
                f"client throughput, {whose}",
                "≥ 0.95x hand-written, one connection each",
                f"{ratio:.2f}x ±{tp.spread * 100:.0f}%, "
                f"{tp.examkit_connections}+{tp.handwritten_connections} connections",
                ratio >= 0.95 and one,
            )
        )
    atp = system.async_client_throughput(cfg.client_requests)
    aratio = atp.examkit_rps / atp.handwritten_rps
    emit(
        f"- {atp.requests} signed GETs to 127.0.0.1: AsyncIntegrityAdvocateClient {atp.examkit_rps:.0f}/s, "
        f"hand-written httpx.AsyncClient loop {atp.handwritten_rps:.0f}/s, ratio **{aratio:.2f}x** "
        f"(±{atp.spread * 100:.0f}% over rounds); connections seen by the server: "
        f"{atp.examkit_connections} (examkit), {atp.handwritten_connections} (hand-written)."
    )
    aone = atp.examkit_connections == 1 and atp.handwritten_connections == 1
    budgets.append(
        Budget(
            "async client throughput",
            "≥ 0.85x hand-written httpx, one connection each",
            f"{aratio:.2f}x, {atp.examkit_connections}+{atp.handwritten_connections} connections",
            aratio >= 0.85 and aone,
        )
    )
    bulk = system.bulk_itep(cfg.bulk_candidates, 8, cfg.bulk_latency)
    speedup = bulk.sequential_s / bulk.concurrent_s
    once = bulk.max_attempts_per_candidate == 1 and bulk.min_attempts_per_candidate == 1
    emit(
        f"- Bulk iTEP, {bulk.candidates} candidates, {cfg.bulk_latency * 1e3:.0f} ms latency per call: "
        f"sequential {bulk.sequential_s:.2f} s, 8 workers {bulk.concurrent_s:.2f} s, speed-up "
        f"**{speedup:.1f}x**; attempts per candidate: min {bulk.min_attempts_per_candidate}, "
        f"max {bulk.max_attempts_per_candidate}; all issued: {bulk.all_issued}."
    )
    budgets.append(
        Budget(
            "bulk iTEP at concurrency 8",
            "≥ 6x sequential, each candidate once",
            f"{speedup:.1f}x, once: {once}",
            speedup >= 6 and once,
        )
    )
    abulk = system.async_bulk_itep(
        cfg.bulk_candidates, cfg.bulk_latency, widths=(1, 8, 64), rounds=cfg.bulk_rounds
    )
    aonce = abulk.max_attempts_per_candidate == 1 and abulk.min_attempts_per_candidate == 1
    for width, target in ((8, 6.0), (64, 30.0)):
        ups = abulk.ratios(width)
        up = statistics.median(ups)
        emit(
            f"- Async bulk iTEP, {abulk.candidates} candidates, {cfg.bulk_latency * 1e3:.0f} ms latency per "
            f"call, concurrency {width}: speed-up over concurrency 1 in each of {len(ups)} rounds "
            f"{', '.join(f'{u:.1f}x' for u in ups)} (median **{up:.1f}x**); attempts per candidate: min "
            f"{abulk.min_attempts_per_candidate}, max {abulk.max_attempts_per_candidate}; all issued: "
            f"{abulk.all_issued}."
        )
        budgets.append(
            Budget(
                f"async bulk iTEP at concurrency {width}",
                f"≥ {target:.0f}x sequential, each candidate once",
                f"{up:.1f}x (rounds {min(ups):.1f}x to {max(ups):.1f}x), once: {aonce}",
                up >= target and aonce and abulk.all_issued,
            )
        )
    paging = system.ia_paging(cfg.paging_participants)
    growth_mb = paging.peak_growth / 1e6
    emit(
        f"- Paging {paging.participants} IA participants ({paging.pages} pages of 10) through "
        f"`iter_participants`: peak traced memory growth **{growth_mb:.2f} MB** "
        f"({paging.seconds:.1f} s under tracemalloc)."
    )
    emit()
    budgets.append(
        Budget(
            f"IA paging of {paging.participants} participants",
            "peak growth < 10 MB",
            f"{growth_mb:.2f} MB",
            growth_mb < 10 and paging.participants == cfg.paging_participants,
        )
    )
    return lines, budgets


def machine() -> list[str]:
    """Describe this machine and the package versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:  # noqa: PERF203
            versions.append(f"{name} (not installed)")
    return [
        f"- CPU: {cpu}; {os.cpu_count()} logical cores",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- Packages: {', '.join(versions)}",
    ]


def _verdict(budget: Budget) -> str:
    if budget.measured.startswith(("n/a", "not built")):
        return "n/a"
    if not budget.conclusive:
        return "inconclusive"
    return "yes" if budget.met else "**no**"


def budget_table(budgets: list[Budget]) -> list[str]:
    rows = ["| budget | limit | measured | met |", "|---|---|---|---|"]
    rows += [f"| {b.name} | {b.limit} | {b.measured} | {_verdict(b)} |" for b in budgets]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds: small rounds and counts (not for publishing)"
    )
    parser.add_argument(
        "--write", action="store_true", help="rewrite docs/performance.md with this run's figures"
    )
    args = parser.parse_args(argv)
    cfg = settings(args.quick)
    started = time.perf_counter()
    lines, budgets = run(cfg)
    elapsed = time.perf_counter() - started
    print("## Budgets")
    for row in budget_table(budgets):
        print(row)
    print(f"\n(run took {elapsed:.0f} s)")
    if args.write:
        command = "python benchmarks/run.py --write" + (" --quick" if args.quick else "")
        write_docs(lines, budgets, command, elapsed)
    return 0


def write_docs(lines: list[str], budgets: list[Budget], command: str, elapsed: float) -> None:
    """Write ``docs/performance.md``: the notes (kept from ``benchmarks/notes.md``) and this run's figures."""
    notes = (ROOT / "benchmarks" / "notes.md").read_text(encoding="utf-8").strip()
    text = [
        "# Performance",
        "",
        "This page is generated by `benchmarks/run.py --write`; every figure below comes from one run of the",
        "suite on the machine described. Ratios, not absolute times, are the pass marks.",
        "",
        "## The run",
        "",
        f"- Command: `{command}` ({elapsed:.0f} s)",
        *machine(),
        "",
        "## Budgets",
        "",
        *budget_table(budgets),
        "",
        *lines,
        notes,
        "",
    ]
    (ROOT / "docs" / "performance.md").write_text("\n".join(text), encoding="utf-8")
    print("wrote docs/performance.md")


if __name__ == "__main__":
    sys.exit(main())
