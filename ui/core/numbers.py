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


def format_points(difference: float, digits: int = 1) -> str:
    """A difference between two shares, in percentage points: ``0.0115`` -> ``"+1.2
    points"``, ``-0.004`` -> ``"-0.4 points"``; one that rounds to zero reads ``"0.0
    points"`` (never ``"-0.0"``). ``difference`` is a fraction (after minus before)."""
    raw = float(difference) * 100
    # half away from zero on the decimal value (1.15 is 1.1499999... as a float)
    points = round(raw + (1e-9 if raw > 0 else -1e-9), digits)
    if points == 0:
        return f"{0:.{digits}f} points"
    return f"{points:+.{digits}f} points"


def format_number(value: float) -> str:
    """A measured quantity for people (a percentile, a bin edge, a mean): whole numbers
    with separators from 100 up (``126.401`` -> ``"126"``, ``83715.8`` -> ``"83,716"``),
    three significant digits below (``26.53`` -> ``"26.5"``, ``9.0`` -> ``"9"``,
    ``0.012345`` -> ``"0.0123"``)."""
    value = float(value)
    if value != value:  # NaN
        return "–"
    if abs(value) >= 100:
        return f"{round(value):,}"
    text = f"{value:.3g}"
    if "e" in text:  # very small: plain decimals, never "1e-05"
        text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", "0", ""} else text


def format_range(low: float, high: float) -> str:
    """A bin or interval for people, both ends by :func:`format_number`: ``(3,
    83715.8)`` -> ``"3 – 83,716"``."""
    return f"{format_number(low)} – {format_number(high)}"


def format_score(value: float, digits: int = 3) -> str:
    """A score that is not a share (macro F1, a loss) for people: ``0.87312`` ->
    ``"0.873"``."""
    return f"{float(value):.{digits}f}"


#: Keyword arguments of a ``st.column_config`` ``NumberColumn`` or ``ProgressColumn``
#: whose cells hold shares (fractions from 0 to 1): they read ``"95.7%"`` as
#: :func:`format_share` writes them (Streamlit's ``"percent"`` format, its decimals set
#: by ``step``: 0.001 is one decimal of a percent).
SHARE_COLUMN: dict[str, object] = {"format": "percent", "step": 0.001}
