"""Training a run: prepare, vectorize, fit, evaluate, save — or find it in the cache.

The orchestration: the fit is :mod:`pipeline.training.fit`'s, the evaluation
:mod:`pipeline.training.evaluate`'s and the saved documents
:mod:`pipeline.training.run_documents`'.

:func:`train_run` is the one entry point the CLI, the background jobs and the
tests call. It reports every phase and progress through a plain callable (see
:class:`ProgressEvent`), stops within one batch when ``stop_event`` is set, and
always keeps the weights of the best validation epoch. The TF-IDF baseline is
fitted once per (data, data settings), on a worker thread beside ``fit``.

What a run keeps: ``model.keras`` without optimizer state (for predictions and
archives), ``training_state.h5`` with the optimizer's state (only continuing the run
reads it; see :mod:`pipeline.training.state`), and TensorBoard logs under ``logs/``,
written while training into a hidden folder that the registry's atomic save moves in.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from pipeline.core.config import ExperimentConfig, resolve_learning_rate
from pipeline.core.device import apply_precision_policy, training_strategy
from pipeline.core.errors import TrainingError, TrainingStopped
from pipeline.core.memory import release_free_memory_if_large
from pipeline.core.progress import (
    EVENT_INTERVAL_S,
    PHASE_GERUNDS,
    PHASES,
    CountUnit,
    EventKind,
    Phase,
    ProgressEvent,
    ProgressListener,
    TrainResult,
    cached_event,
    describe_end,
    end_event,
)
from pipeline.data import Dataset, fingerprint
from pipeline.data.prepare import PreparedData, prepare
from pipeline.models import build_classifier, compile_for_training
from pipeline.models.features import (
    build_encoder,
    encode,
    feature_shapes,
    split_end_to_end_model,
    splits_cjk,
)
from pipeline.models.lean import is_lean, lean_classifier, trainable_classifier
from pipeline.models.text import choose_sequence_length
from pipeline.runs.history import EpochRow
from pipeline.runs.ids import resolve_run
from pipeline.runs.model_file import save_model_file
from pipeline.runs.record import OptimizerState
from pipeline.runs.registry import RunRegistry
from pipeline.runs.results import RowPredictions
from pipeline.runs.summary import SavedRun
from pipeline.sessions.access import strictest_owner
from pipeline.training.baseline import (
    BaselineFit,
    baseline_key,
    pair_with_baseline,
    start_baseline,
    wait_for_baseline,
)
from pipeline.training.batches import EncodedSplit, encode_split
from pipeline.training.callbacks import tensorboard_available
from pipeline.training.encoder_cache import (
    CACHED_STEP,
    SPLITS,
    CachedEncoding,
    EncoderCache,
    encoder_key,
)
from pipeline.training.evaluate import collapse_note, decision_rule, evaluate_test_set
from pipeline.training.fit import fit_classifier
from pipeline.training.run_documents import run_record
from pipeline.training.state import (
    has_optimizer_state,
    inference_model,
    restore_optimizer_state,
    save_optimizer_state,
)

__all__ = ["TrainResult", "TrainingStopped", "cached_event", "train_run"]

# One training at a time per process: Keras' global seed and the device are shared.
_TRAINING_LOCK = threading.Lock()
_LOG = logging.getLogger(__name__)


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
        Where runs live (default ``pipeline.runs.registry.default_runs_dir()``).
    on_progress : callable, optional
        Receives :class:`ProgressEvent` at start, after every batch and epoch, and
        at the end. It runs on the training thread: keep it quick.
    stop_event : threading.Event, optional
        When set, training ends after the current batch (a bag's current call of up to
        16 short batches); the best epoch so far is
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
    # a run continued from a private run is private too, whatever the data
    owner = strictest_owner(parent.run.owner if parent else None, owner)

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
        self.optimizer_state: OptimizerState | None = None
        self.log_dir: Path | None = None
        self.encoder_cache = EncoderCache(registry.root / ".encoders")
        self.encoder_key = encoder_key(
            self.data_fingerprint, dataclasses.asdict(config.data), config.model
        )
        self.cached: CachedEncoding | None = None

    def phase(self, phase: Phase) -> None:
        """Announce that ``phase`` begins."""
        self.current_phase = phase
        self._notify_outside_fit("phase", PHASES[phase], time.perf_counter())

    def _notify_outside_fit(self, kind: EventKind, message: str, now: float, **counts: Any) -> None:
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

    def rows(
        self,
        step: str,
        done: int,
        total: int,
        *,
        stoppable: bool = True,
        unit: CountUnit = "rows",
    ) -> None:
        """Report ``done`` of ``total`` rows of ``step`` (throttled, the last one always),
        or with ``unit="steps"`` a solver's ``done`` steps (``total`` 0, every one told).

        When ``stoppable``, raise :class:`TrainingStopped` once a stop was asked for;
        the test set of a run that will be kept is always scored to the end.
        """
        if stoppable:
            self.check_stop()
        now = time.perf_counter()
        if done < total and now - self.last_rows_event < EVENT_INTERVAL_S:
            return
        self.last_rows_event = now
        self._notify_outside_fit("rows", step, now, done=done, total=total, unit=unit)

    def check_stop(self) -> None:
        """Raise :class:`TrainingStopped` when a stop was asked for before any epoch ended."""
        if self.stop_event.is_set():
            raise TrainingStopped(
                f"Stopped while {PHASE_GERUNDS[self.current_phase]}, before the first epoch "
                "ended; nothing was saved."
            )

    def run(self) -> TrainResult:
        if tensorboard_available():
            self.log_dir = self.registry.new_logs_folder(self.run_id)
        else:
            _LOG.warning(
                "No TensorBoard logs for run %s: the tensorboard package is not installed "
                "(pip install tensorboard).",
                self.run_id,
            )
        try:
            return self._run()
        finally:
            if self.log_dir is not None:  # moved into the run when it was saved
                shutil.rmtree(self.log_dir, ignore_errors=True)

    def _run(self) -> TrainResult:
        self.phase("preparing")
        prepared = prepare(self.dataset, self.config.data)
        self.check_stop()
        baseline = start_baseline(
            prepared,
            self.registry.root / ".baselines",
            baseline_key(self.data_fingerprint, dataclasses.asdict(self.config.data)),
        )
        try:
            keras.utils.set_random_seed(self.config.train.seed)
            strategy, device = training_strategy()
            self.replicas = strategy.num_replicas_in_sync
            self.phase("vectorizing")
            policy = apply_precision_policy(self.config.train.mixed_precision)
            try:
                with strategy.scope():
                    encoder, classifier = self._model(prepared)
                    fit_model = compile_for_training(
                        classifier,
                        self.config.model,
                        resolve_learning_rate(
                            self.config.model.learning_rate,
                            self.config.train.batch_size,
                            len(prepared.train),
                        ),
                    )
                    if self.parent is not None:
                        self.optimizer_state = self._restore_optimizer(fit_model)
            finally:
                apply_precision_policy("off")
            splits = self._encode_splits(encoder, prepared)
            # The vocabulary's counting and the encoding leave freed memory in the heap;
            # handed back now, the optimizer's moments (allocated by the first step)
            # do not stack on it: the fit is the job's memory peak.
            release_free_memory_if_large(_rows_of(prepared))
            history, stopped = self._fit(fit_model, splits["train"], splits["validation"])
            new_epochs = history[len(self._parent_history()) :]
            if stopped and all(row.partial for row in new_epochs):
                raise TrainingStopped(
                    "Stopped while training, before the first epoch ended; nothing was saved."
                )
            self.phase("evaluating")
            decided = decision_rule(
                encoder, classifier, splits, prepared, self.config, self.rows, self.stop_event
            )
            classifier, encoder, splits = decided.classifier, decided.encoder, decided.splits
            blend, shift = decided.blend, decided.shift
            # The test scores are the saved model's: the lean one (pipeline.models.lean).
            lean = lean_classifier(classifier)
            metrics, predictions = evaluate_test_set(lean, splits["test"], prepared, self.rows)
            if blend is not None:
                metrics["blend"] = blend.to_json()
            if shift is not None:
                metrics["prior_shift"] = shift.to_json()
            metrics["baseline"] = wait_for_baseline(
                baseline, self.stop_event, on_wait=lambda: self.phase("baseline")
            )
            # The baseline's per-row answers go to test_predictions.json (on the model's
            # rows, in its order), and the paired interval to metrics.json.
            metrics["baseline"], predictions, vs_baseline = pair_with_baseline(
                metrics["baseline"], predictions, splits["test"].positions, prepared.classes
            )
            if vs_baseline is not None:
                metrics["vs_baseline"] = vs_baseline
            stopped = stopped or self.stop_event.is_set()
        finally:
            if isinstance(baseline, BaselineFit):
                baseline.cancel()  # a no-op once it is done; a stopped training ends it
        metrics["collapsed"] = collapse_note(metrics, prepared)
        self.phase("saving")
        del splits  # the encoded rows: freed before the save, the job's memory peak
        release_free_memory_if_large(_rows_of(prepared))
        end_to_end = inference_model(encoder, lean)
        training_copy = None if not is_lean(lean) else inference_model(encoder, classifier)
        duration = time.perf_counter() - self.started
        record = run_record(
            run_id=self.run_id,
            config=self.config,
            parent=self.parent,
            owner=self.owner,
            dataset=self.dataset,
            data_fingerprint=self.data_fingerprint,
            prepared=prepared,
            encoder=encoder,
            history=history,
            metrics=metrics,
            stopped=stopped,
            device=device,
            duration=duration,
            precision=policy,
            batch_size=self.batch_size,
            optimizer_state=self.optimizer_state,
        )
        # A stopped retraining never replaces a complete run: it may come back under
        # an id of its own.
        saved = self.registry.save(
            record,
            lambda path: save_model_file(end_to_end, path),
            write_training_state=(lambda path: save_optimizer_state(fit_model, path))
            if has_optimizer_state(fit_model)
            else None,
            write_training_model=None if training_copy is None else training_copy.save,
            logs=self.log_dir,
            predictions=None if predictions is None else RowPredictions.parse(predictions, record),
        )
        self.notify(end_event(saved, describe_end(history, stopped)))
        return TrainResult(saved.run_id, saved.path, from_cache=False, stopped=stopped)

    def _encode_splits(
        self, encoder: keras.Model, prepared: PreparedData
    ) -> dict[str, EncodedSplit]:
        """Every split through ``encoder`` (or its ids from the cache), reporting rows done
        over all three; a new encoding is kept in the cache for the next training."""
        frames = {name: prepared.split(name) for name in SPLITS}
        total = sum(len(frame) for frame in frames.values())
        ids: dict[str, dict[str, np.ndarray]] = {}
        encoded: dict[str, EncodedSplit] = {}
        offset = 0
        for name, frame in frames.items():
            if self.cached is not None:
                ids[name] = self.cached.ids[name]
            else:
                ids[name] = encode(
                    encoder,
                    frame["text"].tolist(),
                    on_rows=lambda done, start=offset: self.rows(
                        "Vectorizing", start + done, total
                    ),
                )
            encoded[name] = encode_split(
                frame, lambda _, name=name: ids[name], prepared.classes, prepared.class_weights
            )
            offset += len(frame)
        if self.cached is None and self.parent is None:
            self.encoder_cache.save(self.encoder_key, CachedEncoding(encoder, ids))
        return encoded

    def _model(self, prepared: PreparedData) -> tuple[keras.Model, keras.Model]:
        if self.parent is None:
            encoder = self._encoder(prepared)
            shapes = feature_shapes(encoder, self.config.model)
            classifier = build_classifier(self.config.model, shapes, len(prepared.classes))
            return encoder, classifier
        if list(self.parent.labels.classes) != list(prepared.classes):
            raise TrainingError(
                f"Run {self.parent.run_id} was trained on classes "
                f"{', '.join(self.parent.labels.classes)} but this data has "
                f"{', '.join(prepared.classes)}; continue it on data with the same classes."
            )
        # The full model when the run kept one; a lean one's int8 tables become floats.
        encoder, classifier = split_end_to_end_model(
            self.registry.load_training_model(self.parent.run_id)
        )
        return encoder, trainable_classifier(classifier)

    def _encoder(self, prepared: PreparedData) -> keras.Model:
        """The encoder of the cached encoding of this data and these settings, or one
        built on the training rows (its vocabularies adapted)."""
        rows = {name: len(prepared.split(name)) for name in SPLITS}
        self.cached = self.encoder_cache.load(self.encoder_key, rows)
        if self.cached is not None:
            total = sum(rows.values())
            self.rows(CACHED_STEP, total, total)
            return self.cached.encoder
        texts = prepared.train["text"].tolist()
        length = self.config.model.sequence_length or choose_sequence_length(
            texts, splits_cjk(self.config.model)
        )
        return build_encoder(texts, self.config.model, length, on_rows=self.rows)

    def _restore_optimizer(self, fit_model: keras.Model) -> OptimizerState:
        """Load the parent's optimizer state into ``fit_model``'s optimizer (in the
        strategy's scope); ``"fresh"``, with a log line saying why, when it cannot."""
        assert self.parent is not None
        path = self.parent.training_state_path
        if not path.is_file():
            problem = (
                "it has no training_state.h5 (saved before optimizer states were kept, or imported)"
            )
        else:
            problem = restore_optimizer_state(fit_model, path)
        if problem is None:
            return "restored"
        _LOG.warning(
            "Run %s continues run %s with a fresh optimizer: %s.",
            self.run_id,
            self.parent.run_id,
            problem,
        )
        return "fresh"

    def _parent_history(self) -> list[EpochRow]:
        return list(self.parent.history) if self.parent is not None else []

    def _fit(
        self, fit_model: keras.Model, train: EncodedSplit, validation: EncodedSplit
    ) -> tuple[list[EpochRow], bool]:
        """Fit ``fit_model`` (the classifier, or the ensemble's training model sharing
        its layers); the history with the best epoch marked, and whether it stopped."""
        outputs = list(fit_model.output) if isinstance(fit_model.output, dict) else None
        self.phase("training")
        self.check_stop()  # before fit traces its step function (seconds, not interruptible)
        result = fit_classifier(
            fit_model,
            train,
            validation,
            self.config.train,
            notify=self.notify,
            stop_event=self.stop_event,
            started=self.started,
            history=self._parent_history(),
            replicas=self.replicas,
            outputs=outputs,
            log_dir=self.log_dir,
        )
        self.batch_size = result.batch_size
        return result.history, result.stopped


def _rows_of(prepared: PreparedData) -> int:
    """Rows of the three splits together."""
    return len(prepared.train) + len(prepared.validation) + len(prepared.test)
