"""Training jobs that run in a background thread, one at a time.

A Streamlit script is rerun on every click, which would kill a ``fit`` running
inside it. So the app hands training to a :class:`JobManager` (one per process,
held by ``st.cache_resource``): it queues jobs, runs them one after another on
its own worker thread (one device, one training at a time), and exposes an
immutable :class:`JobSnapshot` that a page can poll. The worker never touches
the UI; it only writes progress into the job under a lock.
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.config import ExperimentConfig
from pipeline.data import Dataset
from pipeline.errors import HeadlineLabError
from pipeline.registry import RunRegistry, SavedRun
from pipeline.run_ids import resolve_run
from pipeline.train import (
    ProgressEvent,
    TrainingStopped,
    cached_event,
    train_run,
)

JobStatus = Literal["queued", "running", "finished", "stopped", "cached", "cancelled", "failed"]
FINAL_STATUSES: frozenset[str] = frozenset({"finished", "stopped", "cached", "cancelled", "failed"})


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state for display.

    ``eta_s`` is ``None`` until the first batch has run. ``queue_position`` is 1
    for the next job to start, 0 once running or done.
    """

    job_id: int
    label: str
    status: JobStatus
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    history: tuple[dict[str, Any], ...] = ()
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

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

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

    progress: float = 0.0


class Job:
    """One queued or running training; use :meth:`snapshot` and :meth:`stop`."""

    def __init__(
        self,
        job_id: int,
        dataset: Dataset,
        config: ExperimentConfig,
        force: bool,
        parent_run_id: str | None,
        label: str,
    ) -> None:
        self.job_id = job_id
        self.dataset = dataset
        self.config = config
        self.force = force
        self.parent_run_id = parent_run_id
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = JobSnapshot(job_id=job_id, label=label, status="queued")
        self._fit_started: float | None = None

    def snapshot(self) -> JobSnapshot:
        """The job's state now (safe to call from any thread)."""
        with self._lock:
            return self._state

    def stop(self) -> None:
        """Ask the job to stop: a queued job is cancelled, a running one ends
        after its current batch and keeps its best epoch. The snapshot says
        ``stopping`` from this moment until the job is done."""
        self._stop.set()
        with self._lock:
            if self._state.status == "running":
                self._state = _replace(
                    self._state, stopping=True, message="Stopping after the current batch…"
                )

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._state = _replace(self._state, **changes)

    def _on_progress(self, event: ProgressEvent) -> None:
        now = time.perf_counter()
        if event.kind == "phase":
            message = "Stopping after the current batch…" if self._stop.is_set() else None
            self._update(
                phase=event.phase,
                phase_started_s=event.elapsed_s,
                phase_started_at=now,
                elapsed_s=event.elapsed_s,
                message=message or event.message,
            )
            return
        if event.kind == "start":
            self._fit_started = now
        fraction = event.fraction_done
        eta = self._state.eta_s
        if self._fit_started is not None and 0.0 < fraction < 1.0:
            eta = (now - self._fit_started) * (1.0 - fraction) / fraction
        changes: dict[str, Any] = {
            "epoch": event.epoch,
            "epochs": event.epochs,
            "logs": dict(event.logs),
            "history": event.history,
            "elapsed_s": event.elapsed_s,
            "eta_s": eta,
            "progress": fraction,
            "message": (
                "Stopping after the current batch…"
                if self._stop.is_set() and event.kind != "end"
                else event.message or self._state.message
            ),
        }
        if event.kind != "end":  # the end event knows the epochs, not the batches
            changes.update(batch=event.batch, batches=event.batches)
        else:
            changes.update(phase="done", stopping=False)
        self._update(**changes)

    def _run(self, runs_dir: Path | None) -> None:
        if self._stop.is_set():
            self._update(status="cancelled", message="Cancelled before it started.")
            return
        self._update(
            status="running",
            message="Preparing data and building the model…",
            started_at=time.perf_counter(),
            phase_started_at=time.perf_counter(),
        )
        try:
            result = train_run(
                self.dataset,
                self.config,
                runs_dir=runs_dir,
                on_progress=self._on_progress,
                stop_event=self._stop,
                force=self.force,
                parent_run_id=self.parent_run_id,
            )
        except TrainingStopped as exc:
            self._update(status="stopped", message=str(exc))
        except HeadlineLabError as exc:
            self._update(status="failed", message=str(exc))
        except Exception as exc:
            self._update(
                status="failed",
                message=f"Training failed unexpectedly ({type(exc).__name__}: {exc}).",
            )
        else:
            if result.from_cache:
                status: JobStatus = "cached"
            else:
                status = "stopped" if result.stopped else "finished"
            self._update(status=status, run_id=result.run_id, eta_s=0.0, progress=1.0)


class JobManager:
    """Queues training jobs and runs them one at a time on a worker thread."""

    def __init__(self, runs_dir: str | Path | None = None) -> None:
        self.runs_dir = Path(runs_dir) if runs_dir is not None else None
        self._jobs: dict[int, Job] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._work, name="training-worker", daemon=True)
        self._worker.start()
        # A daemon thread killed inside TensorFlow at interpreter exit aborts the
        # process; stop the running job and let the worker finish first.
        atexit.register(self.shutdown)

    def submit(
        self,
        dataset: Dataset,
        config: ExperimentConfig,
        *,
        force: bool = False,
        parent_run_id: str | None = None,
        label: str = "",
    ) -> Job:
        """Queue a training of ``config`` on ``dataset``; returns the job at once.

        A run already trained on this data with these settings is not queued: the
        job comes back finished with status ``"cached"``, even while another
        training is running (unless ``force``).
        """
        config.validate()
        with self._lock:
            job_id = next(self._ids)
            job = Job(job_id, dataset, config, force, parent_run_id, label or f"job {job_id}")
            self._jobs[job_id] = job
        cached = None if force else self._find_cached(dataset, config, parent_run_id)
        if cached is not None:
            job._on_progress(cached_event(cached))
            job._update(status="cached", run_id=cached.run_id, eta_s=0.0, progress=1.0)
        else:
            self._queue.put(job)
        return job

    def _find_cached(
        self, dataset: Dataset, config: ExperimentConfig, parent_run_id: str | None
    ) -> SavedRun | None:
        registry = RunRegistry(self.runs_dir)
        try:
            _, run_id = resolve_run(dataset, config, registry, parent_run_id)
        except HeadlineLabError:
            return None  # the queued job reports the problem as it fails
        return registry.find_complete(run_id)

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Every job submitted, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def snapshot(self, job_id: int) -> JobSnapshot | None:
        """The job's snapshot with its current queue position filled in."""
        job = self.get(job_id)
        if job is None:
            return None
        state = job.snapshot()
        if state.status == "queued":
            waiting = [j for j in self.jobs() if j.snapshot().status == "queued"]
            position = next((i for i, j in enumerate(waiting, 1) if j.job_id == job_id), 0)
            state = _replace(state, queue_position=position)
        return state

    def active(self) -> Job | None:
        """The running job, if any."""
        return next((j for j in self.jobs() if j.snapshot().status == "running"), None)

    def wait(self, job_id: int, timeout: float | None = None) -> JobSnapshot:
        """Block until the job is done (or ``timeout`` seconds pass)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self.snapshot(job_id)
            if state is None or state.done:
                return state
            if deadline is not None and time.monotonic() > deadline:
                return state
            time.sleep(0.05)

    def shutdown(self, timeout: float = 60.0) -> None:
        """Stop every job, cancel the queued ones and end the worker thread."""
        for job in self.jobs():
            job.stop()
        self._queue.put(None)
        self._worker.join(timeout)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                while not self._queue.empty():  # cancel what is still queued
                    leftover = self._queue.get()
                    if leftover is not None:
                        leftover._run(self.runs_dir)
                return
            job._run(self.runs_dir)


def _replace(state: JobSnapshot, **changes: Any) -> JobSnapshot:
    return dataclasses.replace(state, **changes)
