"""Verify an iTEP results webhook from the raw request bytes and read the typed result.

In a Django view pass ``request.body`` and ``request.headers``; in Flask ``request.get_data()`` and
``request.headers``. Here the request is built with examkit's test helper, so it runs offline.

During a token rotation both tokens are accepted; ``verify_detailed`` says which one the request
carried. A refused request is explained with :func:`examkit.itep.explain`, whose account never holds a
token, so it can go to the log.
"""

from __future__ import annotations

import logging

from examkit.core.errors import PayloadError, WebhookVerificationError
from examkit.core.webhook import WebhookRequest
from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth, explain
from examkit.testing.itep import build_results_webhook

log = logging.getLogger("itep-webhook")

# iTEP configures the authentication per tracking code; ask them which one yours uses.
OLD_TOKEN, NEW_TOKEN = "shared-token-2023", "shared-token"
verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Itep-Token", token=[OLD_TOKEN, NEW_TOKEN]))


def handle(request: WebhookRequest) -> tuple[int, str]:
    try:
        verified = verifier.verify_detailed(request)
    except WebhookVerificationError:
        diagnosis = explain(request, scheme="token", header="X-Itep-Token", token=NEW_TOKEN)
        log.warning("refused iTEP webhook:\n%s", diagnosis.render())
        return 401, "unauthorised"
    except PayloadError as exc:
        return 400, f"bad payload: {exc}"
    result = verified.event
    sections = ", ".join(f"{name} {s.level} ({s.cefr})" for name, s in result.sections.items())
    return 200, (
        f"{result.test_id}: {result.status}, overall {result.overall_level}; {sections} "
        f"[{verified.rotation_note}]"
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(handle(build_results_webhook(token=("X-Itep-Token", NEW_TOKEN))))
    print(handle(build_results_webhook(token=("X-Itep-Token", OLD_TOKEN))))
    print(handle(build_results_webhook(token=("X-Itep-Token", "guess"))))
    print(handle(WebhookRequest(body=b"nodata=1", headers={"X-Itep-Token": NEW_TOKEN})))
