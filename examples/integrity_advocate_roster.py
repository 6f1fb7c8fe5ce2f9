"""Integrity Advocate: embed the proctoring script, page through a course, override a ruling.

Run as a script it uses examkit's in-process fake (no network, no account). With real credentials,
build the client with ``IntegrityAdvocateClient.from_env()`` instead (EXAMKIT_IA_APP_ID,
EXAMKIT_IA_API_KEY). ``flagged_report_async`` is the same report through
``AsyncIntegrityAdvocateClient`` (extra ``async``); the script runs both and checks they agree.
"""

from __future__ import annotations

import asyncio

from examkit.integrity_advocate import (
    AsyncIntegrityAdvocateClient,
    ByStatus,
    IntegrityAdvocateClient,
    Overrider,
    OverrideStatus,
    ParticipantStatus,
    build_script_tag,
)


def flagged_report(client: IntegrityAdvocateClient, course_id: str) -> list[str]:
    """Return one line per participant whose ruling is 'Invalid (Rules)'."""
    return [
        f"{p.participant_identifier}: {p.first_name} {p.last_name} <{p.email}>"
        for p in client.iter_participants(course_id, where=ByStatus(ParticipantStatus.INVALID_RULES))
    ]


async def flagged_report_async(client: AsyncIntegrityAdvocateClient, course_id: str) -> list[str]:
    """The same report from asyncio code: the listing is an async iterator."""
    return [
        f"{p.participant_identifier}: {p.first_name} {p.last_name} <{p.email}>"
        async for p in client.iter_participants(course_id, where=ByStatus(ParticipantStatus.INVALID_RULES))
    ]


async def _async_report(fake: object, course_id: str) -> list[str]:
    async with fake.async_client() as client:  # type: ignore[attr-defined]
        return await flagged_report_async(client, course_id)


def main() -> None:
    from examkit.testing.integrity_advocate import (  # noqa: PLC0415 - the fake is for the offline run
        DEMO_APP_ID,
        FakeIntegrityAdvocate,
        make_participant,
    )

    print(
        build_script_tag(
            app_id=DEMO_APP_ID,
            participant_identifier="42",
            course_id="bio-101",
            first_name="Zoë",
            last_name="Smith",
            email="zoe@example.org",
            review_callback="https://lms.example.org/ia/review",
        )
    )

    fake = FakeIntegrityAdvocate()
    fake.add_participants(
        make_participant(str(i), "bio-101", status="Invalid (Rules)" if i % 4 == 0 else "Valid")
        for i in range(30)
    )
    client = fake.client()
    lines = flagged_report(client, "bio-101")
    print(f"{len(lines)} flagged participants:")
    print("\n".join(lines))
    if asyncio.run(_async_report(fake, "bio-101")) != lines:
        raise SystemExit("the async client disagrees with the sync one")
    print("the async client lists the same participants")

    updated = client.override_participant(
        "4",
        "bio-101",
        status=OverrideStatus.VALID,
        reason="False positive after review",
        overrider=Overrider(user_id="t-1", first_name="Ada", last_name="Teacher"),
    )
    if updated is None:
        raise SystemExit("the vendor returned no participant")
    print(f"participant 4 is now {updated.effective_status}")


if __name__ == "__main__":
    main()
