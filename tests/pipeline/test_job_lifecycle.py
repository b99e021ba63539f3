"""The one lifecycle every background job follows (``pipeline.jobs.lifecycle``): a queued
job cancels at once, a running one says ``stopping`` until its work ends, every end is
one final status with the data dropped, and an error is a status in words."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from pipeline.core.errors import DatasetError, TrainingStopped
from pipeline.jobs.job import Job
from pipeline.jobs.lifecycle import CANCELLED_MESSAGE, STOPPING_MESSAGE, BackgroundJob
from pipeline.jobs.review_jobs import ComparisonJob, ReviewJob


@dataclass(frozen=True)
class Snap:
    status: str
    message: str = ""
    stopping: bool = False
    started_at: float | None = None
    result: object = None


class Waiting(BackgroundJob[Snap]):
    """Runs until released, then returns, raises or stops as told."""

    noun = "test job"
    stopped_errors = (TrainingStopped,)

    def __init__(self, outcome: object = "done") -> None:
        super().__init__(7, object(), Snap(status="queued"))
        self.outcome = outcome
        self.started = threading.Event()
        self.release_work = threading.Event()

    def work(self, trainer, runs_dir):
        self.started.set()
        self.release_work.wait(10)
        if self.stop_requested.is_set():
            raise TrainingStopped("Stopped on request.")
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def finished(self, result, runs_dir):
        return "finished", "Done.", {"result": result}


def test_every_kind_of_job_has_the_one_lifecycle():
    for kind in (Job, ReviewJob, ComparisonJob):
        assert issubclass(kind, BackgroundJob)
        assert kind.run is BackgroundJob.run and kind.stop is BackgroundJob.stop


def test_a_job_runs_to_one_final_status_and_drops_its_data():
    job = Waiting()
    job.release_work.set()
    job.run(None, trainer=None)
    state = job.snapshot()
    assert (state.status, state.message, state.result) == ("finished", "Done.", "done")
    assert job.dataset is None and job.ended_at is not None and not state.stopping
    assert state.started_at is not None


def test_a_queued_job_is_cancelled_at_once_and_never_runs():
    with ThreadPoolExecutor(1) as queue:
        first, second = Waiting(), Waiting()
        first.future = queue.submit(first.run, None, None)
        second.future = queue.submit(second.run, None, None)
        assert first.started.wait(10)
        second.stop()
        assert second.snapshot().status == "cancelled"
        assert second.snapshot().message == CANCELLED_MESSAGE and second.dataset is None
        first.release_work.set()
    assert not second.started.is_set()


def test_a_running_job_says_stopping_then_stopped():
    job = Waiting()
    worker = threading.Thread(target=job.run, args=(None, None))
    worker.start()
    assert job.started.wait(10)
    job.stop()
    assert job.snapshot().stopping and job.snapshot().message == STOPPING_MESSAGE
    job.release_work.set()
    worker.join(10)
    state = job.snapshot()
    assert state.status == "stopped" and state.message == "Stopped on request."
    assert not state.stopping


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (DatasetError("The file has no rows; upload another."), "The file has no rows"),
        (RuntimeError("boom"), "The test job failed unexpectedly (RuntimeError: boom)."),
    ],
)
def test_an_error_is_a_failed_status_in_words(error, message):
    job = Waiting(outcome=error)
    job.release_work.set()
    job.run(None, trainer=None)  # never raises
    state = job.snapshot()
    assert state.status == "failed" and state.message.startswith(message)
    assert job.dataset is None


def test_a_stop_after_the_end_changes_nothing():
    job = Waiting()
    job.release_work.set()
    job.run(None, trainer=None)
    job.stop()
    assert job.snapshot().status == "finished" and not job.snapshot().stopping
