"""Which columns hold the text and the label, and the frame they become.

:func:`guess_columns` guesses the text and label columns of a :class:`RawTable` from their
names; the helpers here resolve a user's choice (ignoring case), build the normalised frame
(``text``, ``label`` and, when the file has them, ``story`` and ``publisher``) and the frame
of the file's other columns, drop rows without a label and refuse a mapping that cannot
train a classifier, each with a :class:`~pipeline.errors.DatasetError` that names the
problem and the fix.
"""

from __future__ import annotations

import pandas as pd

from pipeline.data.reading import RawTable
from pipeline.errors import DatasetError

TEXT_COLUMN_NAMES: tuple[str, ...] = ("title", "text", "headline", "sentence", "content")
LABEL_COLUMN_NAMES: tuple[str, ...] = ("category", "label", "class", "target", "topic")


def guess_columns(raw: RawTable) -> tuple[str | None, str | None]:
    """Guess which columns hold the text and the label, from their names.

    Parameters
    ----------
    raw : RawTable
        A table from :func:`read_table`.

    Returns
    -------
    (str or None, str or None)
        The text column and the label column; ``None`` where no column name fits.
        ``TITLE``/``CATEGORY`` (the UCI schema) are found in any letter case, then common
        names (text, headline, sentence, content; label, class, target, topic), first as
        whole names, then as parts of names (``headline_text``).
    """
    columns = [str(c) for c in raw.frame.columns]
    text_col = _match_name(columns, TEXT_COLUMN_NAMES, exclude=None)
    label_col = _match_name(columns, LABEL_COLUMN_NAMES, exclude=text_col)
    return text_col, label_col


def _match_name(columns: list[str], names: tuple[str, ...], exclude: str | None) -> str | None:
    candidates = [c for c in columns if c != exclude]
    lowered = {c: c.strip().lower() for c in candidates}
    for wanted in names:
        for column in candidates:
            if lowered[column] == wanted:
                return column
    for wanted in names:
        for column in candidates:
            if wanted in lowered[column]:
                return column
    return None


def _find_column(columns: list[str], wanted: str) -> str | None:
    """``wanted`` itself, else the single column equal to it ignoring case."""
    if wanted in columns:
        return wanted
    matches = [c for c in columns if c.strip().lower() == wanted.strip().lower()]
    return matches[0] if len(matches) == 1 else None


def _resolve(raw: RawTable, wanted: str | None, guess: str | None, role: str) -> str:
    columns = [str(c) for c in raw.frame.columns]
    listing = ", ".join(columns)
    if wanted is None:
        if guess is None:
            raise DatasetError(
                f"Could not tell which column of {raw.name} holds the {role}; its columns are "
                f"{listing}. Choose the {role} column."
            )
        return guess
    found = _find_column(columns, wanted)
    if found is None:
        raise DatasetError(
            f"{raw.name} has no column {wanted!r} for the {role}; its columns are {listing}. "
            f"Choose one of those as the {role} column."
        )
    return found


def _normalise(raw: pd.DataFrame, text_col: str, label_col: str) -> pd.DataFrame:
    columns = [str(c) for c in raw.columns]
    frame = pd.DataFrame(
        {"text": raw[text_col], "label": raw[label_col].str.strip()}, index=raw.index
    )
    for key in ("story", "publisher"):
        column = _find_column(columns, key)
        if column is not None and column not in (text_col, label_col):
            frame[key] = _stripped(raw[column])
    return frame


def _stripped(values: pd.Series) -> pd.Series:
    """``values`` without surrounding whitespace; ``values`` itself when none had any, so
    the column shares its memory with the same raw column in ``Dataset.other_columns``."""
    stripped = values.str.strip()
    return values if stripped.equals(values) else stripped


def _other_columns(raw: pd.DataFrame, text_col: str, label_col: str) -> pd.DataFrame:
    """The raw columns other than the text and the label, under their own names."""
    return raw[[c for c in raw.columns if str(c) not in (text_col, label_col)]]


def _drop_unlabelled(
    frame: pd.DataFrame, others: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """``frame`` and ``others`` (row for row) without the rows that have no label, both
    with a fresh ``RangeIndex``, and how many rows were dropped."""
    unlabelled = frame["label"] == ""
    dropped = int(unlabelled.sum())
    if dropped:
        frame, others = frame[~unlabelled], others[~unlabelled]
    return frame.reset_index(drop=True), others.reset_index(drop=True), dropped


def _validate(frame: pd.DataFrame, name: str, text_col: str, label_col: str) -> None:
    if frame.empty:
        raise DatasetError(
            f"The label column {label_col!r} of {name} is empty in every row; "
            "choose the column that holds the classes."
        )
    classes = frame["label"].unique()
    if len(classes) < 2:
        raise DatasetError(
            f"The label column {label_col!r} of {name} holds a single class ({classes[0]!r}); "
            "a classifier needs at least 2 classes. Choose another label column or add rows "
            "of other classes."
        )
    if (frame["text"].str.strip() == "").all():
        raise DatasetError(
            f"The text column {text_col!r} of {name} has no text in any row; "
            "choose the column that holds the headlines."
        )


def _missing_per_column(raw: pd.DataFrame) -> dict[str, int]:
    return {str(c): int((raw[c].str.strip() == "").sum()) for c in raw.columns}
