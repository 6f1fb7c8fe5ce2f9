"""Verify an iTEP results webhook from the raw request bytes and read the typed result.

In a Django view pass ``request.body`` and ``request.headers``; in Flask ``request.get_data()`` and
``request.headers``. Here the request is built with examkit's test helper, so it runs offline.
"""

from __future__ import annotations

from examkit.core.errors import PayloadError, WebhookVerificationError
from examkit.core.webhook import WebhookRequest
from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth
from examkit.testing.itep import build_results_webhook

# iTEP configures the authentication per tracking code; ask them which one yours uses.
verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Itep-Token", token="shared-token"))


def handle(request: WebhookRequest) -> tuple[int, str]:
    try:
        result = verifier.verify(request)
    except WebhookVerificationError:
        return 401, "unauthorised"
    except PayloadError as exc:
        return 400, f"bad payload: {exc}"
    sections = ", ".join(f"{name} {s.level} ({s.cefr})" for name, s in result.sections.items())
    return 200, f"{result.test_id}: {result.status}, overall {result.overall_level}; {sections}"


if __name__ == "__main__":
    print(handle(build_results_webhook(token=("X-Itep-Token", "shared-token"))))
    print(handle(build_results_webhook(token=("X-Itep-Token", "guess"))))
    print(handle(WebhookRequest(body=b"nodata=1", headers={"X-Itep-Token": "shared-token"})))
