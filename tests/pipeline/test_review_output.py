"""The reviewed file (``python -m pipeline review --output``) names classes one way: by
the file's own label values, in the label columns and in the probability columns alike
(issue #31, item 17: codes ``e``, ``m`` beside ``p_<display name>``)."""

from __future__ import annotations

import io

import pandas as pd

from pipeline.data import load_dataset, read_table
from pipeline.review.result import PROBABILITY_PREFIX, LabelReview
from pipeline.review.settings import ReviewSettings
from pipeline.review.summary import FoldGroups, ReviewSummary
from pipeline.review.table import reviewed_table

CSV = (
    "ID,TITLE,CATEGORY\n"
    "1,stocks rally on earnings,b\n"
    "2,new phone released today,t\n"
    "3,film star wins award,e\n"
    "4,flu season peaks early,m\n"
    "5,unlabelled headline,\n"
)


def _review(dataset) -> LabelReview:
    frame = dataset.frame[["text", "label"]].rename(columns={"label": "given_label"})
    frame = frame.assign(
        suggested_label=["b", "t", "m", "m"],
        label_quality=[0.9, 0.8, 0.1, 0.7],
        is_label_issue=[False, False, True, False],
        group_mates=[0, 1, 1, 0],
        agreeing_mates=[0, 0, 0, 0],
    )
    for code in dataset.classes:
        frame[PROBABILITY_PREFIX + code] = [0.25] * len(frame)
    classes = tuple(dataset.classes)
    summary = ReviewSummary(
        rows=len(frame),
        folds=2,
        issues=1,
        classes=classes,
        label_names={code: dataset.display(code) for code in classes},
        per_class={},
        settings=ReviewSettings(folds=2),
        fold_groups=FoldGroups("rows", len(frame), 0, 1, None),
        seconds=0.5,
        part_seconds={},
        out_of_sample_accuracy=0.75,
        part_accuracy={},
        fingerprint="0" * 16,
        key="0" * 16,
        dataset="test",
        version=3,
    )
    return LabelReview(frame=frame, summary=summary)


def test_label_and_probability_columns_use_the_files_label_values() -> None:
    raw = read_table(io.BytesIO(CSV.encode()).getvalue())
    dataset = load_dataset(raw)
    assert dataset.display("e") == "entertainment"  # UCI names exist, and are not used
    table = reviewed_table(raw.frame, dataset, _review(dataset))
    probabilities = [c for c in table.columns if c.startswith(PROBABILITY_PREFIX)]
    assert probabilities == [PROBABILITY_PREFIX + code for code in dataset.classes]
    labels = set(table["given_label"]) | set(table["suggested_label"])
    assert labels - {""} <= {c.removeprefix(PROBABILITY_PREFIX) for c in probabilities}
    assert table.loc[0, "given_label"] == "e" and table.loc[0, "suggested_label"] == "m"
    assert list(table.columns[:3]) == ["ID", "TITLE", "CATEGORY"]
    assert pd.isna(table.loc[len(table) - 1, "label_quality"])  # the unlabelled row, last
