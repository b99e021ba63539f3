"""The time left in a step is told only once it means something, and then at the pace
measured since the step was first seen (issue: "about 0:00 left" at batch 1 of epoch 3)."""

from __future__ import annotations

import pytest

from pipeline.core.progress import ETA_MIN_SECONDS, ProgressEvent, seconds_left
from tests.tiny_training import tiny_config


def test_no_estimate_before_the_step_has_run_a_while() -> None:
    assert seconds_left(100.0, 0.5, now=100.0) is None  # first seen just now
    assert seconds_left(100.0, 0.5, now=100.0 + ETA_MIN_SECONDS / 2) is None
    assert seconds_left(100.0, 0.5, now=100.0 + ETA_MIN_SECONDS) is not None


def test_the_pace_counts_only_the_work_done_since_the_step_was_first_seen() -> None:
    # first seen at 10 % done; 20 s later 30 % done: 20 % in 20 s, so 70 s for the rest
    assert seconds_left(100.0, 0.3, now=120.0, started_fraction=0.1) == pytest.approx(70.0)
    # nothing done since it was first seen: no pace to tell
    assert seconds_left(100.0, 0.1, now=120.0, started_fraction=0.1) is None
    assert seconds_left(100.0, 1.0, now=120.0, started_fraction=0.1) == 0.0


def _event(kind: str, epoch: int, batch: int, batches: int = 275) -> ProgressEvent:
    return ProgressEvent(
        kind=kind, epoch=epoch, epochs=100, batch=batch, batches=batches, logs={}, elapsed_s=0.0
    )  # type: ignore[arg-type]


def test_batch_1_of_epoch_3_has_no_estimate_then_a_correct_one(uci_small, monkeypatch) -> None:
    import pipeline.jobs.job as jobs

    clock = {"now": 1000.0}
    monkeypatch.setattr(jobs.time, "perf_counter", lambda: clock["now"])
    job = jobs.Job(1, uci_small, tiny_config(), False, None, "job")
    job.update(status="running", started_at=900.0, phase="training")
    job.report(_event("batch", 2, 275))
    job.report(_event("epoch", 2, 275))
    clock["now"] += 0.3
    job.report(_event("batch", 3, 1))  # the first event of epoch 3
    first = job.snapshot()
    assert first.step == "Epoch 3" and first.eta_s is None  # was 0.0: "about 0:00 left"
    # 10 s later, 51 batches done: 50 batches in 10 s, 224 left take about 44.8 s
    clock["now"] += 10.0
    job.report(_event("batch", 3, 51))
    assert job.snapshot().eta_s == pytest.approx(224 * 10.0 / 50, rel=1e-6)


def test_the_train_page_says_nothing_of_time_left_without_an_estimate() -> None:
    from pipeline.jobs.job import JobSnapshot
    from ui.views.train_progress import step_text

    snap = JobSnapshot(
        job_id=1, label="x", status="running", step="Epoch 3", step_done=1,
        step_total=275, step_unit="batches", eta_s=None,
    )  # fmt: skip
    assert step_text(snap) == "Epoch 3 · batch 1 of 275"


def test_a_last_moment_reads_under_a_second_never_0_00() -> None:
    from pipeline.jobs.job import JobSnapshot
    from ui.views.train_progress import step_text

    snap = JobSnapshot(
        job_id=1, label="x", status="running", step="Epoch 3", step_done=274,
        step_total=275, step_unit="batches", eta_s=0.3,
    )  # fmt: skip
    assert step_text(snap) == "Epoch 3 · batch 274 of 275 · under a second left in this epoch"
