"""The Label review page's numbers: the per-class table counts the rows of OTHER classes
suggested for a class, and the before/after comparison shows both scores and their
difference in points (issue #31, item 11)."""

from __future__ import annotations

from apptest_support import FIXTURES, assert_clean, new_app, open_page, run_until

from pipeline.data import load_dataset
from pipeline.review.cache import cached_review
from pipeline.review.settings import ReviewSettings
from ui.core.numbers import format_points, format_share

#: A quick review: three folds of the TF-IDF model alone (no TensorFlow training).
QUICK = {"keep.review.models": "tfidf", "keep.review.folds": 3}


def _reviewed(at) -> bool:
    return any(m.label == "Rows reviewed" for m in at.metric)


def test_per_class_counts_and_before_after_read_as_both_values(runs_dir, small_source):
    at = new_app(small_source)
    for key, value in QUICK.items():
        at.session_state[key] = value
    open_page(at, "label_review")
    at.button(key="review.start").click().run()
    run_until(at, _reviewed, timeout=120)
    assert_clean(at)

    dataset = load_dataset(FIXTURES / "uci_small.csv")
    review = cached_review(dataset, ReviewSettings(models="tfidf", folds=3), runs_dir)
    frame = review.frame
    table = at.dataframe[0].value.set_index("class")
    column = "rows of other classes suggested for it"
    for code in dataset.classes:
        others = int(((frame["suggested_label"] == code) & (frame["given_label"] != code)).sum())
        every = int((frame["suggested_label"] == code).sum())
        assert table.loc[dataset.display(code), column] == others
        assert others < every  # most rows suggested for a class are its own
    assert "suggested for other rows" not in table.columns

    at.button(key="review.all.relabel").click().run()
    at.button(key="review.compare").click().run()
    run_until(at, lambda at: any("after the corrections" in m.label for m in at.metric))
    assert_clean(at)
    key = next(iter(at.session_state["review_comparisons"]))
    result = at.session_state["review_comparisons"][key]
    before, after = result["before"]["test_accuracy"], result["after"]["test_accuracy"]
    accuracy = next(m for m in at.metric if m.label.startswith("Test accuracy"))
    assert accuracy.value == f"{format_share(before)} → {format_share(after)}"
    assert accuracy.delta == format_points(after - before)
    f1 = next(m for m in at.metric if m.label.startswith("Macro F1"))
    f1_before, f1_after = result["before"]["macro_f1"], result["after"]["macro_f1"]
    assert f1.value == f"{f1_before:.3f} → {f1_after:.3f}"
