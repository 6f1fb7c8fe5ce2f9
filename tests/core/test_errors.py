"""Every examkit error crosses a process boundary: pickle, copy and a real child process."""

# ruff: noqa: S301 - the pickles are made here, by the tests

from __future__ import annotations

import concurrent.futures
import copy
import importlib
import inspect
import multiprocessing
import pickle
import pkgutil
from typing import Any

import pytest

import examkit
from examkit.core.errors import ExamkitError, TimestampOutsideToleranceError
from examkit.itep.bulk import BulkReport
from examkit.itep.registration import RegistrationProblem

_OPTIONAL = ("examkit.integrations.django", "examkit.integrations.flask")


def _all_error_classes() -> list[type[ExamkitError]]:
    for module in pkgutil.walk_packages(examkit.__path__, prefix="examkit."):
        if module.name == "examkit.__main__":
            continue  # runs the command
        try:
            importlib.import_module(module.name)
        except ImportError:
            if module.name not in _OPTIONAL:
                raise
    found: list[type[ExamkitError]] = []
    todo: list[type[ExamkitError]] = [ExamkitError]
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


ERROR_CLASSES = _all_error_classes()

# Values for arguments whose meaning a type alone does not give.
_SPECIAL: dict[str, Any] = {
    "message": "what went wrong, and what to do",
    "vendor": "itep",
    "timestamp": 1_700_000_000.0,
    "now": 1_700_000_900.0,
    "problems": (RegistrationProblem("Birthday", "Out of range Birth Day [1955]"),),
    "report": BulkReport(()),
}


def _value_for(param: inspect.Parameter) -> Any:
    if param.name in _SPECIAL:
        return _SPECIAL[param.name]
    annotation = str(param.annotation)
    if "bool" in annotation:
        return not param.default if isinstance(param.default, bool) else True
    if "float" in annotation:
        return 2.5
    if "int" in annotation:
        return 7
    if "str" in annotation:
        return f"<{param.name}>"
    raise AssertionError(f"add a representative value for {param.name}: {annotation}")


def _build(cls: type[ExamkitError]) -> ExamkitError:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if param.kind is param.POSITIONAL_OR_KEYWORD or param.kind is param.POSITIONAL_ONLY:
            args.append(_value_for(param))
        elif param.kind is param.KEYWORD_ONLY:
            kwargs[param.name] = _value_for(param)
    return cls(*args, **kwargs)


def _public_state(error: BaseException) -> dict[str, Any]:
    names = {n for n in vars(error) if not n.startswith("_")}
    names |= {n for n, v in inspect.getmembers(type(error)) if isinstance(v, property)}
    return {n: getattr(error, n) for n in sorted(names)}


def _assert_same(copied: BaseException, original: ExamkitError) -> None:
    assert type(copied) is type(original)
    assert str(copied) == str(original)
    assert repr(copied) == repr(original)
    assert copied.args == original.args
    assert _public_state(copied) == _public_state(original)


def test_the_walk_finds_the_whole_hierarchy() -> None:
    names = {c.__name__ for c in ERROR_CLASSES}
    assert {"TimestampOutsideToleranceError", "PayloadTooLargeError", "PageLimitError"} <= names
    assert {"BulkIssueInterrupted", "RegistrationError", "BodyAlreadyReadError"} <= names
    assert len(ERROR_CLASSES) >= 21


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__qualname__)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_error_pickles_to_an_equal_error(cls: type[ExamkitError], protocol: int) -> None:
    error = _build(cls)
    _assert_same(pickle.loads(pickle.dumps(error, protocol=protocol)), error)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__qualname__)
def test_every_error_copies_and_deep_copies(cls: type[ExamkitError]) -> None:
    error = _build(cls)
    _assert_same(copy.copy(error), error)
    _assert_same(copy.deepcopy(error), error)


def test_attributes_set_after_construction_survive_pickling() -> None:
    error = examkit.PayloadTooLargeError("too big", size=10, limit=5, vendor="assessio")
    error.note = "added by a handler"  # type: ignore[attr-defined]
    copied = pickle.loads(pickle.dumps(error))
    assert copied.note == "added by a handler"
    assert (copied.size, copied.limit, copied.vendor, copied.reason) == (10, 5, "assessio", "body too large")


def test_a_subclass_with_its_own_keyword_fields_pickles_without_extra_code() -> None:
    error = _Custom("custom", attempts=3, vendor="testpress")
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.attempts, copied.vendor, str(copied)) == (3, "testpress", "custom")


class _Custom(examkit.ApiError):
    def __init__(self, message: str, *, attempts: int, vendor: str | None = None) -> None:
        super().__init__(message, vendor=vendor)
        self.attempts = attempts


def _raise_stale() -> None:
    raise TimestampOutsideToleranceError(
        "the request is 900 s old",
        timestamp=1_700_000_000,
        now=1_700_000_900,
        tolerance=300,
        vendor="assessio",
    )


def test_an_error_raised_in_a_child_process_arrives_whole() -> None:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        future = pool.submit(_raise_stale)
        with pytest.raises(TimestampOutsideToleranceError) as caught:
            future.result(timeout=60)
    error = caught.value
    assert str(error) == "the request is 900 s old"
    assert (error.timestamp, error.now, error.tolerance, error.skew) == (
        1_700_000_000,
        1_700_000_900,
        300,
        -900,
    )
    assert (error.vendor, error.reason) == ("assessio", "timestamp too old")
