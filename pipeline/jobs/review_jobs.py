"""Label reviews as background jobs: queued with the trainings, run in the training process.

A review trains k folds of models (:mod:`pipeline.review.run`): minutes on a big file, so
the app runs it as it runs a training, in the :class:`~pipeline.jobs.worker.TrainingProcess`,
one job at a time behind the trainings queued before it. The worker saves the review
in its cache; the page reads it back with :func:`pipeline.review.cache.cached_review`. Each
job belongs to the browser session that started it and exposes an immutable
:class:`ReviewSnapshot` for the page to poll; its lifecycle is every job's
(:mod:`pipeline.jobs.lifecycle`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.progress import seconds_left
from pipeline.jobs.lifecycle import (
    FINAL_STATUSES,
    STOPPING_MESSAGE,
    BackgroundJob,
    JobStatus,
)
from pipeline.review.progress import ReviewStopped

if TYPE_CHECKING:
    from pipeline.core.config import DataConfig
    from pipeline.data import Dataset
    from pipeline.jobs.worker import TrainingProcess
    from pipeline.review.progress import ReviewProgress
    from pipeline.review.result import LabelReview
    from pipeline.review.settings import ReviewSettings
    from pipeline.review.summary import ReviewSummary


@dataclass(frozen=True)
class ReviewSnapshot:
    """A consistent copy of a review job's state.

    ``progress`` is the share of the folds done (the running fold's epochs counted);
    ``step`` says what runs now ("Fold 2 of 5: neural model, epoch 3"); ``eta_s`` is
    the time left at the pace so far (``None`` until it can be told); ``summary`` is
    the finished review's (:attr:`pipeline.review.result.LabelReview.summary`), and
    ``comparison`` a finished comparison's result
    (:func:`pipeline.review.corrections.compare_corrections`).
    """

    job_id: int
    status: JobStatus
    settings: dict[str, Any]
    dataset: str
    message: str = ""
    step: str = ""
    progress: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    started_at: float | None = None
    stopping: bool = False
    summary: ReviewSummary | None = None
    comparison: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        """Whether the job has ended, in any way."""
        return self.status in FINAL_STATUSES


class ReviewJob(BackgroundJob[ReviewSnapshot]):
    """One queued or running label review; use :meth:`snapshot` and :meth:`stop` (a
    running review ends at its next fold, epoch or batch, or its TF-IDF fit's next solver
    step; nothing of it is kept)."""

    noun = "review"
    running_message = "Reviewing…"
    stopped_errors = (ReviewStopped,)

    def __init__(
        self,
        job_id: int,
        dataset: Dataset,
        settings: ReviewSettings,
        session: str | None = None,
    ) -> None:
        state = ReviewSnapshot(
            job_id=job_id,
            status="queued",
            settings=settings.to_dict(),
            dataset=dataset.name,
            message="Waiting for the training process…",
        )
        super().__init__(job_id, dataset, state, session=session)
        self.settings = settings

    def report(self, progress: ReviewProgress) -> None:
        """Fold one progress report of the review into the snapshot."""
        state = self.snapshot()
        if state.done:
            return
        fraction = progress.fraction_done
        self.update(
            step=progress.message,
            progress=fraction,
            elapsed_s=progress.elapsed_s,
            eta_s=seconds_left(state.started_at or time.perf_counter(), fraction)
            if progress.phase in {"tfidf", "neural"}
            else None,
            message=STOPPING_MESSAGE if self.stop_requested.is_set() else state.message,
        )

    def work(self, trainer: TrainingProcess, runs_dir: Path | None) -> ReviewSummary:
        """Run the review in the training process; its summary."""
        return trainer.review(
            self.dataset,
            self.settings,
            runs_dir=runs_dir,
            on_progress=self.report,
            stop_requested=self.stop_requested,
        )

    def finished(
        self, result: ReviewSummary, runs_dir: Path | None
    ) -> tuple[JobStatus, str | None, dict[str, Any]]:
        cached = result.from_cache
        return (
            "cached" if cached else "finished",
            "Loaded from the cache." if cached else "Done.",
            {"progress": 1.0, "eta_s": 0.0, "summary": result},
        )


class ComparisonJob(ReviewJob):
    """Training before and after a reviewer's decisions, scored on the same test rows
    (:func:`pipeline.review.corrections.compare_corrections`); ``comparison`` is its result,
    with the paired 95 % interval of after minus before (``vs_before``)."""

    def __init__(
        self,
        job_id: int,
        dataset: Dataset,
        settings: ReviewSettings,
        review: LabelReview,
        actions: dict[int, str],
        data_config: DataConfig,
        session: str | None = None,
    ) -> None:
        super().__init__(job_id, dataset, settings, session=session)
        self.review: LabelReview | None = review
        self.actions = dict(actions)
        self.data_config = data_config

    noun = "comparison"

    def work(self, trainer: TrainingProcess, runs_dir: Path | None) -> dict[str, Any]:
        return trainer.compare(
            self.dataset,
            self.review,
            self.actions,
            self.data_config,
            self.settings,
            on_progress=self.report,
            stop_requested=self.stop_requested,
        )

    def finished(
        self, result: dict[str, Any], runs_dir: Path | None
    ) -> tuple[JobStatus, str | None, dict[str, Any]]:
        return "finished", "Done.", {"progress": 1.0, "eta_s": 0.0, "comparison": result}

    def release(self) -> None:
        super().release()
        self.review = None
