"""argparse types shared by every `mtmixg` subcommand: a bad number is an argparse message naming
the flag (`argument --threads: must be an integer >= 1, got 0`), never a traceback or a silent slice."""

from __future__ import annotations

import argparse


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (threads, batch size, counts)."""
    return _int_at_least(text, 1)


def nonnegative_int(text: str) -> int:
    """An integer >= 0 (seeds)."""
    return _int_at_least(text, 0)
