"""A reviewer's decisions on suspect labels, applied to the file they came from.

After a label review (:mod:`pipeline.review`), each reviewed row may be kept as it is,
relabelled with the review's suggested label, or dropped. :func:`corrected_table`
applies those decisions to the file as read (every row, every column, in file
order), so the corrected CSV can be downloaded and loaded again like the original.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pipeline.errors import HeadlineLabError

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.data import Dataset
    from pipeline.review import LabelReview

Action = Literal["keep", "relabel", "drop"]
#: What a reviewer can do with a row, and how the page words it.
ACTIONS: dict[str, str] = {
    "keep": "keep the given label",
    "relabel": "relabel with the suggested label",
    "drop": "drop the row",
}


def rows_below(review: LabelReview, threshold: float) -> list[int]:
    """The dataset positions (0-based, in ``review.frame`` order) of the rows whose label
    quality is below ``threshold``, most suspect first."""
    quality = review.frame["label_quality"].to_numpy()
    order = quality.argsort(kind="mergesort")
    return [int(i) for i in order if quality[i] < threshold]


def corrected_table(
    raw: pd.DataFrame,
    dataset: Dataset,
    review: LabelReview,
    actions: Mapping[int, Action],
) -> pd.DataFrame:
    """The file with the decisions applied.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file as read (``pipeline.data.read_table(...).frame``), every row.
    dataset : Dataset
        ``load_dataset`` of that table (its rows are ``raw``'s labelled rows, in order).
    review : LabelReview
        The review of ``dataset``.
    actions : mapping of int to str
        Dataset position (0-based, as in ``review.frame``) -> ``"keep"``,
        ``"relabel"`` or ``"drop"``; rows not named are kept.

    Returns
    -------
    pandas.DataFrame
        ``raw``'s columns and rows in file order, the label column of relabelled rows
        set to the suggested label code, dropped rows left out; a fresh ``RangeIndex``.

    Raises
    ------
    HeadlineLabError
        An unknown action, a position outside the review, or a review of other data.
    """
    import numpy as np

    labels = raw[dataset.label_col].astype(str).str.strip()
    labelled = np.flatnonzero(labels.ne("").to_numpy())
    if len(labelled) != len(review.frame):
        raise HeadlineLabError(
            f"This review has {len(review.frame):,} rows but {dataset.name} has "
            f"{len(labelled):,} rows with a label; review this file again."
        )
    unknown = sorted({a for a in actions.values() if a not in ACTIONS})
    if unknown:
        raise HeadlineLabError(
            f"Unknown action {unknown[0]!r} for a reviewed row; use one of {', '.join(ACTIONS)}."
        )
    outside = [p for p in actions if not 0 <= p < len(labelled)]
    if outside:
        raise HeadlineLabError(
            f"Row {outside[0]} is not among the {len(labelled):,} reviewed rows; review again."
        )
    table = raw.copy()
    suggested = review.frame["suggested_label"].to_numpy()
    relabel = [p for p, action in actions.items() if action == "relabel"]
    if relabel:
        column = table.columns.get_loc(dataset.label_col)
        table.iloc[labelled[relabel], column] = suggested[relabel]
    drop = [p for p, action in actions.items() if action == "drop"]
    keep = np.ones(len(table), dtype=bool)
    keep[labelled[drop]] = False
    return table[keep].reset_index(drop=True)
