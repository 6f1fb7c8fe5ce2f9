"""Order an Assessio assessment link, signed, and print it.

Offline by default: it runs against examkit's in-process fake of the Assessio sandbox. With
``--live`` it talks to the real sandbox using EXAMKIT_ASSESSIO_PROVIDER_KEY and
EXAMKIT_ASSESSIO_INTEGRATOR_SECRET.

    python examples/assessio_order_link.py
    python examples/assessio_order_link.py --async     # the same order through AsyncAssessioClient
"""

from __future__ import annotations

import asyncio
import sys

from examkit.assessio import AssessioClient, AssessmentType, AsyncAssessioClient, PersonDetails
from examkit.testing.assessio import FakeAssessio

_ORDER = {
    "assessment_type": AssessmentType.MAP,
    "order_reference_id": "candidate-42",
    "webhook_callback_url": "https://hr.example.com/assessio/webhook",
    "redirect_url": "https://hr.example.com/thanks",
    "person": PersonDetails(locale="en-US", email="ada@example.com", first_name="Ada", last_name="Lovelace"),
}


async def order_async(live: bool) -> int:
    """The same order from asyncio code."""
    if live:
        client = AsyncAssessioClient.from_env(environment="sandbox")
    else:
        fake = FakeAssessio(provider_key="example-provider-key", integrator_secret="example-secret")
        client = AsyncAssessioClient(
            provider_key="example-provider-key",
            integrator_secret="example-secret",
            environment="sandbox",
            client=fake.httpx_client(),
        )
    async with client:
        result = await client.order_assessment_link(**_ORDER)  # type: ignore[arg-type]
    print("status:", result.status_code)
    print("link:  ", result.require_link())
    print("sent:  ", result.request_body.decode())
    return 0


def main(argv: list[str]) -> int:
    if "--async" in argv:
        return asyncio.run(order_async("--live" in argv))
    if "--live" in argv:
        client = AssessioClient.from_env(environment="sandbox")
    else:
        fake = FakeAssessio(provider_key="example-provider-key", integrator_secret="example-secret")
        client = AssessioClient(
            provider_key="example-provider-key",
            integrator_secret="example-secret",
            environment="sandbox",
            session=fake.session(),
        )
    with client:
        result = client.order_assessment_link(
            assessment_type=AssessmentType.MAP,
            order_reference_id="candidate-42",
            webhook_callback_url="https://hr.example.com/assessio/webhook",
            redirect_url="https://hr.example.com/thanks",
            person=PersonDetails(
                locale="en-US", email="ada@example.com", first_name="Ada", last_name="Lovelace"
            ),
        )
    print("status:", result.status_code)
    print("link:  ", result.require_link())
    print("sent:  ", result.request_body.decode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
