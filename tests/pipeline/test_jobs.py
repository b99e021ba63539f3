"""Background training jobs: progress snapshots, queueing, stop and cancel."""

from __future__ import annotations

import math

import pytest

from pipeline.core.errors import RunNotFoundError
from pipeline.jobs.manager import JobManager
from pipeline.runs.registry import RunRegistry
from tests.tiny_training import tiny_config

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def training_process():
    """One training process for the module's managers, as a server's managers share one:
    TensorFlow is imported once, not once per test."""
    from pipeline.jobs.worker import TrainingProcess

    trainer = TrainingProcess()
    yield trainer
    trainer.shutdown()


@pytest.fixture
def new_manager(training_process):
    """``JobManager`` factory over the module's training process; every manager made is
    shut down after the test (its jobs stopped, the process left for the next test)."""
    made: list[JobManager] = []

    def make(runs_dir) -> JobManager:
        made.append(JobManager(runs_dir, trainer=training_process))
        return made[-1]

    yield make
    for manager in made:
        manager.shutdown()


def test_jobs_run_one_at_a_time_and_report_progress(uci_small, tmp_path, new_manager):
    manager = new_manager(tmp_path)
    first = manager.submit(uci_small, tiny_config(epochs=1), label="first")
    second = manager.submit(uci_small, tiny_config(epochs=1, lstm_units=4), label="second")
    waiting = manager.snapshot(second.job_id)
    assert waiting.status == "queued" and waiting.queue_position == 1  # next, after the first
    done = manager.wait(first.job_id, timeout=240)
    assert done.status == "finished", done.message
    saved = RunRegistry(tmp_path).get(done.run_id)
    assert done.progress == 1.0 and done.history == saved.history and len(done.history) == 1
    assert done.batches == math.ceil(saved.data.summary.split_sizes.train / 32)
    assert done.elapsed_s == saved.run.duration_s
    assert manager.wait(second.job_id, timeout=240).status == "finished"
    # the same settings again: served from the cache
    third = manager.submit(uci_small, tiny_config(epochs=1))
    cached = manager.wait(third.job_id, timeout=60)
    assert cached.status == "cached" and cached.run_id == done.run_id


def test_a_cached_run_does_not_wait_behind_a_running_job(uci_small, tmp_path, new_manager):
    manager = new_manager(tmp_path)
    first = manager.wait(manager.submit(uci_small, tiny_config(epochs=1)).job_id, timeout=240)
    assert first.status == "finished", first.message
    running = manager.submit(uci_small, tiny_config(epochs=30, patience=30))
    cached = manager.submit(uci_small, tiny_config(epochs=1))
    state = manager.snapshot(cached.job_id)
    assert state.status == "cached" and state.run_id == first.run_id
    assert state.history and state.progress == 1.0
    assert manager.snapshot(running.job_id).status in {"queued", "running"}
    forced = manager.submit(uci_small, tiny_config(epochs=1), force=True)
    assert manager.snapshot(forced.job_id).status == "queued"
    manager.shutdown()
    assert manager.snapshot(forced.job_id).status == "cancelled"


def test_stop_a_running_job_and_cancel_a_queued_one(uci_small, tmp_path, new_manager):
    manager = new_manager(tmp_path)
    running = manager.submit(uci_small, tiny_config(epochs=30, patience=30))
    queued = manager.submit(uci_small, tiny_config(epochs=1, lstm_units=4))
    queued.stop()
    # wait until the first epoch has finished, then stop
    for _ in range(2400):
        state = manager.snapshot(running.job_id)
        if len(state.history) >= 1 or state.done:
            break
        manager.wait(running.job_id, timeout=0.1)
    running.stop()
    final = manager.wait(running.job_id, timeout=240)
    assert final.status == "stopped", final.message
    saved = RunRegistry(tmp_path).get(final.run_id)
    assert saved.run.status == "stopped" and final.history == saved.history
    assert 1 <= len(final.history) < 30  # stopped after its first epoch, long before the last
    assert manager.wait(queued.job_id, timeout=60).status == "cancelled"


def test_a_job_that_cannot_start_is_refused_before_it_is_queued(uci_small, tmp_path, new_manager):
    manager = new_manager(tmp_path)
    with pytest.raises(RunNotFoundError, match="No saved run 0123456789abcdef"):
        manager.submit(uci_small, tiny_config(), parent_run_id="0123456789abcdef")
    assert manager.jobs() == []


def test_a_job_shows_each_phase_with_a_clock_and_stopping_at_once(uci_small):
    from pipeline.jobs.job import Job
    from pipeline.training.train import PHASES, ProgressEvent

    job = Job(1, uci_small, tiny_config(), False, None, "job")
    job.update(status="running", started_at=100.0, phase_started_at=100.0)
    event = ProgressEvent(
        kind="phase", epoch=0, epochs=0, batch=0, batches=0, logs={}, elapsed_s=3.0,
        message=PHASES["evaluating"], phase="evaluating",
    )  # fmt: skip
    job.report(event)
    state = job.snapshot()
    assert state.phase == "evaluating" and state.message == PHASES["evaluating"]
    elapsed, in_phase = state.clocks(now=state.phase_started_at + 2.5)
    assert in_phase == pytest.approx(2.5)
    assert elapsed == pytest.approx(state.phase_started_at + 2.5 - 100.0)  # since the start
    job.stop()
    state = job.snapshot()
    assert state.stopping and state.message.startswith("Stopping")
    job.report(ProgressEvent(**{**event.__dict__, "phase": "saving"}))
    assert job.snapshot().message.startswith("Stopping")  # stays until the job is done


def test_a_queued_job_is_cancelled_at_once_and_leaves_the_queue(uci_small, tmp_path, new_manager):
    manager = new_manager(tmp_path)
    running = manager.submit(uci_small, tiny_config(epochs=30, patience=30))
    first = manager.submit(uci_small, tiny_config(epochs=1, units=4))
    second = manager.submit(uci_small, tiny_config(epochs=1, units=5))
    assert manager.snapshot(second.job_id).queue_position == 2
    first.stop()
    # Future.cancel(): no waiting for the running job to end
    assert manager.snapshot(first.job_id).status == "cancelled"
    assert first.dataset is None
    assert manager.snapshot(second.job_id).queue_position == 1
    running.stop()
    second.stop()
    assert manager.wait(running.job_id, timeout=240).done
    manager.shutdown()


def test_the_job_trains_in_its_own_process_and_shows_each_step(uci_small, tmp_path, new_manager):
    import os

    manager = new_manager(tmp_path)
    job = manager.submit(uci_small, tiny_config(epochs=3, patience=3))
    seen: dict[str, object] = {}
    while not (state := manager.snapshot(job.job_id)).done:
        if state.step_unit == "rows" and state.phase == "vectorizing":
            seen.setdefault("rows", state)
        if state.validating:
            seen.setdefault("validation", state)
        if state.step.startswith("Epoch"):
            seen.setdefault("epoch", state)
        manager.wait(job.job_id, timeout=0.02)
    assert state.status == "finished", state.message
    assert job.dataset is None  # a finished job keeps no data
    workers = list(manager._trainer._pool._processes)
    assert workers and os.getpid() not in workers
    sizes = RunRegistry(tmp_path).get(state.run_id).data.summary.split_sizes
    epoch = seen["epoch"]
    assert epoch.step_unit == "batches" and epoch.step_total == epoch.batches == state.batches
    assert epoch.batches == math.ceil(sizes.train / 32)
    assert epoch.step_fraction == epoch.step_done / epoch.step_total
    rows = seen.get("rows")
    if rows is not None:  # vectorizing a few hundred rows may end between two looks
        # the word-pair vocabulary reads the training rows, the encoder every split
        total = {"Word-pair vocabulary": sizes.train, "Vectorizing": sum(sizes.as_dict().values())}
        assert rows.step_total == total[rows.step]
        assert 0 < rows.step_done <= rows.step_total
    validation = seen.get("validation")
    if validation is not None:
        assert validation.step.startswith("Validating epoch")
    manager.shutdown()


def test_a_dead_training_process_fails_its_job_and_the_next_job_runs(
    uci_small, tmp_path, new_manager
):
    import os
    import signal

    manager = new_manager(tmp_path)
    job = manager.submit(uci_small, tiny_config(epochs=30, patience=30))
    while manager.snapshot(job.job_id).phase != "training":
        assert not manager.snapshot(job.job_id).done
        manager.wait(job.job_id, timeout=0.05)
    for pid in list(manager._trainer._pool._processes):
        os.kill(pid, signal.SIGKILL)
    failed = manager.wait(job.job_id, timeout=60)
    assert failed.status == "failed"
    assert "training process ended unexpectedly" in failed.message
    after = manager.wait(manager.submit(uci_small, tiny_config(epochs=1)).job_id, timeout=240)
    assert after.status == "finished", after.message
    manager.shutdown()


def test_the_training_process_never_runs_the_servers_main_script_and_yields_the_cpu(
    tmp_path, monkeypatch
):
    """Streamlit's ``__main__`` is a stand-in whose ``__file__`` is the app script; a
    spawned worker must not run that script again (it would run the whole app).

    And every thread of the worker (TensorFlow's included, started after the set-up) runs
    under SCHED_IDLE at niceness 19: a visitor's page and browser come first.

    And the libraries' objects are frozen out of the worker's garbage collections: Keras
    collects after each job and per quantized table, and each collection scanned all of
    them (found: about 18 s of the test suite's CPU in the workers' ``clear_session``)."""
    import gc
    import os
    import sys
    import types
    from pathlib import Path

    from pipeline.jobs.worker import WORKER_NICENESS, TrainingProcess, _warm_up

    marker = tmp_path / "the script ran"
    script = tmp_path / "streamlit_app.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    stand_in = types.ModuleType("__main__")
    stand_in.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", stand_in)
    trainer = TrainingProcess()
    try:
        trainer.start()  # as its timer, or a first job, would
        assert trainer._pool.submit(_warm_up).result(timeout=180)
        (process,) = trainer._pool._processes.values()
        tasks = list(Path(f"/proc/{process.pid}/task").iterdir())
        assert len(tasks) > 2  # TensorFlow's threads are there
        for task in tasks:
            # /proc/PID/task/TID/stat: field 19 is the niceness, 41 the scheduling policy
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            assert (int(fields[16]), int(fields[38])) == (WORKER_NICENESS, os.SCHED_IDLE)
        assert trainer._pool.submit(gc.get_freeze_count).result(timeout=60) > 100_000
    finally:
        trainer.shutdown()
    assert sys.modules["__main__"] is stand_in
    assert not marker.exists()


def test_jobs_belong_to_their_session_and_finished_ones_are_pruned(
    uci_small, tmp_path, new_manager, monkeypatch
):
    """Found: every job kept its dataset for the server's life, the job list was never
    pruned, and every session saw every job."""
    manager = new_manager(tmp_path)
    first = manager.submit(uci_small, tiny_config(), session="alice")
    assert manager.wait(first.job_id, timeout=240).status == "finished"
    assert first.dataset is None  # a finished job releases its data
    monkeypatch.setattr("pipeline.jobs.manager.MAX_FINISHED_JOBS", 3)
    cached = [manager.submit(uci_small, tiny_config(), session="bob") for _ in range(5)]
    assert all(job.snapshot().status == "cached" and job.dataset is None for job in cached)
    # each submit first forgets all but the newest 3 finished jobs, then adds its own
    assert manager.jobs() == cached[1:]
    assert manager.get(first.job_id) is None  # pruned: its run stays on disk
    assert {job.session for job in manager.jobs_of("bob")} == {"bob"}
    assert manager.jobs_of("alice") == [] and manager.others_busy("bob") == 0
    monkeypatch.setattr("pipeline.jobs.manager.FINISHED_JOBS_KEPT_S", 0.0)
    manager.submit(uci_small, tiny_config(), session="carol")
    assert [job.session for job in manager.jobs()] == ["carol"]


def test_shutting_down_an_idle_worker_ends_it_at_once_even_while_it_imports():
    """Found: a server (or a test) releasing its job manager waited for the idle worker to
    finish importing TensorFlow (about 4 s) before the worker could exit. An idle worker
    holds nothing worth waiting for, so it is terminated."""
    import signal

    from pipeline.jobs.worker import TrainingProcess

    trainer = TrainingProcess()
    (process,) = trainer._pool._processes.values()  # started by __init__, importing now
    trainer.shutdown()
    process.join(timeout=30)
    assert process.exitcode == -signal.SIGTERM  # ended, not left to finish its import


def test_managers_sharing_a_training_process_keep_their_jobs_apart(
    uci_small, tmp_path, training_process
):
    """Two managers (job ids both from 1) on one process: each job gets its own events
    and saves in its own runs folder; a manager shut down leaves the process working."""
    first = JobManager(tmp_path / "first", trainer=training_process)
    second = JobManager(tmp_path / "second", trainer=training_process)
    one = first.submit(uci_small, tiny_config(epochs=1))
    two = second.submit(uci_small, tiny_config(epochs=2))
    assert one.job_id == two.job_id == 1
    done_one = first.wait(one.job_id, timeout=240)
    done_two = second.wait(two.job_id, timeout=240)
    assert (done_one.status, done_two.status) == ("finished", "finished")
    assert len(done_one.history) == 1 and len(done_two.history) == 2
    assert RunRegistry(tmp_path / "first").get(done_one.run_id).history == done_one.history
    assert RunRegistry(tmp_path / "second").get(done_two.run_id).history == done_two.history
    first.shutdown()
    again = second.submit(uci_small, tiny_config(epochs=1), force=True)
    assert second.wait(again.job_id, timeout=240).status == "finished"
    second.shutdown()


def test_events_sent_before_the_outcome_arrive_even_after_the_pools_result():
    """Found (a flaky ``test_managers_sharing_a_training_process_keep_their_jobs_apart``):
    the worker queues a job's last events and its outcome, then returns; on a loaded
    machine the pool's own result came back before the queue's feeder thread had sent
    them, and the server stopped listening, so a finished job kept the history of its
    last epoch event (no best epoch marked). The outcome is always sent: wait for it."""
    import queue
    import threading
    import time
    from concurrent.futures import Future
    from types import SimpleNamespace

    from pipeline.jobs.worker import TrainingProcess, _Outcome

    events: queue.Queue = queue.Queue()
    channels = SimpleNamespace(_events=events, _stop=threading.Event())
    future: Future = Future()
    future.set_result("the pool's result")  # back first

    def late_feeder() -> None:
        time.sleep(0.6)
        events.put((7, "the end event"))
        events.put((7, _Outcome(result="the outcome")))

    threading.Thread(target=late_feeder, daemon=True).start()
    seen: list[str] = []
    outcome = TrainingProcess._pump(channels, 7, future, seen.append, threading.Event())
    assert seen == ["the end event"]
    assert outcome is not None and outcome.result == "the outcome"


def test_a_dead_worker_is_not_waited_for():
    """The grace for a late outcome is only for a job that returned: a broken pool
    (the worker died) sends nothing more, so the pump gives up at once."""
    import queue
    import threading
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool
    from types import SimpleNamespace

    from pipeline.jobs.worker import TrainingProcess

    class CountedQueue(queue.Queue):
        looks = 0

        def get(self, *args, **kwargs):
            CountedQueue.looks += 1
            return super().get(*args, **kwargs)

    channels = SimpleNamespace(_events=CountedQueue(), _stop=threading.Event())
    future: Future = Future()
    future.set_exception(BrokenProcessPool("killed"))
    assert TrainingProcess._pump(channels, 1, future, print, threading.Event()) is None
    assert CountedQueue.looks == 1  # not one look after another for the 10 s grace
