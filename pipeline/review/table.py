"""A reviewed file as a table: every row of the file as read, with its review's columns,
most suspect first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.core.errors import HeadlineLabError
from pipeline.review.result import COUNT_COLUMNS, PROBABILITY_PREFIX

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from pipeline.data import Dataset
    from pipeline.review.result import LabelReview


def labelled_rows(raw: pd.DataFrame, dataset: Dataset, review: LabelReview) -> np.ndarray:
    """The positions in ``raw`` (the file as read) of its labelled rows: the rows of
    ``dataset`` and of ``review.frame``, in order. Raises :class:`HeadlineLabError` when
    the review has another number of rows (a review of other data)."""
    import numpy as np

    from pipeline.data import label_values

    labels = label_values(raw[dataset.label_col].astype(str))
    labelled = np.flatnonzero(labels.ne("").to_numpy())
    if len(labelled) != len(review.frame):
        raise HeadlineLabError(
            f"This review has {len(review.frame):,} rows but {dataset.name} has "
            f"{len(labelled):,} rows with a label; review this file again."
        )
    return labelled


def reviewed_table(raw: pd.DataFrame, dataset: Dataset, review: LabelReview) -> pd.DataFrame:
    """Every row of the file, all its columns, with the review's columns; most suspect first.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file as read (``pipeline.data.read_table(...).frame``), every row.
    dataset : Dataset
        ``load_dataset`` of that table: its rows are the rows of ``raw`` with a
        label, in file order.
    review : LabelReview
        The review of ``dataset``.

    Returns
    -------
    pandas.DataFrame
        ``raw``'s columns, then ``given_label``, ``suggested_label``, ``label_quality``,
        ``is_label_issue``, ``group_mates``, ``agreeing_mates`` and ``p_<label>`` per
        class, classes named as in the file's label column (a column of the file with one
        of those names is replaced). Sorted by
        ``label_quality``, lowest first, ties in file order; rows without a label
        (not reviewed) last, their review columns empty. A fresh ``RangeIndex``.

    Raises
    ------
    HeadlineLabError
        The review has another number of rows than the file has labelled rows.
    """
    import numpy as np
    import pandas as pd

    labelled = labelled_rows(raw, dataset, review)
    sources = {
        "given_label": "given_label",
        "suggested_label": "suggested_label",
        "label_quality": "label_quality",
        "is_label_issue": "is_label_issue",
        "group_mates": "group_mates",
        "agreeing_mates": "agreeing_mates",
    }
    for code in dataset.classes:  # the file's label values, as in given_label
        sources[PROBABILITY_PREFIX + code] = PROBABILITY_PREFIX + code
    table = raw.drop(columns=[c for c in sources if c in raw.columns]).reset_index(drop=True)
    for name, source in sources.items():
        values = review.frame[source]
        if values.dtype == bool:
            column = pd.Series(pd.NA, index=table.index, dtype="boolean")
        elif name in {"given_label", "suggested_label"}:
            column = pd.Series("", index=table.index, dtype=object)
        elif name in COUNT_COLUMNS:
            column = pd.Series(pd.NA, index=table.index, dtype="Int64")
        else:
            column = pd.Series(np.nan, index=table.index, dtype=float)
        column.iloc[labelled] = values.to_numpy()
        table[name] = column
    return table.sort_values("label_quality", kind="mergesort", na_position="last").reset_index(
        drop=True
    )
