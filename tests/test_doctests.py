"""Every example in examkit's docstrings runs, as written, on every interpreter of the CI matrix."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import examkit

SRC = Path(examkit.__file__).parent
# The Django adapter reads Django's settings when its module's names are inspected (it has no examples
# of its own); importing examkit.__main__ runs the command.
SKIP = {"examkit.integrations.django", "examkit.__main__"}


def _modules() -> list[str]:
    names = [examkit.__name__]
    names += [info.name for info in pkgutil.walk_packages(examkit.__path__, prefix="examkit.")]
    return sorted(set(names) - SKIP)


class _Finder(doctest.DocTestFinder):
    """Finds examples on everything examkit defines, whatever face its ``__module__`` names.

    Package faces rewrite the ``__module__`` of their names (``examkit.itep.ExamResult``) but not of
    those names' methods, so doctest's own rule (an object belongs to the module its ``__module__``
    names) would skip a method's examples; names imported from elsewhere are found twice instead,
    which :func:`_all_examples` removes by name.
    """

    def _from_module(self, module: object, object: object) -> bool:
        owner = getattr(object, "__module__", None)
        if isinstance(owner, str):
            return owner == "examkit" or owner.startswith("examkit.")
        return bool(super()._from_module(module, object))  # type: ignore[misc]


def _examples(module: ModuleType) -> list[doctest.DocTest]:
    for name in getattr(module, "__all__", ()):
        getattr(module, name)  # load the face's lazy names, so that their examples are found
    finder = _Finder(exclude_empty=True)
    return [test for test in finder.find(module, module.__name__) if test.examples]


def _all_examples() -> dict[str, doctest.DocTest]:
    # One docstring is found under every name that imports it: keep one test per docstring, under its
    # shortest name (the package face's).
    found: dict[str, doctest.DocTest] = {}
    for name in _modules():
        for test in _examples(importlib.import_module(name)):
            key = test.docstring or ""
            kept = found.get(key)
            if kept is None or (len(test.name), test.name) < (len(kept.name), kept.name):
                found[key] = test
    return {test.name: test for test in found.values()}


EXAMPLES = _all_examples()


def _source_example_lines() -> int:
    """Count the ``>>>`` lines in src/, independently of doctest's finder."""
    return sum(
        1
        for path in SRC.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.lstrip().startswith(">>> ")
    )


def test_every_example_in_the_source_is_found() -> None:
    # Every ">>>" line in src/ must belong to an example that runs: none is lost because its name is
    # lazy, private, a method, or reads as its package face; none is counted twice.
    assert sum(len(test.examples) for test in EXAMPLES.values()) == _source_example_lines()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_docstring_examples_run(name: str) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(EXAMPLES[name])
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed in {name}"
