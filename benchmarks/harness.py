"""A small, honest timing harness: interleaved batches, medians, spreads and ratios.

Every case is a zero-argument callable. The harness runs all cases in rounds; in each round the cases
run in a fresh random order, each as one timed batch of ``batch_size`` calls, so drift in the machine's
speed (other load, frequency scaling) affects every case alike. Results are per-call times summarised as
the median over rounds and the interquartile spread, and every published figure is a ratio to a baseline
case measured in the same run, never an absolute time.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    """Per-call timings of one case over all rounds (seconds)."""

    name: str
    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median (0.05 means +-5 %)."""
        if len(self.samples) < 4:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) / self.median


def calibrate(func: Callable[[], object], target: float) -> int:
    """Return how many calls of ``func`` take about ``target`` seconds (at least 1).

    The case is warmed up first: one-time work on the first calls (lazily built converters and
    caches, imports) must not shrink the batch, or every sample would be taken cache-cold.
    """
    warm_until = time.perf_counter() + target
    for _ in range(1000):
        func()
        if time.perf_counter() >= warm_until:
            break
    count = 1
    while True:
        start = time.perf_counter()
        for _ in range(count):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= target / 4 or count >= 1 << 22:
            return max(1, int(count * target / max(elapsed, 1e-9)))
        count *= 2


def measure(
    cases: Mapping[str, Callable[[], object]],
    *,
    rounds: int = 15,
    batch_seconds: float = 0.02,
    seed: int = 1234,
    timer: Callable[[], float] = time.process_time,
) -> dict[str, Stats]:
    """Time every case in interleaved rounds and return its per-call statistics.

    The default ``timer`` is :func:`time.process_time`: these cases are single-threaded CPU work, and
    CPU time does not count the moments another process holds the core (this machine is shared).
    """
    rng = random.Random(seed)
    sizes = {name: calibrate(func, batch_seconds) for name, func in cases.items()}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            rng.shuffle(names)
            for name in names:
                func, size = cases[name], sizes[name]
                start = timer()
                for _ in range(size):
                    func()
                samples[name].append((timer() - start) / size)
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: Stats(name, tuple(values)) for name, values in samples.items()}


def ratio(stats: Mapping[str, Stats], case: str, baseline: str) -> float:
    """The median of ``case`` divided by the median of ``baseline``."""
    return stats[case].median / stats[baseline].median


CONTROL_TOLERANCE = 0.03
"""How far from 1.00x the control (a case timed twice under two names) may read for a run to count."""


def control_ok(
    stats: Mapping[str, Stats], case: str, twin: str, tolerance: float = CONTROL_TOLERANCE
) -> bool:
    """Whether two identical cases read within ``tolerance`` of 1.00x of each other in this run.

    When they do not, the machine's noise in this run is larger than the differences being judged:
    every verdict of the run is "inconclusive", not "yes" or "no".
    """
    return abs(ratio(stats, case, twin) - 1.0) <= tolerance
