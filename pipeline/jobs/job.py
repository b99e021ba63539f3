"""A training job's record: :class:`Job` (one queued or running training, on the
lifecycle every job shares: :mod:`pipeline.jobs.lifecycle`) and the immutable
:class:`JobSnapshot` of its state.

Each job exposes an immutable :class:`JobSnapshot` that a page polls: the phase
with its clock, the step within it (rows vectorized, batches of the epoch or of
its validation, test rows scored) with the time left for that step, the metrics
and the history so far. The :class:`~pipeline.jobs.manager.JobManager` queues jobs and
runs them in the worker process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.config import ExperimentConfig
from pipeline.core.errors import HeadlineLabError, TrainingStopped
from pipeline.core.progress import PHASES, ProgressEvent, describe_end, seconds_left
from pipeline.jobs.lifecycle import FINAL_STATUSES, STOPPING_MESSAGE, BackgroundJob, JobStatus
from pipeline.runs.history import EpochRow
from pipeline.runs.registry import RunRegistry

if TYPE_CHECKING:
    from pipeline.data import Dataset  # pandas: imported where data is read
    from pipeline.jobs.worker import TrainingProcess


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state for display.

    ``epoch`` / ``epochs``: the epoch running and the most this fit may run (early
    stopping usually ends it sooner; ``patience`` is its rule). ``step`` names
    what the job is doing within its phase ("Word vocabulary", "Vectorizing",
    "Epoch 3", "Validating epoch 3", "Test set"), ``step_done`` of
    ``step_total`` ``step_unit`` ("rows" or "batches"). ``eta_s`` is the time
    left for that step at its pace so far (``None`` until it can be told); no
    time is promised beyond it. ``queue_position`` is 1 for the next job to
    start, 0 once running or done.
    """

    job_id: int
    label: str
    status: JobStatus
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    history: tuple[EpochRow, ...] = ()
    elapsed_s: float = 0.0
    eta_s: float | None = None
    message: str = ""
    run_id: str | None = None
    queue_position: int = 0
    phase: str = ""
    phase_started_s: float = 0.0
    started_at: float | None = None
    phase_started_at: float | None = None
    stopping: bool = False
    progress: float = 0.0
    step: str = ""
    step_done: int = 0
    step_total: int = 0
    step_unit: str = ""
    step_started_at: float | None = None
    #: How much of the step was done when it was first seen (the pace counts from there).
    step_started_fraction: float = 0.0
    validating: bool = False
    patience: int = 0

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def step_fraction(self) -> float:
        """Share of the current step done, in [0, 1]."""
        if self.step_total <= 0:
            return 0.0
        return min(max(self.step_done / self.step_total, 0.0), 1.0)

    def clocks(self, now: float | None = None) -> tuple[float, float]:
        """``(seconds since the job started, seconds in the current phase)``, live.

        ``now`` is a ``time.perf_counter()`` reading of this process (default: now);
        before the job runs, or once it is done, the last reported values.
        """
        if self.done or self.started_at is None:
            return self.elapsed_s, max(self.elapsed_s - self.phase_started_s, 0.0)
        now = time.perf_counter() if now is None else now
        phase_start = self.phase_started_at or self.started_at
        return now - self.started_at, now - phase_start


class Job(BackgroundJob[JobSnapshot]):
    """One queued or running training; use :meth:`snapshot` and :meth:`stop` (a running
    training stops after the current batch, keeping its best epoch)."""

    noun = "training"
    stopped_errors = (TrainingStopped,)

    def __init__(
        self,
        job_id: int,
        dataset: Dataset,
        config: ExperimentConfig,
        force: bool,
        parent_run_id: str | None,
        label: str,
        allow_other_data: bool = False,
        session: str | None = None,
        run_owner: str | None = None,
    ) -> None:
        state = JobSnapshot(
            job_id=job_id, label=label, status="queued", patience=config.train.patience
        )
        super().__init__(job_id, dataset, state, session=session)
        #: The owner of the run the job saves (``RunInfo.owner``; ``None``: shared).
        self.run_owner = run_owner
        self.config = config
        self.force = force
        self.parent_run_id = parent_run_id
        self.allow_other_data = allow_other_data

    def can_still_stop(self, state: JobSnapshot) -> bool:
        return state.phase != "done"

    def starting(self, started: float) -> dict[str, Any]:
        return {"started_at": started, "phase_started_at": started}

    def work(self, trainer: TrainingProcess, runs_dir: Path | None) -> Any:
        return trainer.train(
            self.dataset,
            self.config,
            runs_dir=runs_dir,
            force=self.force,
            parent_run_id=self.parent_run_id,
            allow_other_data=self.allow_other_data,
            owner=self.run_owner,
            on_progress=self.report,
            stop_requested=self.stop_requested,
        )

    def finished(
        self, result: Any, runs_dir: Path | None
    ) -> tuple[JobStatus, str | None, dict[str, Any]]:
        if result.from_cache:
            return "cached", None, {"run_id": result.run_id, "eta_s": 0.0, "progress": 1.0}
        message = None
        # Said from the saved run itself, whatever events came (or came late).
        with contextlib.suppress(HeadlineLabError, OSError, ValueError):
            message = describe_end(RunRegistry(runs_dir).get(result.run_id).history, result.stopped)
        status: JobStatus = "stopped" if result.stopped else "finished"
        return status, message, {"run_id": result.run_id, "eta_s": 0.0, "progress": 1.0}

    def report(self, event: ProgressEvent) -> None:
        """Fold one event from the training into the snapshot."""
        now = time.perf_counter()
        state = self.snapshot()
        if state.phase == "done" and event.kind != "end":
            return  # a late batch event (Keras may run callbacks off its thread)
        stopping = self.stop_requested.is_set() and event.kind != "end"
        changes: dict[str, Any] = {"elapsed_s": event.elapsed_s}
        if event.kind == "phase":
            changes.update(
                phase=event.phase,
                phase_started_s=event.elapsed_s,
                phase_started_at=now,
                step="",
                step_done=0,
                step_total=0,
                step_unit="",
                step_started_at=now,
                step_started_fraction=0.0,
                validating=False,
                eta_s=None,
            )
        elif event.kind == "rows":
            if event.message != state.step or event.done < state.step_done:
                changes.update(step_started_at=now, step_started_fraction=event.step_fraction)
            changes.update(
                step=event.message,
                step_done=event.done,
                step_total=event.total,
                step_unit=event.unit,
            )
        elif event.kind == "end":
            changes.update(
                epoch=event.epoch,
                epochs=event.epochs,
                logs=dict(event.logs),
                history=event.history,
                progress=1.0,
                eta_s=0.0,
                phase="done",
                stopping=False,
                validating=False,
                message=event.message or state.message,
            )
        else:  # start, batch, validation, epoch
            validating = event.kind == "validation"
            step = f"Validating epoch {event.epoch}" if validating else f"Epoch {event.epoch}"
            if step != state.step:
                changes.update(step_started_at=now, step_started_fraction=event.step_fraction)
            changes.update(
                epoch=event.epoch,
                epochs=event.epochs,
                batch=event.batch if not validating else state.batch,
                batches=event.batches if not validating else state.batches,
                logs=dict(event.logs) or state.logs,
                history=event.history,
                progress=event.fraction_done if not validating else state.progress,
                step=step,
                step_done=event.batch,
                step_total=event.batches,
                step_unit="batches",
                validating=validating,
            )
        if event.kind not in {"phase", "end"}:  # a step with a count: its time left
            started = changes.get("step_started_at", state.step_started_at or now)
            since = changes.get("step_started_fraction", state.step_started_fraction)
            changes["eta_s"] = seconds_left(
                started, event.step_fraction, now, started_fraction=since
            )
        if event.kind in {"phase", "start"}:
            changes["message"] = event.message or PHASES.get(event.phase, "")
        if stopping:
            changes["message"] = STOPPING_MESSAGE
        self.update(**changes)


def replace_snapshot(state: JobSnapshot, **changes: Any) -> JobSnapshot:
    """A copy of ``state`` with ``changes`` (field names and their new values)."""
    return dataclasses.replace(state, **changes)
