"""Order an Assessio assessment link, signed, and print it.

Offline by default: it runs against examkit's in-process fake of the Assessio sandbox. With
``--live`` it talks to the real sandbox using EXAMKIT_ASSESSIO_PROVIDER_KEY and
EXAMKIT_ASSESSIO_INTEGRATOR_SECRET.

    python examples/assessio_order_link.py
"""

from __future__ import annotations

import sys

from examkit.assessio import AssessioClient, AssessmentType, PersonDetails
from examkit.testing.assessio import FakeAssessio


def main(argv: list[str]) -> int:
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
