"""Label review: which rows' labels are probably wrong, judged out of sample.

Confident learning needs probabilities from models that never saw the row they
score. :func:`review_labels` splits a dataset's labelled rows into k stratified
folds that keep duplicated texts and the rows of one story together
(:mod:`pipeline.review.folds`: a twin in a training fold would vouch for its held-out
copy); for each fold it trains on the other folds and predicts the held-out one
(:mod:`pipeline.review.out_of_fold`, :mod:`pipeline.review.fold_fit`), so
every row gets out-of-sample class probabilities from

``tfidf``
    the TF-IDF + logistic-regression baseline
    (:func:`pipeline.training.baseline.baseline_pipeline`),
``neural``
    a preset's neural model (:mod:`pipeline.models`), trained as a run is
    (:func:`pipeline.training.fit.fit_classifier`) on a short epoch budget, stopping early
    on a tenth of the fold's training rows,

or their average (``ensemble``). ``cleanlab`` turns the probabilities into a label
quality per row (:func:`cleanlab.rank.get_label_quality_scores`) and a flag per row
(:func:`cleanlab.filter.find_label_issues`); a row whose label its duplicates and story
mates do not share gets a lower quality, and a flag when the model sides with them
(:mod:`pipeline.review.agreement`); the suggested label is the most probable class
(:mod:`pipeline.review.ranking`). :func:`run_review` keeps reviews in
their cache (:mod:`pipeline.review.cache`). The defaults are in
:mod:`pipeline.review.settings`. numpy, pandas, scikit-learn, cleanlab and
TensorFlow are imported by the functions that use them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import DatasetError
from pipeline.review.agreement import group_agreement
from pipeline.review.cache import REVIEW_VERSION, cached_review, review_key, save_review
from pipeline.review.out_of_fold import OutOfSample, out_of_sample_probabilities
from pipeline.review.progress import ReviewListener, ReviewProgress, seconds_since
from pipeline.review.ranking import class_indices, score_labels
from pipeline.review.result import PROBABILITY_PREFIX, LabelReview
from pipeline.review.settings import MIN_FOLDS, ReviewSettings
from pipeline.review.summary import ClassReview, FoldGroups, ReviewSummary

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from pipeline.data import Dataset

_CACHED = "Loaded from cache: reviewed before with the same data and settings."


def review_labels(
    dataset: Dataset,
    settings: ReviewSettings | None = None,
    *,
    on_progress: ReviewListener | None = None,
    stop_event: threading.Event | None = None,
) -> LabelReview:
    """Review every labelled row of ``dataset`` by k-fold out-of-sample probabilities.

    The folds hold duplicated texts and the rows of one story out together
    (:func:`pipeline.review.folds.fold_groups`).

    Parameters
    ----------
    dataset : Dataset
        Loaded data; ``dataset.frame`` has ``text`` and ``label``.
    settings : ReviewSettings, optional
        Folds, seed, models, neural preset, quality method and epoch budget
        (default: ``ReviewSettings()``).
    on_progress : callable, optional
        Receives a :class:`ReviewProgress` as each fold's model starts, during the
        neural fit (per epoch, and per batch at most every 0.25 s) and at the end.
        It runs on the reviewing thread or Keras' callback thread: keep it quick.
    stop_event : threading.Event, optional
        When set, the review ends at the next fold, model, batch or vectorizer
        step, or the TF-IDF fit's next solver step, by raising
        :class:`~pipeline.review.progress.ReviewStopped`.

    Returns
    -------
    LabelReview
        Computed now (``from_cache`` false) and not saved; see :func:`run_review`.

    Raises
    ------
    DatasetError
        Fewer than two classes have a row in every fold, or the rows make fewer groups
        than folds. A class with fewer rows than folds is not reviewed: its rows keep
        their labels, with no quality, probabilities or flag (``summary.unreviewed``).
    ConfigError
        A setting is out of range.
    ReviewStopped
        A stop was asked for.
    """
    import numpy as np

    from pipeline.data import fingerprint
    from pipeline.review.folds import describe_groups, fold_groups, story_digest

    settings = (settings or ReviewSettings()).validate()
    started = time.perf_counter()
    labels = class_indices(dataset)
    counts = np.bincount(labels, minlength=len(dataset.classes))  # rows per class
    reviewable = _reviewable_classes(dataset, counts, settings.folds)
    rows = reviewable[labels]  # the rows reviewed: those of a class with a row in every fold
    kept = np.flatnonzero(reviewable)  # reviewed class -> its index in dataset.classes
    reviewed_labels = np.searchsorted(kept, labels[rows])
    groups = fold_groups(dataset.frame[rows])
    found = out_of_sample_probabilities(
        dataset.frame["text"][rows].tolist(),
        reviewed_labels,
        len(kept),
        settings,
        groups=groups,
        on_progress=on_progress,
        stop_event=stop_event,
        started=started,
    )
    notify = on_progress or (lambda progress: None)
    folds = settings.folds
    notify(ReviewProgress("scoring", folds, folds, "Scoring the labels…", seconds_since(started)))
    reviewed_probabilities = found.combined()
    agreement = group_agreement(reviewed_labels, groups)
    quality, issues = score_labels(
        reviewed_labels, reviewed_probabilities, settings.quality_method, agreement
    )
    # Back to every row and class: the unreviewed rows keep their labels, with no scores.
    probabilities = _every_row(reviewed_probabilities, rows, kept, len(dataset.classes))
    scores = ReviewScores(
        suggested=labels.copy(),
        quality=np.full(len(labels), np.nan),
        issues=np.zeros(len(labels), dtype=bool),
        mates=np.zeros(len(labels), dtype="int64"),
        agreeing=np.zeros(len(labels), dtype="int64"),
    )
    scores.suggested[rows] = kept[reviewed_probabilities.argmax(axis=1)]
    scores.quality[rows] = quality
    scores.issues[rows] = issues
    scores.mates[rows] = agreement.mates
    scores.agreeing[rows] = agreement.agreeing
    frame = _review_frame(dataset, labels, probabilities, scores)
    data_fingerprint = fingerprint(dataset)
    fold_groups_found = FoldGroups(**describe_groups(groups), stories=story_digest(dataset.frame))
    summary = _summary(
        dataset,
        settings,
        frame,
        found,
        reviewed_labels,
        data_fingerprint,
        fold_groups_found,
        unreviewed={
            code: int(counts[index])
            for index, code in enumerate(dataset.classes)
            if not reviewable[index]
        },
    )
    summary = dataclasses.replace(summary, seconds=round(time.perf_counter() - started, 2))
    notify(ReviewProgress("done", folds, folds, "Done.", seconds_since(started)))
    part_probabilities = {
        part: _every_row(reviewed_part, rows, kept, len(dataset.classes))
        for part, reviewed_part in found.probabilities.items()
    }
    return LabelReview(frame, summary, part_probabilities)


def run_review(
    dataset: Dataset,
    settings: ReviewSettings | None = None,
    *,
    runs_dir: str | Path | None = None,
    on_progress: ReviewListener | None = None,
    stop_event: threading.Event | None = None,
    force: bool = False,
) -> LabelReview:
    """The cached review of ``dataset`` with ``settings``, or a new one, saved.

    As :func:`review_labels`, with the cache under ``reviews_dir(runs_dir)``: a
    cached review (``from_cache`` true) is returned without training unless
    ``force``. A runs folder that cannot be written only costs a recompute later.
    """
    settings = (settings or ReviewSettings()).validate()
    if not force:
        cached = cached_review(dataset, settings, runs_dir)
        if cached is not None:
            if on_progress is not None:
                on_progress(ReviewProgress("cached", settings.folds, settings.folds, _CACHED, 0.0))
            return cached
    review = review_labels(dataset, settings, on_progress=on_progress, stop_event=stop_event)
    with contextlib.suppress(OSError):
        save_review(review, runs_dir)
    return review


@dataclass
class ReviewScores:
    """Per row of a dataset: the suggested class index, the label quality (NaN for a row
    not reviewed), the issue flag, and the group mates and those agreeing with it."""

    suggested: np.ndarray
    quality: np.ndarray
    issues: np.ndarray
    mates: np.ndarray
    agreeing: np.ndarray


def _every_row(
    reviewed: np.ndarray, rows: np.ndarray, kept: np.ndarray, classes: int
) -> np.ndarray:
    """``reviewed`` probabilities (reviewed rows x reviewed classes ``kept``) as every row
    (``rows``: the reviewed ones) x all ``classes``: 0 for a class not reviewed, NaN on a
    row not reviewed."""
    import numpy as np

    spread = np.full((len(rows), classes), np.nan)
    spread[rows] = 0.0
    spread[np.ix_(rows, kept)] = reviewed
    return spread


def _reviewable_classes(dataset: Dataset, counts: np.ndarray, folds: int) -> np.ndarray:
    """Booleans per class of ``dataset`` (``counts``: its rows per class): it has at least
    ``folds`` rows, one in every fold. Raises :class:`DatasetError` when fewer than two
    classes have."""
    import numpy as np

    reviewable = counts >= folds
    if reviewable.sum() < 2:
        big = [
            dataset.display(code)
            for code, ok in zip(dataset.classes, reviewable, strict=True)
            if ok
        ]
        have = f"only {big[0]!r} has" if big else "no class has"
        second = int(np.sort(counts)[-2])
        remedy = f"Lower the folds to {second}, or add rows" if second >= MIN_FOLDS else "Add rows"
        raise DatasetError(
            f"A {folds}-fold label review needs two classes of at least {folds} rows (a row "
            f"in every fold), and in {dataset.name} {have} at least {folds} rows. {remedy} "
            "of a second class."
        )
    return reviewable


def _review_frame(
    dataset: Dataset, labels: np.ndarray, probabilities: np.ndarray, scores: ReviewScores
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    codes = np.asarray(dataset.classes, dtype=object)
    frame = pd.DataFrame(
        {
            "text": dataset.frame["text"],
            "given_label": codes[labels],
            "suggested_label": codes[scores.suggested],
            "label_quality": scores.quality,
            "is_label_issue": scores.issues,
            "group_mates": scores.mates,
            "agreeing_mates": scores.agreeing,
        },
        index=dataset.frame.index,
    )
    for i, code in enumerate(dataset.classes):
        frame[PROBABILITY_PREFIX + code] = probabilities[:, i]
    return frame


def _summary(
    dataset: Dataset,
    settings: ReviewSettings,
    frame: pd.DataFrame,
    found: OutOfSample,
    reviewed_labels: np.ndarray,
    data_fingerprint: str,
    fold_groups: FoldGroups,
    *,
    unreviewed: dict[str, int],
) -> ReviewSummary:
    """The review's summary (``seconds`` still ``None``: set when it is done); the
    accuracies are over the reviewed rows (``reviewed_labels``: their classes' indices
    among the reviewed classes, as ``found`` has them)."""
    given, suggested = frame["given_label"], frame["suggested_label"]
    reviewed = frame["label_quality"].notna()
    per_class = {
        code: ClassReview(
            name=dataset.display(code),
            rows=int((given == code).sum()),
            issues=int((frame["is_label_issue"] & (given == code)).sum()),
            suggested=int((suggested == code).sum()),
        )
        for code in dataset.classes
    }
    return ReviewSummary(
        rows=len(frame),
        folds=settings.folds,
        issues=int(frame["is_label_issue"].sum()),
        classes=tuple(dataset.classes),
        label_names={code: dataset.display(code) for code in dataset.classes},
        per_class=per_class,
        settings=settings,
        fold_groups=fold_groups,
        seconds=None,
        part_seconds=dict(found.seconds),
        out_of_sample_accuracy=round(float((suggested == given)[reviewed].mean()), 4),
        part_accuracy={
            part: round(float((probabilities.argmax(axis=1) == reviewed_labels).mean()), 4)
            for part, probabilities in found.probabilities.items()
        },
        fingerprint=data_fingerprint,
        key=review_key(data_fingerprint, settings),
        dataset=dataset.name,
        version=REVIEW_VERSION,
        unreviewed=unreviewed,
    )
