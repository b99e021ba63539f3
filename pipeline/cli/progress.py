"""The command line's progress on stderr, one ``tqdm`` bar for every command.

:class:`StepBar` shows one step at a time (rows vectorized, batches of an epoch, folds of
a review, rows scored): a new step closes the bar of the one before, which stays on its
line at its last count, and notes (a phase, what is known of the end after an epoch)
print between bars. ``tqdm`` does the drawing, the rate, the time left
and the redraw limit; stdout stays free for ``--json``. The three adapters turn what
training (:class:`~pipeline.core.progress.ProgressEvent`), a label review
(:class:`~pipeline.review.progress.ReviewProgress`) and a scoring job
(:class:`~pipeline.scoring.summary.ScoringProgress`) report into steps.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from tqdm import tqdm

from pipeline.core.progress import describe_epoch_limit

if TYPE_CHECKING:
    from pipeline.core.progress import ProgressEvent
    from pipeline.review.progress import ReviewProgress
    from pipeline.scoring.summary import ScoringProgress

#: Shortest time between two redraws of a bar, seconds.
REDRAW_S = 0.1


class StepBar:
    """One ``tqdm`` bar per step on ``file`` (stderr by default); nothing when disabled.

    Parameters
    ----------
    enabled : bool
        ``False`` (e.g. under ``--json``) prints nothing at all.
    file : text stream, optional
        Where the bars go (default ``sys.stderr``).
    """

    def __init__(self, enabled: bool = True, file: TextIO | None = None) -> None:
        self.enabled = enabled
        self.file = file or sys.stderr
        self.bar: tqdm | None = None
        self.step = ""

    def show(self, step: str, done: int, total: int | None, unit: str, postfix: str = "") -> None:
        """Step ``step`` at ``done`` of ``total`` ``unit`` (``total`` ``None``: unknown),
        with ``postfix`` after the bar; a new step starts a new bar."""
        if not self.enabled:
            return
        if self.bar is None or step != self.step:
            self._end_bar()
            self.step = step
            self.bar = tqdm(
                total=total,
                initial=done,
                postfix=postfix or None,
                desc=step,
                unit=f" {unit}",
                file=self.file,
                mininterval=REDRAW_S,
                dynamic_ncols=True,
            )
        self.bar.n = done
        if postfix:
            self.bar.set_postfix_str(postfix, refresh=False)
        if done == total:  # a step's last count is always drawn
            self.bar.refresh()
        else:
            self.bar.update(0)  # redrawn when REDRAW_S has passed

    def note(self, text: str) -> None:
        """Print ``text`` on a line of its own, ending the current bar."""
        if self.enabled:
            self._end_bar()
            tqdm.write(text, file=self.file)

    def close(self) -> None:
        """End the current bar."""
        if self.enabled:
            self._end_bar()

    def _end_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            self.step = ""


class TrainingProgress:
    """``train``'s progress: a bar per step the training reports (the vocabularies, the
    rows vectorized, each epoch's batches and validation, the test rows), the phases as
    notes, and after each epoch what is known of the end (early stopping decides)."""

    def __init__(self, enabled: bool, patience: int | None = None, file: TextIO | None = None):
        self.bar = StepBar(enabled, file)
        self.patience = patience

    def update(self, event: ProgressEvent) -> None:
        """Show one training event."""
        if event.kind in {"end", "phase"}:
            self.bar.note(event.message)
        elif event.kind == "rows":
            self.bar.show(event.message, event.done, event.total or None, event.unit)
        else:
            validating = "validating " if event.kind == "validation" else ""
            logs = " ".join(f"{name} {value:.4f}" for name, value in event.logs.items())
            step = f"{validating}epoch {event.epoch}"
            self.bar.show(step, event.batch, event.batches, "batches", logs)
            if event.kind == "epoch":  # the epoch's bar stays, with its logs
                self.bar.note("  " + describe_epoch_limit(event.epoch, event.epochs, self.patience))

    def close(self) -> None:
        """End the last bar."""
        self.bar.close()


class ReviewProgressBar:
    """``review``'s progress: a bar over the folds, with what the review is doing now."""

    def __init__(self, enabled: bool, file: TextIO | None = None) -> None:
        self.bar = StepBar(enabled, file)

    def update(self, progress: ReviewProgress) -> None:
        """Show one review report."""
        if progress.phase in {"cached", "done"}:
            self.bar.note(progress.message)
            return
        done = progress.fold - 1 if progress.phase in {"tfidf", "neural"} else progress.fold
        self.bar.show("label review", max(done, 0), progress.folds, "folds", progress.message)

    def close(self) -> None:
        """End the bar."""
        self.bar.close()


def scoring_progress(enabled: bool = True, file: TextIO | None = None) -> Any:
    """A progress callback for :func:`pipeline.scoring.files.score_file`: rows scored and
    rows per second (the total is not known while a file streams)."""
    bar = StepBar(enabled, file)

    def show(progress: ScoringProgress) -> None:
        bar.show("scoring", progress.rows, None, "rows")

    show.close = bar.close  # type: ignore[attr-defined]
    return show
