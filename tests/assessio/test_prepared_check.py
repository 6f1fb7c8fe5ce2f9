"""SignatureVerifier's one-pass check of the common header gives what the general steps give."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.assessio import SignatureVerifier
from examkit.assessio.signing import (
    DEFAULT_HEADER_FORMAT,
    _parse,
    match_signatures,
    signed_message,
    signed_prefix,
)
from examkit.core.clock import FixedClock, check_freshness
from examkit.core.errors import (
    ExamkitError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
)
from examkit.core.signing import KeyRing

NOW = 1_700_000_000
SECRET = "prepared-check-secret"
OTHER = "an-older-secret"


def _expected_hex(t: int, body: bytes, secret: str = SECRET) -> str:
    # Independent of examkit: the vendor's recipe, HMAC-SHA256 over "<t>.<body>" with the secret's UTF-8.
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def _outcome(run: object) -> object:
    try:
        return run()  # type: ignore[operator]
    except ExamkitError as exc:
        return type(exc), str(exc)


def _general(header: str, body: bytes) -> object:
    """The general steps one after the other: read, match, then freshness at NOW."""

    def run() -> object:
        t, signatures = _parse(header, DEFAULT_HEADER_FORMAT, "Signature")
        index, digest = match_signatures(t, signatures, body, KeyRing([OTHER.encode(), SECRET.encode()]))
        check_freshness(t, clock=FixedClock(NOW), tolerance=300, vendor="assessio", header="Signature")
        return t, index, digest

    return _outcome(run)


timestamps = st.one_of(
    st.integers(NOW - 300, NOW + 300),
    st.sampled_from([NOW - 301, NOW + 301, 0, 10**12 - 1]),
    st.integers(0, 10**12 - 1),
)


@given(
    t=timestamps,
    body=st.binary(max_size=300),
    signer=st.sampled_from([SECRET, OTHER, "not-configured"]),
    upper=st.booleans(),
    sep=st.sampled_from([",", ";", " , ", "; "]),
    pad=st.sampled_from(["", " "]),
    tamper=st.booleans(),
)
def test_the_one_pass_check_agrees_with_the_general_steps(
    *, t: int, body: bytes, signer: str, upper: bool, sep: str, pad: str, tamper: bool
) -> None:
    signature = _expected_hex(t, body, signer)
    signature = signature.upper() if upper else signature
    header = f"{pad}t={t}{sep}signature={signature}{pad}"
    received = body + b"x" if tamper else body
    verifier = SignatureVerifier(secret=[OTHER, SECRET], clock=FixedClock(NOW))
    general = _general(header, received)
    assert _outcome(lambda: verifier._check(received, header, FixedClock(NOW))) == general
    if not isinstance(general, tuple) or not isinstance(general[0], int):
        return
    assert general == (t, [OTHER, SECRET].index(signer), bytes.fromhex(signature))


def test_a_valid_header_is_accepted_and_its_timestamp_returned() -> None:
    body = b'{"eventType":"ASSESSMENT_SUBMITTED"}'
    header = f"t={NOW - 12},signature={_expected_hex(NOW - 12, body)}"
    verifier = SignatureVerifier(secret=SECRET, clock=FixedClock(NOW))
    assert verifier.verify(body, header) == NOW - 12
    assert verifier.check(body, header) == (NOW - 12, bytes.fromhex(_expected_hex(NOW - 12, body)))


def test_a_large_body_is_checked_exactly() -> None:
    body = bytes(range(256)) * 1024  # 256 KiB, hashed after the prefix without being copied
    header = f"t={NOW},signature={_expected_hex(NOW, body)}"
    verifier = SignatureVerifier(secret=SECRET, clock=FixedClock(NOW))
    assert verifier.verify(body, header) == NOW
    with pytest.raises(SignatureMismatchError, match="does not match"):
        verifier.verify(body[:-1] + b"\x00", header)


def test_an_old_authentic_header_says_how_old() -> None:
    body = b"{}"
    header = f"t={NOW - 400},signature={_expected_hex(NOW - 400, body)}"
    verifier = SignatureVerifier(secret=SECRET, clock=FixedClock(NOW))
    with pytest.raises(TimestampOutsideToleranceError, match="400 s old, more than the 300 s"):
        verifier.verify(body, header)


def test_the_prefix_and_the_body_are_the_signed_message() -> None:
    assert signed_prefix(1700000000) == b"1700000000."
    assert signed_prefix(0) == b"0."
    assert signed_prefix(NOW) + b"{}" == signed_message(NOW, b"{}") == b"1700000000.{}"
    with pytest.raises(ExamkitError, match="whole, non-negative Unix seconds"):
        signed_prefix(-1)
    with pytest.raises(ExamkitError, match="whole, non-negative Unix seconds"):
        signed_prefix(True)


class _BrokenClock:
    """A clock that answers NaN: no timestamp can be judged fresh against it."""

    def time(self) -> float:
        return float("nan")


def test_a_clock_that_answers_nan_refuses_even_an_authentic_header() -> None:
    body = b"{}"
    header = f"t={NOW},signature={_expected_hex(NOW, body)}"
    verifier = SignatureVerifier(secret=SECRET, clock=_BrokenClock())
    with pytest.raises(TimestampOutsideToleranceError):
        verifier.verify(body, header)
