"""The most confused pairs of classes in a confusion matrix: which true class the model
most often takes for which other one. The Results page's table and the run report read
them from here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfusedPair:
    """Test rows of one class predicted as another.

    Attributes
    ----------
    true, predicted : int
        Row and column of the confusion matrix (the true class, the class predicted).
    rows : int
        Test rows of the true class predicted as the other.
    share : float
        Those rows' share of the true class's test rows (0 to 1).
    """

    true: int
    predicted: int
    rows: int
    share: float


def confused_pairs(matrix: Sequence[Sequence[int]], limit: int = 10) -> list[ConfusedPair]:
    """The off-diagonal cells of ``matrix`` (rows: true class, columns: predicted) that hold
    test rows, most rows first, at most ``limit``; ties go to the larger share, then to the
    lower row and column."""
    pairs = []
    for i, row in enumerate(matrix):
        total = sum(int(n) for n in row)
        for j, count in enumerate(row):
            if i != j and int(count) > 0:
                pairs.append(ConfusedPair(i, j, int(count), int(count) / total if total else 0.0))
    pairs.sort(key=lambda pair: (-pair.rows, -pair.share, pair.true, pair.predicted))
    return pairs[:limit]


def confused_pairs_limit(n_classes: int) -> int:
    """How many pairs a "most confused pairs" table lists: 10, or one per class up to 50."""
    return max(10, min(int(n_classes), 50))


def count_confused_pairs(matrix: Sequence[Sequence[int]]) -> int:
    """How many (true, predicted) pairs of different classes have at least one test row."""
    return sum(1 for i, row in enumerate(matrix) for j, count in enumerate(row) if i != j and count)
