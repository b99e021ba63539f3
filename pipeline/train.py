"""Training a run: prepare, vectorize, fit, evaluate, save — or find it in the cache.

:func:`train_run` is the one entry point the CLI, the background jobs and the
tests call. It reports every phase and progress through a plain callable (see
:class:`ProgressEvent`), stops within one batch when ``stop_event`` is set, and
always keeps the weights of the best validation epoch. The TF-IDF baseline is
fitted once per (data, data settings), on a worker thread beside ``fit``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from pipeline.baseline import BASELINE_VERSION, BaselineFit, cached_baseline
from pipeline.config import ExperimentConfig, config_hash, resolve_batch_size
from pipeline.data import Dataset, fingerprint
from pipeline.device import apply_precision_policy, training_strategy
from pipeline.errors import TrainingError, TrainingStopped
from pipeline.evaluate import evaluate_probabilities
from pipeline.features import (
    build_encoder,
    build_end_to_end_model,
    encode,
    feature_shapes,
    split_end_to_end_model,
)
from pipeline.models import build_classifier, compile_for_training
from pipeline.prepare import PreparedData, prepare
from pipeline.progress import (
    EVENT_INTERVAL_S,
    PHASE_GERUNDS,
    PHASES,
    EventKind,
    Phase,
    ProgressEvent,
    ProgressListener,
    TrainResult,
    cached_event,
    describe_end,
    end_event,
)

__all__ = ["TrainResult", "TrainingStopped", "cached_event", "train_run"]
from pipeline.registry import RunRegistry, SavedRun
from pipeline.run_ids import resolve_run
from pipeline.run_record import SCHEMA_VERSION, RunRecord
from pipeline.text import choose_sequence_length

_PREDICT_BATCH = 2048
#: Validation batches hold at most this many training batches: a stop is honoured
#: between two batches, so big models must not validate in huge ones.
_VALIDATION_BATCHES_PER_TRAINING_BATCH = 4
# One training at a time per process: Keras' global seed and the device are shared.
_TRAINING_LOCK = threading.Lock()


def train_run(
    dataset: Dataset,
    config: ExperimentConfig,
    *,
    runs_dir: str | Path | None = None,
    on_progress: ProgressListener | None = None,
    stop_event: threading.Event | None = None,
    force: bool = False,
    parent_run_id: str | None = None,
    allow_other_data: bool = False,
    owner: str | None = None,
) -> TrainResult:
    """Train ``config`` on ``dataset`` and save the run, or return the cached run.

    Parameters
    ----------
    dataset : Dataset
        Loaded data (``pipeline.data.load_dataset``).
    config : ExperimentConfig
        Every setting; with ``parent_run_id`` only ``train`` is used and the data
        and model settings are the parent's.
    runs_dir : path, optional
        Where runs live (default ``pipeline.registry.default_runs_dir()``).
    on_progress : callable, optional
        Receives :class:`ProgressEvent` at start, after every batch and epoch, and
        at the end. It runs on the training thread: keep it quick.
    stop_event : threading.Event, optional
        When set, training ends after the current batch; the best epoch so far is
        kept and the run is saved with status ``"stopped"``.
    force : bool
        Train even if a complete run with the same id exists (it is replaced).
    parent_run_id : str, optional
        Continue this saved run for ``config.train.epochs`` more epochs, on the
        data it was trained on (:class:`TrainingError` otherwise)...
    allow_other_data : bool
        ...unless this is set: then any data with the parent's classes will do,
        and the parent's vocabulary is kept.
    owner : str, optional
        A private run's owner (``RunInfo.owner``); it is part of the run id, so the
        cache only ever answers with the owner's own runs (or shared ones).

    Returns
    -------
    TrainResult
    """
    registry = RunRegistry(runs_dir)
    notify = on_progress or (lambda event: None)
    config, run_id = resolve_run(
        dataset, config, registry, parent_run_id, allow_other_data=allow_other_data, owner=owner
    )
    parent = registry.get(parent_run_id) if parent_run_id else None

    cached = None if force else registry.find_complete(run_id)
    if cached is not None:
        notify(cached_event(cached))
        return TrainResult(run_id, cached.path, from_cache=True, stopped=False)

    with _TRAINING_LOCK:
        session = _TrainingSession(
            dataset, config, registry, run_id, parent, notify, stop_event, owner
        )
        return session.run()


class _TrainingSession:
    """The steps of one training, sharing the prepared data and the model."""

    def __init__(
        self,
        dataset: Dataset,
        config: ExperimentConfig,
        registry: RunRegistry,
        run_id: str,
        parent: SavedRun | None,
        notify: ProgressListener,
        stop_event: threading.Event | None,
        owner: str | None = None,
    ) -> None:
        self.owner = owner
        self.dataset = dataset
        self.config = config
        self.registry = registry
        self.run_id = run_id
        self.parent = parent
        self.notify = notify
        self.stop_event = stop_event or threading.Event()
        self.started = time.perf_counter()
        self.data_fingerprint = fingerprint(dataset)
        self.replicas = 1
        self.batch_size = config.train.batch_size or 0
        self.current_phase: Phase = "preparing"
        self.last_rows_event = 0.0

    def phase(self, phase: Phase) -> None:
        """Announce that ``phase`` begins."""
        self.current_phase = phase
        self._notify_outside_fit("phase", PHASES[phase], time.perf_counter())

    def _notify_outside_fit(self, kind: EventKind, message: str, now: float, **counts: int) -> None:
        """A ``phase`` or ``rows`` event: no epoch or batch counts, the parent's history."""
        self.notify(
            ProgressEvent(
                kind=kind,
                epoch=0,
                epochs=0,
                batch=0,
                batches=0,
                logs={},
                elapsed_s=now - self.started,
                history=tuple(self._parent_history()),
                message=message,
                phase=self.current_phase,
                **counts,
            )
        )

    def rows(self, step: str, done: int, total: int, *, stoppable: bool = True) -> None:
        """Report ``done`` of ``total`` rows of ``step`` (throttled, the last one always).

        When ``stoppable``, raise :class:`TrainingStopped` once a stop was asked for;
        the test set of a run that will be kept is always scored to the end.
        """
        if stoppable:
            self.check_stop()
        now = time.perf_counter()
        if done < total and now - self.last_rows_event < EVENT_INTERVAL_S:
            return
        self.last_rows_event = now
        self._notify_outside_fit("rows", step, now, done=done, total=total)

    def check_stop(self) -> None:
        """Raise :class:`TrainingStopped` when a stop was asked for before any epoch ended."""
        if self.stop_event.is_set():
            raise TrainingStopped(
                f"Stopped while {PHASE_GERUNDS[self.current_phase]}, before the first epoch "
                "ended; nothing was saved."
            )

    def run(self) -> TrainResult:
        self.phase("preparing")
        prepared = prepare(self.dataset, self.config.data)
        self.check_stop()
        baseline = self._start_baseline(prepared)
        try:
            keras.utils.set_random_seed(self.config.train.seed)
            strategy, device = training_strategy()
            self.replicas = strategy.num_replicas_in_sync
            self.phase("vectorizing")
            policy = apply_precision_policy(self.config.train.mixed_precision)
            try:
                with strategy.scope():
                    encoder, classifier = self._model(prepared)
                    fit_model = compile_for_training(classifier, self.config.model.learning_rate)
            finally:
                apply_precision_policy("off")
            splits = self._encode_splits(encoder, prepared)
            history, stopped = self._fit(fit_model, splits["train"], splits["validation"])
            new_epochs = history[len(self._parent_history()) :]
            if stopped and not any(not row.get("partial") for row in new_epochs):
                raise TrainingStopped(
                    "Stopped while training, before the first epoch ended; nothing was saved."
                )
            self.phase("evaluating")
            metrics = self._evaluate(classifier, splits["test"], prepared)
            metrics["baseline"] = self._wait_for_baseline(baseline)
            stopped = stopped or self.stop_event.is_set()
        finally:
            if isinstance(baseline, BaselineFit):
                baseline.cancel()  # a no-op once it is done; a stopped training ends it
        metrics["collapsed"] = _collapse_note(metrics, prepared)
        self.phase("saving")
        end_to_end = build_end_to_end_model(encoder, classifier)
        duration = time.perf_counter() - self.started
        record = self._record(
            prepared, encoder, history, metrics, stopped, device, duration, policy
        )
        # A stopped retraining never replaces a complete run: it may come back under
        # an id of its own.
        saved = self.registry.save(record, end_to_end.save)
        self.notify(end_event(saved, describe_end(history, stopped)))
        return TrainResult(saved.run_id, saved.path, from_cache=False, stopped=stopped)

    def _start_baseline(self, prepared: PreparedData) -> BaselineFit | dict[str, Any]:
        """The baseline's score from its cache, or its fit started beside training."""
        key = config_hash(
            {
                "data": self.data_fingerprint,
                "split": dataclasses.asdict(self.config.data),
                "version": BASELINE_VERSION,
            }
        )
        cache_dir = self.registry.root / ".baselines"
        cached = cached_baseline(cache_dir, key)
        if cached is not None:
            return {**cached, "cached": True}
        return BaselineFit(
            prepared.train["text"],
            prepared.train["label"],
            prepared.test["text"],
            prepared.test["label"],
            class_weighted=prepared.class_weights is not None,
            cache_dir=cache_dir,
            key=key,
        )

    def _wait_for_baseline(self, baseline: BaselineFit | dict[str, Any]) -> dict[str, Any] | None:
        """The baseline's score, or ``None`` when a stop is asked for while waiting."""
        if isinstance(baseline, dict):
            return baseline
        if not baseline.done():
            self.phase("baseline")
        while not self.stop_event.is_set():
            try:
                return baseline.result(timeout=0.2)
            except TimeoutError:
                continue
        return baseline.result() if baseline.done() else None

    def _encode_splits(self, encoder: keras.Model, prepared: PreparedData) -> dict[str, _Encoded]:
        """Every split through ``encoder``, reporting rows done over all three."""
        frames = {name: prepared.split(name) for name in ("train", "validation", "test")}
        total = sum(len(frame) for frame in frames.values())
        encoded: dict[str, _Encoded] = {}
        offset = 0
        for name, frame in frames.items():
            start = offset
            encoded[name] = _encode(
                frame,
                encoder,
                prepared,
                on_rows=lambda done, start=start: self.rows("Vectorizing", start + done, total),
            )
            offset += len(frame)
        return encoded

    def _model(self, prepared: PreparedData) -> tuple[keras.Model, keras.Model]:
        if self.parent is None:
            texts = prepared.train["text"].tolist()
            length = self.config.model.sequence_length or choose_sequence_length(texts)
            encoder = build_encoder(texts, self.config.model, length, on_rows=self.rows)
            shapes = feature_shapes(encoder, self.config.model)
            classifier = build_classifier(self.config.model, shapes, len(prepared.classes))
            return encoder, classifier
        if list(self.parent.labels.classes) != list(prepared.classes):
            raise TrainingError(
                f"Run {self.parent.run_id} was trained on classes "
                f"{', '.join(self.parent.labels.classes)} but this data has "
                f"{', '.join(prepared.classes)}; continue it on data with the same classes."
            )
        return split_end_to_end_model(self.registry.load_model(self.parent.run_id))

    def _parent_history(self) -> list[dict[str, Any]]:
        return list(self.parent.history) if self.parent is not None else []

    def _fit(
        self, classifier: keras.Model, train: _Encoded, validation: _Encoded
    ) -> tuple[list[dict[str, Any]], bool]:
        """Fit ``classifier`` (or the ensemble's training model sharing its layers)."""
        outputs = list(classifier.output) if isinstance(classifier.output, dict) else None
        cfg = self.config.train
        history = self._parent_history()
        initial_epoch = len(history)
        self.batch_size = resolve_batch_size(cfg.batch_size, len(train.y))
        batches = math.ceil(len(train.y) / self.batch_size)
        validation_batch = _even(
            min(_PREDICT_BATCH, _VALIDATION_BATCHES_PER_TRAINING_BATCH * self.batch_size),
            self.replicas,
        )
        reporter = _ProgressReporter(
            self.notify,
            history,
            initial_epoch + cfg.epochs,
            batches,
            math.ceil(len(validation.y) / validation_batch),
            self.started,
        )
        best = _BestWeights(cfg.min_delta, self.stop_event)
        callbacks: list[keras.callbacks.Callback] = [
            reporter,
            _StopOnEvent(self.stop_event),
            best,
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=cfg.patience, min_delta=cfg.min_delta
            ),
        ]
        if cfg.lr_schedule == "plateau":
            callbacks.append(
                keras.callbacks.ReduceLROnPlateau(
                    monitor="val_loss", factor=0.5, patience=0, min_lr=1e-6, min_delta=cfg.min_delta
                )
            )
        self.phase("training")
        self.check_stop()  # before fit traces its step function (seconds, not interruptible)
        try:
            classifier.fit(
                _batches(
                    _trimmed(train, self.replicas),
                    _even(self.batch_size, self.replicas),
                    cfg.seed,
                    outputs,
                ),
                validation_data=_batches(
                    _trimmed(validation, self.replicas),
                    validation_batch,
                    None,
                    outputs,
                ),
                initial_epoch=initial_epoch,
                epochs=initial_epoch + cfg.epochs,
                callbacks=callbacks,
                shuffle=False,  # the tf.data pipeline shuffles
                verbose=0,
            )
        except tf.errors.ResourceExhaustedError as exc:
            raise TrainingError(
                "The device ran out of memory; lower the batch size, the vocabulary or the "
                "sequence length."
            ) from exc
        history = reporter.history
        if any(not math.isfinite(row.get("loss", 0.0)) for row in history[initial_epoch:]):
            raise TrainingError(
                "Training diverged: the loss became NaN or infinite, so nothing was saved. "
                "Lower the learning rate (e.g. 0.001) or raise the batch size."
            )
        best.restore(classifier)
        for row in history:
            row.pop("best", None)
        if best.epoch is not None:
            for row in history:
                if row["epoch"] == best.epoch:
                    row["best"] = True
        return history, self.stop_event.is_set()

    def _evaluate(
        self, classifier: keras.Model, test: _Encoded, prepared: PreparedData
    ) -> dict[str, Any]:
        rows = len(test.y)
        probabilities = classifier.predict(
            test.inputs,
            batch_size=_PREDICT_BATCH,
            verbose=0,
            callbacks=[
                _RowsDone(
                    lambda batch: self.rows(
                        "Test set", min((batch + 1) * _PREDICT_BATCH, rows), rows, stoppable=False
                    )
                )
            ],
        )
        return evaluate_probabilities(
            test.y, probabilities, prepared.classes, prepared.label_names, test.texts
        )

    def _record(
        self,
        prepared: PreparedData,
        encoder: keras.Model,
        history: list[dict[str, Any]],
        metrics: dict[str, Any],
        stopped: bool,
        device: str,
        duration: float,
        precision: str,
    ) -> RunRecord:
        """The run's documents, checked by :class:`RunRecord` before anything is written."""
        shapes = feature_shapes(encoder, self.config.model)
        sequence_length = (
            shapes["words"].length if "words" in shapes else shapes["ngrams"].length // 2
        )
        best = next((row for row in history if row.get("best")), None)
        if best is None and history:
            best = min(history, key=lambda row: row.get("val_loss", math.inf))
        train_rows = len(prepared.train)
        fit_seconds = sum(row.get("seconds", 0.0) for row in history[len(self._parent_history()) :])
        new_epochs = len(history) - len(self._parent_history())
        documents = {
            "config.json": {
                **self.config.to_dict(),
                "parent_run_id": self.parent.run_id if self.parent else None,
                "resolved": {
                    "sequence_length": sequence_length,
                    "vocabulary_size": shapes["words"].vocabulary if "words" in shapes else None,
                    "ngram_vocabulary_size": shapes["ngrams"].vocabulary
                    if "ngrams" in shapes
                    else None,
                    "precision": precision,
                    "batch_size": self.batch_size,
                },
            },
            "labels.json": {
                "classes": list(prepared.classes),
                "names": {c: prepared.label_names.get(c, c) for c in prepared.classes},
            },
            "history.json": history,
            "metrics.json": metrics,
            "data.json": {
                "fingerprint": self.data_fingerprint,
                "dataset": self.dataset.name,
                "text_col": self.dataset.text_col,
                "label_col": self.dataset.label_col,
                **prepared.summary,
            },
            "run.json": {
                "schema_version": SCHEMA_VERSION,
                "run_id": self.run_id,
                "status": "stopped" if stopped else "complete",
                "origin": "trained",
                "owner": self.owner,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "duration_s": round(duration, 2),
                "device": device,
                "dataset": self.dataset.name,
                "best_epoch": best.get("epoch") if best else None,
                "samples_per_second": round(train_rows * new_epochs / fit_seconds, 1)
                if fit_seconds > 0
                else None,
                "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
            },
        }
        return RunRecord.parse(documents)


def _collapse_note(metrics: dict[str, Any], prepared: PreparedData) -> str | None:
    """A warning when the model predicts (almost) one class for every test row."""
    matrix = np.asarray(metrics.get("confusion_matrix", {}).get("matrix", []), dtype=float)
    if matrix.size == 0 or matrix.sum() == 0 or len(prepared.classes) < 2:
        return None
    predicted = matrix.sum(axis=0)
    top = int(predicted.argmax())
    share = predicted[top] / predicted.sum()
    if share < 0.9 or (matrix.sum(axis=1)[top] / matrix.sum()) >= 0.9:
        return None
    name = prepared.label_names.get(prepared.classes[top], prepared.classes[top])
    return (
        f"The model predicts {name!r} for {share:.0%} of the test rows: it has collapsed to "
        "one class. Use class weights (balancing), more epochs or a higher learning rate."
    )


@dataclass(frozen=True)
class _Encoded:
    """One split, vectorized: encoder outputs, class indices, texts, sample weights."""

    inputs: dict[str, np.ndarray]
    y: np.ndarray
    texts: list[str] = field(default_factory=list)
    weights: np.ndarray | None = None


def _encode(
    frame: Any,
    encoder: keras.Model,
    prepared: PreparedData,
    on_rows: Callable[[int], None] | None = None,
) -> _Encoded:
    texts = frame["text"].tolist()
    inputs = encode(encoder, texts, on_rows=on_rows)
    index = {code: i for i, code in enumerate(prepared.classes)}
    y = np.array([index[label] for label in frame["label"]], dtype=np.int64)
    # A row of padding only would trip the cuDNN kernel's mask check (and average
    # nothing in a bag); prepare() drops texts without words, so this only removes
    # texts whose every word is filtered out (e.g. punctuation alone).
    keep = np.all([ids.any(axis=1) for ids in inputs.values()], axis=0)
    weights = None
    if prepared.class_weights is not None:
        per_class = np.array([prepared.class_weights[c] for c in prepared.classes], "float32")
        weights = per_class[y[keep]]
    return _Encoded(
        {name: ids[keep] for name, ids in inputs.items()},
        y[keep],
        [text for text, kept in zip(texts, keep) if kept],
        weights,
    )


def _batches(
    encoded: _Encoded,
    batch_size: int,
    shuffle_seed: int | None = None,
    outputs: list[str] | None = None,
) -> tf.data.Dataset:
    """``(inputs, y[, weights])`` batches; shuffled each epoch when a seed is given.

    For a model with several ``outputs`` (the ensemble's heads), the labels and
    weights are repeated per output name.
    """
    parts: tuple = (encoded.inputs, encoded.y)
    if encoded.weights is not None:
        parts = (*parts, encoded.weights)
    data = tf.data.Dataset.from_tensor_slices(parts)
    if shuffle_seed is not None:
        data = data.shuffle(len(encoded.y), seed=shuffle_seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if outputs:
        data = data.map(
            lambda inputs, *targets: (
                inputs,
                *({name: target for name in outputs} for target in targets),
            )
        )
    return data.prefetch(tf.data.AUTOTUNE)


def _even(batch_size: int, replicas: int) -> int:
    """``batch_size`` rounded down to a multiple of ``replicas`` (at least ``replicas``)."""
    return max(replicas, batch_size - batch_size % replicas)


def _trimmed(encoded: _Encoded, replicas: int) -> _Encoded:
    """``encoded`` cut to a multiple of ``replicas`` rows (drops at most ``replicas - 1``).

    With batch sizes that are multiples too (:func:`_even`), every batch, the last
    one included, splits evenly across devices: an uneven split trips
    ``MirroredStrategy``'s all-reduce (``AddN`` of unequal shapes).
    """
    keep = len(encoded.y) - len(encoded.y) % replicas
    if keep == len(encoded.y):
        return encoded
    return _Encoded(
        {name: ids[:keep] for name, ids in encoded.inputs.items()},
        encoded.y[:keep],
        encoded.texts[:keep],
        None if encoded.weights is None else encoded.weights[:keep],
    )


class _StopOnEvent(keras.callbacks.Callback):
    """Ends ``fit`` after the current batch once the event is set, and cuts the
    epoch's validation short after its current batch (Keras would otherwise
    validate a stopped epoch to the end)."""

    # Keras may call it off the training thread: it reads no logs, so it never
    # waits for the device.
    async_safe = True

    def __init__(self, stop_event: threading.Event) -> None:
        super().__init__()
        self.stop_event = stop_event

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.stop_event.is_set():
            self.model.stop_training = True

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.stop_event.is_set():
            self.model.stop_training = True
            self.model.stop_evaluating = True


class _RowsDone(keras.callbacks.Callback):
    """Calls ``report(batch)`` after every batch of a ``predict``."""

    async_safe = True

    def __init__(self, report: Callable[[int], None]) -> None:
        super().__init__()
        self.report = report

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.report(batch)


class _BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the lowest validation loss (in memory).

    ``epoch`` is the best epoch of *this* fit (numbered like the history), so a
    continued run never names a parent epoch whose weights it does not hold.
    """

    def __init__(self, min_delta: float, stop_event: threading.Event) -> None:
        super().__init__()
        self.min_delta = min_delta
        self.stop_event = stop_event
        self.best_loss = math.inf
        self.epoch: int | None = None
        self.weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.stop_event.is_set():
            return  # a stopped epoch's validation loss is measured on a few batches only
        loss = float((logs or {}).get("val_loss", math.inf))
        if math.isfinite(loss) and loss < self.best_loss - self.min_delta:
            self.best_loss, self.epoch = loss, epoch + 1
            self.weights = self.model.get_weights()

    def restore(self, model: keras.Model) -> None:
        """Put the best weights back into ``model`` (no-op when none was kept)."""
        if self.weights is not None:
            model.set_weights(self.weights)


class _ProgressReporter(keras.callbacks.Callback):
    """Turns Keras callbacks into :class:`ProgressEvent` and keeps the history.

    Batch and validation events are throttled to one per
    :data:`~pipeline.progress.EVENT_INTERVAL_S` (an epoch's last training batch
    always reports) and may run off the training thread (``async_safe``), so
    reading the logs never makes the training loop wait for the device. A NaN
    loss ends training at the epoch's end.
    """

    async_safe = True

    def __init__(
        self,
        notify: ProgressListener,
        history: list[dict[str, Any]],
        epochs: int,
        batches: int,
        validation_batches: int,
        started: float,
    ) -> None:
        super().__init__()
        self.notify = notify
        self.history = list(history)
        self.epochs = epochs
        self.batches = batches
        self.validation_batches = validation_batches
        self.started = started
        self.first_epoch = len(history) + 1
        self.epoch = self.first_epoch
        self.epoch_started = started
        self.last_event = 0.0
        self.train_logs: dict[str, float] = {}

    def _event(
        self,
        kind: EventKind,
        batch: int,
        logs: dict[str, float],
        message: str = "",
        batches: int | None = None,
    ) -> None:
        self.last_event = time.perf_counter()
        self.notify(
            ProgressEvent(
                kind=kind,
                epoch=self.epoch,
                epochs=self.epochs,
                batch=batch,
                batches=self.batches if batches is None else batches,
                logs=logs,
                elapsed_s=self.last_event - self.started,
                history=tuple(self.history),
                message=message,
                first_epoch=self.first_epoch,
            )
        )

    def _due(self) -> bool:
        return time.perf_counter() - self.last_event >= EVENT_INTERVAL_S

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._event("start", 0, {}, PHASES["training"])

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch + 1
        self.epoch_started = time.perf_counter()
        self.train_logs = {}

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._due() or batch + 1 == self.batches:
            self.train_logs = _floats(logs)
            self._event("batch", batch + 1, self.train_logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        # Only fit's own validation calls back here: the test set is scored by predict.
        self._event("validation", 0, self.train_logs, batches=self.validation_batches)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._due():
            self._event("validation", batch + 1, self.train_logs, batches=self.validation_batches)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {"epoch": epoch + 1, **_floats(logs)}
        row.pop("learning_rate", None)
        row["learning_rate"] = float(self.model.optimizer.learning_rate.numpy())
        row["seconds"] = round(time.perf_counter() - self.epoch_started, 3)
        if self.model.stop_training:  # stopped part way through this epoch
            row["partial"] = True
        if not math.isfinite(row.get("loss", 0.0)):
            self.model.stop_training = True
        self.history.append(row)
        self._event("epoch", self.batches, _floats(logs))


#: Log names of the ensemble's averaged output, and the names every other model uses.
_RENAMED_LOGS = {
    "probabilities_accuracy": "accuracy",
    "val_probabilities_accuracy": "val_accuracy",
}


def _floats(logs: dict | None) -> dict[str, float]:
    return {
        _RENAMED_LOGS.get(key, key): float(value)
        for key, value in (logs or {}).items()
        # the averaged output is scored, never trained: its zero-weighted loss says nothing
        if key not in {"probabilities_loss", "val_probabilities_loss"}
    }
