"""The command line's shared printing: progress printers on stderr, a saved run's test
report (``train`` and ``evaluate``) and an OS error in words."""

from __future__ import annotations

import errno
import sys
import time
from typing import TYPE_CHECKING, Any

from pipeline.core.class_sizes import MIN_TEST_ROWS_PER_CLASS
from pipeline.core.progress import describe_epoch_limit, seconds_left

if TYPE_CHECKING:
    from pipeline.runs.summary import SavedRun


def describe_os_error(exc: OSError) -> str:
    """An OSError in words, with what to do about the usual ones."""
    where = f" ({exc.filename})" if exc.filename else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    hints = {
        errno.EACCES: "check that the folder is writable, or pick another with --runs-dir",
        errno.EROFS: "the file system is read-only; pick another folder with --runs-dir",
        errno.ENOSPC: "free some disk space, or pick another folder with --runs-dir",
        errno.EFBIG: "raise this system's file-size limit (ulimit -f) or pick another --runs-dir",
        errno.ENOENT: "check the path",
    }
    hint = hints.get(exc.errno or 0, "check the path and the disk")
    return f"{reason}{where}; {hint}."


def headline_metrics(saved: SavedRun) -> dict[str, Any]:
    """The headline numbers of a saved run (test scores, baseline, epochs, time, device),
    as the JSON values ``train --json`` and ``evaluate --json`` print."""
    metrics = saved.metrics
    return {
        "test_accuracy": metrics.test_accuracy,
        "balanced_accuracy": metrics.balanced_accuracy,
        "test_loss": metrics.test_loss,
        "macro_f1": metrics.macro_f1,
        "test_set": saved.config.experiment.data.test_set,
        "test_rows": metrics.n_test,
        "baseline_accuracy": metrics.baseline.test_accuracy if metrics.baseline else None,
        # model minus baseline on the same test rows, 95 % paired bootstrap intervals
        "vs_baseline": metrics.vs_baseline.to_json() if metrics.vs_baseline else None,
        "epochs": len(saved.history),
        "best_epoch": saved.run.best_epoch,
        "duration_s": saved.run.duration_s,
        "device": saved.run.device,
        "origin": saved.run.origin,
    }


def print_metrics(saved: SavedRun) -> None:
    """Print a saved run's test report: scores, the comparison with the baseline, thin
    classes, epochs and time, and the per-class table."""
    head = headline_metrics(saved)
    loss = "-" if head["test_loss"] is None else f"{head['test_loss']:.4f}"
    baseline = "-" if head["baseline_accuracy"] is None else f"{head['baseline_accuracy']:.4f}"
    balanced = "-" if head["balanced_accuracy"] is None else f"{head['balanced_accuracy']:.4f}"
    print(
        f"test accuracy {head['test_accuracy']:.4f}, balanced accuracy {balanced}, "
        f"loss {loss}, macro F1 {head['macro_f1']:.4f} (baseline accuracy {baseline})"
    )
    print(f"test set: {head['test_set']}, {head['test_rows']:,} rows")
    if saved.metrics.vs_baseline is not None:
        for sentence in saved.metrics.vs_baseline.sentences():
            print(sentence)
    thin = saved.metrics.thin_classes()
    if thin:
        listing = ", ".join(f"{saved.labels.name(code)} ({n})" for code, n in thin.items())
        print(
            f"warning: fewer than {MIN_TEST_ROWS_PER_CLASS} test rows in {listing}: their "
            "scores are noisy; raise --test-size or use --test-set stratified"
        )
    print(
        f"{head['epochs']} epochs (best {head['best_epoch']}), "
        f"{head['duration_s']:.0f} s on {head['device']}"
    )
    print(f"{'class':<18}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for row in saved.metrics.per_class.values():
        print(
            f"{row.name[:18]:<18}{row.precision:>10.3f}{row.recall:>10.3f}"
            f"{row.f1:>10.3f}{row.support:>10,}"
        )


def scoring_progress() -> Any:
    """A progress callback for :func:`pipeline.scoring.files.score_file` that prints rows done
    and rows/s on stderr, at most once a second."""
    last = 0.0

    def show(progress: Any) -> None:
        nonlocal last
        if progress.seconds - last >= 1.0:
            last = progress.seconds
            print(
                f"scored {progress.rows:,} rows ({progress.rows_per_second:,.0f} rows/s)",
                file=sys.stderr,
                flush=True,
            )

    return show


class ReviewProgressLine:
    """The review's progress on one stderr line: fold, model, epoch."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = ""

    def update(self, progress: Any) -> None:
        if self.enabled and progress.message != self.last:
            self.last = progress.message
            sys.stderr.write(f"\r{progress.message[:100]:<100}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()


class ProgressBar:
    """A one-line text progress bar on stderr, redrawn at most 10 times a second.

    It shows the step the training is in (rows vectorized, batches of the epoch
    or of its validation, test rows scored) and the time left for that step only:
    how many epochs run is up to early stopping.
    """

    WIDTH = 24

    def __init__(self, enabled: bool, patience: int | None = None) -> None:
        self.enabled = enabled
        self.patience = patience
        self.last = 0.0
        self.step = ""
        self.step_started = time.perf_counter()

    def update(self, event: Any) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if event.kind in {"end", "phase"}:
            sys.stderr.write(f"\r{event.message:<100}\n")
            self.step = ""
            return
        if event.kind == "rows":
            step, unit = event.message, "rows"
            done, total = event.done, event.total
        else:
            validating = event.kind == "validation"
            step = f"{'validating ' if validating else ''}epoch {event.epoch}"
            unit, done, total = "batches", event.batch, event.batches
        if step != self.step:
            self.step, self.step_started = step, now
        elif event.kind != "epoch" and done < total and now - self.last < 0.1:
            return
        self.last = now
        fraction = event.step_fraction
        filled = int(self.WIDTH * fraction)
        left = seconds_left(self.step_started, fraction, now)
        line = f"\r{step} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:,}/{total:,} {unit}"
        if event.kind in {"batch", "epoch"}:
            line += " " + " ".join(f"{k} {v:.4f}" for k, v in event.logs.items())
        if left is not None and fraction < 1.0:
            line += f" | {left:4.0f} s left in this step"
        sys.stderr.write(line[:160].ljust(100))
        if event.kind == "epoch":
            limit = describe_epoch_limit(event.epoch, event.epochs, self.patience)
            sys.stderr.write(f"\n  {limit}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.flush()
