"""Every example in examkit's docstrings runs, as written, on every interpreter of the CI matrix."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import examkit


def _modules() -> list[str]:
    names = [examkit.__name__]
    names += [info.name for info in pkgutil.walk_packages(examkit.__path__, prefix="examkit.")]
    return sorted(names)


def _examples(module: ModuleType) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [test for test in finder.find(module, module.__name__) if test.examples]


MODULES = _modules()
# The Django adapter reads Django's settings when its module's names are inspected (it has no examples
# of its own); importing examkit.__main__ runs the command.
SKIP = {"examkit.integrations.django", "examkit.__main__"}


def test_the_walk_finds_the_modules_with_examples() -> None:
    # Independent of the walk: modules known to carry examples must be among those walked.
    assert {"examkit.core.signing", "examkit.itep.signing", "examkit.testpress"} <= set(MODULES)


@pytest.mark.parametrize("name", [name for name in MODULES if name not in SKIP])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _examples(module):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed in {name}"
