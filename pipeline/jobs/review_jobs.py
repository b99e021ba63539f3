"""Label reviews as background jobs: queued with the trainings, run in the training process.

A review trains k folds of models (:mod:`pipeline.review.run`): minutes on a big file, so
the app runs it as it runs a training, in the :class:`~pipeline.jobs.worker.TrainingProcess`,
one job at a time behind the trainings queued before it. The worker saves the review
in its cache; the page reads it back with :func:`pipeline.review.cache.cached_review`. Each
job belongs to the browser session that started it and exposes an immutable
:class:`ReviewSnapshot` for the page to poll.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pipeline.core.errors import HeadlineLabError
from pipeline.core.progress import seconds_left

if TYPE_CHECKING:
    from pipeline.core.config import DataConfig
    from pipeline.data import Dataset
    from pipeline.jobs.worker import TrainingProcess
    from pipeline.review.progress import ReviewProgress
    from pipeline.review.result import LabelReview
    from pipeline.review.settings import ReviewSettings

ReviewStatus = Literal["queued", "running", "finished", "cached", "stopped", "cancelled", "failed"]
REVIEW_FINAL_STATUSES: frozenset[str] = frozenset(
    {"finished", "cached", "stopped", "cancelled", "failed"}
)


@dataclass(frozen=True)
class ReviewSnapshot:
    """A consistent copy of a review job's state.

    ``progress`` is the share of the folds done (the running fold's epochs counted);
    ``step`` says what runs now ("Fold 2 of 5: neural model, epoch 3"); ``eta_s`` is
    the time left at the pace so far (``None`` until it can be told); ``summary`` is
    the finished review's (:attr:`pipeline.review.result.LabelReview.summary`).
    """

    job_id: int
    status: ReviewStatus
    settings: dict[str, Any]
    dataset: str
    message: str = ""
    step: str = ""
    progress: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    started_at: float | None = None
    stopping: bool = False
    summary: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        """Whether the job has ended, in any way."""
        return self.status in REVIEW_FINAL_STATUSES


class ReviewJob:
    """One queued or running label review; use :meth:`snapshot` and :meth:`stop`."""

    def __init__(
        self,
        job_id: int,
        dataset: Dataset,
        settings: ReviewSettings,
        session: str | None = None,
    ) -> None:
        self.job_id = job_id
        #: The browser session that started the review: only it sees the job.
        self.session = session
        self.dataset: Dataset | None = dataset
        self.settings = settings
        self.future: Future | None = None
        self.ended_at: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = ReviewSnapshot(
            job_id=job_id,
            status="queued",
            settings=settings.to_dict(),
            dataset=dataset.name,
            message="Waiting for the training process…",
        )

    def snapshot(self) -> ReviewSnapshot:
        """The job's state now (safe from any thread)."""
        with self._lock:
            return self._state

    def stop(self) -> None:
        """Cancel a queued review at once; a running one ends at its next fold, epoch or
        batch (a TF-IDF fit runs to its end first). Nothing of it is kept."""
        self._stop.set()
        if self.future is not None and self.future.cancel():
            self._end("cancelled", "Cancelled before it started.")
            return
        self._update(stopping=True, message="Stopping…")

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._state = dataclasses.replace(self._state, **changes)

    def _end(self, status: ReviewStatus, message: str, **changes: Any) -> None:
        self.dataset = None  # an ended job keeps no data
        self.ended_at = time.monotonic()
        self._update(status=status, message=message, stopping=False, **changes)

    def _on_progress(self, progress: ReviewProgress) -> None:
        state = self.snapshot()
        if state.done:
            return
        fraction = progress.fraction_done
        self._update(
            step=progress.message,
            progress=fraction,
            elapsed_s=progress.elapsed_s,
            eta_s=seconds_left(state.started_at or time.perf_counter(), fraction)
            if progress.phase in {"tfidf", "neural"}
            else None,
            message="Stopping…" if self._stop.is_set() else state.message,
        )

    def _work(self, trainer: TrainingProcess, runs_dir: Path | None) -> dict[str, Any]:
        """Run the job in the training process; its summary."""
        return trainer.review(
            self.job_id,
            self.dataset,
            self.settings,
            runs_dir=runs_dir,
            on_progress=self._on_progress,
            stop_requested=self._stop,
        )

    def _run(self, runs_dir: Path | None, trainer: TrainingProcess) -> None:
        from pipeline.review.progress import ReviewStopped

        if self._stop.is_set():
            self._end("cancelled", "Cancelled before it started.")
            return
        self._update(status="running", message="Reviewing…", started_at=time.perf_counter())
        try:
            summary = self._work(trainer, runs_dir)
        except ReviewStopped as exc:
            self._end("stopped", str(exc))
        except HeadlineLabError as exc:
            self._end("failed", str(exc))
        except Exception as exc:
            self._end("failed", f"The review failed unexpectedly ({type(exc).__name__}: {exc}).")
        else:
            cached = bool(summary.get("from_cache"))
            self._end(
                "cached" if cached else "finished",
                "Loaded from the cache." if cached else "Done.",
                progress=1.0,
                eta_s=0.0,
                summary=summary,
            )


class ComparisonJob(ReviewJob):
    """Training before and after a reviewer's decisions, scored on the same test rows
    (:func:`pipeline.review.corrections.compare_corrections`); ``summary`` is its result, with
    the paired 95 % interval of after minus before (``vs_before``)."""

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

    def _work(self, trainer: TrainingProcess, runs_dir: Path | None) -> dict[str, Any]:
        return trainer.compare(
            self.job_id,
            self.dataset,
            self.review,
            self.actions,
            self.data_config,
            self.settings,
            on_progress=self._on_progress,
            stop_requested=self._stop,
        )

    def _end(self, status: ReviewStatus, message: str, **changes: Any) -> None:
        self.review = None
        super()._end(status, message, **changes)
