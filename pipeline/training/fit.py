"""The fit: encoded splits, their ``tf.data`` batches, the callbacks, ``model.fit``.

:func:`fit_classifier` trains a compiled model on two :class:`EncodedSplit` and
returns a :class:`FitResult`. It reports batches, validation and epochs through a
:data:`~pipeline.core.progress.ProgressListener`, ends after the current batch once a
stop is asked for (cutting a validation short too), stops early on validation
loss and always leaves the weights of the best epoch in the model (Keras' own
``EarlyStopping(restore_best_weights=True)``). Given a ``log_dir``, it writes
TensorBoard logs there, one point per epoch (:class:`EpochTensorBoard`). No
orchestration here: preparing, vectorizing, evaluating and saving are
:mod:`pipeline.training.train`'s.
"""

from __future__ import annotations

import importlib.util
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from pipeline.core.config import TrainConfig, resolve_batch_size
from pipeline.core.errors import TrainingError
from pipeline.core.progress import (
    EVENT_INTERVAL_S,
    PHASES,
    EventKind,
    ProgressEvent,
    ProgressListener,
)

#: Rows per batch when scoring (validation batches are capped by it too).
PREDICT_BATCH = 2048
#: Validation batches hold at most this many training batches: a stop is honoured
#: between two batches, so big models must not validate in huge ones.
VALIDATION_BATCHES_PER_TRAINING_BATCH = 4


#: Batches gathered in parallel and kept ready: a gather is one cheap op per input.
_PIPELINE_THREADS = 2
#: Models whose inputs take any number of ids (the n-gram bags) get batches of rows of
#: similar length, cut to their longest row: each epoch's shuffled rows are sorted by
#: length in pools of this many batches, and the pool's batches are shuffled again.
#: Padding is most of a bag's input (the character n-grams of a median UCI headline fill
#: 159 of 306 columns), and a padded column costs a bag as much as a real one.
LENGTH_POOL_BATCHES = 32
#: A cut batch's width is rounded up to a multiple of this.
_WIDTH_STEP = 8
#: No tf.data autotuning: its optimisation thread has to end before an iterator can
#: be freed, and under load that held the end of a stopped fit for 10-20 s (seen in
#: the app, with the Stop pressed during validation: the panel said "Stopping" for
#: that long). A fixed pipeline this small gains nothing from tuning.
_FIXED_PIPELINE = tf.data.Options()
_FIXED_PIPELINE.autotune.enabled = False


def tensorboard_available() -> bool:
    """``tf.summary`` can write event files: the ``tensorboard`` package is installed
    (TensorFlow 2.20 and later no longer install it; without it, writing raises)."""
    return importlib.util.find_spec("tensorboard") is not None


@dataclass(frozen=True)
class EncodedSplit:
    """One split, vectorized: encoder outputs, class indices, texts, sample weights.

    ``inputs`` maps each encoder output name to int ids ``(rows, length)``; ``y``
    holds class indices ``(rows,)``; ``weights``, when the loss is class-weighted,
    each row's weight ``(rows,)``; ``positions``, when known, each row's position in
    the frame it was encoded from ``(rows,)`` (rows that encode to nothing are left out).
    """

    inputs: dict[str, np.ndarray]
    y: np.ndarray
    texts: list[str] = field(default_factory=list)
    weights: np.ndarray | None = None
    positions: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def head(self, rows: int) -> EncodedSplit:
        """The first ``rows`` rows."""
        if rows == len(self.y):
            return self
        return EncodedSplit(
            {name: ids[:rows] for name, ids in self.inputs.items()},
            self.y[:rows],
            self.texts[:rows],
            None if self.weights is None else self.weights[:rows],
            None if self.positions is None else self.positions[:rows],
        )


@dataclass(frozen=True)
class FitResult:
    """What a fit leaves besides the trained weights.

    ``history`` holds one dict per epoch (the parent's epochs first when a run is
    continued), with ``epoch`` (1-based), the Keras logs, ``learning_rate``,
    ``seconds``, ``partial`` for an epoch cut short by a stop and ``best`` on the
    epoch whose weights the model now holds. ``stopped`` says a stop was asked for.
    """

    history: list[dict[str, Any]]
    stopped: bool
    batch_size: int


def fit_classifier(
    model: keras.Model,
    train: EncodedSplit,
    validation: EncodedSplit,
    config: TrainConfig,
    *,
    notify: ProgressListener,
    stop_event: threading.Event,
    started: float,
    history: list[dict[str, Any]] | None = None,
    replicas: int = 1,
    outputs: list[str] | None = None,
    log_dir: Path | None = None,
) -> FitResult:
    """Fit ``model`` (compiled) for up to ``config.epochs`` more epochs.

    Parameters
    ----------
    model : keras.Model
        The compiled model ``fit`` trains (the ensemble's training model, whose
        ``outputs`` names get the labels repeated).
    train, validation : EncodedSplit
        The rows to learn from and to stop early on.
    config : TrainConfig
        Epochs, batch size, patience, schedule and seed.
    notify, stop_event, started
        Where progress goes, the stop request, and the job's ``perf_counter`` start.
    history : list of dict, optional
        The epochs a continued run already has; new epochs are numbered after them.
    replicas : int
        Devices training in sync: batches and splits are cut to multiples of it.
    outputs : list of str, optional
        The output names of a model with several (the labels are repeated per name).
    log_dir : Path, optional
        Where TensorBoard logs go (``train/`` and ``validation/`` event files); none
        are written without it.

    Returns
    -------
    FitResult

    Raises
    ------
    TrainingError
        The device ran out of memory, or the loss became NaN or infinite.
    """
    history = list(history or [])
    initial_epoch = len(history)
    batch_size = _even(resolve_batch_size(config.batch_size, len(train)), replicas)
    batches = math.ceil(len(train) / batch_size)
    validation_batch = _even(
        min(PREDICT_BATCH, VALIDATION_BATCHES_PER_TRAINING_BATCH * batch_size), replicas
    )
    reporter = ProgressReporter(
        notify,
        history,
        initial_epoch + config.epochs,
        batches,
        math.ceil(len(validation) / validation_batch),
        started,
    )
    early_stopping = LeanEarlyStopping(
        monitor="val_loss",
        patience=config.patience,
        min_delta=config.min_delta,
        restore_best_weights=True,
    )
    by_length = takes_any_length(model)
    callbacks: list[keras.callbacks.Callback] = [reporter]
    if log_dir is not None:
        # before StopOnEvent, which marks a cut-short epoch's val_loss infinite
        callbacks.append(EpochTensorBoard(log_dir))
    callbacks += [StopOnEvent(stop_event), early_stopping]
    if config.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=0, min_lr=1e-6, min_delta=config.min_delta
            )
        )
    try:
        model.fit(
            training_batches(
                _trimmed(train, replicas), batch_size, config.seed, outputs, by_length
            ),
            validation_data=training_batches(
                _trimmed(validation, replicas), validation_batch, None, outputs, by_length
            ),
            initial_epoch=initial_epoch,
            epochs=initial_epoch + config.epochs,
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
    _mark_best(history, early_stopping, initial_epoch)
    return FitResult(history, stop_event.is_set(), batch_size)


def _mark_best(
    history: list[dict[str, Any]], early_stopping: LeanEarlyStopping, first: int
) -> None:
    """Flag the epoch whose weights ``early_stopping`` restored (one of this fit's, so a
    continued run never names a parent epoch whose weights it does not hold)."""
    for row in history:
        row.pop("best", None)
    if early_stopping.restored_epoch is None:
        return
    best = early_stopping.restored_epoch + 1  # Keras counts from 0, the history from 1
    for row in history[first:]:
        if row["epoch"] == best:
            row["best"] = True


def encode_split(
    frame: Any,
    encode: Callable[[list[str]], dict[str, np.ndarray]],
    classes: list[str],
    class_weights: dict[str, float] | None,
) -> EncodedSplit:
    """Rows of ``frame`` (``text``, ``label``) as model inputs, labels and weights.

    ``encode`` turns texts into the encoder's id arrays. Rows whose every id is
    padding are left out: such a row would trip the cuDNN kernel's mask check (and
    average nothing in a bag). ``prepare()`` drops texts without words, so this
    only removes texts whose every word is filtered out (e.g. punctuation alone).
    """
    texts = frame["text"].tolist()
    inputs = encode(texts)
    index = {code: i for i, code in enumerate(classes)}
    y = np.array([index[label] for label in frame["label"]], dtype=np.int64)
    keep = np.all([ids.any(axis=1) for ids in inputs.values()], axis=0)
    weights = None
    if class_weights is not None:
        per_class = np.array([class_weights[c] for c in classes], "float32")
        weights = per_class[y[keep]]
    if keep.all():  # the usual case: no copy of every id array
        return EncodedSplit(inputs, y, texts, weights, np.arange(len(y)))
    return EncodedSplit(
        {name: ids[keep] for name, ids in inputs.items()},
        y[keep],
        [text for text, kept in zip(texts, keep, strict=True) if kept],
        weights,
        np.flatnonzero(keep),
    )


def takes_any_length(model: keras.Model) -> bool:
    """Whether every input of ``model`` takes rows of any number of ids (``(batch, None)``),
    so that :func:`training_batches` may cut a batch to its longest row."""
    return all(len(x.shape) == 2 and x.shape[1] is None for x in model.inputs)


def training_batches(
    encoded: EncodedSplit,
    batch_size: int,
    shuffle_seed: int | None = None,
    outputs: list[str] | None = None,
    by_length: bool = False,
) -> tf.data.Dataset:
    """``(inputs, y[, weights])`` batches; shuffled each epoch when a seed is given.

    Row indices are shuffled and batched, then each batch is gathered from the
    arrays in one call: shuffling and batching whole rows one by one would cost
    more than a small model's training step. For a model with several ``outputs``
    (the ensemble's heads), the labels and weights are repeated per output name.

    With ``by_length`` (ids padded at the end, a model that :func:`takes_any_length`),
    a batch holds rows of similar length (sorted in pools of
    :data:`LENGTH_POOL_BATCHES` batches) and each input is cut to the batch's longest
    row: the same rows and the same values, minus most of the padding.
    """
    columns: tuple = (encoded.inputs, encoded.y)
    if encoded.weights is not None:
        columns = (*columns, encoded.weights)
    arrays = tf.nest.flatten(columns)
    # the inputs come first in ``arrays``; labels and weights are never cut
    inputs_count = len(tf.nest.flatten(encoded.inputs))
    widths = (
        [_row_lengths(a) if i < inputs_count else None for i, a in enumerate(arrays)]
        if by_length
        else None
    )
    rows = tf.data.Dataset.range(len(encoded))
    if shuffle_seed is not None:
        rows = rows.shuffle(len(encoded), seed=shuffle_seed, reshuffle_each_iteration=True)
    if by_length:
        key = tf.constant(max(widths[:inputs_count], key=lambda lengths: lengths.sum()))
        pools = rows.batch(batch_size * LENGTH_POOL_BATCHES)
        sorted_pools = pools.map(
            lambda index: tf.gather(index, tf.argsort(tf.gather(key, index), stable=True))
        )
        index_batches = sorted_pools.flat_map(
            lambda index: tf.data.Dataset.from_tensor_slices(index).batch(batch_size)
        ).apply(tf.data.experimental.assert_cardinality(_pooled_batches(len(encoded), batch_size)))
        if shuffle_seed is not None:
            index_batches = index_batches.shuffle(
                LENGTH_POOL_BATCHES, seed=shuffle_seed + 1, reshuffle_each_iteration=True
            )
    else:
        index_batches = rows.batch(batch_size)

    def take(index: np.ndarray) -> list[np.ndarray]:
        if widths is None:
            return [array[index] for array in arrays]
        # a view of the needed columns first, so the gather copies only those
        return [
            array[index] if width is None else array[:, : _batch_width(width[index], array)][index]
            for array, width in zip(arrays, widths, strict=True)
        ]

    def gather(index: tf.Tensor) -> tuple:
        # Gathered from the numpy arrays themselves: tf.constant would copy every row
        # into TensorFlow's memory for as long as the fit runs (the character n-grams
        # of the accurate preset: about 400 MB on the bundled data).
        parts = tf.numpy_function(take, [index], [a.dtype for a in arrays], stateful=False)
        for part, array, width in zip(parts, arrays, widths or [None] * len(arrays), strict=True):
            part.set_shape((None, *array.shape[1:]) if width is None else (None, None))
        inputs, *targets = tf.nest.pack_sequence_as(columns, parts)
        # ids are stored as int32 (see pipeline.models.features.encode); the inputs are int64
        inputs = {name: tf.cast(ids, tf.int64) for name, ids in inputs.items()}
        if outputs:
            return (inputs, *({name: target for name in outputs} for target in targets))
        return (inputs, *targets)

    data = index_batches.map(gather, num_parallel_calls=_PIPELINE_THREADS)
    return data.prefetch(_PIPELINE_THREADS).with_options(_FIXED_PIPELINE)


def _pooled_batches(rows: int, batch_size: int) -> int:
    """Batches of :func:`training_batches` by length: every full pool's, then the last
    pool's (so Keras knows an epoch's length from the start, as for plain batches)."""
    pool = batch_size * LENGTH_POOL_BATCHES
    full, rest = divmod(rows, pool)
    return full * LENGTH_POOL_BATCHES + math.ceil(rest / batch_size)


def _row_lengths(ids: np.ndarray) -> np.ndarray:
    """Ids per row before the end padding (every real id is at least 1)."""
    return np.count_nonzero(ids, axis=1).astype(np.int32)


def _batch_width(lengths: np.ndarray, ids: np.ndarray) -> int:
    """The batch's longest row, rounded up to :data:`_WIDTH_STEP`, at most the full width."""
    longest = int(lengths.max(initial=1))
    return min(ids.shape[1], -(-longest // _WIDTH_STEP) * _WIDTH_STEP)


def _even(batch_size: int, replicas: int) -> int:
    """``batch_size`` rounded down to a multiple of ``replicas`` (at least ``replicas``)."""
    return max(replicas, batch_size - batch_size % replicas)


def _trimmed(encoded: EncodedSplit, replicas: int) -> EncodedSplit:
    """``encoded`` cut to a multiple of ``replicas`` rows (drops at most ``replicas - 1``).

    With batch sizes that are multiples too (:func:`_even`), every batch, the last
    one included, splits evenly across devices: an uneven split trips
    ``MirroredStrategy``'s all-reduce (``AddN`` of unequal shapes).
    """
    return encoded.head(len(encoded) - len(encoded) % replicas)


class StopOnEvent(keras.callbacks.Callback):
    """Ends ``fit`` after the current batch once the event is set, and cuts the
    epoch's validation short after its current batch (Keras would otherwise
    validate a stopped epoch to the end).

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
