"""Which columns hold the text and the label, and the frame they become.

:func:`guess_columns` guesses the text and label columns of a :class:`RawTable` from their
names; the helpers here resolve a user's choice (ignoring case), build the normalised frame
(``text``, ``label`` and, when the file has them, ``story`` and ``publisher``) and the frame
of the file's other columns, drop rows without a label and refuse a mapping that cannot
train a classifier, each with a :class:`~pipeline.core.errors.DatasetError` that names the
problem and the fix.

Labels are data: any string with something visible in it is a class (``accuracy``,
``macro avg``, ``__proto__``, ``<b>x</b>``...). :func:`is_blank_label` and
:func:`label_values` are the one rule for what counts as no label at all, used wherever a
file's label column is read (the app and the CLI both load through
:func:`~pipeline.data.load_dataset`; a label review finds the same labelled rows).
:func:`label_variants` finds labels written more than one way ("Sports", "sports"), which
stay classes of their own (whether they are one class is the user's call) and are noted
(:func:`label_variants_note`), as are labels that join others ("business;tech",
:func:`joined_labels_note`): a row has one label here.
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from pipeline.core.errors import ColumnChoiceError, DatasetError
from pipeline.data.reading import RawTable

TEXT_COLUMN_NAMES: tuple[str, ...] = ("title", "text", "headline", "sentence", "content")
LABEL_COLUMN_NAMES: tuple[str, ...] = ("category", "label", "class", "target", "topic", "tags")

#: Unicode categories of characters that show as nothing: control and format characters
#: (zero-width space and joiners, byte-order mark, soft hyphen, word joiner...).
INVISIBLE_CATEGORIES: frozenset[str] = frozenset({"Cc", "Cf"})
#: Most groups of label variants (or joined labels) a note names; the rest are counted.
NAMED_LABEL_VARIANTS: int = 5
#: What joins several labels in one cell, in files exported from tagging tools.
LABEL_JOINERS: tuple[str, ...] = (";", "|", ",", "/", "+")
#: How a file's label cell that is blank once trimmed is described to people.
BLANK_LABEL_WORDS: str = "empty, or only spaces or invisible characters"


def is_blank_label(label: str) -> bool:
    """Whether a label cell holds no label: nothing once whitespace and invisible
    characters are trimmed.

    Parameters
    ----------
    label : str
        A cell of the label column, as read.

    Returns
    -------
    bool
        ``True`` for ``""``, ``" "``, ``"\t"``, a no-break space, a zero-width space, a
        byte-order mark, a soft hyphen or any mix of them, which would make a class that
        shows as nothing; ``False`` for every string with a visible character in it,
        whatever it says (``accuracy``, ``macro avg``, ``__proto__``, ``<b>x</b>``,
        ``nan``).
    """
    return all(ch.isspace() or unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in label)


def label_values(values: pd.Series) -> pd.Series:
    """A label column's cells as labels: surrounding whitespace trimmed, and ``""`` for
    every cell :func:`is_blank_label` finds blank.

    Parameters
    ----------
    values : pandas.Series of str
        The label column as read (strings; a missing cell is ``""``).

    Returns
    -------
    pandas.Series of str
        Same index; ``""`` marks a row without a label. Other labels are only stripped
        (``str.strip``), so a dataset's classes and fingerprint are what they always were.
    """
    labels = values.str.strip()
    blank = [value for value in labels.unique() if value != "" and is_blank_label(value)]
    return labels.mask(labels.isin(blank), "") if blank else labels


def label_variants(labels: pd.Series) -> list[list[tuple[str, int]]]:
    """Labels that differ only in letter case, spacing or Unicode width ("Sports",
    "sports", "SPORTS"; "New  York", "new york"), each group as ``(label, rows)`` pairs.

    Parameters
    ----------
    labels : pandas.Series of str
        A dataset's labels (stripped, never blank).

    Returns
    -------
    list of list of (str, int)
        Groups of two or more labels, the group with the most rows first; in a group the
        label with the most rows first (ties by the label). ``[]`` when every label is
        written one way.
    """
    counts = labels.value_counts()
    groups: dict[str, list[tuple[str, int]]] = {}
    for label, rows in counts.items():
        groups.setdefault(_label_key(label), []).append((str(label), int(rows)))
    variants = [sorted(group, key=lambda item: (-item[1], item[0])) for group in groups.values()]
    variants = [group for group in variants if len(group) > 1]
    return sorted(variants, key=lambda group: (-sum(rows for _, rows in group), group[0][0]))


def label_variants_note(labels: pd.Series) -> str | None:
    """What a user is told of ``labels``' :func:`label_variants` (the first
    :data:`NAMED_LABEL_VARIANTS` groups named with their rows), or ``None`` when there are
    none."""
    variants = label_variants(labels)
    if not variants:
        return None

    shown = "; ".join(
        _counted(group, say_rows=i == 0) for i, group in enumerate(variants[:NAMED_LABEL_VARIANTS])
    )
    more = len(variants) - NAMED_LABEL_VARIANTS
    return (
        f"{len(variants):,} label{'s are' if len(variants) > 1 else ' is'} written more than "
        "one way, differing only in letter case or spacing, and each way is a class of its "
        f"own: {shown}{f'; and {more:,} more' if more > 0 else ''}. If they mean one class, "
        "write it one way in the file and load it again."
    )


def joined_labels(labels: pd.Series) -> list[tuple[str, int]]:
    """Labels that join two or more other labels of the column with one of
    :data:`LABEL_JOINERS` ("business;tech" beside "business" and "tech"; parts compared
    as :func:`label_variants` compares labels), as ``(label, rows)`` pairs, the most rows
    first (ties by the label). ``[]`` when there are none.

    A name that holds a joiner but whose parts are not all labels ("science/fiction",
    "24/7") is a name, not a join.
    """
    counts = labels.value_counts()
    keys = {_label_key(label) for label in counts.index}
    joined = []
    for label, rows in counts.items():
        for joiner in LABEL_JOINERS:
            parts = {_label_key(part) for part in str(label).split(joiner)}
            if len(parts) > 1 and "" not in parts and parts <= keys:
                joined.append((str(label), int(rows)))
                break
    return sorted(joined, key=lambda item: (-item[1], item[0]))


def joined_labels_note(labels: pd.Series) -> str | None:
    """What a user is told of ``labels``' :func:`joined_labels` (the first
    :data:`NAMED_LABEL_VARIANTS` named with their rows), or ``None`` when there are none."""
    joined = joined_labels(labels)
    if not joined:
        return None
    more = len(joined) - NAMED_LABEL_VARIANTS
    listing = _counted(joined[:NAMED_LABEL_VARIANTS], more=max(more, 0))
    total = sum(rows for _, rows in joined)
    return (
        f"{len(joined):,} label{'s join' if len(joined) > 1 else ' joins'} other labels, "
        f"{total:,} rows in all: {listing}. Each is a class of its own, apart from the labels "
        "it joins: this tool trains one label per row. Give each of those rows one label in "
        "the file and load it again."
    )


def _counted(pairs: list[tuple[str, int]], say_rows: bool = True, more: int = 0) -> str:
    """``"'a' (12 rows), 'b' (3) and 'c' (2)"``: labels with their rows ("rows" said once,
    when ``say_rows``), then ``more`` others counted ("... and 4 more")."""
    named = [f"{label!r} ({rows:,})" for label, rows in pairs]
    if say_rows:
        named[0] = named[0][:-1] + " rows)"
    if more:
        named.append(f"{more:,} more")
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _label_key(label: object) -> str:
    """``label`` as labels are compared: Unicode width, letter case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", str(label)).casefold().split())


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
        names (text, headline, sentence, content; label, class, target, topic, tags), first as
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


def find_column(columns: list[str], wanted: str) -> str | None:
    """Find the column a user means by ``wanted``, ignoring case.

    Parameters
    ----------
    columns : list of str
        The column names to choose from.
    wanted : str
        The name asked for.

    Returns
    -------
    str or None
        ``wanted`` itself, else the single column equal to it ignoring case (and
        surrounding whitespace); ``None`` when none, or more than one, is.
    """
    if wanted in columns:
        return wanted
    matches = [c for c in columns if c.strip().lower() == wanted.strip().lower()]
    return matches[0] if len(matches) == 1 else None


def require_two_columns(raw: RawTable, name: str | None = None) -> None:
    """Raise :class:`DatasetError` when ``raw`` has a single column: texts alone can be
    scored, not trained on (the message names the column and the fix; ``name`` is the
    file's name in it, ``raw.name`` by default)."""
    if len(raw.frame.columns) < 2:
        raise DatasetError(
            f"{name or raw.name} has one column ({raw.frame.columns[0]}); training needs a "
            "column of texts and a column of their labels: add a column of their labels."
        )


def resolve(raw: RawTable, wanted: str | None, guess: str | None, role: str) -> str:
    """The column of ``raw`` that holds the ``role`` (``"text"`` or ``"label"``).

    Parameters
    ----------
    raw : RawTable
        The table read.
    wanted : str or None
        The column the user chose (matched with :func:`find_column`), or ``None``.
    guess : str or None
        The column :func:`guess_columns` found for the role, used when ``wanted`` is
        ``None``.
    role : str
        ``"text"`` or ``"label"``, as the messages name it.

    Returns
    -------
    str
        The column's name as in the file.

    Raises
    ------
    ColumnChoiceError
        Nothing chosen and nothing guessed, or no column named ``wanted`` (a
        :class:`~pipeline.core.errors.DatasetError`).
    """
    columns = [str(c) for c in raw.frame.columns]
    listing = ", ".join(columns)
    if wanted is None:
        if guess is None:
            raise ColumnChoiceError(
                f"Could not tell which column of {raw.name} holds the {role}; its columns are "
                f"{listing}.",
                role,
            )
        return guess
    found = find_column(columns, wanted)
    if found is None:
        raise ColumnChoiceError(
            f"{raw.name} has no column {wanted!r} for the {role}; its columns are {listing}.",
            role,
        )
    return found


def normalise(raw: pd.DataFrame, text_col: str, label_col: str) -> pd.DataFrame:
    """The normalised frame of a file's rows.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file's columns, as read (strings).
    text_col, label_col : str
        The columns holding the text and the label.

    Returns
    -------
    pandas.DataFrame
        Same index; ``text`` (as read), ``label`` (:func:`label_values`: ``""`` for no
        label) and, when the file has such a column other than those two (found with
        :func:`find_column`), ``story`` and ``publisher``, stripped.
    """
    columns = [str(c) for c in raw.columns]
    frame = pd.DataFrame(
        {"text": raw[text_col], "label": label_values(raw[label_col])}, index=raw.index
    )
    for key in ("story", "publisher"):
        column = find_column(columns, key)
        if column is not None and column not in (text_col, label_col):
            frame[key] = _stripped(raw[column])
    return frame


def _stripped(values: pd.Series) -> pd.Series:
    """``values`` without surrounding whitespace; ``values`` itself when none had any, so
    the column shares its memory with the same raw column in ``Dataset.other_columns``."""
    stripped = values.str.strip()
    return values if stripped.equals(values) else stripped


def other_columns(raw: pd.DataFrame, text_col: str, label_col: str) -> pd.DataFrame:
    """The raw columns other than the text and the label, under their own names.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file's columns, as read.
    text_col, label_col : str
        The columns holding the text and the label.

    Returns
    -------
    pandas.DataFrame
        ``raw`` without those two columns (same index, values as read).
    """
    return raw[[c for c in raw.columns if str(c) not in (text_col, label_col)]]


def drop_unlabelled(
    frame: pd.DataFrame, others: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """``frame`` and ``others`` (row for row) without the rows that have no label, both
    with a fresh ``RangeIndex``, and how many rows were dropped.

    Parameters
    ----------
    frame : pandas.DataFrame
        The normalised frame (:func:`normalise`); ``label`` ``""`` marks no label.
    others : pandas.DataFrame
        The file's other columns (:func:`other_columns`), same index as ``frame``.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, int)
        ``frame`` and ``others`` without the unlabelled rows, and how many were dropped.
    """
    unlabelled = frame["label"] == ""
    dropped = int(unlabelled.sum())
    if dropped:
        frame, others = frame[~unlabelled], others[~unlabelled]
    return frame.reset_index(drop=True), others.reset_index(drop=True), dropped


def validate(frame: pd.DataFrame, name: str, text_col: str, label_col: str) -> None:
    """Refuse a mapping that cannot train a classifier.

    Parameters
    ----------
    frame : pandas.DataFrame
        The normalised frame, unlabelled rows already dropped (:func:`drop_unlabelled`).
    name : str
        The dataset's name, as the messages give it.
    text_col, label_col : str
        The file's columns that became ``text`` and ``label``.

    Raises
    ------
    DatasetError
        No labelled row, a single class, or no text in any row.
    """
    if frame.empty:
        raise DatasetError(
            f"The label column {label_col!r} of {name} is empty in every row "
            f"({BLANK_LABEL_WORDS}); choose the column that holds the classes."
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


def missing_per_column(raw: pd.DataFrame) -> dict[str, int]:
    """Per column of ``raw`` (strings as read), how many cells are empty or whitespace
    only: ``{column name: cells}``."""
    return {str(c): int((raw[c].str.strip() == "").sum()) for c in raw.columns}
