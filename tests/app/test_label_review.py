"""The Label review page, driven through AppTest on the real app: a background review
with progress, its ranked rows, decisions, the corrected file, and a Stop."""

from __future__ import annotations

import io

import pandas as pd
from apptest_support import (
    FIXTURES,
    assert_clean,
    new_app,
    open_page,
    path_source,
    run_until,
    texts_of,
    unescape,
)

from pipeline.data import load_dataset, read_table
from pipeline.review.cache import cached_review
from pipeline.review.settings import ReviewSettings
from ui.core.numbers import format_points

#: A quick review: three folds of the TF-IDF model alone (no TensorFlow training).
QUICK = {"keep.review.models": "tfidf", "keep.review.folds": 3}


def _reviewed(at) -> bool:
    return any(m.label == "Rows reviewed" for m in at.metric)


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _reviewed_app(source):
    """The Label review page on ``source`` after a quick review, run as a visitor would:
    the page opens clean, the start button queues the job, the page polls until done."""
    at = new_app(source)
    for key, value in QUICK.items():
        at.session_state[key] = value
    open_page(at, "label_review")
    assert_clean(at)
    at.button(key="review.start").click().run()
    return run_until(at, _reviewed, timeout=120)


def test_a_review_runs_in_the_background_and_lists_the_most_suspect_rows(runs_dir, small_source):
    at = _reviewed_app(small_source)
    assert_clean(at)

    dataset = load_dataset(FIXTURES / "uci_small.csv")
    review = cached_review(dataset, ReviewSettings(models="tfidf", folds=3), runs_dir)
    assert review is not None  # the worker saved it where the page reads it
    assert _metric(at, "Rows reviewed") == f"{len(dataset.frame):,}"
    assert _metric(at, "Flagged as likely mislabelled") == f"{review.summary.issues:,}"
    # a quarter of this small file's rows are flagged: the page says what such flags mean
    caution = review.summary.caution()
    assert caution is not None and caution in [unescape(w.value) for w in at.warning]
    listed = at.dataframe[1].value  # the data editor (after the per-class table)
    assert len(listed) == 100
    suspects = review.suspects(100)
    assert listed["text"].tolist() == suspects["text"].tolist()
    assert listed["label quality"].tolist() == suspects["label_quality"].round(4).tolist()
    assert set(listed["decision"]) == {"keep"}
    assert {"ID", "PUBLISHER", "TIMESTAMP"} <= set(listed.columns)  # the rows' own columns


def test_drop_every_row_below_a_threshold_and_download_the_corrected_file(runs_dir, small_source):
    at = _reviewed_app(small_source)
    dataset = load_dataset(FIXTURES / "uci_small.csv")
    review = cached_review(dataset, ReviewSettings(models="tfidf", folds=3), runs_dir)
    threshold = 0.1
    below = int((review.frame["label_quality"] < threshold).sum())
    assert below > 0

    key = review.summary.key
    at.slider(key=f"review.threshold.{key}").set_value(threshold).run()
    assert f"{below:,} rows have a label quality below 0.10." in texts_of(at)
    at.button(key="review.all.drop").click().run()
    assert f"0 rows relabelled, {below:,} dropped" in texts_of(at)
    decisions = at.session_state["review_decisions"][key]
    assert len(decisions) == below and set(decisions.values()) == {"drop"}

    # The file the button would send: every other row, every column, in file order.
    from pipeline.review.corrections import corrected_table

    raw = read_table(FIXTURES / "uci_small.csv").frame
    corrected = corrected_table(raw, dataset, review, decisions)
    assert len(corrected) == len(raw) - below
    assert list(corrected.columns) == list(raw.columns)
    back = load_dataset(io.BytesIO(corrected.to_csv(index=False).encode()).getvalue())
    assert len(back.frame) == len(dataset.frame) - below


def test_a_stop_ends_a_running_review_and_keeps_nothing(runs_dir, small_source):
    at = new_app(small_source)
    at.session_state["keep.review.models"] = "neural"
    at.session_state["keep.review.folds"] = 5
    open_page(at, "label_review")
    at.button(key="review.start").click().run()
    run_until(at, lambda at: any(b.label == "Stop" for b in at.button), timeout=60)
    next(b for b in at.button if b.label == "Stop").click().run()
    run_until(at, lambda at: "stop" in texts_of(at).lower() and not _reviewed(at), timeout=90)
    run_until(
        at,
        lambda at: any(b.label == "Find likely mislabelled rows" for b in at.button),
        timeout=90,
    )
    assert not _reviewed(at)
    dataset = load_dataset(FIXTURES / "uci_small.csv")
    assert cached_review(dataset, ReviewSettings(models="neural", folds=5), runs_dir) is None


def test_train_before_and_after_the_decisions_on_the_same_test_rows(runs_dir, small_source):
    from pipeline.core.config import DataConfig
    from pipeline.review.corrections import compare_corrections

    at = _reviewed_app(small_source)
    assert at.button(key="review.compare").disabled  # no decision yet
    at.button(key="review.all.relabel").click().run()
    at.button(key="review.compare").click().run()
    run_until(at, lambda at: any("after the corrections" in m.label for m in at.metric))
    assert_clean(at)

    dataset = load_dataset(FIXTURES / "uci_small.csv")
    settings = ReviewSettings(models="tfidf", folds=3)
    review = cached_review(dataset, settings, runs_dir)
    decisions = at.session_state["review_decisions"][review.summary.key]
    expected = compare_corrections(dataset, review, decisions, DataConfig(), settings)
    assert expected["relabelled"] > 0
    shown = {m.label: m.value for m in at.metric}
    before, after = expected["before"]["test_accuracy"], expected["after"]["test_accuracy"]
    accuracy = next(m for m in at.metric if m.label.startswith("Test accuracy"))
    assert accuracy.value == f"{before:.1%} → {after:.1%}"  # both, never one in a tooltip
    assert accuracy.delta == format_points(after - before)
    f1_before, f1_after = expected["before"]["macro_f1"], expected["after"]["macro_f1"]
    assert shown["Macro F1 before → after the corrections"] == f"{f1_before:.3f} → {f1_after:.3f}"
    assert shown["Test rows (untouched)"] == f"{expected['test_rows']:,}"
    # ... and in words, with the paired interval of after minus before
    from pipeline.evaluation.paired import PairedComparison

    interval = PairedComparison.from_json(expected["vs_before"])
    words = f"Test accuracy: {interval.accuracy.describe('the given labels')}."
    assert words in texts_of(at) and "(95 % interval " in words
    assert f"Macro F1: {interval.macro_f1.describe('the given labels')}." in texts_of(at)


def test_classes_too_small_for_the_folds_are_named_and_never_listed(runs_dir, tmp_path):
    """A file whose publisher of 2 rows would once refuse the whole review: the other
    classes are reviewed, and the page says which class was not and why (its name is
    text, never Markdown)."""
    frame = pd.read_csv(FIXTURES / "uci_small.csv", dtype=str, keep_default_na=False).head(600)
    frame.loc[frame.index[[5, 6]], "CATEGORY"] = "*rare*"
    path = tmp_path / "rare.csv"
    frame.to_csv(path, index=False)
    at = _reviewed_app(path_source(path))
    assert_clean(at)
    assert _metric(at, "Rows reviewed") == "598"
    (note,) = [w.value for w in at.warning if "Not reviewed" in w.value]
    assert "\\*rare\\*" in note  # escaped: the name is not drawn as emphasis
    note = unescape(note)
    assert "'*rare*' (2 rows)" in note and "3-fold review" in note, note
    assert "lower the folds to 2" in note
    listed = at.dataframe[1].value
    assert len(listed) == 100 and "*rare*" not in set(listed["given"])
