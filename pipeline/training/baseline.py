"""The yardstick: TF-IDF + logistic regression on the same split as the neural model.

If the neural model cannot beat a linear model on word n-grams, it is not earning
its training time; the Results page shows both side by side. The baseline is
fitted once per (data, data settings) and its score, with its prediction for every
test row, is kept in ``<runs_dir>/.baselines/<key>.json``, so every run on that split
reuses it (:func:`pair_with_baseline` turns those predictions into the run's paired
interval against the baseline and a column of its ``test_predictions.json``); a
training fits it in a process of its own beside ``fit`` (:class:`BaselineFit`),
never after it. A thread would not do: TF-IDF's tokenizing is Python that holds
the interpreter lock, and the training's own Python (vectorizing, the Keras loop,
reacting to Stop) would wait behind it. A small training set
(:data:`INLINE_FIT_MAX_CHARACTERS`) is fitted at once instead, in the training's own
process: its fit takes less time than a new process takes to start.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing.queues
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.pipeline import Pipeline, make_pipeline
from threadpoolctl import threadpool_limits

from pipeline.core.atomic import write_json_atomically
from pipeline.core.config import config_hash
from pipeline.core.scripts import CJK_CHARACTER
from pipeline.core.spawn import main_module_that_spawn_skips, spawn_context
from pipeline.evaluation.paired import paired_bootstrap
from pipeline.training.regression import REGRESSION_SETTINGS, solve_regression

if TYPE_CHECKING:
    from pipeline.data.prepare import PreparedData

BASELINE_NAME = "TF-IDF (1-2 grams) + logistic regression"
#: Bump when the baseline changes, so cached scores of the old one are not reused
#: (4: the score keeps every test row's prediction, :data:`ROW_PREDICTIONS`; 5: the
#: regression is solved to its optimum by Newton-CG; 6: each Chinese or Japanese character
#: is a token, :data:`TOKEN_PATTERN`).
BASELINE_VERSION = 6
#: The baseline's tokens: each Chinese or Japanese character on its own (those scripts
#: write no space between words: :mod:`pipeline.core.scripts`), and runs of two or more
#: other word characters, which is scikit-learn's own ``\b\w\w+\b`` on every other text.
TOKEN_PATTERN = rf"(?u){CJK_CHARACTER}|(?:(?!{CJK_CHARACTER})\w){{2,}}"
#: The score's key for the baseline's label code per test row, in the test frame's order.
ROW_PREDICTIONS = "test_predicted"
#: Training texts up to this many characters in all (about 6,000 headlines) are fitted at
#: once in the training's own process: 0.4 s or less here, against 1.3 s of CPU and about
#: 2 s for a new process to start and import scikit-learn (a user's small file, every tiny
#: test training).
INLINE_FIT_MAX_CHARACTERS = 400_000


def baseline_pipeline(class_weighted: bool = False) -> Pipeline:
    """The baseline, unfitted: TF-IDF over word 1-2 grams (:data:`TOKEN_PATTERN`'s words:
    a Chinese or Japanese character is one), then logistic regression.

    ``class_weighted`` sets ``class_weight="balanced"``. Fit it on texts (a list of
    str) and label codes; ``predict_proba`` gives ``(rows, len(classes_))``.

    The regression is solved by Newton-CG, to the optimum of its regularised loss. L-BFGS
    at scikit-learn's default tolerance stopped 2.8 % above it on the bundled data (178
    iterations, 19.8 s of one core); Newton-CG ends within 0.01 % of it in 8 (7.8 s; with
    class weights 7 iterations, 8.5 s). Same model, same settings, fitted exactly.
    """
    return make_pipeline(
        TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
            max_features=200_000,
            token_pattern=TOKEN_PATTERN,
        ),
        LogisticRegression(
            class_weight="balanced" if class_weighted else None, **REGRESSION_SETTINGS
        ),
    )


def fit_baseline(
    model: Pipeline,
    texts: Sequence[str],
    labels: Sequence[str],
    stop_event: threading.Event | None = None,
) -> Pipeline:
    """Fit ``model`` (a :func:`baseline_pipeline`) on ``texts`` and label codes, with the
    BLAS library on one thread; returns ``model``, fitted.

    With ``stop_event`` (the label review's folds) the regression is solved step by step
    (:func:`~pipeline.training.regression.solve_regression`) and ends after the current
    step once the event is set: the caller then discards the model. Without, in one call
    (the baseline's own process, which a stop ends by ending the process).

    The solver spends most of its time in vector products that OpenBLAS spreads over every
    core: beside a training that already uses them, its threads wait for each other (with
    L-BFGS, the solver before, the fit on the bundled data took 67 s of CPU instead of 29 s
    for the same iterations and the same solution).
    """
    if stop_event is not None:
        features = model[:-1].fit_transform(list(texts))  # the pipeline's own vectorizer
        name, regression = model.steps[-1]
        solved, _, _ = solve_regression(
            features, list(labels), class_weight=regression.class_weight, stop_event=stop_event
        )
        model.steps[-1] = (name, solved)
        return model
    with threadpool_limits(limits=1, user_api="blas"):
        return model.fit(list(texts), list(labels))


def fit_and_score_baseline(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    test_texts: Sequence[str],
    test_labels: Sequence[str],
    class_weighted: bool = False,
) -> dict[str, Any]:
    """Fit the baseline on the training rows and score it on the test rows.

    ``class_weighted`` weights the loss by class like the neural model does in the
    ``class_weights`` balancing mode (``class_weight="balanced"``), so both learn
    from the same rows the same way. Returns ``{"name", "test_accuracy",
    "macro_f1", "seconds", "class_weighted"}``. The fitted model is not kept: it
    is cheap to refit, and saving it would mean pickling. ``"balanced_accuracy"`` too,
    and ``"test_predicted"`` (:data:`ROW_PREDICTIONS`): the predicted label code of
    every test row, in ``test_texts``' order.
    """
    started = time.perf_counter()
    model = fit_baseline(baseline_pipeline(class_weighted), train_texts, train_labels)
    predicted = model.predict(list(test_texts))
    return {
        "name": BASELINE_NAME,
        "test_accuracy": float(accuracy_score(list(test_labels), predicted)),
        "macro_f1": float(f1_score(list(test_labels), predicted, average="macro")),
        "balanced_accuracy": float(balanced_accuracy_score(list(test_labels), predicted)),
        "seconds": round(time.perf_counter() - started, 2),
        "class_weighted": class_weighted,
        ROW_PREDICTIONS: [str(code) for code in predicted],
    }


def cached_baseline(cache_dir: Path, key: str) -> dict[str, Any] | None:
    """The score saved under ``key``, or ``None`` (also for an unreadable file)."""
    try:
        score = json.loads((cache_dir / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return score if isinstance(score, dict) and "test_accuracy" in score else None


def save_baseline(cache_dir: Path, key: str, score: dict[str, Any]) -> None:
    """Keep ``score`` under ``key`` (written atomically: :mod:`pipeline.core.atomic`)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomically(
        cache_dir / f"{key}.json", score, indent=None, ensure_ascii=True, final_newline=False
    )


class BaselineFit:
    """:func:`fit_and_score_baseline` in a process of its own, its score cached.

    Started at once; :meth:`result` waits for the score, :meth:`cancel` ends the
    process (a stopped training does not wait for its yardstick). The texts and
    labels are sent to the process through a ``multiprocessing`` queue.
    """

    def __init__(
        self,
        train_texts: Sequence[str],
        train_labels: Sequence[str],
        test_texts: Sequence[str],
        test_labels: Sequence[str],
        *,
        class_weighted: bool,
        cache_dir: Path,
        key: str,
    ) -> None:
        context = spawn_context()
        self._scores = context.SimpleQueue()
        self._score: dict[str, Any] | None = None
        # The rows go through a queue, whose own thread sends them: as arguments of the
        # process they were written by ``start()``, which then waited for the new
        # interpreter to boot and import scikit-learn to read them (1.8 s of the
        # training's own time on the bundled data). The queue is kept as long as the
        # fit: its lock must outlive the child's start.
        self._rows: multiprocessing.queues.Queue = context.Queue()
        self._process = context.Process(
            target=_fit_and_cache,
            args=(self._rows, class_weighted, cache_dir, key, self._scores),
            name="baseline",
            daemon=True,
        )
        with main_module_that_spawn_skips():
            self._process.start()
        rows = (list(train_texts), list(train_labels), list(test_texts), list(test_labels))
        self._rows.put(rows)
        self._rows.close()
        self._rows.cancel_join_thread()  # an ended or cancelled fit never holds up an exit

    def done(self) -> bool:
        """Whether the score is in, or the process ended without one."""
        return self._score is not None or not self._scores.empty() or not self._process.is_alive()

    def result(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The score; ``None`` when the process ended without one (it was cancelled
        or killed). Raises ``TimeoutError`` when ``timeout`` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._score is None:
            if not self._scores.empty():
                self._score = self._scores.get()
            elif not self._process.is_alive() and self._scores.empty():
                return None
            elif deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("the baseline is still fitting")
            else:
                self._process.join(0.05)
        self._process.join()
        return self._score

    def cancel(self) -> None:
        """End the process now, whatever it is doing."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _fit_and_cache(
    rows: multiprocessing.queues.Queue,
    class_weighted: bool,
    cache_dir: Path,
    key: str,
    scores: queue.Queue,
) -> None:
    """The baseline process: read the rows (training texts and labels, test texts and
    labels), fit, score, cache the score, send it back."""
    train_texts, train_labels, test_texts, test_labels = rows.get()
    score = fit_and_score_baseline(
        train_texts, train_labels, test_texts, test_labels, class_weighted=class_weighted
    )
    with contextlib.suppress(OSError):  # a read-only runs folder only costs a refit later
        save_baseline(cache_dir, key, score)
    scores.put(score)


def baseline_key(data_fingerprint: str, data_settings: dict[str, Any]) -> str:
    """The cache key of the baseline's score: the data, its cleaning and split, the
    baseline's version."""
    return config_hash(
        {"data": data_fingerprint, "split": data_settings, "version": BASELINE_VERSION}
    )


def start_baseline(
    prepared: PreparedData, cache_dir: Path, key: str
) -> BaselineFit | dict[str, Any]:
    """The score cached under ``key`` (with ``"cached": True``); or, for a training set of
    at most :data:`INLINE_FIT_MAX_CHARACTERS`, the score fitted now (and cached); or its
    fit started on ``prepared``'s training and test rows in a process of its own."""
    cached = cached_baseline(cache_dir, key)
    if cached is not None:
        return {**cached, "cached": True}
    train, test = prepared.train, prepared.test
    rows = (train["text"], train["label"], test["text"], test["label"])
    class_weighted = prepared.class_weights is not None
    if int(train["text"].str.len().sum()) <= INLINE_FIT_MAX_CHARACTERS:
        score = fit_and_score_baseline(*rows, class_weighted=class_weighted)
        with contextlib.suppress(OSError):  # a read-only runs folder only costs a refit later
            save_baseline(cache_dir, key, score)
        return score
    return BaselineFit(*rows, class_weighted=class_weighted, cache_dir=cache_dir, key=key)


def wait_for_baseline(
    baseline: BaselineFit | dict[str, Any],
    stop_event: threading.Event,
    on_wait: Callable[[], None] = lambda: None,
) -> dict[str, Any] | None:
    """The score :func:`start_baseline` gave or is fitting; ``None`` when a stop is
    asked for while waiting. ``on_wait`` is called once if the fit is not done yet."""
    if isinstance(baseline, dict):
        return baseline
    if not baseline.done():
        on_wait()
    while not stop_event.is_set():
        try:
            return baseline.result(timeout=0.2)
        except TimeoutError:
            continue
    return baseline.result() if baseline.done() else None


def pair_with_baseline(
    score: dict[str, Any] | None,
    predictions: dict[str, list] | None,
    positions: np.ndarray | None,
    classes: Sequence[str],
) -> tuple[dict[str, Any] | None, dict[str, list] | None, dict[str, Any] | None]:
    """The baseline's per-row predictions taken off its score and paired with the model's.

    Parameters
    ----------
    score : dict or None
        :func:`wait_for_baseline`'s answer; its :data:`ROW_PREDICTIONS` hold a label
        code per row of the prepared test frame, in that frame's order.
    predictions : dict or None
        The model's per-row test predictions (:func:`pipeline.evaluation.metrics.row_predictions`:
        ``true`` and ``predicted`` codes, one per scored test row).
    positions : int array or None
        Each scored test row's position in the prepared test frame
        (:attr:`pipeline.training.batches.EncodedSplit.positions`): the model leaves out rows that
        vectorize to nothing, so the baseline's rows are taken at these positions.
    classes : sequence of str
        Every class code, in the model's order: macro F1 averages over all of them.

    Returns
    -------
    tuple
        The score without its per-row predictions (for ``metrics.json``); the model's
        predictions with a ``baseline`` column (the baseline's code for each of its
        rows); and ``vs_baseline``, model minus baseline on those rows
        (:meth:`pipeline.evaluation.paired.PairedComparison.to_json`). The last two are
        ``predictions`` as given and ``None`` when there is nothing to pair (no score,
        a score cached without row predictions, rows that do not line up).
    """
    if score is None:
        return None, predictions, None
    row_codes = score.get(ROW_PREDICTIONS)
    scores = {key: value for key, value in score.items() if key != ROW_PREDICTIONS}
    if predictions is None or positions is None or not isinstance(row_codes, list):
        return scores, predictions, None
    positions = np.asarray(positions)
    if len(positions) != len(predictions["true"]) or (
        len(positions) and int(positions.max()) >= len(row_codes)
    ):
        return scores, predictions, None
    baseline_codes = [row_codes[int(position)] for position in positions]
    if len(baseline_codes) == 0 or not set(baseline_codes) <= set(classes):
        return scores, predictions, None
    paired = paired_bootstrap(
        predictions["true"], baseline_codes, predictions["predicted"], labels=list(classes)
    )
    return scores, {**predictions, "baseline": baseline_codes}, paired.to_json()
