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
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import DatasetError
from pipeline.review.agreement import GroupAgreement, group_agreement
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
        step by raising :class:`~pipeline.review.progress.ReviewStopped` (a TF-IDF fit
        runs to its end).

    Returns
    -------
    LabelReview
        Computed now (``from_cache`` false) and not saved; see :func:`run_review`.

    Raises
    ------
    DatasetError
        A class has fewer rows than folds, or the rows make fewer groups than folds.
    ConfigError
        A setting is out of range.
    ReviewStopped
        A stop was asked for.
    """
    from pipeline.data import fingerprint
    from pipeline.review.folds import describe_groups, fold_groups, story_digest

    settings = (settings or ReviewSettings()).validate()
    started = time.perf_counter()
    labels = class_indices(dataset)
    _check_folds(dataset, labels, settings.folds)
    groups = fold_groups(dataset.frame)
    found = out_of_sample_probabilities(
        dataset.frame["text"].tolist(),
        labels,
        len(dataset.classes),
        settings,
        groups=groups,
        on_progress=on_progress,
        stop_event=stop_event,
        started=started,
    )
    notify = on_progress or (lambda progress: None)
    folds = settings.folds
    notify(ReviewProgress("scoring", folds, folds, "Scoring the labels…", seconds_since(started)))
    probabilities = found.combined()
    agreement = group_agreement(labels, groups)
    quality, issues = score_labels(labels, probabilities, settings.quality_method, agreement)
    frame = _review_frame(dataset, labels, probabilities, quality, issues, agreement)
    data_fingerprint = fingerprint(dataset)
    fold_groups = FoldGroups(**describe_groups(groups), stories=story_digest(dataset.frame))
    summary = _summary(dataset, settings, frame, labels, found, data_fingerprint, fold_groups)
    summary = dataclasses.replace(summary, seconds=round(time.perf_counter() - started, 2))
    notify(ReviewProgress("done", folds, folds, "Done.", seconds_since(started)))
    return LabelReview(frame, summary, dict(found.probabilities))


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


def _check_folds(dataset: Dataset, labels: np.ndarray, folds: int) -> None:
    """Every class needs a row in every fold; name one that has too few."""
    import numpy as np

    counts = np.bincount(labels, minlength=len(dataset.classes))
    for code, count in zip(dataset.classes, counts, strict=True):
        if count < folds:
            raise DatasetError(
                f"Class {dataset.display(code)!r} has {count} row(s) in {dataset.name}; a "
                f"{folds}-fold label review needs at least {folds} per class. Lower the "
                f"folds (at least {MIN_FOLDS}) or drop that class."
            )


def _review_frame(
    dataset: Dataset,
    labels: np.ndarray,
    probabilities: np.ndarray,
    quality: np.ndarray,
    issues: np.ndarray,
    agreement: GroupAgreement,
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    codes = np.asarray(dataset.classes, dtype=object)
    frame = pd.DataFrame(
        {
            "text": dataset.frame["text"],
            "given_label": codes[labels],
            "suggested_label": codes[probabilities.argmax(axis=1)],
            "label_quality": quality,
            "is_label_issue": issues,
            "group_mates": agreement.mates,
            "agreeing_mates": agreement.agreeing,
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
    labels: np.ndarray,
    found: OutOfSample,
    data_fingerprint: str,
    fold_groups: FoldGroups,
) -> ReviewSummary:
    """The review's summary (``seconds`` still ``None``: set when it is done)."""
    given, suggested = frame["given_label"], frame["suggested_label"]
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
        out_of_sample_accuracy=round(float((suggested == given).mean()), 4),
        part_accuracy={
            part: round(float((probabilities.argmax(axis=1) == labels).mean()), 4)
            for part, probabilities in found.probabilities.items()
        },
        fingerprint=data_fingerprint,
        key=review_key(data_fingerprint, settings),
        dataset=dataset.name,
        version=REVIEW_VERSION,
    )
