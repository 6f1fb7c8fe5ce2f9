"""Run the ``examkit`` command as ``python -m examkit``."""

import sys

from examkit.cli import main

sys.exit(main())
