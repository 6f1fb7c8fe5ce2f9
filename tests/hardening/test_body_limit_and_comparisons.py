"""Body size limits come first in every verifier; no signature is compared with ``==`` in src/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import examkit
from examkit.core.errors import PayloadTooLargeError
from examkit.core.webhook import DEFAULT_MAX_BODY_SIZE, WebhookRequest
from tests.hardening.vendors import CASE_IDS, CASES, ITEP_NO_AUTH, Case

MIB = 1024 * 1024


def test_the_default_limit_is_one_mebibyte() -> None:
    assert DEFAULT_MAX_BODY_SIZE == MIB


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_body_over_the_default_limit_is_refused_before_anything_else(case: Case) -> None:
    valid = case.valid()
    # Valid credentials, garbage body one byte over: the size is the first (and only) complaint.
    body = b"\xff{[" * (MIB // 3 + 1)
    assert len(body) > MIB
    with pytest.raises(PayloadTooLargeError) as info:
        case.make().verify(WebhookRequest(body=body, headers=valid.headers, url=valid.url))
    assert info.value.limit == MIB
    assert info.value.size == len(body)
    assert "max_body_size" in str(info.value)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_limit_is_configurable_and_checked_before_authentication(case: Case) -> None:
    valid = case.valid()
    limit = len(valid.body)
    verifier = case.make(max_body_size=limit)
    assert verifier.verify(valid) is not None  # exactly at the limit: accepted
    with pytest.raises(PayloadTooLargeError):
        # One byte over, and no credentials at all: still reported as too large, so nothing was read.
        verifier.verify(WebhookRequest(body=valid.body + b" ", headers={}))
    with pytest.raises(PayloadTooLargeError):
        case.make(max_body_size=limit - 1).verify(valid)


def test_the_limit_applies_without_authentication_too() -> None:
    with pytest.raises(PayloadTooLargeError):
        ITEP_NO_AUTH().verify(WebhookRequest(body=b"data=" + b"x" * MIB))


# -- no signature comparison with == ---------------------------------------------------------------

SRC = Path(examkit.__file__).parent
_SECRETISH = re.compile(r"signature|digest|hmac|hash|token|mac\b|_mac|secret|candidate|expected", re.I)

# (file, source line text) pairs that compare a secret-looking name with == on purpose, and why.
ALLOWLIST: dict[tuple[str, str], str] = {
    ("assessio/models.py", "if keys != expected:"): (
        "the set of personDetails key names a caller passed against the four required names: no secret"
    ),
    ("assessio/signing.py", "if self.timestamp_label == self.signature_label:"): (
        "two configured header labels ('t', 'signature') checked for a clash at construction: no secret"
    ),
    (
        "integrity_advocate/client.py",
        "if following is None or following.strip() in END_TOKENS or following == token:",
    ): "a paging NextToken from the vendor's response against the previous one: not a credential",
    # `examkit verify` diagnoses the user's own configuration on the user's own machine: it compares
    # a configured secret with variants of itself, never with anything a remote party sends or times.
    ("core/_diagnosing.py", "if secret.strip() != secret:"): (
        "the configured secret against itself without surrounding whitespace, to hint at a stray newline"
    ),
    ("core/_diagnosing.py", r"""if len(secret) > 1 and secret[0] in "\"'" and secret[-1] == secret[0]:"""): (
        "the configured secret's first and last characters, to hint at quotes pasted along with it"
    ),
}


def _names(node: ast.AST) -> list[str]:
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.append(sub.attr)
    return found


def _is_length(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        return True
    if isinstance(node, ast.BinOp):  # 2 * expected, len(x) + 1
        return all(_is_length(n) or isinstance(n, ast.Constant | ast.Name) for n in (node.left, node.right))
    return False


def _suspicious_comparisons() -> list[tuple[str, int, str]]:
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                continue
            operands = [node.left, *node.comparators]
            # Comparing with a literal (None, "", a number, a constant string) reveals nothing secret,
            # and neither does comparing lengths (public: every digest of an algorithm has one length).
            if any(isinstance(o, ast.Constant) for o in operands):
                continue
            if any(_is_length(o) for o in operands):
                continue
            if any(_SECRETISH.search(name) for o in operands for name in _names(o)):
                rel = str(path.relative_to(SRC))
                hits.append((rel, node.lineno, lines[node.lineno - 1].strip()))
    return hits


def test_the_scan_finds_a_planted_comparison(tmp_path: Path) -> None:
    # The detector itself must be able to fail.
    tree = ast.parse("def f(signature, expected):\n    return signature == expected\n")
    compares = [n for n in ast.walk(tree) if isinstance(n, ast.Compare)]
    assert compares
    assert any(_SECRETISH.search(n) for n in _names(compares[0]))


def test_the_allowlist_has_no_stale_entries() -> None:
    found = {(f, t) for f, _, t in _suspicious_comparisons()}
    assert set(ALLOWLIST) <= found, set(ALLOWLIST) - found


def test_no_signature_comparison_in_src_uses_equality() -> None:
    hits = [h for h in _suspicious_comparisons() if (h[0], h[2]) not in ALLOWLIST]
    assert not hits, "compare signatures with hmac.compare_digest on bytes:\n" + "\n".join(
        f"{f}:{n}: {t}" for f, n, t in hits
    )
