"""Training jobs: queued in click order, trained one at a time in a worker process.

A Streamlit script is rerun on every click, which would kill a ``fit`` running
inside it, and a ``fit`` on a server thread slows every page (and is slowed by
them). So the app hands training to a :class:`JobManager` (one per process, held
by ``st.cache_resource``): its queue is a one-thread
``concurrent.futures.ThreadPoolExecutor`` (first come, first served; a queued
job is cancelled with ``Future.cancel()``), and that thread runs each job in the
:class:`~pipeline.jobs.worker.TrainingProcess`, a process of its own that imported
TensorFlow in the background when the manager was made. The server process never
imports TensorFlow for training. The jobs and the snapshots a page polls are
:mod:`pipeline.jobs.job`'s.
"""

from __future__ import annotations

import atexit
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.config import ExperimentConfig
from pipeline.core.progress import cached_event
from pipeline.jobs.job import Job, JobSnapshot, replace_snapshot
from pipeline.jobs.worker import TrainingProcess
from pipeline.runs.registry import RunRegistry
from pipeline.sessions.access import ADMINISTRATOR, Principal

if TYPE_CHECKING:
    from pipeline.core.config import DataConfig
    from pipeline.data import Dataset  # pandas: imported where data is read
    from pipeline.jobs.review_jobs import ComparisonJob, ReviewJob
    from pipeline.review.result import LabelReview
    from pipeline.review.settings import ReviewSettings


#: Finished jobs are forgotten this many seconds after they end (their runs stay on disk)...
FINISHED_JOBS_KEPT_S = 3600.0
#: ...and only this many of them are kept at most, whatever their age.
MAX_FINISHED_JOBS = 200


class JobManager:
    """Queues training jobs and runs them one at a time in a worker process.

    Jobs belong to the browser session that submitted them (``session``): pages ask
    for :meth:`jobs_of` a session and :meth:`ahead_of` a job, never for others' jobs.
    """

    def __init__(
        self, runs_dir: str | Path | None = None, trainer: TrainingProcess | None = None
    ) -> None:
        """Jobs save their runs in ``runs_dir``; they train in ``trainer``, a process the
        caller keeps (and shares, e.g. across test cases or runs folders), or else in a
        process of this manager's own, ended by :meth:`shutdown`."""
        self.runs_dir = Path(runs_dir) if runs_dir is not None else None
        self._jobs: dict[int, Job] = {}
        self._reviews: dict[int, ReviewJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._owns_trainer = trainer is None
        self._trainer = trainer if trainer is not None else TrainingProcess()
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
            job.report(cached_event(cached))
            job.end("cached", None, run_id=cached.run_id, eta_s=0.0, progress=1.0)
        else:
            job.future = self._queue.submit(job.run, self.runs_dir, self._trainer)
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
        job.future = self._queue.submit(job.run, self.runs_dir, self._trainer)
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
            state = replace_snapshot(state, queue_position=position)
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
        """Cancel the queued jobs, stop the running one and end the worker process (if
        this manager made it; a shared one is only freed of this manager's jobs)."""
        for job in [*self.jobs(), *self._reviews.values()]:
            job.stop()
        self._queue.shutdown(wait=True, cancel_futures=True)
        if self._owns_trainer:
            self._trainer.shutdown()
