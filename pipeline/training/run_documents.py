"""The documents a trained run is saved with, checked as one :class:`RunRecord`.

:func:`run_record` gathers ``config.json``, ``labels.json``, ``history.json``,
``metrics.json``, ``data.json`` and ``run.json`` from what a training made and resolved;
:mod:`pipeline.training.train` hands the record to the registry's save.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import keras
import tensorflow as tf

from pipeline.core.config import ExperimentConfig
from pipeline.data import Dataset
from pipeline.data.prepare import PreparedData
from pipeline.models.features import feature_shapes
from pipeline.runs.history import EpochRow, history_json
from pipeline.runs.record import SCHEMA_VERSION, OptimizerState, RunRecord
from pipeline.runs.summary import SavedRun


def run_record(
    *,
    run_id: str,
    config: ExperimentConfig,
    parent: SavedRun | None,
    owner: str | None,
    dataset: Dataset,
    data_fingerprint: str,
    prepared: PreparedData,
    encoder: keras.Model,
    history: list[EpochRow],
    metrics: dict[str, Any],
    stopped: bool,
    device: str,
    duration: float,
    precision: str,
    batch_size: int,
    optimizer_state: OptimizerState | None,
) -> RunRecord:
    """The run's documents, checked by :class:`RunRecord` before anything is written.

    ``run_id``, ``config``, ``parent`` (the run continued, if any), ``owner``,
    ``dataset`` and its ``data_fingerprint`` name the run; ``prepared``, ``encoder``,
    ``history``, ``metrics`` and ``stopped`` are what the training made of it;
    ``device``, ``duration`` (seconds), ``precision``, ``batch_size`` and
    ``optimizer_state`` are what it resolved on the way.
    """
    parent_history = list(parent.history) if parent is not None else []
    shapes = feature_shapes(encoder, config.model)
    sequence_length = shapes["words"].length if "words" in shapes else shapes["ngrams"].length // 2
    best = next((row for row in history if row.best), None)
    if best is None and history:
        best = min(history, key=lambda row: _or_inf(row.val_loss))
    train_rows = len(prepared.train)
    fit_seconds = sum(row.seconds or 0.0 for row in history[len(parent_history) :])
    new_epochs = len(history) - len(parent_history)
    if prepared.summary is None:
        raise ValueError("The data has no preparation summary: prepare it with prepare().")
    documents = {
        "config.json": {
            **config.to_dict(),
            "parent_run_id": parent.run_id if parent else None,
            "resolved": {
                "sequence_length": sequence_length,
                "vocabulary_size": shapes["words"].vocabulary if "words" in shapes else None,
                "ngram_vocabulary_size": shapes["ngrams"].vocabulary
                if "ngrams" in shapes
                else None,
                "precision": precision,
                "batch_size": batch_size,
                "optimizer_state": optimizer_state,
            },
        },
        "labels.json": {
            "classes": list(prepared.classes),
            "names": {c: prepared.label_names.get(c, c) for c in prepared.classes},
        },
        "history.json": history_json(history),
        "metrics.json": metrics,
        "data.json": {
            "fingerprint": data_fingerprint,
            "dataset": dataset.name,
            "text_col": dataset.text_col,
            "label_col": dataset.label_col,
            **prepared.summary.to_json(),
        },
        "run.json": {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "status": "stopped" if stopped else "complete",
            "origin": "trained",
            "owner": owner,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": round(duration, 2),
            "device": device,
            "dataset": dataset.name,
            "best_epoch": best.epoch if best else None,
            "samples_per_second": round(train_rows * new_epochs / fit_seconds, 1)
            if fit_seconds > 0
            else None,
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        },
    }
    return RunRecord.parse(documents)


def _or_inf(value: float | None) -> float:
    """``value``, or infinity for none (an epoch without a validation loss sorts last)."""
    return math.inf if value is None else value
