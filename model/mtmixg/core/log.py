"""log_stderr: the default log of the package's jobs (a rule's script sends stderr to its log file)."""

from __future__ import annotations

import sys


def log_stderr(line: str) -> None:
    """Print line to stderr at once (a crash keeps every line written before it)."""
    print(line, file=sys.stderr, flush=True)
