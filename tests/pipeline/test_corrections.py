"""A reviewer's decisions applied to the file, and measured before and after on the same
test rows (real TF-IDF models on the flipped-label fixture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.core.config import DataConfig
from pipeline.core.errors import HeadlineLabError
from pipeline.data import load_dataset, read_table
from pipeline.data.prepare import prepare
from pipeline.review.corrections import compare_corrections, corrected_table, rows_below
from pipeline.review.run import review_labels
from pipeline.review.settings import ReviewSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
QUICK = ReviewSettings(models="tfidf", folds=3)


@pytest.fixture(scope="module")
def reviewed():
    raw = read_table(FIXTURES / "uci_flipped.csv")
    dataset = load_dataset(raw)
    return raw.frame, dataset, review_labels(dataset, QUICK)


def test_relabel_and_drop_change_only_the_rows_named_and_keep_every_column(reviewed):
    raw, dataset, review = reviewed
    suspects = rows_below(review, 0.05)
    relabel, drop = suspects[:5], suspects[5:8]
    actions = {**dict.fromkeys(relabel, "relabel"), **dict.fromkeys(drop, "drop")}
    table = corrected_table(raw, dataset, review, actions)
    assert list(table.columns) == list(raw.columns)
    assert len(table) == len(raw) - 3
    kept_ids = set(table["ID"])
    assert not {raw["ID"].iloc[p] for p in drop} & kept_ids
    by_id = table.set_index("ID")["CATEGORY"]
    for p in relabel:
        assert by_id[raw["ID"].iloc[p]] == review.frame["suggested_label"].iloc[p]
    untouched = [p for p in range(len(raw)) if p not in actions][:50]
    for p in untouched:
        assert by_id[raw["ID"].iloc[p]] == raw["CATEGORY"].iloc[p]


def test_bad_decisions_are_refused_with_a_message(reviewed):
    raw, dataset, review = reviewed
    with pytest.raises(HeadlineLabError, match="Unknown action 'flip'"):
        corrected_table(raw, dataset, review, {0: "flip"})
    with pytest.raises(HeadlineLabError, match="not among the 8,000 reviewed rows"):
        corrected_table(raw, dataset, review, {8000: "drop"})


def test_before_and_after_share_the_test_rows_and_never_correct_them(reviewed):
    _, dataset, review = reviewed
    suspects = rows_below(review, 0.1)
    test_rows = set(prepare(dataset, DataConfig()).test_rows.tolist())
    on_test = [p for p in suspects if p in test_rows]
    assert on_test  # some decisions name test rows: they must be ignored
    result = compare_corrections(
        dataset, review, dict.fromkeys(suspects, "relabel"), DataConfig(), QUICK
    )
    assert result["ignored_test_rows"] == len(on_test)
    assert result["relabelled"] == len(suspects) - len(on_test)
    assert result["test_rows"] == len(test_rows)
    # Relabelling the training rows the review doubts most helps on the same test rows.
    assert result["after"]["test_accuracy"] > result["before"]["test_accuracy"]
    # With no decision, "after" is "before".
    same = compare_corrections(dataset, review, {}, DataConfig(), QUICK)
    assert same["after"] == same["before"] == result["before"]
    assert np.isclose(same["before"]["test_accuracy"], result["before"]["test_accuracy"])


def test_the_comparison_carries_the_paired_interval_of_after_minus_before(reviewed):
    _, dataset, review = reviewed
    suspects = rows_below(review, 0.1)
    result = compare_corrections(
        dataset, review, dict.fromkeys(suspects, "relabel"), DataConfig(), QUICK
    )
    interval = result["vs_before"]
    for name, key in (("accuracy", "test_accuracy"), ("macro_f1", "macro_f1")):
        assert interval[name]["difference"] == pytest.approx(
            result["after"][key] - result["before"][key]
        )
        assert interval[name]["ci95_low"] <= interval[name]["difference"]
        assert interval[name]["difference"] <= interval[name]["ci95_high"]
    # With no decision the two models answer alike: no difference, an empty interval.
    same = compare_corrections(dataset, review, {}, DataConfig(), QUICK)
    assert same["vs_before"]["accuracy"] == {"difference": 0.0, "ci95_low": 0.0, "ci95_high": 0.0}
