"""What a refused payload costs: every hostile 1 MiB shape is refused in bounded time and memory.

The bound (docs/security.md, "What a refused payload costs"): a correctly signed body that does not fit
the model is refused within a few times the cost of decoding it, whatever its shape. Here: under 0.5 s
and under 50 MiB of extra memory (tracemalloc peak) for 1 MiB bodies, for every vendor verifier.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examkit.core.errors import ExamkitError
from examkit.core.webhook import InMemoryReplayGuard
from tests.hardening.hostile import (
    MIB,
    TARGET_IDS,
    TARGETS,
    Raw,
    Target,
    array_paths,
    put,
    scalar_paths,
)

MAX_JSON_DEPTH = 64  # examkit.core.serde.MAX_JSON_DEPTH, the documented limit
MAX_SECONDS = 0.5
MAX_EXTRA_BYTES = 50 * MIB


def _peak(call: Callable[[], object]) -> int:
    """The peak of memory allocated while ``call`` runs (tracemalloc), above what was there before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        _quietly(call)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _quietly(call: Callable[[], object]) -> BaseException | None:
    try:
        call()
    except (ExamkitError, ValueError, RecursionError) as exc:  # the reference parser may fail too
        return exc
    return None


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    _quietly(call)
    return time.perf_counter() - start


def _check(
    target: Target, payload: Any, shape: str, *, refused: bool = True, measure_memory: bool = True
) -> None:
    """Verify a signed ``payload``: refused, in bounded time and memory.

    The bound is 0.5 s and 50 MiB, or a few times what the standard library's own decoding of the same
    body costs in the same run, whichever is larger: on a loaded machine with a large heap, decoding
    a 1 MiB body of half a million small arrays takes CPython's ``json`` module (and its garbage
    collector) alone about that long, and no parser built on it can do better.
    """
    request = target.request(payload)
    verifier = target.verifier(InMemoryReplayGuard())
    start = time.perf_counter()
    outcome = _quietly(lambda: verifier.verify(request))
    seconds = time.perf_counter() - start
    if refused:
        assert isinstance(outcome, ExamkitError), f"{target.name} {shape}: not refused ({outcome!r})"
    else:
        assert outcome is None or isinstance(outcome, ExamkitError), repr(outcome)
    if seconds >= MAX_SECONDS:  # a slow run, or a loaded machine: measure again, beside the floor
        floor = _seconds(lambda: target.reference(request.body))
        again = target.request(payload, 1)
        seconds = min(seconds, _seconds(lambda: target.verifier(InMemoryReplayGuard()).verify(again)))
        # The bound, as above: 0.5 s or three times the standard library's decoding, whichever is
        # larger (a reference parser that gives up at once, as json does on deep nesting, is no bound).
        bound = max(MAX_SECONDS, 3 * floor)
        assert seconds < bound, f"{target.name} {shape}: {seconds:.3f} s, decoding alone {floor:.3f} s"
    if not measure_memory:
        return
    peak = _peak(lambda: target.verifier(InMemoryReplayGuard()).verify(target.request(payload, 2)))
    if peak >= MAX_EXTRA_BYTES:
        floor_peak = _peak(lambda: target.reference(request.body))
        assert peak < 2 * floor_peak, f"{target.name} {shape}: {peak / MIB:.1f} MiB ({floor_peak / MIB:.1f})"


def _arrays_as_long_strings(target: Target) -> Any:
    payload = target.sample()
    found = array_paths(payload)
    if not found:
        return None
    size = target.budget // len(found)
    for path in reversed(found):  # innermost first, so each path still exists when it is replaced
        put(payload, path, "A" * size)
    return payload


def _wrong_items(target: Target, path: tuple[str | int, ...], count: int = 100_000) -> Any:
    payload = target.sample()
    sample = payload
    for key in path:
        sample = sample[key]
    # Objects expected: send strings; anything else expected: send objects.
    item: Any = "x" * max(1, target.budget // count - 3) if not sample or isinstance(sample[0], dict) else {}
    put(payload, path, [item] * count)
    return payload


def _deep_arrays(target: Target, path: tuple[str | int, ...], depth: int) -> Any:
    """Nest arrays ``depth`` deep at ``path``: around a long text within the limit, bare past it."""
    payload = target.sample()
    if depth <= MAX_JSON_DEPTH:
        filler = b'"' + b"A" * (target.budget - 2 * depth) + b'"'
        put(payload, path, Raw(b"[" * depth + filler + b"]" * depth))
    else:
        put(payload, path, Raw(b"[" * depth + b"]" * depth))
    return payload


def _unknown_keys(target: Target) -> Any:
    payload = target.sample()
    count = target.budget // 16
    node = payload
    for key in target.free_path[:-1]:
        node = node[key]
    node.update({f"unknown_{i:07d}": 1 for i in range(count)})
    # ...and one field the model must refuse, so the body is refused after the walk over the keys.
    put(payload, target.free_path, {"not": "text"})
    return payload


def _long_scalars(target: Target) -> Any:
    payload = target.sample()
    found = scalar_paths(payload)
    size = target.budget // len(found)
    for path in found:
        put(payload, path, "9" * size)
    return payload


SHAPES: dict[str, Callable[[Target], list[Any]]] = {
    "arrays as long strings": lambda t: [_arrays_as_long_strings(t)],
    "arrays of 1e5 wrong items": lambda t: [_wrong_items(t, p) for p in array_paths(t.sample())],
    "deeply nested arrays": lambda t: [
        # Just within the nesting limit (so the body is decoded and walked), and far past it.
        _deep_arrays(t, p, depth)
        for p in (array_paths(t.sample()) or [t.free_path])[:1]
        for depth in (MAX_JSON_DEPTH - 2 - len(p), t.budget // 2)
    ],
    "many unknown keys": lambda t: [_unknown_keys(t)],
    "long string in every scalar": lambda t: [_long_scalars(t)],
}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("target", TARGETS, ids=TARGET_IDS)
def test_hostile_shapes_are_refused_cheaply(target: Target, shape: str) -> None:
    for payload in SHAPES[shape](target):
        if payload is not None:
            # A long text in every field may fit a model that takes text: only its cost is bounded.
            _check(target, payload, shape, refused=shape != "long string in every scalar")


@st.composite
def _hostile(draw: st.DrawFn, target: Target) -> Any:
    """Replace a random choice of the payload's fields with a random hostile 1 MiB value."""
    payload = target.sample()
    # A field the signature covers cannot hold an array: that is refused before parsing, tested apart.
    fields = [p for p in (*array_paths(payload), *scalar_paths(payload)) if p[0] not in target.signed]
    chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True))
    chosen.sort(key=len, reverse=True)  # innermost first, so outer paths still exist
    size = target.budget // len(chosen)
    for path in chosen:
        kind = draw(st.sampled_from(["string", "items", "nested"]))
        value: Any
        if kind == "string":
            value = draw(st.sampled_from("A9[{")) * size
        elif kind == "items":
            value = [draw(st.sampled_from([1, "x", None, True, 1.5]))] * (size // 4)
        else:
            depth = draw(st.integers(min_value=2, max_value=size // 2))
            value = Raw(b"[" * depth + b"]" * depth)
        put(payload, path, value)
    return payload


@pytest.mark.parametrize("target", TARGETS, ids=TARGET_IDS)
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_random_hostile_fields_cost_a_bounded_amount(target: Target, data: st.DataObject) -> None:
    payload = data.draw(_hostile(target))
    _check(target, payload, "random fields", refused=False, measure_memory=False)
