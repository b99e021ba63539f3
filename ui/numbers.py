"""Numbers for people, declared once for the charts, the tables and the pages' text."""

from __future__ import annotations


def format_count(value: float) -> str:
    """A count for people: thousands separators (``152828`` -> ``"152,828"``)."""
    return f"{round(float(value)):,}"


def count_phrase(count: float, noun: str) -> str:
    """A count and its noun for people: ``"1 row"``, ``"1,234 rows"``."""
    return f"{format_count(count)} {noun}{'' if round(float(count)) == 1 else 's'}"


def format_share(share: float, digits: int = 1) -> str:
    """A share for people: ``"12.3%"``; never ``"0%"`` for a tiny non-zero share.

    A share that rounds to zero but is not zero reads ``"<0.1%"`` (``"<1%"`` with
    ``digits=0``); one that rounds to 100 % but is not 1 reads ``">99.9%"``.
    """
    step = 10.0 ** -(digits + 2)  # the smallest share shown, as a fraction
    if share <= 0:
        return f"{0:.{digits}%}"
    if share < step / 2:
        return f"<{step:.{digits}%}"
    if share < 1 and share > 1 - step / 2:
        return f">{1 - step:.{digits}%}"
    return f"{share:.{digits}%}"
