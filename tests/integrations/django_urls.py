"""The URLs of the Django tests: views decorated with examkit's verified_webhook in each way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from examkit.integrations.django import verified_webhook
from tests.integrations.toy import SwitchableVerifier, ToyEvent

VERIFIER = SwitchableVerifier()
CALLS: list[tuple[str, ToyEvent, dict[str, Any]]] = []


def _view(name: str) -> Callable[..., Any]:
    def view(request: HttpRequest, event: ToyEvent, **kwargs: Any) -> HttpResponse:
        CALLS.append((name, event, kwargs))
        return JsonResponse({"candidate": event.candidate, "score": event.score, **kwargs})

    view.__name__ = name
    return view


async def async_view(request: HttpRequest, event: ToyEvent) -> HttpResponse:
    CALLS.append(("async", event, {}))
    return JsonResponse({"candidate": event.candidate, "score": event.score})


def reads_post_first(view: Callable[..., Any]) -> Callable[..., Any]:
    """Stands for a middleware or decorator that touches request.POST before examkit."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        _ = request.POST
        return view(request, *args, **kwargs)

    wrapper.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapper


urlpatterns = [
    path("webhooks/toy", verified_webhook(VERIFIER)(_view("plain"))),
    path("tenants/<str:tenant>/toy", verified_webhook(VERIFIER)(_view("tenant"))),
    path("async/toy", verified_webhook(VERIFIER)(async_view)),
    path(
        "public/toy",
        verified_webhook(VERIFIER, public_url="https://hooks.example.com")(_view("public")),
    ),
    path(
        "prefixed/toy",
        verified_webhook(VERIFIER, public_url="https://example.com/api")(_view("prefixed")),
    ),
    path("forwarded/toy", verified_webhook(VERIFIER, trust_forwarded=True)(_view("forwarded"))),
    path("consumed/toy", reads_post_first(verified_webhook(VERIFIER)(_view("consumed")))),
]
