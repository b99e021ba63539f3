"""A row's label against its duplicates' and story mates' (``pipeline.review.agreement``).

The grouped folds keep a row's story mates out of the models that score it, so the
models alone cannot see that one headline of a story carries another label than the
rest. The review weighs that agreement into the label quality and the flag; these tests
run real reviews (TF-IDF, three folds) on real UCI rows with labels flipped on purpose.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pipeline.data import load_dataset, read_table
from pipeline.review.agreement import (
    AGREEMENT_PRIOR,
    agreement_factor,
    describe_agreement,
    group_agreement,
)
from pipeline.review.folds import fold_groups
from pipeline.review.ranking import class_indices
from pipeline.review.run import review_labels
from pipeline.review.settings import ReviewSettings
from pipeline.review.table import reviewed_table
from tests.conftest import UCI_SMALL_CSV

SETTINGS = ReviewSettings(folds=3, models="tfidf")


def test_counts_mates_and_those_sharing_the_label():
    labels = np.array([0, 0, 1, 2, 2, 2, 1])
    groups = np.array([5, 5, 5, 7, 7, 7, 9])
    agreement = group_agreement(labels, groups)
    assert agreement.mates.tolist() == [2, 2, 2, 2, 2, 2, 0]
    assert agreement.agreeing.tolist() == [1, 1, 0, 2, 2, 2, 0]
    assert agreement.outvoted().tolist() == [False, False, True, False, False, False, False]
    factor = agreement.factor()
    assert factor[-1] == 1.0 and factor[3] == 1.0  # alone, or every mate agrees
    assert factor[2] == pytest.approx(AGREEMENT_PRIOR / (2 + AGREEMENT_PRIOR))
    assert factor[2] < factor[0] < 1.0
    assert agreement_factor(np.array([0]), np.array([1]))[0] == pytest.approx(1 / 3)
    assert group_agreement(np.zeros(0, int), np.zeros(0, int)).mates.size == 0


def test_describes_agreement_in_words():
    assert describe_agreement(3, 4) == "3 of 4"
    assert describe_agreement(0, 0) == "no duplicates or story mates"


def as_dataset(frame: pd.DataFrame):
    """``frame`` (the fixture's columns, edited) loaded as an upload of it would be."""
    return load_dataset(dataclasses.replace(read_table(UCI_SMALL_CSV), frame=frame))


def flipped_story_rows() -> tuple[pd.DataFrame, list[int]]:
    """The small UCI fixture with one headline of each of its eight largest stories
    given another category than its story's."""
    raw = read_table(UCI_SMALL_CSV).frame.copy()
    stories = raw["STORY"].value_counts().index[:8]
    classes = sorted(raw["CATEGORY"].unique())
    flipped = []
    for story in stories:
        position = int(np.flatnonzero(raw["STORY"].to_numpy() == story)[0])
        given = raw.at[position, "CATEGORY"]
        raw.at[position, "CATEGORY"] = classes[(classes.index(given) + 1) % len(classes)]
        flipped.append(position)
    return raw, flipped


def test_a_headline_its_story_contradicts_is_the_most_suspect_and_flagged():
    raw, flipped = flipped_story_rows()
    dataset = as_dataset(raw)
    review = review_labels(dataset, SETTINGS)
    frame = review.frame.reset_index(drop=True)

    labels = class_indices(dataset)
    expected = group_agreement(labels, fold_groups(dataset.frame))
    assert frame["group_mates"].tolist() == expected.mates.tolist()
    assert frame["agreeing_mates"].tolist() == expected.agreeing.tolist()
    assert (frame.loc[flipped, "agreeing_mates"] == 0).all()
    assert (frame.loc[flipped, "group_mates"] >= 10).all()

    # Every flipped headline is among the 8 + 5 most suspect of 2,826 rows, and flagged.
    most_suspect = set(frame["label_quality"].nsmallest(len(flipped) + 5).index)
    assert set(flipped) <= most_suspect
    assert frame.loc[flipped, "is_label_issue"].all()
    # Their story mates, outvoting them, lose little: at least 90 % of the model's quality.
    mates = frame.index[
        dataset.frame["story"].reset_index(drop=True).isin(raw.loc[flipped, "STORY"])
    ].difference(flipped)
    assert (frame.loc[mates, "agreeing_mates"] == frame.loc[mates, "group_mates"] - 1).all()
    assert (frame.loc[mates, "label_quality"] >= 0.9 * self_confidence(review, mates)).all()

    table = reviewed_table(raw, dataset, review)
    assert str(table["group_mates"].dtype) == "Int64"
    assert table.loc[0, "agreeing_mates"] == 0 and table.loc[0, "group_mates"] >= 10


def test_a_story_given_one_wrong_label_throughout_agrees_with_itself():
    """Agreement cannot see an error the whole story shares: those rows keep the
    model's quality (the grouped folds are what catch them)."""
    raw = read_table(UCI_SMALL_CSV).frame.copy()
    story = raw["STORY"].value_counts().index[0]
    rows = raw["STORY"] == story
    raw.loc[rows, "CATEGORY"] = "b" if raw.loc[rows, "CATEGORY"].iloc[0] != "b" else "e"
    review = review_labels(as_dataset(raw), SETTINGS)
    frame = review.frame.reset_index(drop=True)
    positions = np.flatnonzero(rows.to_numpy())
    assert (frame.loc[positions, "agreeing_mates"] == frame.loc[positions, "group_mates"]).all()
    assert np.allclose(frame.loc[positions, "label_quality"], self_confidence(review, positions))


def self_confidence(review, positions) -> np.ndarray:
    """The out-of-sample probability of the given label at ``positions``."""
    frame = review.frame.reset_index(drop=True)
    classes = list(review.summary.classes)
    probabilities = frame.loc[positions, [f"p_{c}" for c in classes]].to_numpy()
    given = [classes.index(c) for c in frame.loc[positions, "given_label"]]
    return probabilities[np.arange(len(given)), given]
