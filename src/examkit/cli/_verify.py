"""``examkit verify <vendor>``: read the options and secrets, ask the vendor's ``explain()``, render.

The diagnosis itself (the variants tried, the verdict of the vendor's real verifier) is a library
feature: each vendor package's ``explain()`` builds it and :func:`~examkit.cli._common.report_from`
turns it into what the command prints and its exit code. This module only maps the command's options
and environment variables onto ``explain()``'s arguments. No secret is ever printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Final

from examkit.cli._common import CliError, Report, SecretSource, report_from
from examkit.core._diagnosing import first_header
from examkit.core.clock import FixedClock
from examkit.core.webhook import WebhookRequest

# -- iTEP -------------------------------------------------------------------------------------------


def itep_auth(args: argparse.Namespace, secrets: SecretSource) -> str:
    """The iTEP authentication kind: ``--auth``, else the first secret set in the environment."""
    if args.auth:
        return str(args.auth)
    for name, kind in (
        ("EXAMKIT_ITEP_WEBHOOK_SECRET", "hmac"),
        ("EXAMKIT_ITEP_WEBHOOK_TOKEN", "token"),
        ("EXAMKIT_ITEP_WEBHOOK_PASSWORD", "basic"),
    ):
        if secrets.optional(name):
            return kind
    # Only what this command's --auth accepts: `sign` has no fulfillment mode.
    kinds = (
        "hmac, token or basic"
        if getattr(args, "command", None) == "sign"
        else "hmac, token, basic or fulfillment"
    )
    raise CliError(
        f"iTEP webhooks are authenticated as set up for your tracking code: pass --auth {kinds} "
        "(or set EXAMKIT_ITEP_WEBHOOK_SECRET, _TOKEN or _PASSWORD)"
    )


def itep_header(args: argparse.Namespace, secrets: SecretSource, kind: str) -> str:
    """The header iTEP sends the credential in (``--auth-header`` or the environment)."""
    header = args.auth_header or (
        secrets.optional("EXAMKIT_ITEP_SIGNATURE_HEADER") if kind in ("hmac", "fulfillment") else None
    )
    if not header:
        raise CliError(f"--auth-header is required with --auth {kind} (the header iTEP sends it in)")
    return str(header)


def verify_itep(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check an iTEP results webhook (or, with ``--auth fulfillment``, a fulfillment request)."""
    from examkit.itep import explain  # noqa: PLC0415 - load one vendor only

    kind = itep_auth(args, secrets)
    secret = token = username = password = None
    if kind in ("hmac", "fulfillment"):
        header = itep_header(args, secrets, kind)
        var = "EXAMKIT_ITEP_WEBHOOK_SECRET" if kind == "hmac" else "EXAMKIT_ITEP_API_KEY"
        secret = secrets.require(var, "the iTEP webhook secret" if kind == "hmac" else "the iTEP API key")
        labels = {"secret": var}
    elif kind == "token":
        header = itep_header(args, secrets, kind)
        token = secrets.require("EXAMKIT_ITEP_WEBHOOK_TOKEN", "the iTEP webhook token")
        labels = {"token": "EXAMKIT_ITEP_WEBHOOK_TOKEN"}
    else:
        username = secrets.require("EXAMKIT_ITEP_WEBHOOK_USERNAME", "the iTEP webhook user name")
        password = secrets.require("EXAMKIT_ITEP_WEBHOOK_PASSWORD", "the iTEP webhook password")
        header = args.auth_header or "Authorization"
        labels = {"password": "EXAMKIT_ITEP_WEBHOOK_PASSWORD"}
    diagnosis = explain(
        request,
        scheme=kind,  # type: ignore[arg-type]  # one of itep_auth's kinds
        header=header,
        secret=secret,
        token=token,
        username=username,
        password=password,
        prefix=args.prefix or "",
        encoding=args.encoding or "hex",
        clock=FixedClock(now),
        labels=labels,
    )
    return report_from(diagnosis)


# -- Integrity Advocate ----------------------------------------------------------------------------


def verify_integrity_advocate(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check an Integrity Advocate review callback (``amx`` Authorization header)."""
    from examkit.integrity_advocate import explain  # noqa: PLC0415 - load one vendor only

    if not request.url:
        raise CliError("--url is required: the amx signature covers the URL the vendor called")
    app_id = secrets.require("EXAMKIT_IA_APP_ID", "the Integrity Advocate App Id")
    api_key = secrets.require("EXAMKIT_IA_API_KEY", "the Integrity Advocate API key")
    diagnosis = explain(
        request,
        app_id=app_id,
        api_key=api_key,
        tolerance=float(args.tolerance),
        clock=FixedClock(now),
        labels={
            "app_id": "EXAMKIT_IA_APP_ID",
            "api_key": "EXAMKIT_IA_API_KEY",
            "url": "the --url",
            "method": "--method",
        },
    )
    return report_from(diagnosis)


# -- Assessio ---------------------------------------------------------------------------------------


def verify_assessio(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check an Assessio webhook: the integrator-api-key header and, when present, the Signature."""
    from examkit.assessio import explain  # noqa: PLC0415 - load one vendor only

    api_key = secrets.require("EXAMKIT_ASSESSIO_API_KEY", "the Assessio integrator-api-key")
    check_signature = bool(args.require_signature or first_header(request, "Signature") is not None)
    secret = (
        secrets.require("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", "the Assessio integrator-secret")
        if check_signature
        else None
    )
    settings: dict[str, Any] = {"header": args.api_key_header} if args.api_key_header else {}
    diagnosis = explain(
        request,
        api_key=api_key,
        scheme="bearer" if args.bearer else "raw",
        signature_secret=secret,
        tolerance=float(args.tolerance),
        provider_key=secrets.optional("EXAMKIT_ASSESSIO_PROVIDER_KEY"),
        clock=FixedClock(now),
        labels={
            "api_key": "EXAMKIT_ASSESSIO_API_KEY",
            "signature_secret": "EXAMKIT_ASSESSIO_INTEGRATOR_SECRET",
            "provider_key": "EXAMKIT_ASSESSIO_PROVIDER_KEY",
        },
        **settings,
    )
    return report_from(diagnosis)


# -- Testpress --------------------------------------------------------------------------------------


def verify_testpress(
    args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Check a Testpress exam webhook (the ``hash`` inside the JSON body)."""
    from examkit.testpress import explain  # noqa: PLC0415 - load one vendor only

    del args  # no Testpress-specific options
    public_key = secrets.require("EXAMKIT_TESTPRESS_PUBLIC_KEY", "the Testpress public institute key")
    private_key = secrets.require("EXAMKIT_TESTPRESS_PRIVATE_KEY", "the Testpress private key")
    diagnosis = explain(
        request,
        public_key=public_key,
        private_key=private_key,
        clock=FixedClock(now),
        labels={
            "public_key": "EXAMKIT_TESTPRESS_PUBLIC_KEY",
            "private_key": "EXAMKIT_TESTPRESS_PRIVATE_KEY",
        },
    )
    return report_from(diagnosis)


VENDOR_VERIFIERS: Final[
    dict[str, Callable[[argparse.Namespace, WebhookRequest, SecretSource, float], Report]]
] = {
    "itep": verify_itep,
    "integrity-advocate": verify_integrity_advocate,
    "assessio": verify_assessio,
    "testpress": verify_testpress,
}
"""The check for each vendor name the CLI accepts."""


def verify_request(
    vendor: str, args: argparse.Namespace, request: WebhookRequest, secrets: SecretSource, now: float
) -> Report:
    """Run the check of ``vendor`` on ``request`` and return the report."""
    return VENDOR_VERIFIERS[vendor](args, request, secrets, now)
