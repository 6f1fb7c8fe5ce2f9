"""Importing a verifier loads what verifying needs and nothing more (issue 17's import budget).

The budget itself is a time (``benchmarks/system.py``, ``import_times``); time is too noisy to assert
here, so these tests pin what it comes from: which modules a fresh interpreter has loaded after
``from examkit.<vendor> import <Verifier>``. The models (and cattrs, which builds them) load with the
first typed event, and then read as the package face exactly as when they are imported from it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from examkit.core.clock import FixedClock
from examkit.core.webhook import WebhookRequest

# Loaded by no verifier at import: the HTTP stack, the converter library, what only signers or
# clients use, and the parts of core a verifier does not need.
NEVER = (
    "requests",
    "httpx",
    "urllib3",
    "cattrs",
    "typing_extensions",
    "uuid",
    "logging",
    "examkit.core.http",
    "examkit.core.diagnosis",
)

VERIFIERS = {
    "itep": "ItepWebhookVerifier",
    "integrity_advocate": "IntegrityAdvocateWebhookVerifier",
    "assessio": "AssessioWebhookVerifier",
    "testpress": "TestpressWebhookVerifier",
}
# A vendor whose webhooks module would need its models when it is defined (none today: Assessio's
# AssessioVerified names its event type as a string, so that its models load on first use too).
MODELS_AT_IMPORT: set[str] = set()


def _run(code: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _loaded_after(statement: str) -> list[str]:
    return list(_run(f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"))


@pytest.mark.parametrize("vendor", sorted(VERIFIERS))
def test_importing_a_verifier_loads_only_the_verifier_side(vendor: str) -> None:
    loaded = _loaded_after(f"from examkit.{vendor} import {VERIFIERS[vendor]}")
    assert not [m for m in NEVER if m in loaded]
    ours = {m.removeprefix(f"examkit.{vendor}.") for m in loaded if m.startswith(f"examkit.{vendor}.")}
    # Only the verifier's own modules: no client, diagnosis, embed, bulk or attempts module.
    assert "webhooks" in ours
    allowed = {"webhooks", "signing", "_vendor", "_literals"}
    if vendor in MODELS_AT_IMPORT:
        allowed.add("models")
    assert ours <= allowed, sorted(ours - allowed)
    assert ("models" in ours) == (vendor in MODELS_AT_IMPORT)
    assert ("examkit.core._html" in loaded) == (vendor in MODELS_AT_IMPORT)  # the models' notebook tables


def test_importing_examkit_core_loads_no_submodule_it_does_not_need() -> None:
    # Errors, clocks, secrets and the request load with core (every verifier needs them); the
    # diagnosis model, the encodings and the HTTP call model on first use of one of their names.
    loaded = _loaded_after("import examkit.core")
    assert not [m for m in NEVER if m in loaded]
    assert "examkit.core.serde" not in loaded
    assert "examkit.core.encoding" not in loaded
    loaded = _loaded_after("from examkit.core import Diagnosis, RetryPolicy")
    assert "examkit.core.diagnosis" in loaded
    assert "examkit.core.http" in loaded


def _requests() -> dict[str, tuple[dict[str, Any], str]]:
    """A correctly signed request per vendor, as JSON, and the code that builds its verifier."""
    from examkit.testing.assessio import assessment_submitted_webhook
    from examkit.testing.integrity_advocate import (
        DEMO_API_KEY,
        DEMO_APP_ID,
        make_participant,
        signed_review_callback,
    )
    from examkit.testing.itep import build_results_webhook
    from examkit.testing.testpress import exam_webhook_request, sample_exam_webhook_payload

    itep = build_results_webhook(token=("X-Itep-Token", "token-1"))
    ia = signed_review_callback(make_participant("p-1", "c-1"), url="https://lms.example/cb")  # now
    assessio = assessment_submitted_webhook(api_key="key-1", order_reference_id="order-1")
    testpress = exam_webhook_request(sample_exam_webhook_payload(public_key="pub"), private_key="priv")
    return {
        "itep": (
            itep.to_json_dict(),
            "ItepWebhookVerifier(auth=TokenHeaderAuth(header='X-Itep-Token', token='token-1'))",
        ),
        "integrity_advocate": (
            ia.to_json_dict(),
            f"IntegrityAdvocateWebhookVerifier(app_id={DEMO_APP_ID!r}, api_key={DEMO_API_KEY!r})",
        ),
        "assessio": (assessio.to_json_dict(), "AssessioWebhookVerifier(api_key='key-1')"),
        "testpress": (
            testpress.to_json_dict(),
            "TestpressWebhookVerifier(public_key='pub', private_key='priv')",
        ),
    }


@pytest.mark.parametrize("vendor", sorted(VERIFIERS))
def test_the_first_typed_event_loads_the_models_and_reads_as_the_face(vendor: str) -> None:
    data, build = _requests()[vendor]
    extra = {"itep": "TokenHeaderAuth", "integrity_advocate": "", "assessio": "", "testpress": ""}[vendor]
    names = ", ".join(n for n in (VERIFIERS[vendor], extra) if n)
    found = _run(
        f"""
        import json, pickle, sys
        from examkit.core import WebhookRequest
        from examkit.{vendor} import {names}
        models_before = "examkit.{vendor}.models" in sys.modules
        verifier = {build}
        event = verifier.verify(WebhookRequest.from_json_dict(json.loads({json.dumps(data)!r})))
        cls = type(event)
        face = sys.modules["examkit.{vendor}"]
        siblings = [vars(sys.modules.get(f"examkit.{vendor}.{{m}}", sys)) for m in ("webhooks", "signing")]
        print(json.dumps({{
            "models_before": models_before,
            "models_after": "examkit.{vendor}.models" in sys.modules,
            "module": cls.__module__,
            "same_as_face": getattr(face, cls.__qualname__) is cls,
            "pickles": pickle.loads(pickle.dumps(event)) == event,
            "stand_ins": sorted(
                n for ns in siblings for n, v in ns.items() if type(v).__name__.startswith("_Deferred")
            ),
            "requests": "requests" in sys.modules,
        }}))
        """
    )
    assert found["models_before"] == (vendor in MODELS_AT_IMPORT)
    assert found["models_after"] is True
    assert found["module"] == f"examkit.{vendor}"
    assert found["same_as_face"] is True
    assert found["pickles"] is True
    assert found["stand_ins"] == [], "a deferred name was not replaced by the real object"
    assert found["requests"] is False


def test_a_bad_signature_is_refused_before_any_model_loads() -> None:
    # Verify, then parse: refusing a request needs neither the models nor cattrs.
    found = _run(
        """
        import json, sys
        from examkit.core import WebhookRequest
        from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth
        from examkit.testpress import TestpressWebhookVerifier
        from examkit import SignatureMismatchError, MissingSignatureError
        refused = []
        itep = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Itep-Token", token="token-1"))
        try:
            itep.verify(WebhookRequest(body=b"data=%7B%7D", headers={"X-Itep-Token": "token-2"}))
        except SignatureMismatchError as exc:
            refused.append(type(exc).__name__)
        testpress = TestpressWebhookVerifier(public_key="pub", private_key="priv")
        try:
            testpress.verify(WebhookRequest(body=b'{"user": {}}'))
        except (SignatureMismatchError, MissingSignatureError) as exc:
            refused.append(type(exc).__name__)
        print(json.dumps([refused, sorted(m for m in sys.modules if m.endswith(".models") or m == "cattrs")]))
        """
    )
    refused, loaded = found
    assert len(refused) == 2
    assert loaded == []


def test_deferred_and_defer_give_way_to_the_real_objects() -> None:
    from examkit.core import _exports

    namespace: dict[str, Any] = {}
    namespace["_clock"] = _exports.deferred("examkit.core.clock", namespace, "_clock")
    _exports.defer("examkit.core.clock", namespace, "FixedClock", "epoch_to_datetime")
    assert "not loaded yet" in repr(namespace["_clock"])
    assert "not loaded yet" in repr(namespace["FixedClock"])

    from examkit.core import clock

    # An attribute read through the stand-in returns the module's value and rebinds the name.
    assert namespace["_clock"].FixedClock is clock.FixedClock
    assert namespace["_clock"] is clock
    # A call through a deferred name is the real call, and rebinds the name.
    fixed = namespace["FixedClock"](1_700_000_000)
    assert isinstance(fixed, clock.FixedClock)
    assert namespace["FixedClock"] is clock.FixedClock
    assert fixed.time() == FixedClock(1_700_000_000).time() == 1_700_000_000
    # isinstance through a stand-in that was never called.
    _exports.defer("examkit.core.webhook", namespace, "WebhookRequest")
    assert isinstance(WebhookRequest(body=b""), namespace["WebhookRequest"])
    assert namespace["WebhookRequest"] is WebhookRequest
    assert namespace["epoch_to_datetime"](0).year == 1970
    assert namespace["epoch_to_datetime"] is clock.epoch_to_datetime


def test_load_publishes_the_face_names_of_what_it_imported() -> None:
    found = _run(
        """
        import json, sys
        from examkit.core._exports import load
        models = load("examkit.itep.models")
        face = sys.modules["examkit.itep"]
        print(json.dumps([
            models.ExamResult.__module__,
            models.Registration.__module__,  # registration came with the models
            "ExamResult" in vars(face),
            "ItepClient" in vars(face),
            "requests" in sys.modules,
        ]))
        """
    )
    assert found == ["examkit.itep", "examkit.itep", True, False, False]
