"""The ``examkit`` command line.

Exit codes: 0 success; 1 a check or demo step failed; 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from examkit._version import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``examkit`` command."""
    parser = argparse.ArgumentParser(
        prog="examkit",
        description="Sign and verify requests for iTEP, Integrity Advocate, Assessio and Testpress.",
    )
    parser.add_argument("--version", action="version", version=f"examkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run an offline tour of every feature against built-in fake vendors",
        description="Run an offline tour of examkit against its built-in fake vendors. No network is used.",
    )
    from examkit.demo import SECTIONS  # noqa: PLC0415 - keep start-up light

    demo.add_argument("--only", choices=SECTIONS, help="run one section only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``examkit`` command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from examkit.demo import run  # noqa: PLC0415

        return run(sys.stdout, only=args.only)
    parser.print_help()
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
