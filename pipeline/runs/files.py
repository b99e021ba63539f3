"""A run folder's files: their names, the size limit of a document, and JSON read.

A run lives in ``<runs_dir>/<run_id>/`` (see :mod:`pipeline.runs.registry`)::

    model.keras    end-to-end model: raw strings in, class probabilities out
    config.json    ExperimentConfig.to_dict() + parent_run_id + resolved settings
    labels.json    {"classes": [code, ...] in output order, "names": {code: name}}
    history.json   [{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}]
    metrics.json   test metrics, per-class report, confusion matrix, baseline
    data.json      data fingerprint, row counts through cleaning, split sizes
    run.json       schema version, status ("complete" | "stopped"), origin
                   ("trained" | "imported"), dates, duration, device, versions
    test_predictions.json   optional: every test row's position in the dataset, true and
                   predicted label, confidence (:class:`~pipeline.runs.results.RowPredictions`)
    training_state.h5   optional: the optimizer's state, read only to continue the run
    training_model.keras    optional: the full-precision model a lean model.keras came
                   from (:mod:`pipeline.models.lean`), read only to continue the run
    logs/          optional: TensorBoard event files (``logs/train``, ``logs/validation``)

The JSON documents are read here as plain JSON (:func:`read_json`, :func:`parse_json`,
:class:`~pipeline.core.errors.RunRecordError` when unreadable) and written by
:meth:`~pipeline.runs.registry.RunRegistry.save` with
:func:`~pipeline.core.atomic.write_json_atomically` (indented, UTF-8, a newline at the end;
``test_predictions.json`` compact, on one line: indented, its long lists would take a line
per item); :mod:`pipeline.runs.record` checks what they hold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.core.errors import RunRecordError

MODEL_FILE = "model.keras"
JSON_FILES = ("config.json", "labels.json", "history.json", "metrics.json", "data.json", "run.json")
RUN_FILES = (MODEL_FILE, *JSON_FILES)
#: Optional: every test row's prediction (runs saved before it have none).
PREDICTIONS_FILE = "test_predictions.json"
#: Optional: the optimizer's state, for continuing the run (never exported).
TRAINING_STATE_FILE = "training_state.h5"
#: Optional: the full model behind a lean ``model.keras``, for continuing (never exported).
TRAINING_MODEL_FILE = "training_model.keras"
#: Optional folder of TensorBoard event files (never exported).
LOGS_DIR = "logs"
#: Largest JSON document read from a run folder or an archive.
MAX_JSON_BYTES = 50 * 1024 * 1024


def read_json(path: Path) -> Any:
    """The JSON document at ``path``; :class:`RunRecordError` if it cannot be read, is over
    :data:`MAX_JSON_BYTES` or is not JSON."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise RunRecordError(f"{path.name} is over {MAX_JSON_BYTES // 2**20} MB")
        return parse_json(path.read_bytes(), path.name)
    except OSError as exc:
        raise RunRecordError(f"{path.name} cannot be read ({exc.strerror or exc})") from exc


def parse_json(raw: bytes, name: str) -> Any:
    """The JSON document ``raw`` (UTF-8) of the file ``name``; :class:`RunRecordError`
    naming the file if it is not JSON."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RunRecordError(f"{name} is not valid JSON ({exc})") from exc
