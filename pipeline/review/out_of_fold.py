"""Out-of-fold probabilities: every row scored by models trained on the other folds
(:func:`out_of_sample_probabilities`), and one such fit on given rows (:func:`fit_and_predict`)."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.review.fold_fit import FoldFit
from pipeline.review.progress import (
    PART_NAMES,
    ReviewListener,
    ReviewProgress,
    check_stop,
    seconds_since,
)
from pipeline.review.settings import MIN_FOLDS, MODEL_PARTS, ReviewSettings

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class OutOfSample:
    """Out-of-sample probabilities per model part (``(rows, classes)`` arrays in class
    order) and the seconds each part took."""

    probabilities: dict[str, np.ndarray]
    seconds: dict[str, float]

    def combined(self) -> np.ndarray:
        """The parts' probabilities averaged ``(rows, classes)``."""
        import numpy as np

        return np.mean(list(self.probabilities.values()), axis=0)


def out_of_sample_probabilities(
    texts: list[str],
    labels: np.ndarray,
    num_classes: int,
    settings: ReviewSettings,
    *,
    groups: np.ndarray | None = None,
    on_progress: ReviewListener | None = None,
    stop_event: threading.Event | None = None,
    started: float | None = None,
) -> OutOfSample:
    """Each row's class probabilities from models trained on the other folds.

    Parameters
    ----------
    texts : list of str
        The rows' texts.
    labels : numpy.ndarray
        Class indices ``(rows,)`` in ``range(num_classes)``; every class needs at
        least ``settings.folds`` rows.
    num_classes : int
        Number of classes: the probabilities' width.
    settings : ReviewSettings
        ``folds`` and ``seed`` decide the stratified folds, ``models`` the parts.
    groups : numpy.ndarray, optional
        Group ids ``(rows,)``: rows of one group are held out together
        (:func:`pipeline.review.folds.assign_folds`); ``None``: every row alone.
    on_progress, stop_event
        As in :func:`pipeline.review.run.review_labels`.
    started : float, optional
        The ``time.perf_counter()`` that reported ``elapsed_s`` counts from.

    Returns
    -------
    OutOfSample
        One ``(rows, num_classes)`` array per part of ``settings.models``.
    """
    import numpy as np

    from pipeline.review.folds import assign_folds

    started = time.perf_counter() if started is None else started
    stop_event = stop_event or threading.Event()
    notify = on_progress or (lambda progress: None)
    parts = MODEL_PARTS[settings.models]
    probabilities = {part: np.zeros((len(texts), num_classes)) for part in parts}
    seconds = dict.fromkeys(parts, 0.0)
    fold_of = assign_folds(labels, groups, settings.folds, settings.seed)
    text_array = np.asarray(texts, dtype=object)
    for fold in range(1, settings.folds + 1):
        held_out = np.flatnonzero(fold_of == fold - 1)
        if not len(held_out):  # a few big groups can leave a fold empty
            continue
        train_rows = np.flatnonzero(fold_of != fold - 1)
        fold_fit = FoldFit(
            list(text_array[train_rows]),
            labels[train_rows],
            list(text_array[held_out]),
            num_classes,
            settings,
            fold,
            notify,
            stop_event,
            started,
        )
        for part in parts:
            check_stop(stop_event, f"before fold {fold} of {settings.folds}")
            message = f"Fold {fold} of {settings.folds}: {PART_NAMES[part]}…"
            notify(ReviewProgress(part, fold, settings.folds, message, seconds_since(started)))
            part_started = time.perf_counter()
            probabilities[part][held_out] = fold_fit.predict(part)
            seconds[part] += time.perf_counter() - part_started
    return OutOfSample(probabilities, {part: round(s, 2) for part, s in seconds.items()})


def fit_and_predict(
    train_texts: list[str],
    train_labels: np.ndarray,
    predict_texts: list[str],
    num_classes: int,
    settings: ReviewSettings,
    *,
    step: int = 1,
    steps: int = 1,
    on_progress: ReviewListener | None = None,
    stop_event: threading.Event | None = None,
    started: float | None = None,
) -> np.ndarray:
    """Train the models of ``settings.models`` on the training rows as one fold of a
    review does and return their averaged probabilities for ``predict_texts``,
    ``(len(predict_texts), num_classes)``. Progress is reported as fold ``step`` of
    ``steps``; a stop raises :class:`~pipeline.review.progress.ReviewStopped`."""
    import numpy as np

    started = time.perf_counter() if started is None else started
    stop_event = stop_event or threading.Event()
    notify = on_progress or (lambda progress: None)
    fold_fit = FoldFit(
        list(train_texts),
        np.asarray(train_labels),
        list(predict_texts),
        num_classes,
        dataclasses.replace(settings, folds=max(steps, MIN_FOLDS)),
        step,
        notify,
        stop_event,
        started,
    )
    found = []
    for part in MODEL_PARTS[settings.models]:
        check_stop(stop_event, f"in step {step} of {steps}")
        message = f"Step {step} of {steps}: {PART_NAMES[part]}…"
        notify(ReviewProgress(part, step, steps, message, seconds_since(started)))
        found.append(fold_fit.predict(part))
    return np.mean(found, axis=0)
