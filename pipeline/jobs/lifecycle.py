"""The one lifecycle of every background job: trainings, label reviews and comparisons.

A job is queued by the :class:`~pipeline.jobs.manager.JobManager`, runs once in the
worker process (:class:`~pipeline.jobs.worker.TrainingProcess`) and ends in exactly one
final status::

    queued --> running --> finished | cached | stopped | failed
       \\--> cancelled (stopped before it started)

:class:`BackgroundJob` holds what every kind shares: the immutable snapshot a page polls
(any frozen dataclass with ``status``, ``message`` and ``stopping`` fields), its lock, the
stop request, the session that owns the job, and the rules: a stop cancels a queued job at
once and marks a running one ``stopping``; an ended job keeps no data; an error is a
``failed`` status with the error in words, never an exception out of the worker thread.
Each kind says what it runs (:meth:`BackgroundJob.work`) and what its result means
(:meth:`BackgroundJob.finished`).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pipeline.core.errors import HeadlineLabError

if TYPE_CHECKING:
    from pipeline.data import Dataset  # pandas: imported where data is read
    from pipeline.jobs.worker import TrainingProcess

JobStatus = Literal["queued", "running", "finished", "stopped", "cached", "cancelled", "failed"]
FINAL_STATUSES: frozenset[str] = frozenset({"finished", "stopped", "cached", "cancelled", "failed"})
STOPPING_MESSAGE = "Stopping…"
CANCELLED_MESSAGE = "Cancelled before it started."

Snapshot = TypeVar("Snapshot")


class BackgroundJob(Generic[Snapshot]):
    """One queued or running job; pages use :meth:`snapshot` and :meth:`stop`.

    Parameters
    ----------
    job_id : int
        The manager's id of the job.
    dataset : Dataset
        The data it runs on (dropped when the job ends).
    state : frozen dataclass
        The first snapshot (``status="queued"``).
    session : str, optional
        The browser session (a key's hash) that submitted the job: only it sees the job.
    """

    #: What the job is, in words: "The {noun} failed unexpectedly (...)".
    noun: ClassVar[str] = "job"
    #: The message while it runs, until its progress says more.
    running_message: ClassVar[str] = "Starting…"
    #: Exceptions that mean the job stopped on request (their text is its message).
    stopped_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(
        self, job_id: int, dataset: Dataset, state: Snapshot, session: str | None = None
    ) -> None:
        self.job_id = job_id
        self.session = session
        self.dataset: Dataset | None = dataset
        self.future: Future | None = None
        #: When the job ended (``time.monotonic()``), for pruning.
        self.ended_at: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = state

    def snapshot(self) -> Snapshot:
        """The job's state now (safe to call from any thread)."""
        with self._lock:
            return self._state

    @property
    def stop_requested(self) -> threading.Event:
        """Set once a stop was asked for; the work checks it."""
        return self._stop

    def stop(self) -> None:
        """Ask the job to stop: a queued job is cancelled at once; a running one says
        ``stopping`` until its work notices (within seconds) and it ends."""
        self._stop.set()
        if self.future is not None and self.future.cancel():
            self.end("cancelled", CANCELLED_MESSAGE)
            return
        with self._lock:
            state: Any = self._state
            if state.status == "running" and self.can_still_stop(state):
                self._state = dataclasses.replace(state, stopping=True, message=STOPPING_MESSAGE)

    def run(self, runs_dir: Path | None, trainer: TrainingProcess) -> None:
        """Run the job to its end (the manager's queue calls this); never raises."""
        if self._stop.is_set():
            self.end("cancelled", CANCELLED_MESSAGE)
            return
        started = time.perf_counter()
        self.update(status="running", message=self.running_message, **self.starting(started))
        try:
            result = self.work(trainer, runs_dir)
        except self.stopped_errors as exc:
            self.end("stopped", str(exc))
        except HeadlineLabError as exc:
            self.end("failed", str(exc))
        except Exception as exc:
            self.end(
                "failed", f"The {self.noun} failed unexpectedly ({type(exc).__name__}: {exc})."
            )
        else:
            status, message, changes = self.finished(result, runs_dir)
            self.end(status, message, **changes)

    def update(self, **changes: Any) -> None:
        """Replace fields of the snapshot (names and their new values)."""
        with self._lock:
            self._state = dataclasses.replace(self._state, **changes)  # type: ignore[type-var]

    # What each kind of job fills in.

    def work(self, trainer: TrainingProcess, runs_dir: Path | None) -> Any:
        """Run the job in the worker process; its result."""
        raise NotImplementedError

    def finished(
        self, result: Any, runs_dir: Path | None
    ) -> tuple[JobStatus, str | None, dict[str, Any]]:
        """What a result means: the final status, the message (``None``: keep the one
        shown) and other snapshot fields to set."""
        raise NotImplementedError

    def starting(self, started: float) -> dict[str, Any]:
        """Snapshot fields set as the job starts running (``started``:
        ``time.perf_counter()``)."""
        return {"started_at": started}

    def can_still_stop(self, state: Snapshot) -> bool:
        """Whether a running job in ``state`` can still be stopped."""
        return True

    def release(self) -> None:
        """Drop what an ended job no longer needs (its data)."""
        self.dataset = None

    def end(self, status: JobStatus, message: str | None, **changes: Any) -> None:
        """End the job in final ``status`` with ``message`` (``None``: keep the one shown)
        and other snapshot fields; its data is dropped."""
        self.release()
        self.ended_at = time.monotonic()
        if message is not None:
            changes["message"] = message
        self.update(status=status, stopping=False, **changes)
