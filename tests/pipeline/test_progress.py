"""Progress that tells the truth: rows while vectorizing, validation as its own step,
and a stop that takes effect in every phase (real tiny trainings)."""

from __future__ import annotations

import math
import threading

import pytest

from pipeline.core.progress import ProgressEvent, describe_epoch_limit, seconds_left
from pipeline.runs.registry import RunRegistry
from pipeline.training.fit import PREDICT_BATCH, VALIDATION_BATCHES_PER_TRAINING_BATCH
from pipeline.training.train import TrainingStopped, train_run
from tests.tiny_training import tiny_config

pytestmark = pytest.mark.training


def test_vectorizing_reports_rows_done_up_to_every_row(trained_run):
    _, events = trained_run
    rows = [e for e in events if e.kind == "rows" and e.phase == "vectorizing"]
    steps = [e.message for e in rows]
    # the fast preset's n-gram vocabulary, then every split through the encoder
    assert steps[0] == "Word-pair vocabulary" and steps[-1] == "Vectorizing"
    vectorized = [e for e in rows if e.message == "Vectorizing"]
    assert vectorized[-1].done == vectorized[-1].total
    assert [e.done for e in vectorized] == sorted(e.done for e in vectorized)
    vocabulary = [e for e in rows if e.message == "Word-pair vocabulary"]
    # the vocabulary is built on the training rows only, the encoder runs on every split
    assert vocabulary[-1].done == vocabulary[-1].total < vectorized[-1].total


def test_each_epochs_validation_is_a_step_of_its_own(trained_run, runs_dir):
    result, events = trained_run
    sizes = RunRegistry(runs_dir).get(result.run_id).data.summary.split_sizes
    # a validation batch holds a few training batches (of 32 rows), at most PREDICT_BATCH rows
    validation_batch = min(PREDICT_BATCH, VALIDATION_BATCHES_PER_TRAINING_BATCH * 32)
    validation_batches = math.ceil(sizes.validation / validation_batch)
    for epoch in (1, 2):
        in_epoch = [e for e in events if e.epoch == epoch and e.kind != "end"]
        ordered = [e.kind for e in in_epoch]
        first_validation = ordered.index("validation")
        # the epoch's last training batch always reports, then validation, then the epoch end
        assert ordered[first_validation - 1] == "batch"
        last_batch = in_epoch[first_validation - 1]
        assert last_batch.batch == last_batch.batches
        assert ordered[-1] == "epoch"
        validation = in_epoch[first_validation]
        assert validation.batch == 0 and validation.batches == validation_batches
        assert validation.step_fraction == 0.0
    # each epoch's validation begins once (later validation events report its batches)
    assert [e.epoch for e in events if e.kind == "validation" and e.batch == 0] == [1, 2]


def test_the_validation_and_test_sets_are_scored_with_rows_done(trained_run, runs_dir):
    result, events = trained_run
    sizes = RunRegistry(runs_dir).get(result.run_id).data.summary.split_sizes
    scored = [
        e for e in events if e.kind == "rows" and e.phase == "evaluating" and e.unit == "rows"
    ]
    # the validation rows first (the class-prior shift is tuned on them), then the test rows
    steps = [e.message for e in scored]
    assert steps == sorted(steps, key=["Validation set", "Test set"].index)
    for step, rows in (("Validation set", sizes.validation), ("Test set", sizes.test)):
        last = [e for e in scored if e.message == step][-1]
        assert last.done == last.total == rows


def test_the_blends_regression_reports_each_solver_step(trained_run):
    """Between the validation and the test rows the blend's regression is fitted: on 200
    classes its Newton steps took 5-10 s each, 56 s in all, behind a "Validation set"
    count that stood at its end. Each step is now counted as it ends."""
    from pipeline.training.blend import BLEND_FIT_STEP

    _, events = trained_run
    scored = [e for e in events if e.kind == "rows" and e.phase == "evaluating"]
    steps = [e.message for e in scored]
    order = ["Validation set", BLEND_FIT_STEP, "Test set"]
    assert set(steps) == set(order) and steps == sorted(steps, key=order.index)
    solver = [e for e in scored if e.message == BLEND_FIT_STEP]
    assert [e.done for e in solver] == list(range(len(solver)))  # 0, then each step
    assert len(solver) >= 2 and {(e.unit, e.total) for e in solver} == {("steps", 0)}
    assert {e.unit for e in scored if e.message != BLEND_FIT_STEP} == {"rows"}


def _stop_when(condition):
    """A listener that records events and sets the stop event once ``condition(event)``."""
    stop = threading.Event()
    events: list[ProgressEvent] = []

    def listen(event: ProgressEvent) -> None:
        events.append(event)
        if condition(event):
            stop.set()

    return stop, events, listen


@pytest.mark.parametrize(
    ("phase", "condition"),
    [
        ("preparing the data", lambda e: e.kind == "phase" and e.phase == "preparing"),
        ("vectorizing", lambda e: e.kind == "rows" and e.phase == "vectorizing"),
        ("training", lambda e: e.kind == "batch" and e.epoch == 1),
    ],
)
def test_a_stop_before_the_first_epoch_ends_saves_nothing(phase, condition, uci_small, tmp_path):
    stop, events, listen = _stop_when(condition)
    with pytest.raises(TrainingStopped, match=f"Stopped while {phase}"):
        train_run(
            uci_small,
            tiny_config(epochs=5),
            runs_dir=tmp_path,
            on_progress=listen,
            stop_event=stop,
        )
    assert RunRegistry(tmp_path).list_runs() == []
    # nothing ran after the stop: no later phase was announced
    stopped_at = next(i for i, e in enumerate(events) if condition(e))
    later = {e.phase for e in events[stopped_at + 1 :] if e.kind == "phase"}
    assert later == set()


def test_a_stop_during_validation_cuts_it_short_and_keeps_the_best_epoch(uci_small, tmp_path):
    stop, events, listen = _stop_when(lambda e: e.kind == "validation" and e.epoch == 2)
    result = train_run(
        uci_small,
        tiny_config(epochs=5, patience=5),
        runs_dir=tmp_path,
        on_progress=listen,
        stop_event=stop,
    )
    assert result.stopped
    saved = RunRegistry(tmp_path).get(result.run_id)
    assert [row.epoch for row in saved.history] == [1, 2]
    assert saved.history[-1].partial and not saved.history[0].partial
    assert saved.run.best_epoch == 1  # epoch 2's validation never finished
    validation = [e for e in events if e.kind == "validation" and e.epoch == 2]
    assert validation[-1].batch <= 1  # no validation batch ran after the one that saw the stop
    assert saved.run.status == "stopped"


def test_a_stop_while_evaluating_scores_the_test_set_and_saves_at_once(uci_small, tmp_path):
    stop, events, listen = _stop_when(lambda e: e.kind == "phase" and e.phase == "evaluating")
    result = train_run(
        uci_small,
        tiny_config(epochs=1),
        runs_dir=tmp_path,
        on_progress=listen,
        stop_event=stop,
    )
    assert result.stopped
    saved = RunRegistry(tmp_path).get(result.run_id)
    assert saved.run.status == "stopped"
    # the test set was scored in full, every row of it
    assert saved.metrics.n_test == saved.data.summary.split_sizes.test
    # the linear part's solver heard the stop after one step; that part is still blended
    assert saved.metrics.blend is not None
    phases = [e.phase for e in events if e.kind == "phase"]
    assert phases[-2:] == ["evaluating", "saving"] or phases[-3:] == [
        "evaluating",
        "baseline",
        "saving",
    ]


def test_seconds_left_follows_the_pace_so_far():
    assert seconds_left(100.0, 0.25, now=110.0) == pytest.approx(30.0)
    assert seconds_left(100.0, 1.0, now=110.0) == 0.0
    assert seconds_left(100.0, 0.0, now=110.0) is None


def test_the_epoch_limit_is_described_as_a_limit():
    assert describe_epoch_limit(3, 100, patience=2) == (
        "Epoch 3 of at most 100 (early stopping after 2 epochs without progress)"
    )
    assert describe_epoch_limit(3, 100, patience=1) == (
        "Epoch 3 of at most 100 (early stopping after 1 epoch without progress)"
    )
    assert describe_epoch_limit(5, 5) == "Epoch 5 of 5 (the last)"
    assert describe_epoch_limit(0, 0) == "Epoch: waiting for the data"
