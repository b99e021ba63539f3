"""Whether a row's label agrees with the rows held out beside it: its duplicates and
story mates.

The review's folds hold duplicate texts and the rows of one story out together
(:mod:`pipeline.review.folds`), so a row's twin can no longer vouch for a wrong label
through the model. That also hides what the twin knows: a lone row whose label differs
from its duplicates' and story mates' (UCI's categories are given per story: no story
of the bundled data has two) is the most likely error of all. This module puts that
evidence back, explicitly:

* :func:`group_agreement` counts, for each row, the other rows of its fold group
  (``mates``) and how many of them carry its label (``agreeing``);
* :func:`agreement_factor` turns the counts into ``(agreeing + ½) / (mates + ½)``, by
  which the review multiplies the row's label quality: 1 for a row without mates or
  with mates that all agree, ⅓ for one of a disagreeing pair, 1/19 for the odd one out of
  ten. A story whose rows were all given one wrong label agrees with itself and keeps
  the model's quality: only the grouped folds catch it.

Measured on the 8,000-row flip probe (``benchmarks/label_review.py``), the TF-IDF anchor on
the grouped folds: 240 single rows flipped, precision@240 0.569 -> 0.725 (over rows
without groups: 0.614); whole stories flipped, unchanged (0.552). A half count (rather than
one or two) found the most flips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: The pseudo-count added to both sides of :func:`agreement_factor`.
AGREEMENT_PRIOR = 0.5


@dataclass(frozen=True)
class GroupAgreement:
    """Per row: ``mates``, the other rows of its fold group, and ``agreeing``, those of
    them with the same label (int64 arrays ``(rows,)``)."""

    mates: np.ndarray
    agreeing: np.ndarray

    def factor(self) -> np.ndarray:
        """:func:`agreement_factor` of these counts."""
        return agreement_factor(self.agreeing, self.mates)

    def outvoted(self) -> np.ndarray:
        """Booleans ``(rows,)``: more than half of the row's mates carry another label."""
        return 2 * self.agreeing < self.mates


def group_agreement(labels: np.ndarray, groups: np.ndarray) -> GroupAgreement:
    """Count each row's group mates and those that share its label.

    Parameters
    ----------
    labels : numpy.ndarray
        Class indices ``(rows,)``.
    groups : numpy.ndarray
        Group ids ``(rows,)`` (:func:`pipeline.review.folds.fold_groups`).

    Returns
    -------
    GroupAgreement
        ``mates`` (group size less one) and ``agreeing`` (rows of the group with the
        row's label, less one) per row.
    """
    import numpy as np

    labels = np.asarray(labels, dtype="int64")
    groups = np.asarray(groups, dtype="int64")
    if not len(labels):
        empty = np.zeros(0, dtype="int64")
        return GroupAgreement(empty, empty)
    _, group_of, group_sizes = np.unique(groups, return_inverse=True, return_counts=True)
    pairs = group_of * (int(labels.max()) + 1) + labels
    _, pair_of, pair_sizes = np.unique(pairs, return_inverse=True, return_counts=True)
    return GroupAgreement(
        mates=(group_sizes[group_of] - 1).astype("int64"),
        agreeing=(pair_sizes[pair_of] - 1).astype("int64"),
    )


def agreement_factor(agreeing: np.ndarray, mates: np.ndarray) -> np.ndarray:
    """``(agreeing + AGREEMENT_PRIOR) / (mates + AGREEMENT_PRIOR)``: floats in (0, 1],
    1 where every mate agrees (or there is none)."""
    import numpy as np

    agreeing = np.asarray(agreeing, dtype=float)
    mates = np.asarray(mates, dtype=float)
    return (agreeing + AGREEMENT_PRIOR) / (mates + AGREEMENT_PRIOR)


def describe_agreement(agreeing: int, mates: int) -> str:
    """In words, for a table cell: ``"3 of 4"``, or ``"no duplicates or story mates"``."""
    if mates <= 0:
        return "no duplicates or story mates"
    return f"{agreeing:,} of {mates:,}"
