"""The command line's shared printing: a saved run's test report (``train`` and
``evaluate``) and an OS error in words (progress bars: :mod:`pipeline.cli.progress`)."""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pipeline.cli.options import setting_flag
from pipeline.core.class_sizes import (
    MIN_TEST_ROWS_PER_CLASS,
    thin_classes_listing,
    thin_classes_remedy,
)

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


#: The widest a column of class names grows in a table the CLI prints; a longer name is
#: cut, ending in "…".
MAX_NAME_WIDTH = 40


def name_column(names: Iterable[str], heading: str = "") -> Callable[[str], str]:
    """A formatter of class names for one table: each name padded to the longest of
    ``names`` (and ``heading``), at most :data:`MAX_NAME_WIDTH` characters, so no two
    names of a file's labels are cut to the same text."""
    width = min(max([len(heading), *(len(name) for name in names)]), MAX_NAME_WIDTH)

    def cell(name: str) -> str:
        shown = name if len(name) <= width else name[: width - 1] + "…"
        return f"{shown:<{width}}"

    return cell


def headline_metrics(saved: SavedRun) -> dict[str, Any]:
    """The headline numbers of a saved run (test scores, baseline, epochs, time, device)
    and its caveats (``notes``), as the JSON values ``train --json`` and ``evaluate --json``
    print."""
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
        "notes": list(saved.caveats()),
    }


def print_metrics(saved: SavedRun) -> None:
    """Print a saved run's test report: scores, the comparison with the baseline, its
    caveats (``note: ...``), thin classes with the remedies that fit its settings, epochs
    and time, and the per-class table."""
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
    for caveat in head["notes"]:
        print(f"note: {caveat}")
    thin = saved.metrics.thin_classes()
    if thin:
        listing = thin_classes_listing(thin, saved.labels.name)
        remedy = thin_classes_remedy(saved.config.experiment.data, setting_flag)
        print(
            f"warning: fewer than {MIN_TEST_ROWS_PER_CLASS} test rows in {listing}: their "
            f"scores are too noisy to trust. {remedy}"
        )
    print(
        f"{head['epochs']} epochs (best {head['best_epoch']}), "
        f"{head['duration_s']:.0f} s on {head['device']}"
    )
    rows = saved.metrics.per_class.values()
    name = name_column([row.name for row in rows], "class")
    print(f"{name('class')}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for row in rows:
        print(
            f"{name(row.name)}{row.precision:>10.3f}{row.recall:>10.3f}"
            f"{row.f1:>10.3f}{row.support:>10,}"
        )
