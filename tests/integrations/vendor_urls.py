"""Django URLs for the vendor tests: one view per vendor, decorated with its real verifier."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from examkit.core.webhook import WebhookRequest
from examkit.integrations.django import verified_webhook
from tests.integrations.vendors import CASES


class Switch:
    """Delegates to the verifier a test sets (views are decorated once, at import)."""

    def __init__(self) -> None:
        self.target: Any = None

    def verify(self, request: WebhookRequest) -> Any:
        assert self.target is not None, "a test forgot to set the verifier"
        return self.target.verify(request)


VERIFIERS: dict[str, Switch] = {case.name: Switch() for case in CASES}
CALLS: list[tuple[str, Any]] = []


def _view(name: str) -> Any:
    def view(request: HttpRequest, event: Any) -> HttpResponse:
        CALLS.append((name, event))
        return JsonResponse({"vendor": name})

    view.__name__ = f"{name}_webhook"
    return verified_webhook(VERIFIERS[name])(view)


urlpatterns = [path(case.path.lstrip("/"), _view(case.name)) for case in CASES]
