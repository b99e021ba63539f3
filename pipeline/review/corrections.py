"""A reviewer's decisions on suspect labels: applied to the file they came from, and
measured.

After a label review (:mod:`pipeline.review.run`), each reviewed row may be kept as it is,
relabelled with the review's suggested label, or dropped. :func:`corrected_table`
applies those decisions to the file as read (every row, every column, in file
order), so the corrected CSV can be downloaded and loaded again like the original.
:func:`compare_corrections` trains the review's model on the training rows before and
after the decisions and scores both on the same untouched test rows.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pipeline.core.errors import HeadlineLabError

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.core.config import DataConfig
    from pipeline.data import Dataset
    from pipeline.review.progress import ReviewProgress
    from pipeline.review.result import LabelReview
    from pipeline.review.settings import ReviewSettings

Action = Literal["keep", "relabel", "drop"]
#: What a reviewer can do with a row, and how the page words it.
ACTIONS: dict[str, str] = {
    "keep": "keep the given label",
    "relabel": "relabel with the suggested label",
    "drop": "drop the row",
}


def rows_below(review: LabelReview, threshold: float) -> list[int]:
    """The dataset positions (0-based, in ``review.frame`` order) of the rows whose label
    quality is below ``threshold``, most suspect first."""
    quality = review.frame["label_quality"].to_numpy()
    order = quality.argsort(kind="mergesort")
    return [int(i) for i in order if quality[i] < threshold]


def corrected_table(
    raw: pd.DataFrame,
    dataset: Dataset,
    review: LabelReview,
    actions: Mapping[int, Action],
) -> pd.DataFrame:
    """The file with the decisions applied.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file as read (``pipeline.data.read_table(...).frame``), every row.
    dataset : Dataset
        ``load_dataset`` of that table (its rows are ``raw``'s labelled rows, in order).
    review : LabelReview
        The review of ``dataset``.
    actions : mapping of int to str
        Dataset position (0-based, as in ``review.frame``) -> ``"keep"``,
        ``"relabel"`` or ``"drop"``; rows not named are kept.

    Returns
    -------
    pandas.DataFrame
        ``raw``'s columns and rows in file order, the label column of relabelled rows
        set to the suggested label code, dropped rows left out; a fresh ``RangeIndex``.

    Raises
    ------
    HeadlineLabError
        An unknown action, a position outside the review, or a review of other data.
    """
    import numpy as np

    from pipeline.review.table import labelled_rows

    labelled = labelled_rows(raw, dataset, review)
    unknown = sorted({a for a in actions.values() if a not in ACTIONS})
    if unknown:
        raise HeadlineLabError(
            f"Unknown action {unknown[0]!r} for a reviewed row; use one of {', '.join(ACTIONS)}."
        )
    outside = [p for p in actions if not 0 <= p < len(labelled)]
    if outside:
        raise HeadlineLabError(
            f"Row {outside[0]} is not among the {len(labelled):,} reviewed rows; review again."
        )
    table = raw.copy()
    suggested = review.frame["suggested_label"].to_numpy()
    relabel = [p for p, action in actions.items() if action == "relabel"]
    if relabel:
        column = table.columns.get_loc(dataset.label_col)
        table.iloc[labelled[relabel], column] = suggested[relabel]
    drop = [p for p, action in actions.items() if action == "drop"]
    keep = np.ones(len(table), dtype=bool)
    keep[labelled[drop]] = False
    return table[keep].reset_index(drop=True)


#: What the two trainings of :func:`compare_corrections` are called in its progress.
COMPARISON_STEPS = ("Before the corrections", "After the corrections")


def compare_corrections(
    dataset: Dataset,
    review: LabelReview,
    actions: Mapping[int, Action],
    data_config: DataConfig,
    settings: ReviewSettings,
    *,
    on_progress: Callable[[ReviewProgress], None] | None = None,
    stop_event: threading.Event | None = None,
) -> dict[str, Any]:
    """Test accuracy and macro F1 before and after the decisions, on the same test rows.

    ``dataset`` is split as ``data_config`` says (:func:`pipeline.data.prepare.prepare`). The
    decisions apply to the training and validation rows only: a relabelled row trains
    with the suggested label, a dropped row does not train; the test rows keep their
    given labels and are never dropped, so both models are judged on exactly the same
    rows. Each model is the review's (``settings.models``, trained as one fold of a
    review, :func:`pipeline.review.out_of_fold.fit_and_predict`), so the two scores differ by the
    corrections alone.

    Returns
    -------
    dict
        JSON-ready: ``test_rows``, ``train_rows`` (before), ``relabelled``, ``dropped``
        (training-side rows the decisions changed), ``ignored_test_rows`` (decisions on
        test rows, not applied), and ``before`` / ``after`` with ``test_accuracy`` and
        ``macro_f1``, and ``vs_before``: after minus before on the same test rows with
        paired bootstrap 95 % intervals
        (:meth:`pipeline.evaluation.paired.PairedComparison.to_json`).

    Raises
    ------
    HeadlineLabError
        As :func:`corrected_table`; ``ReviewStopped`` when a stop is asked for.
    """
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score

    from pipeline.data.prepare import prepare
    from pipeline.evaluation.paired import paired_bootstrap
    from pipeline.review.out_of_fold import fit_and_predict
    from pipeline.review.progress import ReviewProgress
    from pipeline.review.ranking import class_indices

    if len(review.frame) != len(dataset.frame):
        raise HeadlineLabError(
            f"This review has {len(review.frame):,} rows but {dataset.name} has "
            f"{len(dataset.frame):,}; review this dataset again."
        )
    notify = on_progress or (lambda progress: None)
    prepared = prepare(dataset, data_config)
    labels = class_indices(dataset)
    index_of = {code: i for i, code in enumerate(dataset.classes)}
    suggested = np.array([index_of[c] for c in review.frame["suggested_label"]])
    texts = dataset.frame["text"].to_numpy(dtype=object)
    side = np.concatenate([prepared.train_rows, prepared.validation_rows])
    test = prepared.test_rows
    corrected = labels.copy()
    relabel = np.array([p for p, a in actions.items() if a == "relabel"], dtype=int)
    drop = np.array([p for p, a in actions.items() if a == "drop"], dtype=int)
    in_side = np.zeros(len(labels), dtype=bool)
    in_side[side] = True
    corrected[relabel[in_side[relabel]]] = suggested[relabel[in_side[relabel]]]
    dropped = np.zeros(len(labels), dtype=bool)
    dropped[drop[in_side[drop]]] = True
    after_side = side[~dropped[side]]
    started = time.perf_counter()

    def relay(step: int) -> Callable[[ReviewProgress], None]:
        def forward(progress: ReviewProgress) -> None:
            detail = progress.message.split(": ", 1)[-1]
            notify(dataclasses.replace(progress, message=f"{COMPARISON_STEPS[step - 1]}: {detail}"))

        return forward

    scores: dict[str, Any] = {}
    answers = []
    for step, (rows, row_labels) in enumerate(
        ((side, labels[side]), (after_side, corrected[after_side])), start=1
    ):
        probabilities = fit_and_predict(
            list(texts[rows]),
            row_labels,
            list(texts[test]),
            len(dataset.classes),
            settings,
            step=step,
            steps=len(COMPARISON_STEPS),
            on_progress=relay(step),
            stop_event=stop_event,
            started=started,
        )
        predicted = probabilities.argmax(axis=1)
        answers.append(predicted)
        scores["before" if step == 1 else "after"] = {
            "test_accuracy": float(accuracy_score(labels[test], predicted)),
            "macro_f1": float(f1_score(labels[test], predicted, average="macro")),
        }
    # the classes the rows hold, as f1_score(average="macro") above counts them
    scores["vs_before"] = paired_bootstrap(labels[test], answers[0], answers[1]).to_json()
    notify(ReviewProgress("done", 2, 2, "Done.", time.perf_counter() - started))
    named = set(actions)
    return {
        "test_rows": len(test),
        "train_rows": len(side),
        "relabelled": int(in_side[relabel].sum()) if len(relabel) else 0,
        "dropped": int(dropped.sum()),
        "ignored_test_rows": len(named & set(test.tolist())),
        **scores,
        "settings": settings.to_dict(),
        "data_settings": dataclasses.asdict(data_config),
    }
