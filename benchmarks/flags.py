"""Command-line flag types the benchmark scripts share."""

from __future__ import annotations

import argparse


def at_least_one(text: str) -> int:
    """An ``argparse`` type for a count (repeats, rounds, rows, epochs, sessions): a whole
    number of at least 1, else argparse's one-line error and exit status 2."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value
