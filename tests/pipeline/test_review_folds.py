"""Label-review folds that cannot vouch for themselves (``pipeline.review.folds``).

A row's duplicate (the same words once standardised as the models read them) or a
headline of the same news story in a training fold would "vouch" for the held-out row:
the model saw its twin with its label. These tests check, on tiny data and real code,
that duplicates and stories are held out whole, that the folds stay stratified, and
that without anything to group the folds are the old stratified k-fold ones.
"""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

import pipeline.training.baseline
from pipeline.core.errors import DatasetError
from pipeline.data import load_dataset
from pipeline.review.cache import cached_review
from pipeline.review.folds import (
    assign_folds,
    describe_groups,
    duplicate_keys,
    fold_groups,
    fold_units,
)
from pipeline.review.run import review_labels, run_review
from pipeline.review.settings import ReviewSettings

CLASSES = ("b", "e", "m", "t")
WORDS = {
    "b": "stocks bank shares market profit fed rates dollar earnings trade",
    "e": "film star music album movie show singer actor award concert",
    "m": "health study cancer drug virus doctors patients vaccine disease flu",
    "t": "apple google phone app software android microsoft data device web",
}


def tiny_table(seed: int = 0) -> pd.DataFrame:
    """About 150 headlines in four classes: 20 stories of three headlines each, 10
    texts written twice (once only by case and punctuation) and singletons."""
    rng = np.random.default_rng(seed)
    rows = []

    def headline(label: str) -> str:
        words = rng.choice(WORDS[label].split(), size=5, replace=False)
        return " ".join(words) + f" {len(rows)}"  # the row number keeps texts apart

    for story in range(20):
        label = CLASSES[story % 4]
        for _ in range(3):
            rows.append({"TITLE": headline(label), "CATEGORY": label, "STORY": f"s{story}"})
    for pair in range(10):
        label = CLASSES[pair % 4]
        text = headline(label)
        twin = text.upper() + "!" if pair % 2 else text
        rows.append({"TITLE": text, "CATEGORY": label, "STORY": ""})
        rows.append({"TITLE": twin, "CATEGORY": label, "STORY": ""})
    for single in range(72):
        label = CLASSES[single % 4]
        rows.append({"TITLE": headline(label), "CATEGORY": label, "STORY": ""})
    order = rng.permutation(len(rows))
    return pd.DataFrame(rows).iloc[order].reset_index(drop=True)


def as_dataset(table: pd.DataFrame):
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return load_dataset(buffer.getvalue().encode("utf-8"), name="tiny.csv")


def words_of(text: str) -> str:
    """The test's own reading of "the same text": lower case, punctuation dropped."""
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def test_no_fold_trains_on_a_held_out_rows_duplicate_or_story(monkeypatch):
    """Fails on the stratified k-fold over rows: a twin or a story mate of a held-out
    row was in the fold's training rows."""
    table = tiny_table()
    dataset = as_dataset(table)
    fitted_on = []
    fit = pipeline.training.baseline.fit_baseline

    def recording_fit(model, texts, labels, **options):
        fitted_on.append(list(texts))
        return fit(model, texts, labels, **options)

    monkeypatch.setattr(pipeline.training.baseline, "fit_baseline", recording_fit)
    review = review_labels(dataset, ReviewSettings(folds=3, models="tfidf"))

    assert len(fitted_on) == 3 and len(review.frame) == len(table)
    keys = Counter(words_of(text) for text in table["TITLE"])
    story_of = {words_of(t): s for t, s in zip(table["TITLE"], table["STORY"]) if s}
    stories = Counter(story_of.values())
    split_texts, split_stories = set(), set()
    for training in fitted_on:
        seen = Counter(words_of(text) for text in training)
        split_texts |= {key for key, count in seen.items() if count != keys[key]}
        seen_stories = Counter(story_of[key] for key in seen.elements() if key in story_of)
        split_stories |= {story for story, count in seen_stories.items() if count != stories[story]}
    assert not split_texts, f"duplicates split between training and held out: {split_texts}"
    assert not split_stories, f"stories split between training and held out: {split_stories}"
    described = review.summary.fold_groups
    assert described.scheme == "grouped"
    assert described.grouped_rows == 20 * 3 + 10 * 2
    assert len(described.stories) == 16  # the story column's digest


def test_duplicates_are_the_same_words_as_the_models_read_them():
    keys = duplicate_keys(["Fed raises rates!", "fed  raises rates", "FED: raises-rates", "Fed"])
    assert keys[0] == keys[1] == keys[2] == "fed raises rates"
    assert keys[3] != keys[0]


def test_duplicates_and_stories_chain_into_one_group():
    frame = pd.DataFrame(
        {
            "text": ["a b", "c d", "A B!", "e f", "g h", "c d", "i j"],
            "story": ["s1", "s2", "", "s2", "", "", ""],
        }
    )
    groups = fold_groups(frame)
    # rows 0 and 2 are duplicates; 1 and 3 one story; 5 duplicates 1: 1, 3, 5 together
    assert groups[0] == groups[2] and groups[1] == groups[3] == groups[5]
    assert len({groups[0], groups[1], groups[4], groups[6]}) == 4
    assert describe_groups(groups) == {
        "scheme": "grouped",
        "groups": 4,
        "grouped_rows": 5,
        "largest_group": 3,
    }
    no_stories = fold_groups(frame.drop(columns="story"))
    assert no_stories[1] == no_stories[5] and no_stories[1] != no_stories[3]


def grouped_labels(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class indices (four classes, unequal) and groups of 1 to 6 rows of one class,
    with one group in ten mixing two classes."""
    rng = np.random.default_rng(seed)
    labels, groups = [], []
    while len(labels) < rows:
        size = int(rng.integers(1, 7))
        label = int(rng.choice(4, p=[0.4, 0.3, 0.2, 0.1]))
        mixed = rng.random() < 0.1
        labels += [label if not mixed or i % 2 else (label + 1) % 4 for i in range(size)]
        groups += [len(set(groups))] * size
    return np.array(labels[:rows]), np.array(groups[:rows])


def assert_whole_and_stratified(fold_of, labels, groups, folds, slack):
    assert set(fold_of.tolist()) == set(range(folds))
    for group in np.unique(groups):
        assert len(set(fold_of[groups == group].tolist())) == 1, f"group {group} split"
    for label in np.unique(labels):
        per_fold = np.bincount(fold_of[labels == label], minlength=folds)
        even = (labels == label).sum() / folds
        assert np.abs(per_fold - even).max() <= slack * even + 6, (label, per_fold)


@pytest.mark.parametrize("folds", [3, 5])
def test_grouped_folds_keep_every_group_whole_and_stay_stratified(folds):
    labels, groups = grouped_labels(1200, seed=folds)
    fold_of = assign_folds(labels, groups, folds, seed=42)
    assert_whole_and_stratified(fold_of, labels, groups, folds, slack=0.1)
    assert (assign_folds(labels, groups, folds, seed=42) == fold_of).all()  # seeded
    assert (assign_folds(labels, groups, folds, seed=7) != fold_of).any()


def test_many_groups_are_bundled_by_class_and_still_kept_whole():
    labels, groups = grouped_labels(3000, seed=1)
    assert len(np.unique(groups)) > 300
    units = fold_units(labels, groups, seed=3, max_units=300)
    assert len(np.unique(units)) < 0.5 * len(np.unique(groups))
    for unit in np.unique(units):  # a bundle is whole groups
        members = np.unique(groups[units == unit])
        assert np.isin(groups, members).sum() == (units == unit).sum()
    fold_of = assign_folds(labels, groups, 5, seed=3, max_units=300)
    assert_whole_and_stratified(fold_of, labels, groups, 5, slack=0.1)


def test_without_shared_groups_the_folds_are_the_stratified_k_fold_ones():
    labels, _ = grouped_labels(500, seed=2)
    expected = np.empty(len(labels), dtype=int)
    splitter = StratifiedKFold(5, shuffle=True, random_state=11)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        expected[held_out] = fold
    singletons = np.arange(len(labels))[::-1]
    assert (assign_folds(labels, singletons, 5, seed=11) == expected).all()
    assert (assign_folds(labels, None, 5, seed=11) == expected).all()
    assert describe_groups(singletons)["scheme"] == "rows"


def test_too_few_groups_for_the_folds_is_named():
    labels = np.array([0, 1] * 6)
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    with pytest.raises(DatasetError, match=r"only 3 such group.*Lower the folds to at most 3"):
        assign_folds(labels, groups, 4, seed=0)
    assert set(assign_folds(labels, groups, 3, seed=0).tolist()) == {0, 1, 2}


def test_a_cached_review_is_not_reused_for_the_same_rows_with_other_stories(tmp_path):
    """The data fingerprint covers texts and labels only, and the stories decide the
    folds: a review saved for one story column is not handed out for another."""
    table = tiny_table()
    settings = ReviewSettings(folds=3, models="tfidf")
    first = run_review(as_dataset(table), settings, runs_dir=tmp_path)
    assert cached_review(as_dataset(table), settings, tmp_path) is not None

    regrouped = table.assign(STORY=table["STORY"].where(table["STORY"] == "", "one story"))
    assert cached_review(as_dataset(regrouped), settings, tmp_path) is None
    assert cached_review(as_dataset(table.drop(columns="STORY")), settings, tmp_path) is None
    again = run_review(as_dataset(regrouped), settings, runs_dir=tmp_path)
    assert not again.from_cache and again.summary.key == first.summary.key
    assert again.summary.fold_groups.largest_group == 60
