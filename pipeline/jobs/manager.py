"""Training jobs: queued in click order, trained one at a time in a worker process.

A Streamlit script is rerun on every click, which would kill a ``fit`` running
inside it, and a ``fit`` on a server thread slows every page (and is slowed by
them). So the app hands training to a :class:`JobManager` (one per process, held
by ``st.cache_resource``): its queue is a one-thread
``concurrent.futures.ThreadPoolExecutor`` (first come, first served; a queued
job is cancelled with ``Future.cancel()``), and that thread runs each job in the
:class:`~pipeline.jobs.worker.TrainingProcess`, a process of its own that imported
TensorFlow in the background when the manager was made. The server process never
imports TensorFlow for training.

Each job exposes an immutable :class:`JobSnapshot` that a page polls: the phase
with its clock, the step within it (rows vectorized, batches of the epoch or of
its validation, test rows scored) with the time left for that step, the metrics
and the history so far.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pipeline.core.config import ExperimentConfig
from pipeline.core.errors import HeadlineLabError, TrainingStopped
from pipeline.core.progress import PHASES, ProgressEvent, cached_event, describe_end, seconds_left
from pipeline.jobs.worker import TrainingProcess
from pipeline.runs.registry import RunRegistry
from pipeline.sessions.access import ADMINISTRATOR, Principal

if TYPE_CHECKING:
    from pipeline.core.config import DataConfig
    from pipeline.data import Dataset  # pandas: imported where data is read
    from pipeline.jobs.review_jobs import ComparisonJob, ReviewJob
    from pipeline.review.label_review import LabelReview, ReviewSettings

JobStatus = Literal["queued", "running", "finished", "stopped", "cached", "cancelled", "failed"]
FINAL_STATUSES: frozenset[str] = frozenset({"finished", "stopped", "cached", "cancelled", "failed"})
STOPPING_MESSAGE = "Stopping…"


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
        allow_other_data: bool = False,
        session: str | None = None,
        run_owner: str | None = None,
    ) -> None:
        self.job_id = job_id
        #: The browser session (a key's hash) that submitted the job: only it sees the job.
        self.session = session
        #: The owner of the run the job saves (``RunInfo.owner``; ``None``: shared).
        self.run_owner = run_owner
        #: When the job ended (``time.monotonic()``), for pruning.
        self.ended_at: float | None = None
        self.dataset: Dataset | None = dataset
        self.config = config
        self.force = force
        self.parent_run_id = parent_run_id
        self.allow_other_data = allow_other_data
        self.future: Future | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = JobSnapshot(
            job_id=job_id, label=label, status="queued", patience=config.train.patience
        )

    def snapshot(self) -> JobSnapshot:
        """The job's state now (safe to call from any thread)."""
        with self._lock:
            return self._state

    def stop(self) -> None:
        """Ask the job to stop: a queued job is cancelled at once; a running one stops
        within seconds in any phase (after the current batch while training, keeping
        its best epoch). The snapshot says ``stopping`` until the job is done."""
        self._stop.set()
        if self.future is not None and self.future.cancel():
            self._cancelled()
            return
        with self._lock:
            if self._state.status == "running" and self._state.phase != "done":
                self._state = _replace(self._state, stopping=True, message=STOPPING_MESSAGE)

    def _cancelled(self) -> None:
        self.dataset = None
        self.ended_at = time.monotonic()
        self._update(status="cancelled", message="Cancelled before it started.")

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._state = _replace(self._state, **changes)

    def _on_progress(self, event: ProgressEvent) -> None:
        """Fold one event from the training into the snapshot."""
        now = time.perf_counter()
        state = self.snapshot()
        if state.phase == "done" and event.kind != "end":
            return  # a late batch event (Keras may run callbacks off its thread)
        stopping = self._stop.is_set() and event.kind != "end"
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
                step_unit="rows",
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
        self._update(**changes)

    def _run(self, runs_dir: Path | None, trainer: TrainingProcess) -> None:
        if self._stop.is_set():
            self._cancelled()
            return
        started = time.perf_counter()
        self._update(
            status="running",
            message="Starting…",
            started_at=started,
            phase_started_at=started,
        )
        try:
            result = trainer.train(
                self.job_id,
                self.dataset,
                self.config,
                runs_dir=runs_dir,
                force=self.force,
                parent_run_id=self.parent_run_id,
                allow_other_data=self.allow_other_data,
                owner=self.run_owner,
                on_progress=self._on_progress,
                stop_requested=self._stop,
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
            changes: dict[str, Any] = {}
            if not result.from_cache:
                # Said from the saved run itself, whatever events came (or came late).
                with contextlib.suppress(HeadlineLabError, OSError, ValueError):
                    saved = RunRegistry(runs_dir).get(result.run_id)
                    changes["message"] = describe_end(saved.history, result.stopped)
            self._update(status=status, run_id=result.run_id, eta_s=0.0, progress=1.0, **changes)
        finally:
            self.dataset = None  # a finished job keeps no data
            self.ended_at = time.monotonic()
            self._update(stopping=False)


#: Finished jobs are forgotten this many seconds after they end (their runs stay on disk)...
FINISHED_JOBS_KEPT_S = 3600.0
#: ...and only this many of them are kept at most, whatever their age.
MAX_FINISHED_JOBS = 200


class JobManager:
    """Queues training jobs and runs them one at a time in a worker process.

    Jobs belong to the browser session that submitted them (``session``): pages ask
    for :meth:`jobs_of` a session and :meth:`ahead_of` a job, never for others' jobs.
    """

    def __init__(self, runs_dir: str | Path | None = None) -> None:
        self.runs_dir = Path(runs_dir) if runs_dir is not None else None
        self._jobs: dict[int, Job] = {}
        self._reviews: dict[int, ReviewJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._trainer = TrainingProcess()
        self._queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix="training-queue")
        # Stop the running job and end the worker before the interpreter exits.
        atexit.register(self.shutdown)

    def submit(
        self,
        dataset: Dataset,
        config: ExperimentConfig,
        *,
        force: bool = False,
        parent_run_id: str | None = None,
        allow_other_data: bool = False,
        label: str = "",
        session: str | None = None,
        run_owner: str | None = None,
        principal: Principal = ADMINISTRATOR,
    ) -> Job:
        """Queue a training of ``config`` on ``dataset``; returns the job at once.

        A run already trained on this data with these settings is not queued: the
        job comes back finished with status ``"cached"``, even while another
        training is running (unless ``force``). A bad setting, an unknown parent
        run or a parent trained on other data (unless ``allow_other_data``) raises
        here, before anything is queued. ``session`` owns the job; ``run_owner`` is the
        data's owner (``None``: shared), and the run it saves is private if that or the
        parent run is (:func:`pipeline.sessions.access.strictest_owner`). ``principal`` is who
        asks: a parent run it may not continue is unknown to it.
        """
        from pipeline.runs.ids import resolve_run  # pipeline.data, pandas: not at page open

        registry = RunRegistry(self.runs_dir, principal=principal)
        _, run_id = resolve_run(
            dataset,
            config,
            registry,
            parent_run_id,
            allow_other_data=allow_other_data,
            owner=run_owner,
        )
        self._prune()
        with self._lock:
            job_id = next(self._ids)
            job = Job(
                job_id,
                dataset,
                config,
                force,
                parent_run_id,
                label or f"job {job_id}",
                allow_other_data=allow_other_data,
                session=session,
                run_owner=run_owner,
            )
            self._jobs[job_id] = job
        cached = None if force else registry.find_complete(run_id)
        if cached is not None:
            job._on_progress(cached_event(cached))
            job.dataset = None
            job.ended_at = time.monotonic()
            job._update(status="cached", run_id=cached.run_id, eta_s=0.0, progress=1.0)
        else:
            job.future = self._queue.submit(job._run, self.runs_dir, self._trainer)
        return job

    def submit_review(
        self, dataset: Dataset, settings: ReviewSettings, *, session: str | None = None
    ) -> ReviewJob:
        """Queue a label review of ``dataset`` (:mod:`pipeline.jobs.review_jobs`) behind the
        trainings queued before it; returns the job at once. ``session`` owns it."""
        from pipeline.jobs.review_jobs import ReviewJob

        settings = settings.validate()
        return self._queue_review(
            lambda job_id: ReviewJob(job_id, dataset, settings, session=session)
        )

    def submit_comparison(
        self,
        dataset: Dataset,
        settings: ReviewSettings,
        review: LabelReview,
        actions: dict[int, str],
        data_config: DataConfig,
        *,
        session: str | None = None,
    ) -> ComparisonJob:
        """Queue the before/after training of a reviewer's decisions
        (:class:`~pipeline.jobs.review_jobs.ComparisonJob`); returns the job at once."""
        from pipeline.jobs.review_jobs import ComparisonJob

        return self._queue_review(
            lambda job_id: ComparisonJob(
                job_id, dataset, settings, review, actions, data_config, session=session
            )
        )

    def _queue_review(self, make: Callable[[int], ReviewJob]) -> Any:
        """Number a review-type job with ``make(job_id)``, keep it, queue it."""
        with self._lock:
            job = make(next(self._ids))
            self._reviews[job.job_id] = job
        job.future = self._queue.submit(job._run, self.runs_dir, self._trainer)
        return job

    def reviews_of(self, session: str | None) -> list[ReviewJob]:
        """The label reviews ``session`` started, oldest first."""
        with self._lock:
            return [job for job in self._reviews.values() if job.session == session]

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Every job the manager still knows, oldest first (for tests and the CLI)."""
        with self._lock:
            return list(self._jobs.values())

    def jobs_of(self, session: str | None) -> list[Job]:
        """The jobs ``session`` submitted, oldest first."""
        return [job for job in self.jobs() if job.session == session]

    def ahead_of(self, job_id: int) -> int:
        """How many other jobs will run before ``job_id`` (the running one included)."""
        job = self.get(job_id)
        if job is None or job.snapshot().status != "queued":
            return 0
        return sum(
            1
            for other in self._queued_work()
            if other.job_id < job_id and other.snapshot().status in {"queued", "running"}
        )

    def others_busy(self, session: str | None) -> int:
        """How many jobs (trainings and label reviews) of other sessions are queued or
        running."""
        return sum(
            1
            for job in self._queued_work()
            if job.session != session and job.snapshot().status in {"queued", "running"}
        )

    def _queued_work(self) -> list[Job | ReviewJob]:
        """Trainings and label reviews: they share one queue and one worker."""
        with self._lock:
            return [*self._jobs.values(), *self._reviews.values()]

    def _prune(self) -> None:
        """Forget finished jobs older than FINISHED_JOBS_KEPT_S, and all but the newest
        MAX_FINISHED_JOBS of them (a job's run stays on disk)."""
        now = time.monotonic()
        with self._lock:
            ended = [job for job in self._jobs.values() if job.ended_at is not None]
            stale = {job.job_id for job in ended if now - job.ended_at > FINISHED_JOBS_KEPT_S}
            stale.update(job.job_id for job in ended[: max(len(ended) - MAX_FINISHED_JOBS, 0)])
            for job_id in stale:
                del self._jobs[job_id]
            ended_reviews = [j for j in self._reviews.values() if j.ended_at is not None]
            for review in ended_reviews[: max(len(ended_reviews) - MAX_FINISHED_JOBS, 0)]:
                del self._reviews[review.job_id]
            for review in ended_reviews:
                if now - review.ended_at > FINISHED_JOBS_KEPT_S:
                    self._reviews.pop(review.job_id, None)

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

    def shutdown(self) -> None:
        """Cancel the queued jobs, stop the running one and end the worker process."""
        for job in [*self.jobs(), *self._reviews.values()]:
            job.stop()
        self._queue.shutdown(wait=True, cancel_futures=True)
        self._trainer.shutdown()


def _replace(state: JobSnapshot, **changes: Any) -> JobSnapshot:
    return dataclasses.replace(state, **changes)
