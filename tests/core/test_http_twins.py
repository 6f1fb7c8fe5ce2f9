"""Sync and async clients over one core: what each imports, and identical results through the fakes."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examkit.assessio import AssessioClient, AsyncAssessioClient
from examkit.core.errors import ApiError, ValidationError
from examkit.integrity_advocate import (
    AsyncIntegrityAdvocateClient,
    ByStatus,
    IntegrityAdvocateClient,
    ParticipantStatus,
)
from examkit.itep import AsyncItepClient, ItepClient
from examkit.testing.assessio import FakeAssessio
from examkit.testing.integrity_advocate import FakeIntegrityAdvocate, make_participant
from examkit.testing.itep import FakeItep

# -- imports ------------------------------------------------------------------------------------------

_VERIFIERS = {
    "itep": "from examkit.itep import ItepWebhookVerifier",
    "integrity_advocate": "from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier",
    "assessio": "from examkit.assessio import AssessioWebhookVerifier",
}
_CLIENTS = {
    "itep": ("ItepClient", "AsyncItepClient", "api_key='k' * 16, signature_header='X-Sig'"),
    "integrity_advocate": (
        "IntegrityAdvocateClient",
        "AsyncIntegrityAdvocateClient",
        "app_id='00000000-1111-2222-3333-444444444444', api_key='QUJD' * 11",
    ),
    "assessio": ("AssessioClient", "AsyncAssessioClient", "provider_key='pk', integrator_secret='s'"),
}


def _python(code: str) -> None:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_call_core_imports_no_http_library() -> None:
    _python(
        "import sys\nimport examkit.core.http\n"
        "assert 'requests' not in sys.modules, 'requests'\nassert 'httpx' not in sys.modules, 'httpx'\n"
    )


@pytest.mark.parametrize("vendor", sorted(_VERIFIERS))
def test_a_verifier_imports_neither_http_library(vendor: str) -> None:
    _python(
        f"import sys\n{_VERIFIERS[vendor]}\n"
        "assert 'requests' not in sys.modules, 'requests'\nassert 'httpx' not in sys.modules, 'httpx'\n"
    )


@pytest.mark.parametrize("vendor", sorted(_CLIENTS))
def test_a_sync_client_never_imports_httpx_and_an_async_one_only_when_built(vendor: str) -> None:
    sync, twin, args = _CLIENTS[vendor]
    _python(
        f"import sys\nimport examkit.{vendor} as face\n"
        f"face.{sync}({args}).close()\n"
        "assert 'requests' in sys.modules\n"
        "assert 'httpx' not in sys.modules, 'the sync client loaded httpx'\n"
        f"face.{twin}\n"
        "assert 'httpx' not in sys.modules, 'naming the async client loaded httpx'\n"
        f"face.{twin}({args})\n"
        "assert 'httpx' in sys.modules\n"
    )


# -- typed from_env --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls",
    [
        ItepClient,
        AsyncItepClient,
        IntegrityAdvocateClient,
        AsyncIntegrityAdvocateClient,
        AssessioClient,
        AsyncAssessioClient,
    ],
)
def test_from_env_takes_typed_keyword_arguments(cls: type[Any]) -> None:
    for parameter in inspect.signature(cls.from_env).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            assert "Unpack[" in str(parameter.annotation), parameter.annotation
        else:
            assert parameter.annotation not in ("Any", inspect.Parameter.empty), parameter.name


# -- ItepClient.copy ------------------------------------------------------------------------------------


def test_an_itep_copy_has_the_settings_and_its_own_session() -> None:
    fake = FakeItep(
        api_key="k" * 16, signature_header="X-Sig", inventory={"Academic-Plus": ["AAA11111", "BBB22222"]}
    )
    original = fake.client(require_test_id=False)
    copy = original.copy()
    assert isinstance(copy, ItepClient)
    assert copy._transport.session is not original._transport.session
    assert copy._transport.session.adapters == original._transport.session.adapters  # shared pools
    assert copy.endpoint == original.endpoint
    assert copy.signature_header == original.signature_header
    assert copy._require_test_id is False
    assert copy.issue_test_id(product_code="GTX-Academic-Plus").test_id == "AAA11111"
    assert original.issue_test_id(product_code="GTX-Academic-Plus").test_id == "BBB22222"
    assert "k" * 16 not in repr(copy)


# -- identical results through the fakes ----------------------------------------------------------------

_STATUSES = ["In Progress", "Valid", "Invalid"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.sampled_from(_STATUSES), max_size=35),
    page_size=st.integers(1, 10),
    status=st.none() | st.sampled_from([ParticipantStatus.VALID, ParticipantStatus.INVALID]),
    max_pages=st.integers(1, 6),
)
def test_integrity_advocate_twins_list_the_same_participants(
    rows: list[str], page_size: int, status: ParticipantStatus | None, max_pages: int
) -> None:
    fake = FakeIntegrityAdvocate()
    fake.add_course("c-1")
    fake.add_participants(
        make_participant(f"p-{i:03d}", "c-1", status=value, modified=1_700_000_000 - i)
        for i, value in enumerate(rows)
    )
    where = ByStatus(status) if status is not None else None

    def sync() -> tuple[str, object]:
        try:
            with fake.client() as client:
                return "ok", list(
                    client.iter_participants("c-1", where=where, page_size=page_size, max_pages=max_pages)
                )
        except ApiError as exc:
            return type(exc).__name__, getattr(exc, "pages", None)

    async def twin() -> tuple[str, object]:
        try:
            async with fake.async_client() as client:
                found = client.iter_participants("c-1", where=where, page_size=page_size, max_pages=max_pages)
                return "ok", [p async for p in found]
        except ApiError as exc:
            return type(exc).__name__, getattr(exc, "pages", None)

    before = len(fake.adapter.requests)
    expected = sync()
    sync_sends = len(fake.adapter.requests) - before
    got = asyncio.run(twin())
    assert got == expected
    assert len(fake.adapter.requests) - before == 2 * sync_sends
    listed = [p for p in rows if status is None or p == status.value]
    pages_needed = max(1, -(-len(listed) // page_size))
    if pages_needed <= max_pages:
        assert expected[0] == "ok"
        assert len(expected[1]) == len(listed)  # type: ignore[arg-type]
    else:
        assert expected == ("PageLimitError", max_pages)


def test_integrity_advocate_twins_refuse_a_second_filter_type_alike() -> None:
    fake = FakeIntegrityAdvocate()
    fake.add_course("c-1")
    with fake.client() as client, pytest.raises(ValidationError) as sync_error:
        client.iter_participants("c-1", where="Valid")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as async_error:
        # the async iterator checks its arguments when it is made, before any request
        fake.async_client().iter_participant_pages("c-1", where="Valid")  # type: ignore[arg-type]
    assert str(async_error.value) == str(sync_error.value)
    assert not fake.adapter.requests


@settings(max_examples=20, deadline=None)
@given(
    family=st.sampled_from(["GTX", "STX"]),
    email=st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.org", fullmatch=True),
    fail=st.sampled_from([None, 500, 401, 404]),
)
def test_itep_twins_give_the_same_result_or_error(family: str, email: str, fail: int | None) -> None:
    def run(twin: str) -> Any:
        fake = FakeItep(api_key="k" * 16, signature_header="X-Sig", inventory={"Academic-Plus": ["AAA11111"]})
        if fail is not None:
            fake.fail_next(1, status=fail)
        code = f"{family}-Academic-Plus"
        try:
            if twin == "sync":
                with fake.client() as client:
                    call = client.issue_test_id if family == "GTX" else client.send_test_id
                    result = call(product_code=code, email=email)
            else:

                async def go() -> Any:
                    async with fake.async_client() as client:
                        call = client.issue_test_id if family == "GTX" else client.send_test_id
                        return await call(product_code=code, email=email)

                result = asyncio.run(go())
        except ApiError as exc:
            return type(exc).__name__, exc.status_code, str(exc), len(fake.requests)
        return result.test_id, result.status_code, result.data, [r.body for r in fake.requests]

    sync = run("sync")
    assert run("async") == sync
    if fail is None:
        assert sync[0] == "AAA11111"
    else:
        assert sync[1] == fail
        assert sync[3] == 1  # sent once, never retried


def test_assessio_twins_send_the_same_order() -> None:
    person = {"locale": "en-US", "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    order: dict[str, Any] = {
        "assessment_type": "MAP",
        "order_reference_id": "order-1",
        "webhook_callback_url": "https://hr.example.com/hook",
        "redirect_url": "https://hr.example.com/done",
        "person": person,
    }
    fake = FakeAssessio(provider_key="pk-demo", integrator_secret="secret-demo")
    with AssessioClient(
        provider_key="pk-demo", integrator_secret="secret-demo", session=fake.session()
    ) as client:
        sync = client.order_assessment_link(**order)

    async def go() -> Any:
        async with AsyncAssessioClient(
            provider_key="pk-demo", integrator_secret="secret-demo", client=fake.httpx_client()
        ) as client:
            return await client.order_assessment_link(**order)

    twin = asyncio.run(go())
    assert twin.request_body == sync.request_body
    assert twin.status_code == sync.status_code == 200
    assert twin.link.startswith("https://")
    assert [r.body for r in fake.requests] == [sync.request_body, sync.request_body]
