"""``examkit sign <vendor>``: a correctly signed webhook for testing your receiver, with a curl line.

Signatures (HMACs) are printed: they are what the receiver gets. Secrets that travel as they are
(an iTEP token or basic password, Assessio's integrator-api-key) are never printed: the headers and
the curl command refer to their environment variables (``"$EXAMKIT_..."``), which the shell expands.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Final

import attrs

from examkit.cli._common import CliError, SecretSource, read_body
from examkit.core.errors import ExamkitError

__all__ = ["SignedRequest", "sign_request"]

DEFAULT_URLS: Final = {
    "itep": "http://127.0.0.1:8000/webhooks/itep",
    "integrity-advocate": "http://127.0.0.1:8000/webhooks/integrity-advocate",
    "assessio": "http://127.0.0.1:8000/webhooks/assessio",
    "testpress": "http://127.0.0.1:8000/webhooks/testpress",
}
"""Where the signed request goes unless ``--url`` says otherwise (the example apps' routes)."""


@attrs.frozen
class SignedRequest:
    """A request ready to send.

    Attributes:
        method: The HTTP method.
        url: The URL.
        headers: The headers; values may refer to ``$EXAMKIT_...`` variables for secrets.
        body: The exact body bytes.
        curl_extra: Extra curl arguments (already quoted), such as ``-u`` for basic credentials.
        env_refs: The variables the headers refer to.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    curl_extra: tuple[str, ...] = ()
    env_refs: tuple[str, ...] = ()


def _body_or(args: argparse.Namespace, stdin: Any, default: bytes) -> bytes:
    return read_body(args.body, stdin) if args.body else default


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CliError(f"--body must hold {what} as JSON") from None
    if not isinstance(data, dict):
        raise CliError(f"--body must hold {what} as a JSON object")
    return data


def _sign_itep(
    args: argparse.Namespace, secrets: SecretSource, stdin: Any, url: str, now: int
) -> SignedRequest:
    from examkit.cli._verify import itep_auth, itep_header  # noqa: PLC0415
    from examkit.testing.itep import SAMPLE_RESULT_RAW, build_results_webhook  # noqa: PLC0415

    kind = itep_auth(args, secrets)
    text = _body_or(args, stdin, SAMPLE_RESULT_RAW.encode("utf-8")).decode("utf-8", "strict")
    _json_object(text.encode("utf-8"), "the results (the JSON that goes in the data field)")
    if kind == "hmac":
        header = itep_header(args, secrets, kind)
        secret = secrets.require("EXAMKIT_ITEP_WEBHOOK_SECRET", "the iTEP webhook secret")
        request = build_results_webhook(text, hmac=(header, secret), url=url)
        return SignedRequest("POST", url, tuple(request.headers.items()), request.body)
    if kind == "token":
        header = itep_header(args, secrets, kind)
        request = build_results_webhook(text, url=url)
        value = (args.prefix or "") + "$EXAMKIT_ITEP_WEBHOOK_TOKEN"
        return SignedRequest(
            "POST",
            url,
            (*request.headers.items(), (header, value)),
            request.body,
            env_refs=("EXAMKIT_ITEP_WEBHOOK_TOKEN",),
        )
    request = build_results_webhook(text, url=url)
    return SignedRequest(
        "POST",
        url,
        tuple(request.headers.items()),
        request.body,
        curl_extra=("-u", '"$EXAMKIT_ITEP_WEBHOOK_USERNAME:$EXAMKIT_ITEP_WEBHOOK_PASSWORD"'),
        env_refs=("EXAMKIT_ITEP_WEBHOOK_USERNAME", "EXAMKIT_ITEP_WEBHOOK_PASSWORD"),
    )


def _sign_ia(
    args: argparse.Namespace, secrets: SecretSource, stdin: Any, url: str, now: int
) -> SignedRequest:
    from examkit.core.encoding import canonical_json  # noqa: PLC0415
    from examkit.integrity_advocate.signing import new_nonce  # noqa: PLC0415
    from examkit.integrity_advocate.signing import sign_request as amx  # noqa: PLC0415
    from examkit.testing.integrity_advocate import make_participant  # noqa: PLC0415

    app_id = secrets.require("EXAMKIT_IA_APP_ID", "the Integrity Advocate App Id")
    api_key = secrets.require("EXAMKIT_IA_API_KEY", "the Integrity Advocate API key")
    body = _body_or(args, stdin, canonical_json(make_participant("participant-1", "course-1")))
    method = (args.method or "POST").upper()
    authorization = amx(
        app_id=app_id, api_key=api_key, method=method, url=url, timestamp=now, nonce=args.nonce or new_nonce()
    )
    headers = (("Content-Type", "application/json"), ("Authorization", authorization))
    return SignedRequest(method, url, headers, body)


def _sign_assessio(
    args: argparse.Namespace, secrets: SecretSource, stdin: Any, url: str, now: int
) -> SignedRequest:
    from examkit.assessio import signature_header  # noqa: PLC0415
    from examkit.assessio.signing import SIGNATURE_HEADER  # noqa: PLC0415
    from examkit.assessio.webhooks import DEFAULT_API_KEY_HEADER  # noqa: PLC0415
    from examkit.testing.assessio import assessment_submitted_body  # noqa: PLC0415

    body = _body_or(args, stdin, assessment_submitted_body(order_reference_id="order-1"))
    header = args.api_key_header or DEFAULT_API_KEY_HEADER
    token = ("Bearer " if args.bearer else "") + "$EXAMKIT_ASSESSIO_API_KEY"
    headers: list[tuple[str, str]] = [("Content-Type", "application/json"), (header, token)]
    if args.require_signature:
        secret = secrets.require("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", "the Assessio integrator-secret")
        headers.append((SIGNATURE_HEADER, signature_header(secret=secret, body=body, timestamp=now)))
    return SignedRequest("POST", url, tuple(headers), body, env_refs=("EXAMKIT_ASSESSIO_API_KEY",))


def _sign_testpress(
    args: argparse.Namespace, secrets: SecretSource, stdin: Any, url: str, now: int
) -> SignedRequest:
    from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook  # noqa: PLC0415

    public_key = secrets.require("EXAMKIT_TESTPRESS_PUBLIC_KEY", "the Testpress public institute key")
    private_key = secrets.require("EXAMKIT_TESTPRESS_PRIVATE_KEY", "the Testpress private key")
    if args.body:
        payload = _json_object(read_body(args.body, stdin), "the exam webhook payload")
    else:
        payload = sample_exam_webhook_payload(public_key=public_key)
    body = sign_exam_webhook(payload, private_key=private_key)
    return SignedRequest("POST", url, (("Content-Type", "application/json"),), body)


_SIGNERS: Final = {
    "itep": _sign_itep,
    "integrity-advocate": _sign_ia,
    "assessio": _sign_assessio,
    "testpress": _sign_testpress,
}


def sign_request(vendor: str, args: argparse.Namespace, secrets: SecretSource, stdin: Any) -> SignedRequest:
    """Build the signed request of ``vendor`` from the command's options.

    Raises:
        CliError: A setting or the body is unusable (exit code 2).
    """
    url = args.url or DEFAULT_URLS[vendor]
    now = int(time.time()) if args.timestamp is None else int(args.timestamp)
    try:
        return _SIGNERS[vendor](args, secrets, stdin, url, now)
    except UnicodeDecodeError:
        raise CliError("--body must be UTF-8 text") from None
    except ExamkitError as exc:
        raise CliError(f"cannot sign: {exc}") from None
