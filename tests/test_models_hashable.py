"""Every public model of every vendor is a frozen attrs class, so it can be hashed (a set member, a key).

Each is built from the vendors' sample payloads (verified webhooks, API pages) or from documented
arguments, and every model nested inside is hashed too. Mapping fields take no part in the hash.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest

from examkit.integrity_advocate.models import parse_participant_page, parse_session_page
from examkit.itep import AssignedTo, Candidate, FulfillmentRequest, InventoryRecord, Registration
from examkit.testpress import AttemptForm
from examkit.testpress.models import CONVERTER as TESTPRESS
from examkit.testpress.models import AttemptResult
from tests.hardening.vendors import CASE_IDS, CASES, Case
from tests.integrity_advocate.samples import PARTICIPANTS_PAGE, REVIEW_CALLBACK, SESSIONS_PAGE

VENDORS = ("itep", "integrity_advocate", "assessio", "testpress")


def _models(value: Any) -> Iterator[object]:
    """``value`` and every attrs instance inside it."""
    if attrs.has(type(value)):
        yield value
        for field in attrs.fields(type(value)):
            yield from _models(getattr(value, field.name))
    elif isinstance(value, tuple | list | frozenset):
        for item in value:
            yield from _models(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _models(item)


def _assert_hashable(value: object) -> set[type]:
    seen: set[type] = set()
    model: Any
    for model in _models(value):
        hash(model)
        assert model == attrs.evolve(model), type(model).__name__  # equal copies...
        assert hash(model) == hash(attrs.evolve(model)), type(model).__name__  # ...hash equal
        seen.add(type(model))
    return seen


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_verified_webhook_events_are_hashable(case: Case) -> None:
    event = case.make().verify(case.valid())
    assert _assert_hashable(event)


def test_api_and_sample_models_are_hashable() -> None:
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assigned = AssignedTo(
        name="Mary Poppins", email="mary@example.com", candidate_id=9810283, extra={"x": [1]}
    )
    registration = Registration(last_name="Poppins", first_name="Mary", oin_type="1")
    built: list[Any] = [
        parse_participant_page(json.loads(PARTICIPANTS_PAGE)),
        parse_session_page(json.loads(SESSIONS_PAGE)),
        assigned,
        registration,
        FulfillmentRequest(product_code="GTX-Academic-Plus", assigned_to={"student-name": "M"}),
        FulfillmentRequest(product_code="GTX-Academic-Plus", assigned_to=assigned, registration=registration),
        Candidate(email="a@example.com", row={"email": "a@example.com"}, assigned_to={"a": 1}),
        InventoryRecord(
            test_id="T1", test_type="GTX", status="Available", assigned_to={"a": 1}, row={"a": "b"}
        ),
        AttemptForm(
            url="https://x.example/a", fields={"email": "a@example.com"}, issued_at=now, expires_at=now
        ),
        TESTPRESS.structure(
            {
                "email": "a@example.com",
                "first_name": "A",
                "attempt_id": "1",
                "institute_attempt_id": "i-1",
                "status": "completed",
                "rank": "",
                "other": {"kept": [1]},
            },
            AttemptResult,
        ),
    ]
    assert json.loads(REVIEW_CALLBACK)  # the review callback is covered by the verified events above
    seen: set[type] = set()
    for model in built:
        seen |= _assert_hashable(model)
    assert len(seen) >= 10


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_public_attrs_class_is_frozen_and_hashable_by_design(vendor: str) -> None:
    package = importlib.import_module(f"examkit.{vendor}")
    for name in package.__all__:
        obj = getattr(package, name)
        if isinstance(obj, type) and attrs.has(obj):
            assert obj.__hash__ is not None, name
            for field in attrs.fields(obj):
                # A field that may hold a dict must be left out of the hash, or hash() raises.
                if "Mapping" in str(field.type) or "dict" in str(field.type):
                    assert field.hash is False, f"{name}.{field.name}"
