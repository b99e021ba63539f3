"""The Keras callbacks of a fit and of a ``predict``: progress, stop, best weights, logs.

:class:`ProgressReporter` turns Keras' hooks into
:class:`~pipeline.core.progress.ProgressEvent` and keeps the history;
:class:`StopOnEvent` ends a fit once a stop is asked for; :class:`LeanEarlyStopping` is
Keras' early stopping holding one copy of the best weights; :class:`EpochTensorBoard`
writes TensorBoard logs, one point per epoch; :class:`RowsDone` reports a
``predict``'s batches. :mod:`pipeline.training.fit` puts them together.
"""

from __future__ import annotations

import importlib.util
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import keras

from pipeline.core.progress import (
    EVENT_INTERVAL_S,
    PHASES,
    EventKind,
    ProgressEvent,
    ProgressListener,
)
from pipeline.runs.history import EpochRow


def tensorboard_available() -> bool:
    """``tf.summary`` can write event files: the ``tensorboard`` package is installed
    (TensorFlow 2.20 and later no longer install it; without it, writing raises)."""
    return importlib.util.find_spec("tensorboard") is not None


class StopOnEvent(keras.callbacks.Callback):
    """Ends ``fit`` after the current batch once the event is set, and cuts the
    epoch's validation short after its current batch (Keras would otherwise
    validate a stopped epoch to the end). Keras calls it after each call of the step
    function: a bag's runs several short batches
    (:func:`pipeline.training.fit.steps_per_execution`).

    A validation cut short measures a few batches only: its ``val_loss`` is
    replaced by infinity before ``EarlyStopping`` reads it, so that epoch's
    weights are never taken for the best (the history keeps what was measured:
    the reporter runs first).
    """

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

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.stop_event.is_set() and logs is not None:
            logs["val_loss"] = math.inf


class LeanEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' ``EarlyStopping(restore_best_weights=True)``, holding one copy of the best
    weights at a time.

    Keras takes a new copy (``get_weights``) before it lets go of the one it replaces,
    and takes two at the first epoch: with an n-gram bag's 600,000-row embedding that is
    about 150 MB more at each epoch that improves, the training's memory peak. Here the
    old copy is dropped first, and the last one once it is back in the model; which
    epoch is kept, and when training stops, is Keras'.
    """

    #: Stands for "a copy is about to be taken" (never restored: replaced at once).
    _PENDING: ClassVar[list] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        improves = (
            self.restore_best_weights
            and current is not None
            and epoch >= self.start_from_epoch
            and (self.best_weights is None or self._is_improvement(current, self.best))
        )
        if improves:
            self.best_weights = self._PENDING  # frees the old copy; Keras takes the new one
        super().on_epoch_end(epoch, logs)
        if self.best_weights is self._PENDING:  # not an improvement after all (e.g. inf)
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

    #: The epoch (Keras' count, from 0) whose weights went back into the model at the
    #: end of training; ``None`` before, or when no epoch ended.
    restored_epoch: int | None = None

    def on_train_end(self, logs: dict | None = None) -> None:
        super().on_train_end(logs)  # the best weights go back into the model...
        if self.best_weights is not None:
            self.restored_epoch = self.best_epoch
        self.best_weights = None  # ...and their copy is freed before the save


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """``keras.callbacks.TensorBoard`` writing epoch scalars only, at no cost per batch.

    Per epoch: ``epoch_loss``, ``epoch_accuracy``, ``epoch_learning_rate`` under
    ``<log_dir>/train`` and the validation metrics under ``<log_dir>/validation``
    (step = the 0-based epoch, so a continued run's points follow its parent's),
    plus Keras' ``evaluation_*_vs_iterations`` after each validation. No
    histograms, images, graph, embeddings or profiling. The batch hooks are no-ops
    (with ``update_freq="epoch"`` Keras records nothing there anyway), so the
    callback is ``async_safe``: Keras' own overrides them and would make every
    batch wait for the device to hand its logs over.
    """

    async_safe = True

    def __init__(self, log_dir: Path) -> None:
        super().__init__(
            log_dir=str(log_dir),
            histogram_freq=0,
            write_graph=False,
            write_images=False,
            write_steps_per_second=False,
            update_freq="epoch",
            profile_batch=0,
            embeddings_freq=0,
        )

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass


class RowsDone(keras.callbacks.Callback):
    """Calls ``report(batch)`` after every batch of a ``predict``."""

    async_safe = True

    def __init__(self, report: Callable[[int], None]) -> None:
        super().__init__()
        self.report = report

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.report(batch)


class ProgressReporter(keras.callbacks.Callback):
    """Turns Keras callbacks into :class:`ProgressEvent` and keeps the history.

    Batch and validation events are throttled to one per
    :data:`~pipeline.core.progress.EVENT_INTERVAL_S` (an epoch's last training batch
    always reports) and may run off the training thread (``async_safe``), so
    reading the logs never makes the training loop wait for the device. A NaN
    loss ends training at the epoch's end.
    """

    async_safe = True

    def __init__(
        self,
        notify: ProgressListener,
        history: list[EpochRow],
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
        if self._due() or batch + 1 >= self.batches:
            self.train_logs = _floats(logs)
            self._event("batch", min(batch + 1, self.batches), self.train_logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        # Only fit's own validation calls back here: the test set is scored by predict.
        self._event("validation", 0, self.train_logs, batches=self.validation_batches)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._due():
            self._event("validation", batch + 1, self.train_logs, batches=self.validation_batches)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        metrics: dict[str, float | None] = dict(_floats(logs))
        metrics.pop("learning_rate", None)
        metrics["learning_rate"] = float(self.model.optimizer.learning_rate.numpy())
        metrics["seconds"] = round(time.perf_counter() - self.epoch_started, 3)
        # partial: stopped part way through this epoch
        row = EpochRow(epoch + 1, metrics, partial=bool(self.model.stop_training))
        if row.diverged:
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
