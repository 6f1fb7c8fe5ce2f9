"""The offline tour behind ``examkit demo``.

Each vendor contributes one section: a function that takes a ``DemoOutput``, runs that vendor's
features against examkit's in-process fakes (no network), and reports every step. A section raises
``DemoError`` when something does not behave as documented, which makes ``examkit demo`` exit
non-zero: the demo doubles as a smoke test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

__all__ = ["run"]


class DemoError(Exception):
    """A demo step did not behave as documented."""


class DemoOutput:
    """Where demo sections report their steps.

    Args:
        stream: The text stream to write to.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def section(self, title: str) -> None:
        """Start a section."""
        self._stream.write(f"\n== {title} ==\n")

    def step(self, text: str) -> None:
        """Report a step that went as expected."""
        self._stream.write(f"  ok    {text}\n")

    def detail(self, text: str) -> None:
        """Show a value or an explanation under the last step."""
        for line in text.splitlines():
            self._stream.write(f"          {line}\n")

    def expect(self, condition: bool, text: str) -> None:
        """Report a step, raising :class:`DemoError` when ``condition`` is false."""
        if not condition:
            self._stream.write(f"  FAIL  {text}\n")
            raise DemoError(text)
        self.step(text)


Section = Callable[[DemoOutput], None]
"""A demo section: runs offline and reports through a :class:`DemoOutput`."""


def _sections() -> dict[str, Section]:
    # Sections load only when the demo runs.
    from examkit.demo import assessio, core, integrity_advocate, itep, testpress  # noqa: PLC0415

    return {
        "core": core.run,
        "itep": itep.run,
        "integrity_advocate": integrity_advocate.run,
        "assessio": assessio.run,
        "testpress": testpress.run,
    }


SECTIONS: tuple[str, ...] = ("core", "itep", "integrity_advocate", "assessio", "testpress")
"""The names of the demo sections, in the order they run."""


def run(stream: TextIO, *, only: str | None = None) -> int:
    """Run the demo sections (or only the one named) and return an exit code."""
    sections = _sections()
    names = [only] if only else list(SECTIONS)
    out = DemoOutput(stream)
    name = ""
    try:
        for name in names:
            sections[name](out)
    except DemoError as exc:
        stream.write(f"\nexamkit demo: the {name} section failed: {exc}\n")
        return 1
    stream.write("\nAll demo sections passed. Everything ran offline against examkit's built-in fakes.\n")
    return 0
