"""Numbers as spreadsheets write them: thousands separators, decimal commas, a currency
sign or a percent (``32,648``, ``4,5``, ``32 648,5``, ``1'234.5``, ``$1,200.50``,
``20%``), read one way for a whole column.

A column's values decide its :data:`NumberStyle` together (:func:`number_style`): read
value by value, ``1,234`` would be a thousand in one file and one point two in another,
and a column that writes ``1,234.5`` and ``1.234,5`` side by side is no number at all.
:func:`read_numbers` then reads the values in that style. Plain numbers (``12.5``,
``-3``, ``1e3``) need no style. No TensorFlow, scikit-learn or Streamlit here.
"""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd

#: How a column writes its numbers, named by how it writes one thousand two hundred and
#: thirty-four and a half.
NumberStyle = Literal["1,234.5", "1.234,5", "1 234,5", "1'234.5"]
#: Each style's thousands separator and decimal mark, tried in this order: where the
#: values read both ways (``1,234``), the first (thousands) wins.
STYLES: dict[NumberStyle, tuple[str, str]] = {
    "1,234.5": (",", "."),
    "1.234,5": (".", ","),
    "1 234,5": (" ", ","),
    "1'234.5": ("'", "."),
}
#: Signs a number may carry before or after it (a currency, a percent), dropped.
AFFIXES = "$€£¥%"
#: Spaces a spreadsheet writes between thousands (no-break and narrow no-break), read as
#: a plain space.
_THIN_SPACES = {"\u00a0": " ", "\u202f": " "}
_PATTERNS = {
    style: re.compile(
        rf"^[+-]?(?:\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+)(?:{re.escape(decimal)}\d+)?$"
    )
    for style, (thousands, decimal) in STYLES.items()
}


def _bare(values: pd.Series) -> pd.Series:
    """The values as strings without their affixes and surrounding spaces, thin spaces
    read as spaces."""
    text = values.astype(str)
    for thin, space in _THIN_SPACES.items():
        text = text.str.replace(thin, space, regex=False)
    return text.str.strip().str.strip(AFFIXES).str.strip()


def number_style(values: pd.Series) -> NumberStyle | None:
    """The one :data:`NumberStyle` every value of ``values`` is written in.

    Parameters
    ----------
    values : pandas.Series of str
        A column's non-empty values.

    Returns
    -------
    NumberStyle or None
        The first style of :data:`STYLES` that reads every value; ``None`` when the values
        are plain numbers already (no style needed), when some value is no number in any
        style, or when the column mixes styles.
    """
    if values.empty:
        return None
    if pd.to_numeric(values, errors="coerce").notna().all():
        return None
    bare = _bare(values)
    for style, pattern in _PATTERNS.items():
        if bare.str.match(pattern).all():
            return style
    return None


def read_numbers(values: pd.Series, style: NumberStyle | None) -> pd.Series:
    """``values`` as floats, written in ``style`` (plain numbers for ``None``); ``NaN``
    where a value does not read. Same index as ``values``."""
    if style is None:
        return pd.to_numeric(values, errors="coerce").astype("float64")
    thousands, decimal = STYLES[style]
    bare = _bare(values)
    readable = bare.str.match(_PATTERNS[style])
    plain = bare.str.replace(thousands, "", regex=False).str.replace(decimal, ".", regex=False)
    numbers = pd.to_numeric(plain.where(readable), errors="coerce")
    return numbers.astype("float64")
