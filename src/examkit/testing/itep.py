"""An in-process fake of iTEP's fulfillment endpoint, and results webhooks for your tests.

:class:`FakeItep` answers the fulfillment POST like iTEP would as far as examkit knows: it checks
the signature header (HMAC-SHA256 of the exact body bytes), allocates test IDs from the inventory
you give it, each exactly once, and records the e-mails an ``STX-`` code would send instead of
sending them. :func:`build_results_webhook` makes a :class:`~examkit.WebhookRequest`
with a ``data=<json>`` body, authenticated the way your verifier expects.

>>> fake = FakeItep(api_key="test-api-key", signature_header="X-Itep-Signature",
...                 inventory={"Academic-Plus": ["3279B035APR"]})
>>> client = fake.client()
>>> client.issue_test_id(product_code="GTX-Academic-Plus").test_id
'3279B035APR'
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote, urlsplit

import attrs
import requests

from examkit.core.errors import ExamkitError, ValidationError
from examkit.core.signing import hmac_sha256
from examkit.core.webhook import WebhookRequest
from examkit.itep import AsyncItepClient, ItepClient
from examkit.itep._ids import BARE_ID as _BARE_ID
from examkit.itep.signing import verify_body
from examkit.testing._faults import FaultInjection
from examkit.testing.http import FakeHttpAdapter, FakeRequest, FakeResponse

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FakeItep",
    "IssuedTestId",
    "SentEmail",
    "build_results_webhook",
]

FAKE_ENDPOINT: Final = "https://fake.itep.example/requests/ecommerce_webhook.php"
"""Where :class:`FakeItep` listens."""

SAMPLE_RESULT_RAW: Final = (
    '{"OID":"","TestID":"3279B035APR","Duration":"67.5","TestDate":"6\\/10\\/2024","TestMonth":"6",'
    '"TestDay":"10","TestYear":"2024","score_report_url":"https://www.iteptest.com/reports/'
    'ScoreReport.php?p=8bee14e7f73fc44d9db69ff8bccfe36aAfcvq","Overall_Level":"4.5",'
    '"Overall_cefr":"C1","Grammar_Level":"3.5","Grammar_Score":"68","Grammar_Percent":"72",'
    '"Grammar_cefr":"B2","Listening_Level":"5.0","Listening_Score":"87","Listening_Percent":"86",'
    '"Listening_cefr":"C1","Reading_Level":"6.0","Reading_Score":"100","Reading_Percent":"100",'
    '"Reading_cefr":"C2","Writing_Level":"4.0","Writing_Score":"77","Writing_Percent":"67",'
    '"Writing_cefr":"B2","Writing_Question_Count":2,"Writing_Question_1":"","Writing_Answer_1":"",'
    '"Writing_Question_2":"","Writing_Answer_2":"","Speaking_Level":"4.0","Speaking_Score":"77",'
    '"Speaking_Percent":"67","Speaking_cefr":"B2","Status":"Complete"}'
)
"""The vendor's "Webhook Output Sample" (raw), as the JSON text inside the ``data`` field."""

SAMPLE_RESULT: Final[Mapping[str, Any]] = json.loads(SAMPLE_RESULT_RAW)
"""The vendor's sample, decoded."""


@attrs.frozen
class IssuedTestId:
    """A test ID the fake handed out.

    Attributes:
        test_id: The ID.
        product_code: The product code requested.
        body: The exact request body bytes.
    """

    test_id: str
    product_code: str
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")


@attrs.frozen
class SentEmail:
    """An e-mail an ``STX-`` code would have sent (the fake sends nothing).

    Attributes:
        to: The candidate's address.
        bcc: The copy address, if any.
        test_id: The test ID it carried.
    """

    to: str
    bcc: str | None
    test_id: str


class FakeItep(FaultInjection):
    """An in-process fake of the fulfillment endpoint.

    Args:
        api_key: The API key the fake expects signatures with.
        signature_header: The header it reads the signature from.
        inventory: Available test IDs per test type (``{"Academic-Plus": ["123982B8AP", "3279B035APR"]}``);
            the test type is the product code without its ``GTX-``/``STX-`` prefix. Each ID must have the
            shape :class:`~examkit.itep.ItepClient` reads from an answer (4 to 40 letters, digits
            or hyphens, at least one digit, like iTEP's ``123982B8AP``): the fake refuses any other with
            :class:`~examkit.ValidationError`, so it never hands out an ID the client cannot
            read.
        encoding: The digest encoding it expects.
        response_style: ``"json"`` answers ``{"TestID": "..."}``; ``"text"`` answers the bare ID.
        endpoint: The URL it serves.

    Answers (examkit's choices, the real ones are not documented): 200 with the ID; 401 for a
    missing or wrong signature; 400 for a body that is not a JSON object or an invalid request;
    409 when no test ID of that type is left; any status you inject with :meth:`fail_for` or
    :meth:`fail_next`. :meth:`drop_next` and :meth:`delay_next` make the connection fail or the
    answer late, as for every fake.
    """

    def __init__(
        self,
        *,
        api_key: str,
        signature_header: str,
        inventory: Mapping[str, Iterable[str]] | None = None,
        encoding: Literal["hex", "HEX", "base64"] = "hex",
        response_style: Literal["json", "text"] = "json",
        endpoint: str = FAKE_ENDPOINT,
    ) -> None:
        parts = urlsplit(endpoint)
        self.api_key = api_key
        self.signature_header = signature_header
        self.encoding = encoding
        self.response_style = response_style
        self.endpoint = endpoint
        self.adapter = FakeHttpAdapter(f"{parts.scheme}://{parts.netloc}")
        self.adapter.route("POST", parts.path, self._handle)
        self._lock = threading.Lock()
        self._inventory: dict[str, deque[str]] = {
            test_type: deque(_checked_ids(ids)) for test_type, ids in (inventory or {}).items()
        }
        self.issued: list[IssuedTestId] = []
        self.emails: list[SentEmail] = []
        self._fail_for: dict[str, tuple[int, str]] = {}
        self._hooks: list[Callable[[FakeRequest], None]] = []

    # -- setup ------------------------------------------------------------------------------------

    def add_inventory(self, test_type: str, test_ids: Iterable[str]) -> None:
        """Make more test IDs of ``test_type`` available.

        Raises:
            ValidationError: An ID does not have the shape :class:`~examkit.itep.ItepClient` reads.
        """
        checked = _checked_ids(test_ids)
        with self._lock:
            self._inventory.setdefault(test_type, deque()).extend(checked)

    def available(self, test_type: str) -> list[str]:
        """Return the test IDs of ``test_type`` not yet handed out."""
        with self._lock:
            return list(self._inventory.get(test_type, ()))

    def fail_for(self, email: str, status: int = 500, body: str = "Internal error") -> None:
        """Answer ``status`` to every request for this candidate e-mail (nothing is allocated)."""
        with self._lock:
            self._fail_for[email] = (status, body)

    def on_request(self, hook: Callable[[FakeRequest], None]) -> None:
        """Call ``hook`` with every request before answering (for example to slow it down)."""
        self._hooks.append(hook)

    def session(self) -> requests.Session:
        """Return a session that reaches this fake."""
        return self.adapter.session()

    def client(self, **settings: Any) -> ItepClient:
        """Return an :class:`~examkit.itep.ItepClient` wired to this fake."""
        options: dict[str, Any] = {
            "api_key": self.api_key,
            "signature_header": self.signature_header,
            "endpoint": self.endpoint,
            "signature_encoding": self.encoding,
            "session": self.session(),
        }
        options.update(settings)
        return ItepClient(**options)

    def httpx_client(self) -> httpx.AsyncClient:
        """Return an ``httpx.AsyncClient`` that reaches this fake (the async twin of :meth:`session`)."""
        return self.adapter.httpx_client()

    def async_client(self, **settings: Any) -> AsyncItepClient:
        """Return an :class:`~examkit.itep.AsyncItepClient` wired to this fake."""
        options: dict[str, Any] = {
            "api_key": self.api_key,
            "signature_header": self.signature_header,
            "endpoint": self.endpoint,
            "signature_encoding": self.encoding,
            "client": self.httpx_client(),
        }
        options.update(settings)
        return AsyncItepClient(**options)

    @property
    def requests(self) -> list[FakeRequest]:
        """Every request received, in order (the exact bytes included)."""
        return self.adapter.calls("POST")

    # -- answering --------------------------------------------------------------------------------

    def _handle(self, request: FakeRequest) -> FakeResponse:  # noqa: PLR0911, PLR0912
        for hook in self._hooks:
            hook(request)
        try:
            verify_body(
                api_key=self.api_key,
                body=request.body,
                signature=request.headers.get(self.signature_header),
                encoding="base64" if self.encoding == "base64" else "hex",
                header=self.signature_header,
            )
        except ExamkitError as exc:
            return FakeResponse(401, f"Invalid signature: {exc}")
        if self.encoding != "base64":
            sent = request.headers.get(self.signature_header) or ""
            if sent != (sent.upper() if self.encoding == "HEX" else sent.lower()):
                return FakeResponse(401, "Invalid signature: wrong hex case")
        try:
            body = json.loads(request.body)
        except ValueError:
            return FakeResponse(400, "Invalid request body")
        if not isinstance(body, dict) or not isinstance(body.get("product-code"), str):
            return FakeResponse(400, "Missing product-code")
        code: str = body["product-code"]
        family, _, test_type = code.partition("-")
        email = body.get("email")
        with self._lock:
            injected = self._fail_for.get(email) if isinstance(email, str) else None
        if injected is not None:
            return FakeResponse(injected[0], injected[1])
        answer = self._injected(request)  # fail_next, drop_next, delay_next
        if answer is not None:
            return answer
        with self._lock:
            if family not in ("GTX", "STX"):
                return FakeResponse(400, f"Unknown product code {code}")
            if family == "STX" and not isinstance(email, str):
                return FakeResponse(400, "email is required for STX product codes")
            pool = self._inventory.get(test_type)
            if not pool:
                return FakeResponse(409, f"No available test ID for {test_type}")
            test_id = pool.popleft()
            self.issued.append(IssuedTestId(test_id, code, request.body))
            if family == "STX" and isinstance(email, str):
                bcc = body.get("bcc")
                self.emails.append(SentEmail(email, bcc if isinstance(bcc, str) else None, test_id))
        if self.response_style == "text":
            return FakeResponse(200, test_id)
        return FakeResponse(200, {"TestID": test_id})


def _checked_ids(test_ids: Iterable[str]) -> list[str]:
    """Return the IDs as a list, refusing any that :class:`~examkit.itep.ItepClient` would not read back."""
    if isinstance(test_ids, str):
        raise ValidationError(
            "inventory takes a list of test IDs per test type, not one string", field="inventory"
        )
    checked = list(test_ids)
    for test_id in checked:
        if not isinstance(test_id, str) or not _BARE_ID.match(test_id):
            raise ValidationError(
                f"FakeItep cannot hand out the test ID {test_id!r}: ItepClient reads only 4 to 40 letters, "
                "digits or hyphens with at least one digit (iTEP's look like 123982B8AP)",
                field="inventory",
                reason="test ID shape",
            )
    return checked


def build_results_webhook(
    result: Mapping[str, Any] | str | None = None,
    *,
    token: tuple[str, str] | None = None,
    basic: tuple[str, str] | None = None,
    hmac: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    url: str | None = None,
) -> WebhookRequest:
    """Build a results webhook request as iTEP sends it: one form field ``data`` holding JSON.

    Args:
        result: The results as a mapping (serialised compactly) or as JSON text (sent as is);
            the vendor's sample (``SAMPLE_RESULT_RAW``) by default.
        token: ``(header, token)`` for :class:`~examkit.itep.TokenHeaderAuth`.
        basic: ``(username, password)`` for :class:`~examkit.itep.BasicAuth`.
        hmac: ``(header, secret)`` for :class:`~examkit.itep.HmacBodyAuth` (hex).
        headers: More headers.
        url: The URL, if your code looks at it.
    """
    if result is None:
        text = SAMPLE_RESULT_RAW
    elif isinstance(result, str):
        text = result
    else:
        text = json.dumps(dict(result), separators=(",", ":"), ensure_ascii=False)
    body = ("data=" + quote(text, safe="")).encode("ascii")
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if token is not None:
        sent[token[0]] = token[1]
    if basic is not None:
        credentials = f"{basic[0]}:{basic[1]}".encode()
        sent["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
    if hmac is not None:
        sent[hmac[0]] = hmac_sha256(hmac[1].encode("utf-8"), body).hex()
    return WebhookRequest(body=body, headers=sent, url=url)


for _model in (IssuedTestId, SentEmail):
    attrs.resolve_types(_model)  # annotations as types, not strings, for users' tools and converters
