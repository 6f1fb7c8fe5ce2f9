"""What ``explain()`` returns: a secret-free account of why a webhook request verifies or fails.

Each vendor package offers ``explain(request, ...)`` (in its ``diagnose`` module). It runs the vendor's
real verifier for the verdict and, around it, rebuilds what was signed with the vendor's own
``signing`` functions, trying the usual variants (URL forms, encodings, a trailing newline, a secret in
another format), so that a proxy rewriting the URL or a secret in the wrong format shows up by name. A
:class:`Diagnosis` never holds a secret or an expected signature: only whether each variant matches.
``examkit verify`` renders it; an adapter can log it.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from examkit.core._enums import StrEnum

__all__ = ["Check", "Diagnosis", "Outcome", "Section"]


class Outcome(StrEnum):
    """The verdict of a diagnosis."""

    OK = "ok"
    """The vendor's verifier accepted the request."""
    FAILED = "failed"
    """The verifier refused the request (the checks and hints say why)."""
    CANNOT_VERIFY = "cannot_verify"
    """The settings given cannot verify anything (a missing or unusable secret, say)."""


@attrs.frozen
class Check:
    """One check made: ``passed`` is ``True``, ``False``, or ``None`` for a line of information."""

    passed: bool | None
    """Whether the check passed (``None``: informational)."""
    text: str
    """What was checked, in words, without any secret."""

    @property
    def mark(self) -> Literal["ok", "FAIL", "info"]:
        """``"ok"``, ``"FAIL"`` or ``"info"``, as ``examkit verify`` prints it."""
        return "ok" if self.passed else ("FAIL" if self.passed is False else "info")


@attrs.frozen
class Section:
    """A titled block of lines: the signed string, the canonical URL forms tried, and so on."""

    title: str
    """What the lines are."""
    lines: tuple[str, ...]
    """The lines, as text safe to print."""


@attrs.frozen
class Diagnosis:
    """A secret-free account of one request checked against one vendor's verifier."""

    vendor: str
    """The vendor's package name (``"itep"``, ``"integrity_advocate"``, ``"assessio"``, ``"testpress"``)."""
    outcome: Outcome
    """The verdict of the vendor's real verifier."""
    verdict: str
    """The verdict in words: what was received, or the error the verifier raised."""
    checks: tuple[Check, ...] = ()
    """The checks made, in order."""
    sections: tuple[Section, ...] = ()
    """Signed strings and variants tried."""
    hints: tuple[str, ...] = ()
    """What to change, when the request fails (empty when it verifies)."""
    event: Any = attrs.field(default=None, eq=False, repr=False)
    """The verified, typed event when the outcome is :attr:`Outcome.OK`, else ``None``."""

    @property
    def ok(self) -> bool:
        """Whether the request verified."""
        return self.outcome is Outcome.OK

    def render(self) -> str:
        """The diagnosis as the lines ``examkit verify`` prints (without a trailing newline)."""
        lines = [f"result: {self.verdict}"]
        if self.checks:
            lines.append("checks:")
            lines += [f"  [{c.mark}]{' ' * (4 - len(c.mark))} {c.text}" for c in self.checks]
        for section in self.sections:
            lines.append(f"{section.title}:")
            lines += [f"  {line}" for line in section.lines]
        if self.hints and not self.ok:
            lines.append("hints:")
            lines += [f"  - {hint}" for hint in self.hints]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The diagnosis as plain JSON-safe data (for logs and ``examkit verify --json``)."""
        return {
            "vendor": self.vendor,
            "outcome": self.outcome.value,
            "verdict": self.verdict,
            "checks": [{"passed": c.passed, "text": c.text} for c in self.checks],
            "sections": [{"title": s.title, "lines": list(s.lines)} for s in self.sections],
            "hints": list(self.hints),
        }
