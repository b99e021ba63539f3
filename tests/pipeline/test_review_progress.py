"""What a running label review says of its neural folds' epochs (issue: "epoch 10…
(epoch 11 of at most 10)")."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pipeline.core.progress import ProgressEvent
from pipeline.jobs.review_jobs import ReviewJob
from pipeline.review.fold_fit import FoldFit
from pipeline.review.progress import ReviewProgress
from pipeline.review.settings import ReviewSettings


def _fit_event(kind: str, epoch: int, batch: int, epochs: int = 10) -> ProgressEvent:
    return ProgressEvent(
        kind=kind, epoch=epoch, epochs=epochs, batch=batch, batches=20, logs={}, elapsed_s=1.0
    )  # type: ignore[arg-type]


def _steps(uci_small, events: list[ProgressEvent]) -> list[str]:
    """The step line a review job shows after each fit event of fold 2."""
    settings = ReviewSettings(models="neural", folds=5)
    job = ReviewJob(1, uci_small, settings)
    job.update(status="running", started_at=0.0)
    seen: list[ReviewProgress] = []
    fold = FoldFit([], np.zeros(0), [], 4, settings, 2, seen.append, threading.Event(), 0.0)
    steps = []
    for event in events:
        fold._on_fit_event(event)
        job.report(seen[-1])
        steps.append(job.snapshot().step)
    return steps


def test_each_epoch_is_counted_once_and_never_past_the_limit(uci_small) -> None:
    steps = _steps(
        uci_small,
        [_fit_event("batch", 3, 5), _fit_event("epoch", 3, 20), _fit_event("epoch", 10, 20)],
    )
    assert steps == [
        "Fold 2 of 5: neural model, epoch 3 of at most 10",
        "Fold 2 of 5: neural model, epoch 3 of at most 10 done",
        "Fold 2 of 5: neural model, epoch 10 of at most 10 done",
    ]
    assert not any("11" in step for step in steps)


@pytest.mark.parametrize(("epoch", "epochs"), [(1, 1), (4, 10)])
def test_the_share_done_counts_finished_epochs(uci_small, epoch: int, epochs: int) -> None:
    seen: list[ReviewProgress] = []
    settings = ReviewSettings(models="neural", folds=5)
    fold = FoldFit([], np.zeros(0), [], 4, settings, 1, seen.append, threading.Event(), 0.0)
    fold._on_fit_event(_fit_event("epoch", epoch, 20, epochs))
    assert seen[-1].fraction_done == pytest.approx(epoch / epochs / 5)
