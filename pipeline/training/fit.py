"""The fit loop: ``model.fit`` over the batches of :mod:`pipeline.training.batches`
with the callbacks of :mod:`pipeline.training.callbacks`.

:func:`fit_classifier` trains a compiled model on two
:class:`~pipeline.training.batches.EncodedSplit` and returns a :class:`FitResult`. It
reports batches, validation and epochs through a
:data:`~pipeline.core.progress.ProgressListener`, ends after the current batch once a
stop is asked for (cutting a validation short too), stops early on validation
loss and always leaves the weights of the best epoch in the model (Keras' own
``EarlyStopping(restore_best_weights=True)``). Given a ``log_dir``, it writes
TensorBoard logs there, one point per epoch
(:class:`~pipeline.training.callbacks.EpochTensorBoard`). No orchestration here:
preparing, vectorizing, evaluating and saving are :mod:`pipeline.training.train`'s.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from pipeline.core.config import TrainConfig, resolve_batch_size
from pipeline.core.errors import TrainingError
from pipeline.core.progress import ProgressListener
from pipeline.runs.history import EpochRow
from pipeline.training.batches import EncodedSplit, takes_any_length, training_batches
from pipeline.training.callbacks import (
    EpochTensorBoard,
    LeanEarlyStopping,
    ProgressReporter,
    StopOnEvent,
)

#: Rows per batch when scoring (validation batches are capped by it too).
PREDICT_BATCH = 2048
#: Validation batches hold at most this many training batches: a stop is honoured
#: between two batches, so big models must not validate in huge ones.
VALIDATION_BATCHES_PER_TRAINING_BATCH = 4
#: An n-gram bag's step is a few milliseconds of work, and Keras' own loop around it
#: (a Python call, the callbacks) costs about a third as much again: a bag runs up to
#: this many rows of batches, at most :data:`MAX_STEPS_PER_EXECUTION` of them, in one
#: call of its step function (``steps_per_execution``). A stop waits for the call to
#: end: on the bundled data, 16 batches of the default take about 0.3 s.
ROWS_PER_EXECUTION = 32_768
MAX_STEPS_PER_EXECUTION = 16


@dataclass(frozen=True)
class FitResult:
    """What a fit leaves besides the trained weights.

    ``history`` holds one :class:`~pipeline.runs.history.EpochRow` per epoch (the
    parent's epochs first when a run is continued), with ``epoch`` (1-based), the Keras
    logs, ``learning_rate``, ``seconds``, ``partial`` for an epoch cut short by a stop
    and ``best`` on the epoch whose weights the model now holds. ``stopped`` says a stop
    was asked for.
    """

    history: list[EpochRow]
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
    history: list[EpochRow] | None = None,
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
    history : list of EpochRow, optional
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
    training_data = training_batches(
        _trimmed(train, replicas), batch_size, config.seed, outputs, by_length
    )
    _set_steps_per_execution(model, steps_per_execution(model, batch_size, replicas))
    try:
        model.fit(
            training_data,
            # With the epoch's length given, Keras makes the next epoch's iterator as soon
            # as an epoch's last batch is taken, so its batches are planned and gathered
            # during the validation pass instead of at the next epoch's start (about a
            # tenth of an epoch of the default on the bundled data).
            steps_per_epoch=int(training_data.cardinality()),
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
    if any(row.diverged for row in history[initial_epoch:]):
        raise TrainingError(
            "Training diverged: the loss became NaN or infinite, so nothing was saved. "
            "Lower the learning rate (e.g. 0.001) or raise the batch size."
        )
    history = _mark_best(history, early_stopping, initial_epoch)
    return FitResult(history, stop_event.is_set(), batch_size)


def steps_per_execution(model: keras.Model, batch_size: int, replicas: int = 1) -> int:
    """Batches of ``batch_size`` rows that one call of ``model``'s step function runs:
    up to :data:`ROWS_PER_EXECUTION` rows (at most :data:`MAX_STEPS_PER_EXECUTION`
    batches) for a bag (a model that :func:`~pipeline.training.batches.takes_any_length`),
    whose steps are short; one for the other families, whose steps can last seconds, and
    on several devices (``replicas``): Keras' loop of steps fails there on batches of
    varying width (``InvalidArgumentError`` in ``while/cond``, TensorFlow 2.21)."""
    if not takes_any_length(model) or replicas > 1:
        return 1
    return max(1, min(MAX_STEPS_PER_EXECUTION, ROWS_PER_EXECUTION // batch_size))


def _set_steps_per_execution(model: keras.Model, steps: int) -> None:
    """Make ``model``'s fit, evaluation and prediction run ``steps`` batches a call
    (their step functions are traced again on first use when the count changes)."""
    if model.steps_per_execution != steps:
        model.steps_per_execution = steps
        model.train_function = model.test_function = model.predict_function = None


def _mark_best(
    history: list[EpochRow], early_stopping: LeanEarlyStopping, first: int
) -> list[EpochRow]:
    """``history`` with the epoch whose weights ``early_stopping`` restored flagged
    ``best`` (one of this fit's, so a continued run never names a parent epoch whose
    weights it does not hold), and no other."""
    restored = early_stopping.restored_epoch
    best = None if restored is None else restored + 1  # Keras counts from 0, the history from 1
    return [
        row.marked_best(index >= first and row.epoch == best) for index, row in enumerate(history)
    ]


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
