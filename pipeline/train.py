"""Training a run: prepare, vectorize, fit, evaluate, save — or find it in the cache.

:func:`train_run` is the one entry point the CLI, the background jobs and the
tests call. It reports progress through a plain callable (see
:class:`ProgressEvent`), stops within one batch when ``stop_event`` is set, and
always keeps the weights of the best validation epoch.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf

from pipeline.baseline import fit_and_score_baseline
from pipeline.config import ExperimentConfig, config_hash
from pipeline.data import Dataset, fingerprint
from pipeline.device import training_strategy
from pipeline.errors import TrainingError
from pipeline.evaluate import evaluate_probabilities
from pipeline.model import (
    build_classifier,
    build_end_to_end_model,
    compile_classifier,
    split_end_to_end_model,
)
from pipeline.prepare import PreparedData, prepare
from pipeline.registry import RunRegistry, SavedRun
from pipeline.text import build_vectorizer, choose_sequence_length, vectorize

EventKind = Literal["start", "batch", "epoch", "end"]
_PREDICT_BATCH = 1024
# One training at a time per process: Keras' global seed and the device are shared.
_TRAINING_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProgressEvent:
    """What a progress listener receives.

    ``epoch`` counts from 1 and continues a parent run's numbering; this fit runs
    epochs ``first_epoch`` to ``epochs`` (early stopping may end it sooner).
    ``batch`` counts from 1 within the epoch out of ``batches``. ``logs`` holds
    the latest metrics (batch means within an epoch; train and validation
    metrics at ``"epoch"``). ``history`` is the per-epoch history so far,
    parent epochs included.
    """

    kind: EventKind
    epoch: int
    epochs: int
    batch: int
    batches: int
    logs: dict[str, float]
    elapsed_s: float
    history: tuple[dict[str, Any], ...] = ()
    message: str = ""
    first_epoch: int = 1

    @property
    def fraction_done(self) -> float:
        """Share of this fit's batches done, in [0, 1]."""
        if self.kind == "end":
            return 1.0
        total = (self.epochs - self.first_epoch + 1) * self.batches
        done = (self.epoch - self.first_epoch) * self.batches + self.batch
        return min(max(done / total, 0.0), 1.0) if total > 0 else 0.0


ProgressListener = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class TrainResult:
    """``run_id`` of the saved run, whether it came from the cache or was stopped."""

    run_id: str
    run_dir: Path
    from_cache: bool
    stopped: bool


class TrainingStopped(TrainingError):
    """Stopped before the first epoch ended: there is nothing worth saving."""


def make_run_id(data_fingerprint: str, config: ExperimentConfig, parent_run_id: str | None) -> str:
    """The run id: a hash of the data fingerprint, every setting and the parent run."""
    return config_hash(
        {"data": data_fingerprint, "config": config.to_dict(), "parent": parent_run_id}
    )


def resolve_run(
    dataset: Dataset,
    config: ExperimentConfig,
    registry: RunRegistry,
    parent_run_id: str | None = None,
) -> tuple[ExperimentConfig, str]:
    """The settings a training will really use, and the id of the run it makes.

    Continuing a run keeps the parent's data and model settings and takes only
    ``config.train``. Raises :class:`RunNotFoundError` for an unknown parent and
    :class:`ConfigError` for a bad setting.
    """
    if parent_run_id:
        parent_config = ExperimentConfig.from_dict(registry.get(parent_run_id).config)
        config = replace(parent_config, train=config.train)
    config.validate()
    return config, make_run_id(fingerprint(dataset), config, parent_run_id)


def cached_event(saved: SavedRun) -> ProgressEvent:
    """The ``"end"`` event that reports ``saved`` as served from the cache."""
    return _end_event(saved, "Loaded from cache: trained before on this data and settings.")


def train_run(
    dataset: Dataset,
    config: ExperimentConfig,
    *,
    runs_dir: str | Path | None = None,
    on_progress: ProgressListener | None = None,
    stop_event: threading.Event | None = None,
    force: bool = False,
    parent_run_id: str | None = None,
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
        Continue this saved run for ``config.train.epochs`` more epochs.

    Returns
    -------
    TrainResult
    """
    registry = RunRegistry(runs_dir)
    notify = on_progress or (lambda event: None)
    config, run_id = resolve_run(dataset, config, registry, parent_run_id)
    parent = registry.get(parent_run_id) if parent_run_id else None

    cached = None if force else registry.find_complete(run_id)
    if cached is not None:
        notify(cached_event(cached))
        return TrainResult(run_id, cached.path, from_cache=True, stopped=False)

    with _TRAINING_LOCK:
        session = _TrainingSession(dataset, config, registry, run_id, parent, notify, stop_event)
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
    ) -> None:
        self.dataset = dataset
        self.config = config
        self.registry = registry
        self.run_id = run_id
        self.parent = parent
        self.notify = notify
        self.stop_event = stop_event or threading.Event()
        self.started = time.perf_counter()

    def run(self) -> TrainResult:
        prepared = prepare(self.dataset, self.config.data)
        keras.utils.set_random_seed(self.config.train.seed)
        strategy, device = training_strategy()
        with strategy.scope():
            vectorizer, classifier = self._model(prepared)
            compile_classifier(classifier, self.config.model.learning_rate)
        padding = self.config.model.padding
        splits = {
            name: _encode(frame, vectorizer, padding, prepared.classes)
            for name, frame in (
                ("train", prepared.train),
                ("validation", prepared.validation),
                ("test", prepared.test),
            )
        }
        history, stopped = self._fit(classifier, splits["train"], splits["validation"])
        new_epochs = history[len(self._parent_history()) :]
        if stopped and not any(not row.get("partial") for row in new_epochs):
            raise TrainingStopped(
                "Training was stopped before its first epoch finished; nothing was saved."
            )
        metrics = self._evaluate(classifier, splits["test"], prepared)
        end_to_end = build_end_to_end_model(vectorizer, classifier, padding)
        duration = time.perf_counter() - self.started
        documents = self._documents(
            prepared, vectorizer, history, metrics, stopped, device, duration
        )
        run_dir = self.registry.save(self.run_id, end_to_end.save, documents)
        saved = self.registry.get(self.run_id)
        self.notify(_end_event(saved, "Stopped; best epoch kept." if stopped else "Finished."))
        return TrainResult(self.run_id, run_dir, from_cache=False, stopped=stopped)

    def _model(self, prepared: PreparedData) -> tuple[keras.layers.TextVectorization, keras.Model]:
        if self.parent is None:
            length = self.config.model.sequence_length or choose_sequence_length(
                prepared.train["text"].tolist()
            )
            vectorizer = build_vectorizer(
                prepared.train["text"].tolist(), self.config.model, length
            )
            classifier = build_classifier(self.config.model, length, len(prepared.classes))
            return vectorizer, classifier
        if list(self.parent.labels["classes"]) != list(prepared.classes):
            raise TrainingError(
                f"Run {self.parent.run_id} was trained on classes "
                f"{', '.join(self.parent.labels['classes'])} but this data has "
                f"{', '.join(prepared.classes)}; continue it on data with the same classes."
            )
        return split_end_to_end_model(self.registry.load_model(self.parent.run_id))

    def _parent_history(self) -> list[dict[str, Any]]:
        return list(self.parent.history) if self.parent is not None else []

    def _fit(
        self, classifier: keras.Model, train: _Encoded, validation: _Encoded
    ) -> tuple[list[dict[str, Any]], bool]:
        cfg = self.config.train
        history = self._parent_history()
        initial_epoch = len(history)
        batches = math.ceil(len(train.ids) / cfg.batch_size)
        reporter = _ProgressReporter(
            self.notify, history, initial_epoch + cfg.epochs, batches, self.started
        )
        checkpoint_dir = self.registry.root / f".checkpoint-{self.run_id}"
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = checkpoint_dir / "best.weights.h5"
        callbacks = [
            reporter,
            _StopOnEvent(self.stop_event),
            keras.callbacks.TerminateOnNaN(),
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=cfg.patience,
                min_delta=cfg.min_delta,
                restore_best_weights=True,
            ),
            keras.callbacks.ModelCheckpoint(
                checkpoint, monitor="val_loss", save_best_only=True, save_weights_only=True
            ),
        ]
        try:
            classifier.fit(
                _batches(train, cfg.batch_size, shuffle_seed=cfg.seed),
                validation_data=_batches(validation, _PREDICT_BATCH),
                initial_epoch=initial_epoch,
                epochs=initial_epoch + cfg.epochs,
                callbacks=callbacks,
                shuffle=False,  # the tf.data pipeline shuffles
                verbose=0,
            )
            if checkpoint.is_file():
                classifier.load_weights(checkpoint)
        except tf.errors.ResourceExhaustedError as exc:
            raise TrainingError(
                "The device ran out of memory; lower the batch size, the vocabulary or the "
                "sequence length."
            ) from exc
        finally:
            for leftover in checkpoint_dir.glob("*"):
                leftover.unlink()
            checkpoint_dir.rmdir()
        return reporter.history, self.stop_event.is_set()

    def _evaluate(
        self, classifier: keras.Model, test: _Encoded, prepared: PreparedData
    ) -> dict[str, Any]:
        probabilities = classifier.predict(test.ids, batch_size=_PREDICT_BATCH, verbose=0)
        metrics = evaluate_probabilities(
            test.y, probabilities, prepared.classes, prepared.label_names, test.texts
        )
        metrics["baseline"] = fit_and_score_baseline(
            prepared.train["text"],
            prepared.train["label"],
            prepared.test["text"],
            prepared.test["label"],
        )
        return metrics

    def _documents(
        self,
        prepared: PreparedData,
        vectorizer: keras.layers.TextVectorization,
        history: list[dict[str, Any]],
        metrics: dict[str, Any],
        stopped: bool,
        device: str,
        duration: float,
    ) -> dict[str, Any]:
        sequence_length = int(vectorizer.get_config()["output_sequence_length"])
        best = min(history, key=lambda row: row.get("val_loss", math.inf)) if history else {}
        return {
            "config.json": {
                **self.config.to_dict(),
                "parent_run_id": self.parent.run_id if self.parent else None,
                "resolved": {
                    "sequence_length": sequence_length,
                    "vocabulary_size": int(vectorizer.vocabulary_size()),
                },
            },
            "labels.json": {
                "classes": list(prepared.classes),
                "names": {c: prepared.label_names.get(c, c) for c in prepared.classes},
            },
            "history.json": history,
            "metrics.json": metrics,
            "data.json": {
                "fingerprint": fingerprint(self.dataset),
                "dataset": self.dataset.name,
                "text_col": self.dataset.text_col,
                "label_col": self.dataset.label_col,
                **prepared.summary,
            },
            "run.json": {
                "run_id": self.run_id,
                "status": "stopped" if stopped else "complete",
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "duration_s": round(duration, 2),
                "device": device,
                "dataset": self.dataset.name,
                "preset": self.config.preset,
                "parent_run_id": self.parent.run_id if self.parent else None,
                "best_epoch": best.get("epoch"),
                "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
            },
        }


@dataclass(frozen=True)
class _Encoded:
    ids: np.ndarray
    y: np.ndarray
    num_classes: int
    texts: list[str] = field(default_factory=list)


def _encode(
    frame: Any, vectorizer: keras.layers.TextVectorization, padding: str, classes: list[str]
) -> _Encoded:
    texts = frame["text"].tolist()
    ids = vectorize(texts, vectorizer, padding)
    index = {code: i for i, code in enumerate(classes)}
    y = np.array([index[label] for label in frame["label"]], dtype=np.int64)
    # A row of padding only would trip the cuDNN kernel's mask check; prepare() drops
    # texts without words, so this only removes texts made of punctuation alone.
    keep = ids.any(axis=1)
    return _Encoded(ids[keep], y[keep], len(classes), [t for t, k in zip(texts, keep) if k])


def _batches(
    encoded: _Encoded, batch_size: int, shuffle_seed: int | None = None
) -> tf.data.Dataset:
    one_hot = keras.utils.to_categorical(encoded.y, num_classes=encoded.num_classes)
    data = tf.data.Dataset.from_tensor_slices((encoded.ids, one_hot.astype("float32")))
    if shuffle_seed is not None:
        data = data.shuffle(len(encoded.y), seed=shuffle_seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


class _StopOnEvent(keras.callbacks.Callback):
    """Ends ``fit`` after the current batch once the event is set."""

    def __init__(self, stop_event: threading.Event) -> None:
        super().__init__()
        self.stop_event = stop_event

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.stop_event.is_set():
            self.model.stop_training = True


class _ProgressReporter(keras.callbacks.Callback):
    """Turns Keras callbacks into :class:`ProgressEvent` and keeps the history."""

    def __init__(
        self,
        notify: ProgressListener,
        history: list[dict[str, Any]],
        epochs: int,
        batches: int,
        started: float,
    ) -> None:
        super().__init__()
        self.notify = notify
        self.history = list(history)
        self.epochs = epochs
        self.batches = batches
        self.started = started
        self.first_epoch = len(history) + 1
        self.epoch = self.first_epoch
        self.epoch_started = started

    def _event(self, kind: EventKind, batch: int, logs: dict | None, message: str = "") -> None:
        self.notify(
            ProgressEvent(
                kind=kind,
                epoch=self.epoch,
                epochs=self.epochs,
                batch=batch,
                batches=self.batches,
                logs=_floats(logs),
                elapsed_s=time.perf_counter() - self.started,
                history=tuple(self.history),
                message=message,
                first_epoch=self.first_epoch,
            )
        )

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._event("start", 0, None, "Training started.")

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch + 1
        self.epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._event("batch", batch + 1, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {"epoch": epoch + 1, **_floats(logs)}
        row["seconds"] = round(time.perf_counter() - self.epoch_started, 3)
        if self.model.stop_training:  # stopped part way through this epoch
            row["partial"] = True
        self.history.append(row)
        self._event("epoch", self.batches, logs)


def _floats(logs: dict | None) -> dict[str, float]:
    return {key: float(value) for key, value in (logs or {}).items()}


def _end_event(saved: SavedRun, message: str) -> ProgressEvent:
    epochs = len(saved.history)
    last = saved.history[-1] if saved.history else {}
    return ProgressEvent(
        kind="end",
        epoch=epochs,
        epochs=epochs,
        batch=0,
        batches=0,
        logs={k: v for k, v in last.items() if k not in {"epoch", "partial"}},
        elapsed_s=float(saved.run.get("duration_s", 0.0)),
        history=tuple(saved.history),
        message=message,
    )
