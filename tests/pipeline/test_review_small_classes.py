"""A label review of a file with classes smaller than its folds: the classes that can be
reviewed are, and the rows of the others are kept as given, unreviewed, and said.

Found reviewing a file of 1,136 headlines labelled by 14 publishers: one publisher with 3
rows refused the whole review ("drop that class", which neither the app nor the command
line can do), and a class of one row, often a typo a review should surface, could never
be reviewed at all. A class needs a row in every fold: with fewer, a held-out row is
scored by models that saw too few of its class (none for a single row), and cleanlab's
per-class thresholds for a class no model learned would flag rows of every other class.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.data import load_dataset
from pipeline.review.run import review_labels, run_review
from pipeline.review.settings import ReviewSettings
from tests.cli_support import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIVE_FOLDS = ReviewSettings(folds=5, models="tfidf")
#: The classes made too small for five folds, and their rows.
SMALL = {"rare": 3, "typo": 1}


@pytest.fixture(scope="module")
def small_classes_file(tmp_path_factory) -> Path:
    """800 UCI rows of four classes, three relabelled ``rare`` and one ``typo``."""
    frame = pd.read_csv(FIXTURES / "uci_small.csv", dtype=str, keep_default_na=False).head(800)
    frame.loc[frame.index[[10, 20, 30]], "CATEGORY"] = "rare"
    frame.loc[frame.index[40], "CATEGORY"] = "typo"
    path = tmp_path_factory.mktemp("small-classes") / "small_classes.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_classes_too_small_for_the_folds_are_kept_unreviewed(small_classes_file, tmp_path):
    dataset = load_dataset(small_classes_file)
    review = run_review(dataset, FIVE_FOLDS, runs_dir=tmp_path)
    summary = review.summary
    assert summary.unreviewed == SMALL
    assert summary.rows == len(review.frame) == len(dataset.frame) == 800
    assert summary.reviewed_rows == 800 - 4
    frame = review.frame
    small = frame["given_label"].isin(list(SMALL))
    assert small.sum() == 4
    assert frame.loc[small, "label_quality"].isna().all()
    assert not frame.loc[small, "is_label_issue"].any()
    assert (frame.loc[small, "suggested_label"] == frame.loc[small, "given_label"]).all()
    probabilities = [f"p_{code}" for code in dataset.classes]
    assert frame.loc[small, probabilities].isna().all().all()
    reviewed = frame[~small]
    assert reviewed["label_quality"].between(0, 1).all()
    assert not reviewed["suggested_label"].isin(list(SMALL)).any()
    assert (reviewed[["p_rare", "p_typo"]] == 0).all().all()
    assert np.allclose(reviewed[probabilities].sum(axis=1), 1.0)
    assert not review.suspects(100)["given_label"].isin(list(SMALL)).any()  # listed last
    assert summary.per_class["rare"].rows == 3 and summary.per_class["rare"].issues == 0
    note = summary.unreviewed_note()
    assert note is not None and "'rare' (3 rows)" in note and "'typo' (1 row)" in note
    assert "5-fold" in note and "folds to 3" in note

    again = run_review(dataset, FIVE_FOLDS, runs_dir=tmp_path)
    assert again.from_cache and again.summary.unreviewed == SMALL
    pd.testing.assert_frame_equal(again.frame, review.frame, check_dtype=False)


def test_the_command_line_says_which_classes_it_left_unreviewed(small_classes_file, tmp_path):
    output = tmp_path / "reviewed.csv"
    flags = ["--data", str(small_classes_file), "--folds", "5", "--models", "tfidf"]
    done = run_cli("review", *flags, "--output", str(output), runs_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    (note,) = [line for line in done.stdout.splitlines() if line.startswith("note: Not reviewed")]
    assert "'rare' (3 rows)" in note
    table = pd.read_csv(output, dtype={"CATEGORY": str}, keep_default_na=False)
    assert len(table) == 800
    assert set(table.tail(4)["CATEGORY"]) == set(SMALL)  # unreviewed rows last
    assert (table.tail(4)["label_quality"] == "").all()
    report = json.loads(run_cli("review", *flags, "--json", runs_dir=tmp_path).stdout)
    assert report["unreviewed_classes"] == SMALL
    assert report["reviewed_rows"] == 796 and report["unreviewed_rows"] == 4


def test_a_review_needs_two_classes_with_a_row_in_every_fold(tmp_path):
    rows = pd.read_csv(FIXTURES / "custom_headlines.csv")
    money = rows[rows["topic"] == "money"].head(24)
    other = rows[rows["topic"] != "money"].head(2).assign(topic="other")
    path = tmp_path / "one_big_class.csv"
    pd.concat([money, other]).to_csv(path, index=False)
    with pytest.raises(DatasetError) as refused:
        review_labels(load_dataset(path), ReviewSettings(folds=3, models="tfidf"))
    message = str(refused.value)
    assert "only 'money' has at least 3 rows" in message and "Lower the folds to 2" in message


def test_flags_on_labels_the_models_rarely_agree_with_come_with_a_caution(tmp_path):
    """Found reviewing 14 publishers' headlines: the models agreed with 49 % of the labels
    and 38 % of the rows were "flagged as likely mislabelled", said as plainly as when a
    few rows are. A flag on a quarter of the rows mostly marks classes the models cannot
    tell apart, not wrong labels; the review now says so, and only then."""
    uci = pd.read_csv(FIXTURES / "uci_small.csv", dtype=str, keep_default_na=False)
    coin_flips = uci.head(600).assign(
        CATEGORY=np.random.default_rng(0).choice(["x", "y"], size=600)
    )
    two_clear_classes = uci[uci["CATEGORY"].isin(["b", "e"])]  # business, entertainment
    said = {}
    for name, frame in {"coin_flips": coin_flips, "clear": two_clear_classes}.items():
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        flags = ["--data", str(path), "--folds", "3", "--models", "tfidf", "--json"]
        done = run_cli("review", *flags, runs_dir=tmp_path)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        said[name] = (report["issues"] / report["reviewed_rows"], report["caution"])
        words = run_cli("review", *flags[:-1], runs_dir=tmp_path).stdout
        assert (report["caution"] is not None) == (f"note: {report['caution']}" in words)
    share, caution = said["coin_flips"]
    assert share >= 0.2 and caution is not None, said
    assert caution.startswith(f"{share:.0%} of the reviewed rows are flagged")
    assert "classes the models cannot tell apart" in caution
    share, caution = said["clear"]
    assert share < 0.2 and caution is None, said
