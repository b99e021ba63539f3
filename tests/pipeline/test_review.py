"""Label review: ``pipeline.review.run`` and ``python -m pipeline review``, on real data.

The data is a slice of ``tests/fixtures/uci_flipped.csv`` (UCI headlines with labels
flipped on purpose, the flipped IDs in ``uci_flipped.flips.json``); the models are real:
TF-IDF + logistic regression and a tiny Keras n-gram bag.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.cli.main import main
from pipeline.core.errors import ConfigError
from pipeline.data import load_dataset
from pipeline.review.cache import REVIEWS_FOLDER, cached_review
from pipeline.review.progress import ReviewStopped
from pipeline.review.run import review_labels, run_review
from pipeline.review.settings import ReviewSettings
from pipeline.review.summary import ReviewSummary
from tests.cli_support import CliResult, run_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
FLIPPED = FIXTURES / "uci_flipped.csv"
#: Rows of the flipped fixture the tests review (about 3 % of them flipped).
SLICE_ROWS = 1600
QUICK = ReviewSettings(folds=3, models="tfidf")


@pytest.fixture(scope="module")
def flipped_slice(tmp_path_factory) -> tuple[Path, set[str]]:
    """The first ``SLICE_ROWS`` rows of the flipped fixture as a CSV, and their flipped IDs."""
    frame = pd.read_csv(FLIPPED, dtype=str, keep_default_na=False).head(SLICE_ROWS)
    flips = json.loads((FIXTURES / "uci_flipped.flips.json").read_text(encoding="utf-8"))
    flipped = {flip["ID"] for flip in flips["flips"]} & set(frame["ID"])
    path = tmp_path_factory.mktemp("review") / "flipped.csv"
    frame.to_csv(path, index=False)
    return path, flipped


def flips_in_top(ranked_ids: pd.Series, flipped: set[str], rows: int) -> float:
    """Share of ``flipped`` among the first ``rows`` of ``ranked_ids``."""
    return len(set(ranked_ids.head(rows)) & flipped) / len(flipped)


@pytest.mark.training
def test_the_default_review_puts_most_flips_in_the_top_2k(flipped_slice):
    path, flipped = flipped_slice
    dataset = load_dataset(path)
    ids = pd.read_csv(path, dtype=str)["ID"]
    events = []
    review = review_labels(dataset, ReviewSettings(folds=3, epochs=4), on_progress=events.append)

    frame = review.frame
    assert list(frame.index) == list(dataset.frame.index)
    assert (frame["given_label"] == dataset.frame["label"]).all()
    probabilities = frame[[f"p_{code}" for code in dataset.classes]].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (frame["suggested_label"] == np.array(dataset.classes)[probabilities.argmax(1)]).all()
    assert frame["label_quality"].between(0, 1).all()
    assert set(review.part_probabilities) == {"tfidf", "neural"}

    ranked = ids[review.suspects().index]
    k = len(flipped)
    assert flips_in_top(ranked, flipped, 2 * k) > 0.5, "most flips among the 2k most suspect"
    flagged = set(ids[frame["is_label_issue"].to_numpy()])
    assert len(flagged & flipped) > k / 2  # cleanlab flags most flips...
    # ...and not the whole file (folds that hold whole stories out score every row without
    # its story mates, so cleanlab flags more than it did with folds over rows)
    assert len(flagged) < len(frame) / 4

    summary = review.summary
    assert summary.rows == len(dataset.frame) and summary.folds == 3
    assert summary.issues == frame["is_label_issue"].sum()
    assert sum(row.rows for row in summary.per_class.values()) == summary.rows
    assert summary.out_of_sample_accuracy > 0.6 and summary.from_cache is False
    assert summary.settings.models == "ensemble"
    assert summary.fold_groups.scheme == "grouped"  # the slice has stories
    assert ReviewSummary.parse(json.loads(json.dumps(summary.to_json()))) == summary
    phases = [(event.phase, event.fold) for event in events if event.phase != "neural"]
    assert phases == [("tfidf", 1), ("tfidf", 2), ("tfidf", 3), ("scoring", 3), ("done", 3)]
    assert {event.fold for event in events if event.phase == "neural" and event.epoch >= 1} == {
        1,
        2,
        3,
    }


def cli(*args: str) -> CliResult:
    """``python -m pipeline review *args``, run in this process."""
    return run_cli("review", *args)


def test_cli_writes_every_row_with_its_columns_most_suspect_first(flipped_slice, tmp_path):
    path, flipped = flipped_slice
    source = pd.read_csv(path, dtype=str, keep_default_na=False)
    source.loc[10, "CATEGORY"] = ""  # a row the review cannot judge
    data = tmp_path / "with_blank.csv"
    source.to_csv(data, index=False)
    output = tmp_path / "reviewed.csv"
    args = ["--data", str(data), "--output", str(output), "--folds", "3", "--models", "tfidf"]
    args += ["--runs-dir", str(tmp_path / "runs")]

    done = cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    written = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert len(written) == len(source) == summary["rows"]
    assert list(written.columns[: len(source.columns)]) == list(source.columns)
    assert {"given_label", "suggested_label", "label_quality", "is_label_issue"} <= set(written)
    assert {"p_b", "p_t", "p_e", "p_m"} <= set(written)  # the file's label values
    assert sorted(written["ID"]) == sorted(source["ID"])
    quality = pd.to_numeric(written["label_quality"].replace("", np.nan))
    assert quality.iloc[:-1].is_monotonic_increasing and quality.iloc[:-1].notna().all()
    last = written.iloc[-1]
    assert last["ID"] == source.loc[10, "ID"] and last["label_quality"] == ""
    by_id = source.set_index("ID")["CATEGORY"]
    reviewed = written.iloc[:-1]
    assert (reviewed["given_label"] == by_id[reviewed["ID"]].to_numpy()).all()
    assert (reviewed["CATEGORY"] == reviewed["given_label"]).all()
    assert summary["reviewed_rows"] == len(source) - 1 and summary["unreviewed_rows"] == 1
    assert summary["folds"] == 3 and summary["from_cache"] is False
    assert 0 < summary["issues"] < summary["rows"] and summary["output"] == str(output)
    assert summary["out_of_sample_accuracy"] > 0.6
    assert [s["label_quality"] for s in summary["suspects"]] == sorted(quality.iloc[:10])
    # TF-IDF alone on 1,600 rows, each scored without its story mates: about half the
    # flips in the top 2k (by chance: 2k / rows, 6 %)
    assert flips_in_top(reviewed["ID"], flipped, 2 * len(flipped)) > 0.4

    again = cli(*args)  # the cache answers; the readable summary
    assert again.returncode == 0, again.stderr
    assert "loaded from cache" in again.stdout and "top 10 suspects" in again.stdout
    assert "1 rows without a label were not reviewed" in again.stdout
    pd.testing.assert_frame_equal(pd.read_csv(output, dtype=str, keep_default_na=False), written)


def test_a_cached_review_is_reused_checked_and_replaced_when_damaged(flipped_slice, tmp_path):
    dataset = load_dataset(flipped_slice[0])
    first = run_review(dataset, QUICK, runs_dir=tmp_path)
    events = []
    second = run_review(dataset, QUICK, runs_dir=tmp_path, on_progress=events.append)
    assert second.from_cache and not first.from_cache
    assert [event.phase for event in events] == ["cached"]  # nothing trained
    pd.testing.assert_frame_equal(second.frame, first.frame)
    assert dataclasses.replace(second.summary, from_cache=False) == first.summary
    assert list((tmp_path / REVIEWS_FOLDER).iterdir()) == [
        tmp_path / REVIEWS_FOLDER / first.summary.key
    ]

    other = ReviewSettings(folds=4, models="tfidf")
    assert cached_review(dataset, other, tmp_path) is None  # other settings, other key
    stored = tmp_path / REVIEWS_FOLDER / first.summary.key / "summary.json"
    document = json.loads(stored.read_text(encoding="utf-8"))
    stored.write_text(json.dumps({**document, "issues": "many"}), encoding="utf-8")
    assert cached_review(dataset, QUICK, tmp_path) is None  # a wrong summary: not trusted
    stored.write_text(json.dumps(document), encoding="utf-8")
    assert cached_review(dataset, QUICK, tmp_path).summary == second.summary
    saved = tmp_path / REVIEWS_FOLDER / first.summary.key / "review.csv"
    saved.write_text(saved.read_text(encoding="utf-8")[:500], encoding="utf-8")
    assert cached_review(dataset, QUICK, tmp_path) is None  # cut short: not trusted
    redone = run_review(dataset, QUICK, runs_dir=tmp_path)
    assert not redone.from_cache
    assert cached_review(dataset, QUICK, tmp_path) is not None


def test_a_stop_between_folds_ends_the_review_and_keeps_nothing(flipped_slice, tmp_path):
    dataset = load_dataset(flipped_slice[0])
    stop = threading.Event()
    folds_started = []

    def on_progress(progress):
        folds_started.append(progress.fold)
        if progress.fold == 2:
            stop.set()

    with pytest.raises(ReviewStopped, match="fold"):
        run_review(dataset, QUICK, runs_dir=tmp_path, on_progress=on_progress, stop_event=stop)
    assert max(folds_started) == 2
    assert not (tmp_path / REVIEWS_FOLDER).exists() or not any(
        (tmp_path / REVIEWS_FOLDER).iterdir()
    )


@pytest.mark.training
def test_a_stop_during_the_neural_fit_ends_it_within_a_batch(flipped_slice):
    dataset = load_dataset(flipped_slice[0])
    stop = threading.Event()
    seen = []

    def on_progress(progress):
        seen.append(progress)
        if progress.phase == "neural" and progress.batch > 0:
            stop.set()

    settings = ReviewSettings(folds=3, models="neural", epochs=5)
    with pytest.raises(ReviewStopped, match="fold 1 of 3"):
        review_labels(dataset, settings, on_progress=on_progress, stop_event=stop)
    assert {progress.fold for progress in seen} == {1}
    assert max(progress.epoch for progress in seen) <= 1  # the first epoch, cut short


def run_main(capsys, *args: str) -> tuple[int, str]:
    code = main(["review", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--data", "missing.csv"], "No file at missing.csv"),
        (["--data", str(FIXTURES / "uci_small.csv"), "--label-col", "topic"], "no column 'topic'"),
        (["--data", str(FIXTURES / "one_class.csv")], "a single class"),
        (["--data", str(FLIPPED), "--output", "no/such/folder/out.csv"], "folder of --output"),
        (["--data", str(FLIPPED), "--folds", "1"], "folds must be an integer from 2 to 20"),
        (["--data", str(FLIPPED), "--models", "forest"], "models must be one of ensemble"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, expected):
    code, err = run_main(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err


def test_settings_are_declared_once_and_checked():
    assert ReviewSettings().folds == 5
    assert ReviewSettings.from_dict({"folds": "7", "seed": None}).folds == 7
    with pytest.raises(ConfigError, match="folds must be an integer from 2 to 20"):
        ReviewSettings(folds=21).validate()
    with pytest.raises(ConfigError, match="Unknown review setting 'fold'"):
        ReviewSettings.from_dict({"fold": 3})
