"""examkit's benchmark suite: run ``python benchmarks/run.py [--quick] [--write]`` or ``nox -s bench``.

Timing claims live here only; ``tests/test_benchmarks.py`` checks that the cases still run and agree
with examkit (no timing assertions).
"""
