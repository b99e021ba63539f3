"""Saved runs as the registry hands them out: a run with its record, and a runs-table row.

:class:`SavedRun` is a run folder and its parsed :class:`~pipeline.runs.record.RunRecord`
(the model itself is loaded apart, by
:meth:`~pipeline.runs.registry.RunRegistry.load_model`); :class:`RunSummary` is one row of
the runs table, a damaged run's too (:func:`damaged_summary`). No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import RunRecordError
from pipeline.runs.files import (
    LOGS_DIR,
    MODEL_FILE,
    PREDICTIONS_FILE,
    TRAINING_MODEL_FILE,
    TRAINING_STATE_FILE,
    read_json,
)
from pipeline.runs.history import EpochRow
from pipeline.runs.record import DataRecord, Labels, RunConfig, RunInfo, RunRecord
from pipeline.runs.results import Metrics, RowPredictions

#: The caveat of a run stopped by hand (see :meth:`SavedRun.caveats`).
STOPPED_CAVEAT = "Training was stopped by hand: the scores are those of the best epoch before."


@dataclass(frozen=True)
class RunSummary:
    """One row of the runs table; a damaged run has ``problem`` set and little else."""

    run_id: str
    created_at: str
    preset: str
    family: str
    dataset: str
    accuracy: float | None
    macro_f1: float | None
    epochs: int
    duration_s: float
    status: str
    origin: str
    parent_run_id: str | None
    problem: str | None = None
    owner: str | None = None

    @property
    def damaged(self) -> bool:
        return self.problem is not None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SavedRun:
    """Everything a saved run holds except the model itself (see ``load_model``)."""

    path: Path
    record: RunRecord

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def config(self) -> RunConfig:
        return self.record.config

    @property
    def labels(self) -> Labels:
        return self.record.labels

    @property
    def history(self) -> tuple[EpochRow, ...]:
        return self.record.history

    @property
    def metrics(self) -> Metrics:
        return self.record.metrics

    @property
    def data(self) -> DataRecord:
        return self.record.data

    @property
    def run(self) -> RunInfo:
        return self.record.run

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def training_state_path(self) -> Path:
        """The optimizer state continuing the run reads (it may not exist: older and
        imported runs have none)."""
        return self.path / TRAINING_STATE_FILE

    @property
    def training_model_path(self) -> Path:
        """The full-precision model continuing the run trains on (runs saved before lean
        models, and imported runs, have none: their ``model.keras`` is it)."""
        return self.path / TRAINING_MODEL_FILE

    @property
    def logs_path(self) -> Path:
        """The run's TensorBoard logs folder (it may not exist)."""
        return self.path / LOGS_DIR

    @property
    def predictions_path(self) -> Path:
        """The run's per-row test predictions (it may not exist: older runs have none)."""
        return self.path / PREDICTIONS_FILE

    def test_predictions(self) -> RowPredictions | None:
        """The run's per-row test predictions, read and checked now.

        Returns
        -------
        RowPredictions or None
            ``None`` when the run has none (saved before they were kept).

        Raises
        ------
        RunRecordError
            The file is unreadable, or malformed, or disagrees with the run's documents.
        """
        if not self.predictions_path.is_file():
            return None
        try:
            return RowPredictions.parse(read_json(self.predictions_path), self.record)
        except RunRecordError as exc:
            raise RunRecordError(
                f"Run {self.run_id}'s {PREDICTIONS_FILE} is damaged ({str(exc).rstrip('.')}); "
                "train the run again to score its test rows afresh."
            ) from exc

    @property
    def complete(self) -> bool:
        return self.run.status == "complete"

    def caveats(self) -> tuple[str, ...]:
        """What a reader of the run's scores must know beside them, as sentences: a model
        that predicts one class for (nearly) every row, a training stopped by hand, and what
        preparing the data left out (classes dropped as too small, a split without a
        class). The report, the CLI and ``--json`` give them all."""
        caveats = []
        if self.metrics.collapsed:
            caveats.append(self.metrics.collapsed)
        if self.run.status == "stopped":
            caveats.append(STOPPED_CAVEAT)
        caveats.extend(self.data.notes)
        return tuple(caveats)

    def summary(self) -> RunSummary:
        """The :class:`RunSummary` of this run."""
        return RunSummary(
            run_id=self.run_id,
            created_at=self.run.created_at,
            preset=self.config.preset,
            family=self.config.family,
            dataset=self.run.dataset,
            accuracy=self.metrics.test_accuracy,
            macro_f1=self.metrics.macro_f1,
            epochs=len(self.history),
            duration_s=self.run.duration_s,
            status=self.run.status,
            origin=self.run.origin,
            parent_run_id=self.config.parent_run_id,
            owner=self.run.owner,
        )


def damaged_summary(run_id: str, problem: str, owner: str | None = None) -> RunSummary:
    """The runs-table row of a run folder that cannot be read."""
    return RunSummary(
        run_id=run_id,
        created_at="",
        preset="",
        family="",
        dataset="",
        accuracy=None,
        macro_f1=None,
        epochs=0,
        duration_s=0.0,
        status="damaged",
        origin="",
        parent_run_id=None,
        problem=problem,
        owner=owner,
    )
