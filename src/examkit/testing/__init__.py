"""Tools for your own tests: signed vendor webhooks, in-process fakes of vendor APIs, a pytest plugin.

Nothing here touches the network. The fakes plug into a :class:`requests.Session` as transport
adapters, so the real clients run unchanged against them, and every fake has the same shape:
``fake.client()`` returns a client wired to it, ``fake.fail_next()``, ``fake.drop_next()`` and
``fake.delay_next()`` inject failures, and its clock follows the client's unless you give it one::

    from examkit.testing.itep import FakeItep

    fake = FakeItep(api_key="k", signature_header="X-Sig", inventory={"Core": ["4279C035CO"]})
    fake.client().issue_test_id(product_code="GTX-Core").test_id   # '4279C035CO'

Each vendor has its own module (:mod:`examkit.testing.itep`, :mod:`examkit.testing.integrity_advocate`,
:mod:`examkit.testing.assessio`, :mod:`examkit.testing.testpress`). This package holds what they share:
:class:`SignedWebhooks` (each vendor's webhook correctly signed, and a verifier accepting it) and
:func:`forget_replays`. The pytest plugin (``examkit.testing.pytest_plugin``, found by pytest) turns
them into fixtures.
"""

from __future__ import annotations

from examkit.core._exports import publish
from examkit.testing._replays import forget_replays
from examkit.testing._webhooks import FROZEN_NOW, SignedWebhooks

__all__ = ["FROZEN_NOW", "SignedWebhooks", "forget_replays"]

publish(__name__, globals(), __all__)
