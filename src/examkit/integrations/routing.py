"""One endpoint, one typed handler per kind of event.

A vendor often calls one URL with several kinds of event. A router hands each verified, typed event
to the handler registered for its kind; it needs no framework, so it works behind the Django, Flask
and Starlette adapters and in plain code (a queue's worker)::

    from examkit.integrations.routing import ItepRouter

    router = ItepRouter()

    @router.on("completed")
    def record_score(result: ExamResult) -> None: ...

    @router.on("invalidated", "reset")
    def withdraw_score(result: ExamResult) -> None: ...

    router.dispatch(event)  # in the view, after verification

The kinds of each vendor:

- iTEP (:class:`ItepRouter`), by the processing point the results webhook is sent at, read from
  ``Status``: ``finished`` (``Finished``), ``completed`` (``Completed`` or ``Complete``), ``reset``
  (``Ready``, ``Started`` or ``Incomplete``: the webhook is only sent at the documented points, so a
  status before the end can only follow a reset; an inference, the vendor does not say it),
  ``invalidated`` (``Invalidated``), ``technical_issue`` (``Technical Difficulty`` or ``Problem``),
  and ``unknown`` for anything else (``Review``, ``Disabled``, no status, a new value).
- Assessio (:class:`AssessioRouter`), by ``eventType``: ``ASSESSMENT_SUBMITTED`` (the handler
  receives an :class:`~examkit.assessio.AssessmentSubmittedEvent`) and ``unknown`` (an
  :class:`~examkit.assessio.UnknownEvent`, any other event type).
- Testpress (:class:`TestpressRouter`), by ``attempt_state``: ``started``, ``completed``, ``unknown``
  (no state, in older payloads, or a new value).
- Integrity Advocate (:class:`IntegrityAdvocateRouter`), by the participant's effective status (the
  override when there is one, else the ruling), spelled as the vendor does: ``In Progress``,
  ``Valid``, ``Invalid``, ``Invalid (ID)``, ``Invalid (Rules)``, and ``unknown``.

An event whose kind has no handler is not lost silently: :meth:`WebhookRouter.dispatch` logs it at
``WARNING`` with its kind (logger ``examkit.integrations``) and returns ``None``, and the view answers
2xx as usual (the vendor must not retry an event you chose not to handle). A handler that raises
propagates through the view, so the adapters release the replay claim and the vendor's retry is
accepted.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, Final, Generic, Literal, Protocol, TypeVar, overload

from examkit.assessio import AssessmentSubmittedEvent, EventType, UnknownEvent
from examkit.core._checks import check_callable, check_choice
from examkit.core._repr import safe_repr
from examkit.core.errors import ConfigurationError
from examkit.integrations._common import logger
from examkit.integrity_advocate import ReviewCallback
from examkit.itep import ExamResult
from examkit.testpress import ExamWebhookEvent

__all__ = [
    "AssessioRouter",
    "IntegrityAdvocateRouter",
    "ItepRouter",
    "TestpressRouter",
    "WebhookRouter",
]

E = TypeVar("E")
E_inv = TypeVar("E_inv")
H = TypeVar("H", bound=Callable[..., Any])
R = TypeVar("R")

UNKNOWN: Final = "unknown"


class _Register(Protocol[E_inv]):
    """Registers a handler of ``E_inv`` events and gives it back unchanged."""

    def __call__(self, handler: Callable[[E_inv], R], /) -> Callable[[E_inv], R]: ...


def _text(kind: object) -> str:
    """A kind as text: a vendor enum member counts as its value."""
    value = getattr(kind, "value", kind)
    return value if isinstance(value, str) else str(value)


class WebhookRouter(Generic[E]):
    """Hands each event to the handler registered for its kind.

    The vendor routers below fix ``kind_of`` and ``kinds``; build one directly for a scheme of your
    own.

    Args:
        kind_of: Returns an event's kind (one of ``kinds``).
        kinds: Every kind there is; registering a handler for another is refused.
        vendor: Named in the log line of an unhandled event.

    Raises:
        ConfigurationError: ``kind_of`` is not callable.
    """

    def __init__(self, kind_of: Callable[[E], str], kinds: Iterable[str], *, vendor: str = "webhook") -> None:
        self._kind_of = check_callable(kind_of, setting="kind_of")
        self._kinds: tuple[str, ...] = tuple(kinds)
        self._vendor = vendor
        self._handlers: dict[str, Callable[[Any], Any]] = {}

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every kind this router knows, in order."""
        return self._kinds

    def on(self, *kinds: str) -> Callable[[H], H]:
        """Register the decorated function as the handler of ``kinds`` (one handler per kind).

        Raises:
            ConfigurationError: A kind this router does not know, or one that has a handler already.
        """
        names = [check_choice(_text(kind), self._kinds, setting="kind") for kind in kinds]

        def register(handler: H) -> H:
            check_callable(handler, setting="handler")
            for name in names:
                if name in self._handlers:
                    raise ConfigurationError(
                        f"the {name!r} kind has a handler already", setting="kind", vendor=None
                    )
            for name in names:
                self._handlers[name] = handler
            return handler

        return register

    def kind_of(self, event: E) -> str:
        """The kind of ``event``: which handler :meth:`dispatch` calls."""
        kind: str = self._kind_of(event)
        return kind

    def handler_for(self, kind: str) -> Callable[[Any], Any] | None:
        """The handler registered for ``kind``, or ``None``."""
        return self._handlers.get(_text(kind))

    def dispatch(self, event: E) -> Any:
        """Call the handler of ``event``'s kind and return what it returns.

        Without a handler, log the event's kind at ``WARNING`` and return ``None``. A handler's
        exception propagates (so the adapters release the replay claim). An ``async def`` handler's
        coroutine is returned as is: use :meth:`dispatch_async` in async code.
        """
        kind = self.kind_of(event)
        handler = self._handlers.get(kind)
        if handler is None:
            logger.warning(
                "no handler for %s events of kind %r: the event was verified and not handled",
                self._vendor,
                kind,
                extra={"examkit_vendor": self._vendor, "examkit_event_kind": kind},
            )
            return None
        return handler(event)

    async def dispatch_async(self, event: E) -> Any:
        """:meth:`dispatch`, awaiting the handler when it is ``async def``."""
        result = self.dispatch(event)
        if inspect.isawaitable(result):
            return await result
        return result

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}(handled={sorted(self._handlers)!r})"


# -- iTEP -------------------------------------------------------------------------------------------

ItepKind = Literal["finished", "completed", "reset", "invalidated", "technical_issue", "unknown"]
_ITEP_KINDS: Final = ("finished", "completed", "reset", "invalidated", "technical_issue", UNKNOWN)
_ITEP_STATUS: Final = {
    "finished": "finished",
    "completed": "completed",
    "complete": "completed",
    "ready": "reset",
    "started": "reset",
    "incomplete": "reset",
    "invalidated": "invalidated",
    "technical difficulty": "technical_issue",
    "problem": "technical_issue",
}


def _itep_kind(event: ExamResult) -> str:
    status = getattr(event, "status", None)
    if status is None:
        return UNKNOWN
    return _ITEP_STATUS.get(_text(status).strip().casefold(), UNKNOWN)


class ItepRouter(WebhookRouter[ExamResult]):
    """Routes iTEP results by processing point, read from ``Status``.

    Kinds: ``finished``, ``completed``, ``reset``, ``invalidated``, ``technical_issue`` or
    ``unknown`` (see :mod:`examkit.integrations.routing` for the statuses behind each).
    """

    def __init__(self) -> None:
        super().__init__(_itep_kind, _ITEP_KINDS, vendor="itep")

    def on(self, *kinds: ItepKind) -> Callable[[H], H]:  # type: ignore[override]
        """Register the handler of ``kinds`` (see :meth:`WebhookRouter.on`)."""
        return super().on(*kinds)


# -- Assessio ---------------------------------------------------------------------------------------

_ASSESSIO_KINDS: Final = (EventType.ASSESSMENT_SUBMITTED.value, UNKNOWN)


def _assessio_kind(event: AssessmentSubmittedEvent | UnknownEvent) -> str:
    if isinstance(event, UnknownEvent):
        return UNKNOWN
    kind = _text(event.event_type)
    return kind if kind in _ASSESSIO_KINDS else UNKNOWN


class AssessioRouter(WebhookRouter[AssessmentSubmittedEvent | UnknownEvent]):
    """Routes Assessio events by ``eventType``; each handler receives its kind's class.

    ``router.on("ASSESSMENT_SUBMITTED")`` (or ``EventType.ASSESSMENT_SUBMITTED``) registers a handler
    of :class:`~examkit.assessio.AssessmentSubmittedEvent`; ``router.on("unknown")`` one of
    :class:`~examkit.assessio.UnknownEvent`. Type checkers hold each handler to its class.
    """

    def __init__(self) -> None:
        super().__init__(_assessio_kind, _ASSESSIO_KINDS, vendor="assessio")

    @overload  # type: ignore[override]
    def on(
        self, kind: Literal["ASSESSMENT_SUBMITTED", EventType.ASSESSMENT_SUBMITTED], /
    ) -> _Register[AssessmentSubmittedEvent]: ...

    @overload
    def on(self, kind: Literal["unknown"], /) -> _Register[UnknownEvent]: ...

    def on(self, kind: str | EventType, /) -> Any:
        """Register the handler of one kind (see the class)."""
        return super().on(_text(kind))


# -- Testpress --------------------------------------------------------------------------------------

TestpressKind = Literal["started", "completed", "unknown"]
_TESTPRESS_KINDS: Final = ("started", "completed", UNKNOWN)


def _testpress_kind(event: ExamWebhookEvent) -> str:
    state = getattr(event, "attempt_state", None)
    kind = UNKNOWN if state is None else _text(state).strip().casefold()
    return kind if kind in _TESTPRESS_KINDS else UNKNOWN


class TestpressRouter(WebhookRouter[ExamWebhookEvent]):
    """Routes Testpress exam webhooks by attempt state: ``started``, ``completed`` or ``unknown``."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self) -> None:
        super().__init__(_testpress_kind, _TESTPRESS_KINDS, vendor="testpress")

    def on(self, *kinds: TestpressKind) -> Callable[[H], H]:  # type: ignore[override]
        """Register the handler of ``kinds`` (see :meth:`WebhookRouter.on`)."""
        return super().on(*kinds)


# -- Integrity Advocate -----------------------------------------------------------------------------

IntegrityAdvocateKind = Literal[
    "In Progress", "Valid", "Invalid", "Invalid (ID)", "Invalid (Rules)", "unknown"
]
_IA_KINDS: Final = ("In Progress", "Valid", "Invalid", "Invalid (ID)", "Invalid (Rules)", UNKNOWN)


def _ia_kind(event: ReviewCallback) -> str:
    participant = getattr(event, "participant", None)
    status = getattr(participant, "effective_status", None)
    if status is None:
        return UNKNOWN
    kind = _text(status)
    return kind if kind in _IA_KINDS else UNKNOWN


class IntegrityAdvocateRouter(WebhookRouter[ReviewCallback]):
    """Routes Integrity Advocate review callbacks by the participant's effective status.

    Kinds are the vendor's spellings (``"Valid"``, ``"Invalid (Rules)"``...; a
    :class:`~examkit.integrity_advocate.ParticipantStatus` member works too) and ``"unknown"``.
    """

    def __init__(self) -> None:
        super().__init__(_ia_kind, _IA_KINDS, vendor="integrity_advocate")

    def on(self, *kinds: IntegrityAdvocateKind | Any) -> Callable[[H], H]:
        """Register the handler of ``kinds`` (see :meth:`WebhookRouter.on`)."""
        return super().on(*kinds)
