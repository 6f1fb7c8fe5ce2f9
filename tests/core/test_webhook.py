"""Tests for examkit.core.webhook: requests, headers, body limits and the in-memory replay guard."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.clock import FixedClock
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    PayloadTooLargeError,
    ValidationError,
    WebhookVerificationError,
)
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    Headers,
    InMemoryReplayGuard,
    ReplayGuard,
    WebhookRequest,
    body_size_limit,
    check_body_size,
    received,
)


class TestHeaders:
    def test_case_insensitive(self) -> None:
        headers = Headers({"X-Signature": "abc", "content-type": "application/json"})
        assert headers["x-signature"] == "abc"
        assert headers["X-SIGNATURE"] == "abc"
        assert headers.get("Content-Type") == "application/json"
        assert "x-SIGNATURE" in headers
        not_a_name: object = 5
        assert not_a_name not in headers
        assert sorted(headers) == ["X-Signature", "content-type"]
        assert len(headers) == 2

    def test_repeated_names(self) -> None:
        headers = Headers([("Accept", "a"), ("accept", "b")])
        assert headers["ACCEPT"] == "a, b"
        assert headers.get_all("accept") == ("a", "b")
        assert headers.get_all("missing") == ()
        assert list(headers.items_all()) == [("Accept", "a"), ("accept", "b")]

    def test_get_single(self) -> None:
        assert Headers([("X-Sig", "a"), ("x-sig", "a")]).get_single("X-SIG") == "a"
        assert Headers({}).get_single("X-Sig") is None
        with pytest.raises(MalformedSignatureError, match="2 times") as info:
            Headers([("X-Sig", "a"), ("x-sig", "b")]).get_single("X-Sig", vendor="testpress")
        assert info.value.header == "X-Sig"
        assert info.value.vendor == "testpress"

    def test_repr_hides_values(self) -> None:
        text = repr(Headers({"Authorization": "Bearer very-secret-token"}))
        assert "very-secret-token" not in text
        assert "Authorization" in text

    @pytest.mark.parametrize("value", [{"X": 1}, {b"X": "1"}, [("only-one",)], 5])
    def test_invalid(self, value: object) -> None:
        with pytest.raises(ValidationError):
            Headers(value)  # type: ignore[arg-type]

    def test_copy_from_headers(self) -> None:
        original = Headers([("A", "1"), ("a", "2")])
        assert Headers(original).get_all("a") == ("1", "2")


class TestWebhookRequest:
    def test_plain_values(self) -> None:
        request = WebhookRequest(
            body=bytearray(b"{}"), headers={"X-A": "1"}, url="https://h/p?q=1", method="post"
        )
        assert request.body == b"{}"
        assert isinstance(request.body, bytes)
        assert request.headers["x-a"] == "1"
        assert request.method == "POST"
        assert request.url == "https://h/p?q=1"
        defaults = WebhookRequest(body=b"")
        assert defaults.method == "POST"
        assert defaults.url is None
        assert len(defaults.headers) == 0

    @pytest.mark.parametrize("body", ["{}", {"a": 1}, None, 5])
    def test_body_must_be_bytes(self, body: object) -> None:
        with pytest.raises(ValidationError, match=r"request\.body"):
            WebhookRequest(body=body)  # type: ignore[arg-type]

    @pytest.mark.parametrize(("url", "method"), [(5, "POST"), (None, ""), (None, 5)])
    def test_invalid_url_or_method(self, url: object, method: object) -> None:
        with pytest.raises(ValidationError):
            WebhookRequest(body=b"", url=url, method=method)  # type: ignore[arg-type]

    def test_repr_hides_body_and_header_values(self) -> None:
        request = WebhookRequest(body=b"secret-body", headers={"X-Token": "secret-token"})
        text = repr(request)
        assert "secret-body" not in text
        assert "secret-token" not in text
        assert "<11 bytes>" in text


class TestBodySize:
    def test_limit(self) -> None:
        check_body_size(b"x" * 10, limit=10)
        check_body_size(b"x" * 10**6, limit=None)
        with pytest.raises(PayloadTooLargeError) as info:
            check_body_size(b"x" * 11, limit=10, vendor="itep")
        assert info.value.size == 11
        assert info.value.limit == 10
        assert isinstance(info.value, WebhookVerificationError)
        assert "max_body_size" in str(info.value)

    def test_default_is_one_mebibyte(self) -> None:
        assert DEFAULT_MAX_BODY_SIZE == 1024 * 1024


class TestInMemoryReplayGuard:
    def test_once_then_refused_until_expiry(self) -> None:
        clock = FixedClock(1000)
        guard = InMemoryReplayGuard(clock=clock)
        assert isinstance(guard, ReplayGuard)
        assert guard.add("a", ttl=60)
        assert not guard.add("a", ttl=60)
        assert guard.add("b", ttl=60)
        clock.advance(59)
        assert not guard.add("a", ttl=60)
        clock.advance(1)
        assert len(guard) == 0
        assert guard.add("a", ttl=60)

    def test_bounded(self) -> None:
        guard = InMemoryReplayGuard(max_entries=3, clock=FixedClock(0))
        for key in "abcd":
            assert guard.add(key, ttl=100)
        assert len(guard) == 3
        # The oldest was forgotten to make room; the newest are still refused.
        assert guard.add("a", ttl=100)
        assert not guard.add("d", ttl=100)

    @pytest.mark.parametrize("size", [0, -1, 1.5])
    def test_invalid_size(self, size: object) -> None:
        with pytest.raises(ConfigurationError):
            InMemoryReplayGuard(max_entries=size)  # type: ignore[arg-type]

    def test_thread_safe_exactly_one_winner(self) -> None:
        guard = InMemoryReplayGuard()
        results: list[bool] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def worker() -> None:
            barrier.wait()
            outcome = [guard.add(f"nonce-{i}", ttl=60) for i in range(500)]
            with lock:
                results.extend(outcome)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results.count(True) == 500
        assert results.count(False) == 500 * 7

    @given(keys=st.lists(st.text(max_size=10), max_size=50))
    def test_property_each_key_accepted_once(self, keys: list[str]) -> None:
        guard = InMemoryReplayGuard(clock=FixedClock(0))
        accepted = [key for key in keys if guard.add(key, ttl=10)]
        assert sorted(accepted) == sorted(set(keys))


class TestVerifierPreamble:
    @pytest.mark.parametrize("value", [1, 1024, None])
    def test_body_size_limit_accepts(self, value: int | None) -> None:
        assert body_size_limit(value) == value

    @pytest.mark.parametrize("value", [0, -1, 1.5, True, "1024"])
    def test_body_size_limit_refuses(self, value: object) -> None:
        with pytest.raises(ConfigurationError) as info:
            body_size_limit(value, vendor="itep")
        assert info.value.setting == "max_body_size"

    def test_received(self) -> None:
        request = WebhookRequest(body=b"12345")
        assert received(request, limit=5) is request
        with pytest.raises(PayloadTooLargeError):
            received(request, limit=4, vendor="testpress")
        with pytest.raises(ValidationError, match="WebhookRequest"):
            received(b"12345", limit=None)
