"""Demo section: the core building blocks (signing, verification, freshness, replay protection)."""

from __future__ import annotations

from examkit.core.clock import FixedClock, check_freshness
from examkit.core.encoding import PercentEncoding, canonical_json, percent_encode
from examkit.core.errors import (
    ReplayedRequestError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
)
from examkit.core.signing import Secret, sign, verify_signature
from examkit.core.webhook import InMemoryReplayGuard
from examkit.demo import DemoOutput

__all__: list[str] = []  # run by examkit.demo.run; the demo has no public face of its own


def run(out: DemoOutput) -> None:
    """Sign a body, verify it, and show each failure examkit reports clearly."""
    out.section("core: HMAC signing and verification")
    secret = Secret("demo-shared-secret", name="demo secret")
    body = canonical_json({"candidate": "Zoë Example", "score": "87"})
    signature = sign(secret.key, body, algorithm="sha256", encoding="hex")
    out.step(f"signed {len(body)} bytes of compact JSON with HMAC-SHA256")
    out.detail(f"body:      {body.decode()}\nsignature: {signature}\nsecret:    {secret!r}")

    verify_signature(secrets=[secret], message=body, signature=signature.upper())
    out.step("verification passes (hex in either case is accepted)")

    rotated = [Secret("next-secret", name="new secret"), secret]
    verify_signature(secrets=rotated, message=body, signature=signature)
    out.step("verification passes during a secret rotation (old and new secret configured)")

    tampered = body.replace(b"87", b"97")
    try:
        verify_signature(secrets=[secret], message=tampered, signature=signature)
    except SignatureMismatchError as exc:
        out.step("a changed byte in the body is rejected")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a changed byte in the body is rejected")

    clock = FixedClock(1_700_000_000)
    try:
        check_freshness(1_700_000_000 - 301, clock=clock, tolerance=300)
    except TimestampOutsideToleranceError as exc:
        out.step("a timestamp 301 s old is rejected with a 300 s tolerance")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a stale timestamp is rejected")

    guard = InMemoryReplayGuard(clock=clock)
    first = guard.add("demo:nonce-1", ttl=600)
    second = guard.add("demo:nonce-1", ttl=600)
    out.expect(first and not second, "a replay guard accepts a nonce once and refuses it the second time")
    out.detail(f"verifiers raise {ReplayedRequestError.__name__} for the second delivery")

    encoded = {v.name: percent_encode("Zoë Smith+1@example.com", v) for v in PercentEncoding}
    out.step("named percent-encoding variants (vendors disagree on which one they mean)")
    out.detail("\n".join(f"{name:<22} {value}" for name, value in encoded.items()))
