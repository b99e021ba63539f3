"""Label review: which rows' labels are probably wrong, judged out of sample.

Confident learning needs probabilities from models that never saw the row they
score. :func:`review_labels` splits a dataset's labelled rows into k stratified
folds that keep duplicated texts and the rows of one story together
(:mod:`pipeline.review.folds`: a twin in a training fold would vouch for its held-out
copy); for each fold it trains on the other folds and predicts the held-out one, so
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
(:func:`cleanlab.filter.find_label_issues`); the suggested label is the most
probable class.

The defaults are the settings that found the most planted label flips in
``benchmarks/label_review.py`` (its results are in ``benchmarks/results/``): the
ensemble beat each of its parts, the ``accurate`` preset's neural model (word and
character n-gram bags) beat the ``fast`` one's (word n-grams alone) at about three
times its training time, and self-confidence beat cleanlab's other two scores.

A review is cached per (data fingerprint, review settings) under
``<runs_dir>/.reviews/<key>/`` as ``review.csv`` and ``summary.json``, written into
a staging folder renamed into place; :func:`cached_review` reads it back and checks
it against the dataset. Importing this module is cheap (the command line builds its
flags from :class:`ReviewSettings`): numpy, pandas, scikit-learn, cleanlab and
TensorFlow are imported by the functions that use them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.config import PRESETS, ExperimentConfig, config_hash
from pipeline.core.errors import ConfigError, DatasetError, HeadlineLabError
from pipeline.core.progress import ProgressEvent, describe_fit_epoch
from pipeline.core.settings import coerce, declared, setting, validate_fields

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from pipeline.data import Dataset

#: Folds of the cross-validation, and its bounds.
DEFAULT_FOLDS, MIN_FOLDS, MAX_FOLDS = 5, 2, 20
#: What produces the out-of-sample probabilities.
REVIEW_MODELS: dict[str, str] = {
    "ensemble": "TF-IDF + logistic regression and the neural model, probabilities averaged",
    "neural": "the neural model alone",
    "tfidf": "TF-IDF + logistic regression alone (the quickest)",
}
#: The model parts of each choice of ``ReviewSettings.models``, in the order they train.
MODEL_PARTS: dict[str, tuple[str, ...]] = {
    "ensemble": ("tfidf", "neural"),
    "neural": ("neural",),
    "tfidf": ("tfidf",),
}
#: Presets whose neural model a review can train.
NEURAL_PRESETS: dict[str, str] = {
    "accurate": "the accurate preset's word and character n-gram bags",
    "fast": "the fast preset's word n-gram bag (about a third of the neural time)",
}
#: ``cleanlab.rank.get_label_quality_scores`` methods offered.
QUALITY_METHODS: dict[str, str] = {
    "self_confidence": "the probability of the given label",
    "normalized_margin": "the given label's probability minus the best other class's",
    "confidence_weighted_entropy": "self-confidence divided by the probabilities' entropy",
}
#: Share of a fold's training rows the neural model stops early on.
EARLY_STOPPING_SHARE = 0.1
#: Bump when the review changes, so cached reviews of the old one are not reused
#: (2: folds grouped by duplicate text and story, :mod:`pipeline.review.folds`).
REVIEW_VERSION = 2
REVIEWS_FOLDER = ".reviews"
REVIEW_CSV, SUMMARY_JSON = "review.csv", "summary.json"
PROBABILITY_PREFIX = "p_"
#: The columns of :attr:`LabelReview.frame` before the probabilities.
REVIEW_COLUMNS = ("text", "given_label", "suggested_label", "label_quality", "is_label_issue")
#: What :class:`ReviewProgress` phases say.
PART_NAMES = {"tfidf": "TF-IDF + logistic regression", "neural": "neural model"}
_CACHED = "Loaded from cache: reviewed before with the same data and settings."

# Keras' global seed is shared by everything that trains in this process.
_NEURAL_LOCK = threading.Lock()


def _described(choices: dict[str, str]) -> str:
    return "; ".join(f"{name}: {text}" for name, text in choices.items())


@dataclass(frozen=True)
class ReviewSettings:
    """How a label review is computed; part of its cache key."""

    folds: int = setting(
        DEFAULT_FOLDS, "int", "Folds",
        "Cross-validation folds: each row is scored by models trained on the other folds.",
        minimum=MIN_FOLDS, maximum=MAX_FOLDS, step=1, example=str(DEFAULT_FOLDS),
    )  # fmt: skip
    seed: int = setting(
        42, "int", "Review seed", "Seed of the folds and of the neural model's training.",
        minimum=0, maximum=2**31 - 1, step=1, example="42",
    )  # fmt: skip
    models: str = setting(
        "ensemble", "choice", "Models", _described(REVIEW_MODELS),
        choices=tuple(REVIEW_MODELS), choice_labels=REVIEW_MODELS, example="ensemble",
    )  # fmt: skip
    neural_preset: str = setting(
        "accurate", "choice", "Neural model", _described(NEURAL_PRESETS),
        choices=tuple(NEURAL_PRESETS), choice_labels=NEURAL_PRESETS, example="accurate",
    )  # fmt: skip
    quality_method: str = setting(
        "self_confidence", "choice", "Label quality",
        "How cleanlab scores a label from the probabilities: " + _described(QUALITY_METHODS),
        choices=tuple(QUALITY_METHODS), choice_labels=QUALITY_METHODS,
        example="self_confidence",
    )  # fmt: skip
    epochs: int = setting(
        10, "int", "Neural epochs (at most)",
        "Epoch budget of the neural model in each fold; early stopping may end it sooner.",
        minimum=1, maximum=100, step=1, example="10",
    )  # fmt: skip

    def validate(self) -> ReviewSettings:
        """Raise :class:`~pipeline.core.errors.ConfigError` naming the first bad value; return
        ``self``."""
        validate_fields(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every setting."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ReviewSettings:
        """Settings by name, e.g. strings from a command line (converted and checked by
        their declarations; ``None`` keeps the default), validated.

        Raises :class:`~pipeline.core.errors.ConfigError` for an unknown name or a bad value.
        """
        known = dict(declared(cls))
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ConfigError(f"Unknown review setting {unknown[0]!r}; known: {', '.join(known)}.")
        values = {
            name: coerce(name, known[name], value)
            for name, value in raw.items()
            if value is not None
        }
        return cls(**values).validate()


@dataclass(frozen=True)
class ReviewProgress:
    """What a review reports while it runs.

    ``phase`` is ``"tfidf"`` or ``"neural"`` (that model trains on fold ``fold`` of
    ``folds``, counted from 1), then ``"scoring"`` (cleanlab) and ``"done"``; or
    ``"cached"`` alone. In ``"neural"``, ``epoch`` (epochs done, of at most
    ``epochs``) and ``batch`` of ``batches`` count the fit's progress.
    """

    phase: str
    fold: int
    folds: int
    message: str
    elapsed_s: float
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0

    @property
    def fraction_done(self) -> float:
        """Share of the folds done, counting the current fold's epochs (an upper bound on
        what is left: early stopping may end a fold sooner); in [0, 1]."""
        if self.phase in {"scoring", "cached", "done"} or self.folds <= 0:
            return 1.0
        within = self.epoch / self.epochs if self.epochs else 0.0
        return min(max((self.fold - 1 + within) / self.folds, 0.0), 1.0)


ReviewListener = Callable[[ReviewProgress], None]


class ReviewStopped(HeadlineLabError):
    """A stop was asked for before the review ended: nothing was kept."""


@dataclass
class LabelReview:
    """A finished label review.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per dataset row, in the dataset's order with its index: ``text``,
        ``given_label`` and ``suggested_label`` (label codes), ``label_quality``
        (float in [0, 1], low = suspect), ``is_label_issue`` (bool, cleanlab's flag)
        and ``p_<code>`` per class (out-of-sample probabilities, rows summing to 1).
    summary : dict
        JSON-ready: ``rows``, ``folds``, ``issues``, ``classes``, ``label_names``,
        ``per_class`` (code -> ``name``, ``rows``, ``issues``, ``suggested``),
        ``settings``, ``fold_groups`` (how the folds were drawn:
        :func:`pipeline.review.folds.describe_groups`, and ``stories``, the
        :func:`~pipeline.review.folds.story_digest` they were drawn with), ``seconds``,
        ``part_seconds``, ``out_of_sample_accuracy``, ``part_accuracy``,
        ``fingerprint``, ``key``, ``dataset``, ``version`` and ``from_cache``.
    part_probabilities : dict of str to numpy.ndarray
        Each model part's out-of-sample probabilities ``(rows, classes)`` when the
        review was computed now; empty when it came from the cache.
    """

    frame: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    part_probabilities: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def from_cache(self) -> bool:
        """Whether this review was read from the cache rather than computed."""
        return bool(self.summary.get("from_cache"))

    def suspects(self, top: int | None = None) -> pd.DataFrame:
        """The rows, lowest label quality first (ties in dataset order); the first
        ``top`` only when given."""
        ranked = self.frame.sort_values("label_quality", kind="mergesort")
        return ranked if top is None else ranked.head(top)


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
        step by raising :class:`ReviewStopped` (a TF-IDF fit runs to its end).

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
    notify(ReviewProgress("scoring", folds, folds, "Scoring the labels…", _since(started)))
    probabilities = found.combined()
    quality, issues = score_labels(labels, probabilities, settings.quality_method)
    frame = _review_frame(dataset, labels, probabilities, quality, issues)
    data_fingerprint = fingerprint(dataset)
    summary = _summary(dataset, settings, frame, labels, found, data_fingerprint)
    summary["fold_groups"] = {**describe_groups(groups), "stories": story_digest(dataset.frame)}
    summary["seconds"] = round(time.perf_counter() - started, 2)
    notify(ReviewProgress("done", folds, folds, "Done.", _since(started)))
    return LabelReview(frame, summary, dict(found.probabilities))


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
        As in :func:`review_labels`.
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
        fold_fit = _FoldFit(
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
            _check_stop(stop_event, f"before fold {fold} of {settings.folds}")
            message = f"Fold {fold} of {settings.folds}: {PART_NAMES[part]}…"
            notify(ReviewProgress(part, fold, settings.folds, message, _since(started)))
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
    ``steps``; a stop raises :class:`ReviewStopped`."""
    import numpy as np

    started = time.perf_counter() if started is None else started
    stop_event = stop_event or threading.Event()
    notify = on_progress or (lambda progress: None)
    fold_fit = _FoldFit(
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
        _check_stop(stop_event, f"in step {step} of {steps}")
        message = f"Step {step} of {steps}: {PART_NAMES[part]}…"
        notify(ReviewProgress(part, step, steps, message, _since(started)))
        found.append(fold_fit.predict(part))
    return np.mean(found, axis=0)


def score_labels(
    labels: np.ndarray, probabilities: np.ndarray, method: str = "self_confidence"
) -> tuple[np.ndarray, np.ndarray]:
    """Label quality and cleanlab's issue flag for every row.

    Parameters
    ----------
    labels : numpy.ndarray
        Given class indices ``(rows,)``.
    probabilities : numpy.ndarray
        Out-of-sample probabilities ``(rows, classes)``.
    method : str
        A :data:`QUALITY_METHODS` name for ``cleanlab.rank.get_label_quality_scores``.

    Returns
    -------
    quality : numpy.ndarray
        Floats in [0, 1] ``(rows,)``; low means the label is probably wrong.
    issues : numpy.ndarray
        Booleans ``(rows,)`` from ``cleanlab.filter.find_label_issues``.
    """
    import numpy as np
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    probabilities = _normalised(probabilities)
    quality = get_label_quality_scores(labels, probabilities, method=method)
    # n_jobs=1: cleanlab's multiprocessing would fork a process that may hold TensorFlow.
    issues = find_label_issues(labels, probabilities, n_jobs=1)
    return np.asarray(quality, dtype=float), np.asarray(issues, dtype=bool)


def class_indices(dataset: Dataset) -> np.ndarray:
    """Each row's label as its index in ``dataset.classes`` (the sorted codes).

    Parameters
    ----------
    dataset : Dataset
        Loaded data.

    Returns
    -------
    numpy.ndarray
        int64 ``(rows,)``, in the order of ``dataset.frame``.
    """
    index = {code: i for i, code in enumerate(dataset.classes)}
    return dataset.frame["label"].map(index).to_numpy(dtype="int64")


def review_key(data_fingerprint: str, settings: ReviewSettings) -> str:
    """The cache key of a review: the data's fingerprint
    (:func:`pipeline.data.fingerprint`), the settings and the review's version."""
    return config_hash(
        {"data": data_fingerprint, "review": settings.to_dict(), "version": REVIEW_VERSION}
    )


def reviews_dir(runs_dir: str | Path | None = None) -> Path:
    """``<runs_dir>/.reviews`` (``runs_dir`` defaults as the run registry's does)."""
    from pipeline.runs.registry import default_runs_dir

    return Path(runs_dir if runs_dir is not None else default_runs_dir()) / REVIEWS_FOLDER


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


def cached_review(
    dataset: Dataset, settings: ReviewSettings, runs_dir: str | Path | None = None
) -> LabelReview | None:
    """The saved review of ``dataset`` with ``settings`` (``from_cache`` true), checked
    row by row against the dataset; ``None`` when there is none or it does not read back."""
    from pipeline.data import fingerprint

    key = review_key(fingerprint(dataset), settings)
    folder = reviews_dir(runs_dir) / key
    try:
        summary = json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))
        frame = _read_review_csv(folder / REVIEW_CSV, summary)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if summary.get("version") != REVIEW_VERSION or summary.get("key") != key:
        return None
    if not _matches(frame, summary, dataset):
        return None
    frame.insert(0, "text", dataset.frame["text"])
    return LabelReview(frame, {**summary, "from_cache": True})


def save_review(review: LabelReview, runs_dir: str | Path | None = None) -> Path:
    """Write ``review`` under its key in ``reviews_dir(runs_dir)``; returns its folder.

    The files go into a staging folder that is renamed into place, so a reader never
    finds a half-written review. The texts are not saved (the dataset holds them);
    nothing is pickled.
    """
    root = reviews_dir(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    key = review.summary["key"]
    staging = root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        review.frame.drop(columns="text").to_csv(staging / REVIEW_CSV, index=True)
        summary = {**review.summary, "from_cache": False}
        (staging / SUMMARY_JSON).write_text(json.dumps(summary, indent=1), encoding="utf-8")
        _move_into_place(staging, root / key)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root / key


def labelled_rows(raw: pd.DataFrame, dataset: Dataset, review: LabelReview) -> np.ndarray:
    """The positions in ``raw`` (the file as read) of its labelled rows: the rows of
    ``dataset`` and of ``review.frame``, in order. Raises :class:`HeadlineLabError` when
    the review has another number of rows (a review of other data)."""
    import numpy as np

    from pipeline.data import label_values

    labels = label_values(raw[dataset.label_col].astype(str))
    labelled = np.flatnonzero(labels.ne("").to_numpy())
    if len(labelled) != len(review.frame):
        raise HeadlineLabError(
            f"This review has {len(review.frame):,} rows but {dataset.name} has "
            f"{len(labelled):,} rows with a label; review this file again."
        )
    return labelled


def reviewed_table(raw: pd.DataFrame, dataset: Dataset, review: LabelReview) -> pd.DataFrame:
    """Every row of the file, all its columns, with the review's columns; most suspect first.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file as read (``pipeline.data.read_table(...).frame``), every row.
    dataset : Dataset
        ``load_dataset`` of that table: its rows are the rows of ``raw`` with a
        label, in file order.
    review : LabelReview
        The review of ``dataset``.

    Returns
    -------
    pandas.DataFrame
        ``raw``'s columns, then ``given_label``, ``suggested_label``, ``label_quality``,
        ``is_label_issue`` and ``p_<label>`` per class, classes named as in the file's
        label column (a column of the file with one of those names is replaced). Sorted by
        ``label_quality``, lowest first, ties in file order; rows without a label
        (not reviewed) last, their review columns empty. A fresh ``RangeIndex``.

    Raises
    ------
    HeadlineLabError
        The review has another number of rows than the file has labelled rows.
    """
    import numpy as np
    import pandas as pd

    labelled = labelled_rows(raw, dataset, review)
    sources = {
        "given_label": "given_label",
        "suggested_label": "suggested_label",
        "label_quality": "label_quality",
        "is_label_issue": "is_label_issue",
    }
    for code in dataset.classes:  # the file's label values, as in given_label
        sources[PROBABILITY_PREFIX + code] = PROBABILITY_PREFIX + code
    table = raw.drop(columns=[c for c in sources if c in raw.columns]).reset_index(drop=True)
    for name, source in sources.items():
        values = review.frame[source]
        if values.dtype == bool:
            column = pd.Series(pd.NA, index=table.index, dtype="boolean")
        elif name in {"given_label", "suggested_label"}:
            column = pd.Series("", index=table.index, dtype=object)
        else:
            column = pd.Series(np.nan, index=table.index, dtype=float)
        column.iloc[labelled] = values.to_numpy()
        table[name] = column
    return table.sort_values("label_quality", kind="mergesort", na_position="last").reset_index(
        drop=True
    )


def neural_config(settings: ReviewSettings) -> ExperimentConfig:
    """``settings.neural_preset``'s model, trained for at most ``settings.epochs``
    epochs with ``settings.seed``, in float32; its other settings the preset's."""
    return (
        PRESETS[settings.neural_preset]
        .with_overrides(epochs=settings.epochs, train_seed=settings.seed, mixed_precision="off")
        .validate()
    )


class _FoldFit:
    """One fold: the rows to train on and the rows to predict, for either model part."""

    def __init__(
        self,
        train_texts: list[str],
        train_labels: np.ndarray,
        held_out_texts: list[str],
        num_classes: int,
        settings: ReviewSettings,
        fold: int,
        notify: ReviewListener,
        stop_event: threading.Event,
        started: float,
    ) -> None:
        self.train_texts, self.train_labels = train_texts, train_labels
        self.held_out_texts = held_out_texts
        self.num_classes = num_classes
        self.settings, self.fold = settings, fold
        self.notify, self.stop_event, self.started = notify, stop_event, started

    def predict(self, part: str) -> np.ndarray:
        """``(held-out rows, classes)`` probabilities of model ``part``."""
        return self._tfidf() if part == "tfidf" else self._neural()

    def _tfidf(self) -> np.ndarray:
        import numpy as np

        from pipeline.training.baseline import baseline_pipeline, fit_baseline

        model = fit_baseline(baseline_pipeline(), self.train_texts, self.train_labels)
        found = model.predict_proba(self.held_out_texts)
        # A class with no training row in this fold has no column: probability 0.
        out = np.zeros((len(self.held_out_texts), self.num_classes))
        out[:, model.classes_] = found
        return out

    def _neural(self) -> np.ndarray:
        import keras
        import numpy as np

        from pipeline.models import build_classifier, compile_for_training
        from pipeline.models.features import build_encoder, encode, feature_shapes
        from pipeline.models.text import choose_sequence_length
        from pipeline.training.fit import PREDICT_BATCH, fit_classifier

        config = neural_config(self.settings)
        fit_texts, fit_labels, early_texts, early_labels = self._early_stopping_split()
        with _NEURAL_LOCK:
            keras.utils.set_random_seed(self.settings.seed + self.fold)
            length = config.model.sequence_length or choose_sequence_length(fit_texts)
            encoder = build_encoder(
                fit_texts, config.model, length, on_rows=lambda *_: self._check_stop()
            )
            shapes = feature_shapes(encoder, config.model)
            classifier = build_classifier(config.model, shapes, self.num_classes)
            fit_model = compile_for_training(classifier, config.model)
            train = self._encoded(encoder, fit_texts, fit_labels)
            early = self._encoded(encoder, early_texts, early_labels)
            self._check_stop()
            fit_classifier(
                fit_model,
                train,
                early if len(early) else train,
                config.train,
                notify=self._on_fit_event,
                stop_event=self.stop_event,
                started=self.started,
                outputs=list(fit_model.output) if isinstance(fit_model.output, dict) else None,
            )
            self._check_stop()
            inputs = encode(encoder, self.held_out_texts, on_rows=lambda _: self._check_stop())
            # Called eagerly batch by batch: model.predict traces a new function for every
            # fold's new model, and TensorFlow warns about retracing from the fifth on.
            found = [
                np.asarray(classifier(batch, training=False), dtype=float)
                for batch in _batches(inputs, PREDICT_BATCH)
            ]
        return np.concatenate(found) if found else np.zeros((0, self.num_classes))

    def _encoded(self, encoder: Any, texts: list[str], labels: np.ndarray) -> Any:
        """``texts`` and class indices as a :class:`~pipeline.training.fit.EncodedSplit`, without
        the rows that vectorize to nothing (they would train on padding alone)."""
        import pandas as pd

        from pipeline.models.features import encode
        from pipeline.training.fit import encode_split

        return encode_split(
            pd.DataFrame({"text": texts, "label": labels}),
            lambda batch: encode(encoder, batch),
            list(range(self.num_classes)),
            None,
        )

    def _early_stopping_split(self) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
        """The fold's training rows cut in two: to fit on, and a tenth to stop early on."""
        import numpy as np

        rows = len(self.train_texts)
        order = np.random.default_rng(self.settings.seed + self.fold).permutation(rows)
        cut = rows - max(1, math.ceil(rows * EARLY_STOPPING_SHARE))
        fit, early = order[:cut], order[cut:]
        texts = np.asarray(self.train_texts, dtype=object)
        return (
            list(texts[fit]),
            self.train_labels[fit],
            list(texts[early]),
            self.train_labels[early],
        )

    def _on_fit_event(self, event: ProgressEvent) -> None:
        if event.kind not in {"batch", "epoch"}:
            return
        folds = self.settings.folds
        self.notify(
            ReviewProgress(
                "neural",
                self.fold,
                folds,
                f"Fold {self.fold} of {folds}: {PART_NAMES['neural']}, {describe_fit_epoch(event)}",
                _since(self.started),
                # a batch event belongs to an epoch still running
                epoch=event.epoch if event.kind == "epoch" else event.epoch - 1,
                epochs=event.epochs,
                batch=event.batch,
                batches=event.batches,
            )
        )

    def _check_stop(self) -> None:
        _check_stop(self.stop_event, f"in fold {self.fold} of {self.settings.folds}")


def _batches(inputs: dict[str, np.ndarray], size: int) -> list[dict[str, np.ndarray]]:
    """``inputs`` (arrays of equal length) cut into batches of at most ``size`` rows."""
    rows = len(next(iter(inputs.values())))
    return [
        {name: ids[start : start + size] for name, ids in inputs.items()}
        for start in range(0, rows, size)
    ]


def _check_stop(stop_event: threading.Event, where: str) -> None:
    if stop_event.is_set():
        raise ReviewStopped(f"The label review was stopped {where}; nothing was kept.")


def _since(started: float) -> float:
    return time.perf_counter() - started


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


def _normalised(probabilities: np.ndarray) -> np.ndarray:
    """Rows clipped at 0 and summing to 1 (a row of zeros becomes uniform)."""
    import numpy as np

    probabilities = np.clip(np.asarray(probabilities, dtype=float), 0.0, None)
    totals = probabilities.sum(axis=1, keepdims=True)
    uniform = np.full_like(probabilities, 1.0 / probabilities.shape[1])
    return np.divide(probabilities, totals, out=uniform, where=totals > 0)


def _review_frame(
    dataset: Dataset,
    labels: np.ndarray,
    probabilities: np.ndarray,
    quality: np.ndarray,
    issues: np.ndarray,
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
) -> dict[str, Any]:
    given, suggested = frame["given_label"], frame["suggested_label"]
    per_class = {
        code: {
            "name": dataset.display(code),
            "rows": int((given == code).sum()),
            "issues": int((frame["is_label_issue"] & (given == code)).sum()),
            "suggested": int((suggested == code).sum()),
        }
        for code in dataset.classes
    }
    return {
        "rows": len(frame),
        "folds": settings.folds,
        "issues": int(frame["is_label_issue"].sum()),
        "classes": list(dataset.classes),
        "label_names": {code: dataset.display(code) for code in dataset.classes},
        "per_class": per_class,
        "settings": settings.to_dict(),
        "seconds": None,
        "part_seconds": found.seconds,
        "out_of_sample_accuracy": round(float((suggested == given).mean()), 4),
        "part_accuracy": {
            part: round(float((probabilities.argmax(axis=1) == labels).mean()), 4)
            for part, probabilities in found.probabilities.items()
        },
        "fingerprint": data_fingerprint,
        "key": review_key(data_fingerprint, settings),
        "dataset": dataset.name,
        "version": REVIEW_VERSION,
        "from_cache": False,
    }


def _read_review_csv(path: Path, summary: dict[str, Any]) -> pd.DataFrame:
    """``review.csv`` as :attr:`LabelReview.frame` without ``text``; ``ValueError`` when
    its columns are not the review's."""
    import pandas as pd

    text_columns = {"given_label": str, "suggested_label": str, "is_label_issue": str}
    frame = pd.read_csv(path, index_col=0, dtype=text_columns, keep_default_na=False)
    probability_columns = [PROBABILITY_PREFIX + code for code in summary["classes"]]
    if list(frame.columns) != [*REVIEW_COLUMNS[1:], *probability_columns]:
        raise ValueError(f"{path} does not hold a review's columns")
    flags = frame["is_label_issue"].map({"True": True, "False": False})
    if flags.isna().any():
        raise ValueError(f"{path} has an is_label_issue that is neither True nor False")
    frame["is_label_issue"] = flags.astype(bool)
    numbers = ["label_quality", *probability_columns]
    frame[numbers] = frame[numbers].astype(float)
    return frame


def _matches(frame: pd.DataFrame, summary: dict[str, Any], dataset: Dataset) -> bool:
    """Whether a saved review belongs to ``dataset`` row for row (its folds drawn with
    the same stories) and is well formed."""
    import numpy as np

    from pipeline.review.folds import story_digest

    quality = frame["label_quality"].to_numpy()
    given = frame["given_label"].to_numpy(dtype=object)
    folds_drawn = summary.get("fold_groups")
    return (
        isinstance(folds_drawn, dict)
        and folds_drawn.get("stories") == story_digest(dataset.frame)
        and summary.get("rows") == len(frame) == len(dataset.frame)
        and list(frame.index) == list(dataset.frame.index)
        and bool((given == dataset.frame["label"].to_numpy(dtype=object)).all())
        and bool(np.isfinite(quality).all() and ((quality >= 0) & (quality <= 1)).all())
    )


def _move_into_place(staging: Path, final: Path) -> None:
    """Rename ``staging`` to ``final``, replacing an older review under the same key."""
    if not final.exists():
        os.replace(staging, final)
        return
    aside = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
    os.replace(final, aside)
    os.replace(staging, final)
    shutil.rmtree(aside, ignore_errors=True)
