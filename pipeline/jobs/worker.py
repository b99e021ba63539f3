"""The training process: trainings run in a process of their own, beside the server.

A training in a thread of the Streamlit server shares one interpreter lock with
every page the server draws: the Keras loop waits while pages rerun, and pages
wait while Keras runs its Python between batches. Measured on a 2-core CPU, the
same job took 2.6-2.8x longer in the app than in the CLI. So the app trains
where the CLI does, in a process that does nothing else:

- :class:`TrainingProcess` (in the server) owns one worker process from a
  ``concurrent.futures.ProcessPoolExecutor``, started as :mod:`pipeline.core.spawn`
  says (spawned, never forked; without rerunning the app's script). The worker
  imports TensorFlow once, in the background, as soon as the process starts,
  and serves one training (or label review, :mod:`pipeline.jobs.review_jobs`) after another.
- Progress comes back as :class:`~pipeline.core.progress.ProgressEvent` through a
  ``multiprocessing`` queue, tagged with the job's ticket, and the job's outcome last;
  a stop is a ``multiprocessing`` event that the worker's ``train_run`` watches.
- If the worker dies (e.g. killed for memory), its job fails with a message and
  the next job gets a fresh process.

Arguments and results cross the process boundary as ``multiprocessing`` sends
them (pickled in memory, between two processes of this app); nothing is written
to disk that way.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.config import ExperimentConfig
from pipeline.core.errors import TrainingError
from pipeline.core.progress import ProgressEvent, TrainResult
from pipeline.core.spawn import main_module_that_spawn_skips, spawn_context, terminate_workers

if TYPE_CHECKING:
    from pipeline.core.config import DataConfig
    from pipeline.data import Dataset  # pandas: imported where data is read
    from pipeline.review.progress import ReviewProgress
    from pipeline.review.result import LabelReview
    from pipeline.review.settings import ReviewSettings
    from pipeline.review.summary import ReviewSummary

#: Seconds between two looks at the stop request and the worker while a job runs.
_PUMP_SECONDS = 0.1
#: Seconds to wait for a returned job's outcome to come through the event queue.
_OUTCOME_GRACE_S = 10.0


class _WorkerChannels:
    """The worker's ends of the event queue and the stop flag (set once per process)."""

    events: Any = None
    stop: Any = None


#: How much lower the training process's CPU priority is than the server's (and the
#: visitors' browsers'): the lowest, as for any batch job. Pages and their visitors come
#: first, and the few percent of CPU they use costs the training little, while a page
#: waiting behind TensorFlow costs its visitor seconds. A training alone on the machine
#: runs as fast at any niceness. Measured with the method of benchmarks/app_speed.py, a
#: new tab's Train page while a training ran: 1.6-1.85 s at 19, 1.86-2.17 s at 10. On Linux
#: the worker also runs under SCHED_IDLE (see ``_start_worker``).
WORKER_NICENESS = 19


def _start_worker(events: Any, stop: Any) -> None:
    """Process initializer: keep the channels, lower the priority, cap the malloc
    arenas, set the devices up, import TensorFlow, and keep the imported objects out of
    later garbage collections."""
    _WorkerChannels.events, _WorkerChannels.stop = events, stop
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    with contextlib.suppress(OSError, AttributeError):  # Linux only
        # SCHED_IDLE: below even niceness 19 (CPU weight 3 against 15; a page at niceness 0
        # weighs 1,024). Set before TensorFlow starts its threads, which inherit it, as do
        # the processes the training starts (the baseline's).
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    from pipeline.core.memory import freeze_imported_objects, limit_malloc_arenas

    limit_malloc_arenas()
    from pipeline.core.device import configure_devices

    configure_devices()
    import pipeline.training.train  # noqa: F401  (the slow import, done before any job asks)

    freeze_imported_objects()  # each job's clear_session then scans only what jobs made


def _warm_up() -> bool:
    """A no-op job: makes the pool start its process now rather than at the first job."""
    return True


def _release_memory() -> None:
    """Free the last job's graphs and tensors (run after its result went back)."""
    import keras

    keras.backend.clear_session(free_memory=True)


def _with_outcome(ticket: int, work: Callable[[Callable[[Any], None]], Any]) -> Any:
    """Run ``work(forward)`` in the worker, ``forward`` sending each progress item to the
    server tagged with the job's ticket, then send the job's outcome (its result or its error)
    as its last item, so the server learns it at once: the pool's own result comes back
    only after the worker has collected the job's garbage (seconds after a big one)."""
    events = _WorkerChannels.events
    try:
        result = work(lambda item: events.put((ticket, item)))
    except Exception as exc:
        events.put((ticket, _Outcome(error=exc)))
        raise
    events.put((ticket, _Outcome(result=result)))
    return result


def _train_in_worker(
    ticket: int,
    dataset: Dataset,
    config: ExperimentConfig,
    runs_dir: Path | None,
    force: bool,
    parent_run_id: str | None,
    allow_other_data: bool,
    owner: str | None,
) -> TrainResult:
    """Run :func:`pipeline.training.train.train_run` in the worker, forwarding its events."""
    from pipeline.training.train import train_run

    return _with_outcome(
        ticket,
        lambda forward: train_run(
            dataset,
            config,
            runs_dir=runs_dir,
            on_progress=forward,
            stop_event=_WorkerChannels.stop,
            force=force,
            parent_run_id=parent_run_id,
            allow_other_data=allow_other_data,
            owner=owner,
        ),
    )


def _review_in_worker(
    ticket: int, dataset: Dataset, settings: ReviewSettings, runs_dir: Path | None
) -> ReviewSummary:
    """Run :func:`pipeline.review.run.run_review` in the worker, forwarding its progress;
    the review is saved in its cache and only its summary goes back."""
    from pipeline.review.run import run_review

    return _with_outcome(
        ticket,
        lambda forward: (
            run_review(
                dataset,
                settings,
                runs_dir=runs_dir,
                on_progress=forward,
                stop_event=_WorkerChannels.stop,
            ).summary
        ),
    )


def _compare_in_worker(
    ticket: int,
    dataset: Dataset,
    review: LabelReview,
    actions: dict[int, str],
    data_config: DataConfig,
    settings: ReviewSettings,
) -> dict[str, Any]:
    """Run :func:`pipeline.review.corrections.compare_corrections` in the worker, forwarding
    its progress; its result goes back."""
    from pipeline.review.corrections import compare_corrections

    return _with_outcome(
        ticket,
        lambda forward: compare_corrections(
            dataset,
            review,
            actions,
            data_config,
            settings,
            on_progress=forward,
            stop_event=_WorkerChannels.stop,
        ),
    )


@dataclass(frozen=True)
class _Outcome:
    """How a job ended, sent as its last event: a result or an error."""

    result: Any = None
    error: Exception | None = None


class TrainingProcess:
    """One worker process that runs trainings, one at a time, for this server.

    Create it early: the process starts at once and imports TensorFlow while the
    visitor picks settings. Several :class:`~pipeline.jobs.manager.JobManager` objects
    may share one (their jobs then take turns): each job is tagged with a number of
    this object's own, so two managers' job ids never mix their events.
    :meth:`train` blocks its calling thread (a :class:`~pipeline.jobs.manager.JobManager`
    worker thread) until the job ends.
    """

    def __init__(self) -> None:
        self._context = spawn_context()
        self._events = self._context.Queue()
        self._stop = self._context.Event()
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._pool = self._new_pool()
        self._started = False
        self._tickets = itertools.count(1)
        # Started now, on the thread that made this object (a page's script run):
        # spawning swaps ``__main__`` for a moment, and a timer thread doing it could
        # race a script run that sets Streamlit's own ``__main__`` (see pipeline.core.spawn).
        self.start()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(self._events, self._stop),
        )

    def start(self) -> None:
        """Start the worker process (it imports TensorFlow at once), if not yet started."""
        with self._start_lock:
            if self._started:
                return
            with main_module_that_spawn_skips(), contextlib.suppress(RuntimeError):
                self._pool.submit(_warm_up)  # the pool starts its one process here
            self._started = True

    def train(
        self,
        dataset: Dataset,
        config: ExperimentConfig,
        *,
        runs_dir: Path | None,
        force: bool,
        parent_run_id: str | None,
        allow_other_data: bool = False,
        owner: str | None = None,
        on_progress: Callable[[ProgressEvent], None],
        stop_requested: threading.Event,
    ) -> TrainResult:
        """Train in the worker; events go to ``on_progress`` on the calling thread.

        Setting ``stop_requested`` stops the training as ``train_run``'s
        ``stop_event`` would. Raises what ``train_run`` raises, or
        :class:`~pipeline.core.errors.TrainingError` when the worker process dies.
        """
        return self._run_job(
            on_progress,
            stop_requested,
            _train_in_worker,
            dataset,
            config,
            runs_dir,
            force,
            parent_run_id,
            allow_other_data,
            owner,
        )

    def review(
        self,
        dataset: Dataset,
        settings: ReviewSettings,
        *,
        runs_dir: Path | None,
        on_progress: Callable[[ReviewProgress], None],
        stop_requested: threading.Event,
    ) -> ReviewSummary:
        """Run :func:`pipeline.review.run.run_review` in the worker (saved in its cache, so
        the caller reads it back with ``cached_review``); returns the review's summary.
        Progress and stop as :meth:`train`; raises what ``run_review`` raises."""
        return self._run_job(
            on_progress, stop_requested, _review_in_worker, dataset, settings, runs_dir
        )

    def compare(
        self,
        dataset: Dataset,
        review: LabelReview,
        actions: dict[int, str],
        data_config: DataConfig,
        settings: ReviewSettings,
        *,
        on_progress: Callable[[ReviewProgress], None],
        stop_requested: threading.Event,
    ) -> dict[str, Any]:
        """Run :func:`pipeline.review.corrections.compare_corrections` in the worker; its result.
        Progress and stop as :meth:`train`."""
        return self._run_job(
            on_progress,
            stop_requested,
            _compare_in_worker,
            dataset,
            review,
            actions,
            data_config,
            settings,
        )

    def _run_job(
        self,
        on_progress: Callable[[Any], None],
        stop_requested: threading.Event,
        work: Callable[..., Any],
        *args: Any,
    ) -> Any:
        """Run ``work(ticket, *args)`` in the worker, one job at a time, forwarding its
        events to ``on_progress`` until its outcome arrives. The events are
        tagged with a ticket unique to this object (shared managers' job ids may repeat)."""
        with self._lock:
            self.start()
            self._stop.clear()
            ticket = next(self._tickets)
            future = self._pool.submit(work, ticket, *args)
            outcome = self._pump(ticket, future, on_progress, stop_requested)
            try:
                if outcome is None:  # the worker died, or its outcome could not be sent
                    return future.result()
                if outcome.error is not None:
                    raise outcome.error
                return outcome.result
            except BrokenProcessPool as exc:
                self._pool.shutdown(wait=False, cancel_futures=True)
                with self._start_lock:
                    self._pool, self._started = self._new_pool(), False
                self.start()
                raise TrainingError(
                    "The training process ended unexpectedly (it may have run out of memory); "
                    "nothing was saved. Try a smaller vocabulary, batch or dataset (e.g. cap "
                    "the rows per class on Prepare)."
                ) from exc
            finally:
                with contextlib.suppress(RuntimeError):  # a pool shut down or broken
                    self._pool.submit(_release_memory)  # queued before the next job

    def _pump(
        self,
        ticket: int,
        future: Future,
        on_progress: Callable[[ProgressEvent], None],
        stop_requested: threading.Event,
    ) -> _Outcome | None:
        """Forward the job's events until its outcome arrives (``None`` if it never does).

        The worker queues the outcome before its function returns, but the queue's feeder
        thread may send it after the pool's own result is back (a loaded machine): a job
        that returned is waited for up to :data:`_OUTCOME_GRACE_S` more, so its last
        events are not lost. A dead worker (a broken pool) sends nothing more.
        """
        returned_by: float | None = None
        while True:
            if stop_requested.is_set():
                self._stop.set()
            try:
                tag, item = self._events.get(timeout=_PUMP_SECONDS)
            except queue.Empty:
                if not future.done():
                    continue
                if future.cancelled() or isinstance(future.exception(), BrokenProcessPool):
                    return None
                returned_by = returned_by or time.monotonic()
                if time.monotonic() - returned_by > _OUTCOME_GRACE_S:
                    return None  # the outcome was lost on the way (it could not be serialized)
                continue
            if tag != ticket:
                continue  # a late event of an earlier job
            if isinstance(item, _Outcome):
                return item
            on_progress(item)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the running training and end the worker process (never start it again).

        An idle worker is terminated at once: it holds no job, and waiting for it could
        mean waiting seconds for its TensorFlow import to finish first.
        """
        with self._start_lock:
            self._started = True
        self._stop.set()
        if self._lock.acquire(blocking=False):  # no job runs, and none can start now
            try:
                terminate_workers(self._pool)
            finally:
                self._lock.release()
        self._pool.shutdown(wait=wait, cancel_futures=True)
