"""Shared test configuration: hypothesis profiles.

The ``ci`` profile runs more examples with no deadline, derandomised so a CI failure reproduces; it is
chosen when the ``CI`` environment variable is set (as CI runners do), or explicitly with
``HYPOTHESIS_PROFILE=ci``. Otherwise the quicker ``dev`` profile runs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
