"""A finished label review: :class:`LabelReview` and the columns of its frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.review.summary import ReviewSummary

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PROBABILITY_PREFIX = "p_"
#: The columns of :attr:`LabelReview.frame` before the probabilities.
REVIEW_COLUMNS = (
    "text",
    "given_label",
    "suggested_label",
    "label_quality",
    "is_label_issue",
    "group_mates",
    "agreeing_mates",
)
#: The integer columns of :attr:`LabelReview.frame`.
COUNT_COLUMNS = ("group_mates", "agreeing_mates")


@dataclass
class LabelReview:
    """A finished label review.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per dataset row, in the dataset's order with its index: ``text``,
        ``given_label`` and ``suggested_label`` (label codes), ``label_quality``
        (float in [0, 1], low = suspect), ``is_label_issue`` (bool: cleanlab's flag, or a
        label its group mates and the model both contradict), ``group_mates`` and
        ``agreeing_mates`` (ints: the other rows held out with it, duplicates and story
        mates, and those of them with its label; :mod:`pipeline.review.agreement`)
        and ``p_<code>`` per class (out-of-sample probabilities, rows summing to 1).
    summary : ReviewSummary
        What the review found in numbers and what it was
        (:class:`~pipeline.review.summary.ReviewSummary`: rows, folds, issues, classes,
        per class, settings, how the folds were drawn, times, accuracies, the data's
        fingerprint, the cache key, ``from_cache``).
    part_probabilities : dict of str to numpy.ndarray
        Each model part's out-of-sample probabilities ``(rows, classes)`` when the
        review was computed now; empty when it came from the cache.
    """

    frame: pd.DataFrame
    summary: ReviewSummary
    part_probabilities: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def from_cache(self) -> bool:
        """Whether this review was read from the cache rather than computed."""
        return self.summary.from_cache

    def suspects(self, top: int | None = None) -> pd.DataFrame:
        """The rows, lowest label quality first (ties in dataset order); the first
        ``top`` only when given."""
        ranked = self.frame.sort_values("label_quality", kind="mergesort")
        return ranked if top is None else ranked.head(top)
