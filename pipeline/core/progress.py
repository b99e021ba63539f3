"""What a training reports while it runs, and what can honestly be said about it.

No TensorFlow here: the app's server process, which never trains itself (see
:mod:`pipeline.jobs.manager`), and the CLI read these events without importing it.

A training goes through the :data:`PHASES` in order. Within ``vectorizing`` and
``evaluating`` it reports rows done (``kind="rows"``); within ``training`` it
reports batches (``"batch"``), each epoch's validation as a step of its own
(``"validation"``) and the end of every epoch (``"epoch"``). How many epochs a
run takes is decided by early stopping, so the only time left that can be known
is the current epoch's (:func:`seconds_left`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pipeline.runs.history import EpochRow
    from pipeline.runs.summary import SavedRun

EventKind = Literal["phase", "rows", "start", "batch", "validation", "epoch", "end"]
#: What a ``rows`` event counts: rows of a split, or a solver's steps.
CountUnit = Literal["rows", "steps"]
Phase = Literal["preparing", "vectorizing", "training", "evaluating", "baseline", "saving", "done"]

#: The phases of a training, in order, with what a person is told during each.
PHASES: dict[str, str] = {
    "preparing": "Preparing data (dedupe, balance, split)…",
    "vectorizing": "Building the vocabulary and vectorizing the texts…",
    "training": "Training…",
    "evaluating": "Evaluating on the test set…",
    "baseline": "Waiting for the TF-IDF baseline…",
    "saving": "Saving the run…",
    "done": "Done.",
}

#: How a phase is named in "Stopped while …" messages.
PHASE_GERUNDS: dict[str, str] = {
    "preparing": "preparing the data",
    "vectorizing": "vectorizing",
    "training": "training",
    "evaluating": "evaluating",
    "baseline": "waiting for the baseline",
    "saving": "saving",
    "done": "finishing",
}

#: Shortest time between two batch, validation or rows events: reading a model's
#: logs waits for the device, and a listener may sit in another process.
EVENT_INTERVAL_S = 0.25


@dataclass(frozen=True)
class ProgressEvent:
    """What a progress listener receives.

    ``kind="phase"`` announces ``phase`` (see :data:`PHASES`). ``kind="rows"``
    reports ``done`` of ``total`` rows within the phase, ``message`` saying what
    is being done ("Word vocabulary", "Vectorizing", "Test set"); with ``unit="steps"``
    it counts a solver's steps instead, ``total`` 0 (it ends at its optimum, whose step
    is not known beforehand).

    ``epoch`` counts from 1 and continues a parent run's numbering; this fit runs
    at most epochs ``first_epoch`` to ``epochs`` (early stopping usually ends it
    sooner). ``batch`` counts from 1 within the epoch out of ``batches``; for
    ``kind="validation"`` they count the validation batches of ``epoch``.
    ``logs`` holds the latest metrics (batch means within an epoch; train and
    validation metrics at ``"epoch"``). ``history`` is the per-epoch history so
    far (:class:`~pipeline.runs.history.EpochRow`), parent epochs included.
    """

    kind: EventKind
    epoch: int
    epochs: int
    batch: int
    batches: int
    logs: dict[str, float]
    elapsed_s: float
    history: tuple[EpochRow, ...] = ()
    message: str = ""
    first_epoch: int = 1
    phase: Phase = "training"
    done: int = 0
    total: int = 0
    unit: CountUnit = "rows"

    @property
    def fraction_done(self) -> float:
        """Share of the epoch limit's batches done, in [0, 1] (an upper bound on work left)."""
        if self.kind == "end":
            return 1.0
        total = (self.epochs - self.first_epoch + 1) * self.batches
        done = (self.epoch - self.first_epoch) * self.batches + self.batch
        return min(max(done / total, 0.0), 1.0) if total > 0 else 0.0

    @property
    def step_fraction(self) -> float:
        """Share of the current step done: rows of a phase, or batches of an epoch or
        of its validation; 0 for events without a count."""
        if self.kind == "rows":
            return min(self.done / self.total, 1.0) if self.total else 0.0
        if self.kind in {"batch", "validation", "epoch"} and self.batches:
            return min(self.batch / self.batches, 1.0)
        return 1.0 if self.kind == "end" else 0.0


ProgressListener = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class TrainResult:
    """How a training ended: ``run_id`` of the saved run, its folder, whether it came
    from the cache or was stopped. Declared here, without TensorFlow, because it
    travels from the training process to a server that never imports it."""

    run_id: str
    run_dir: Path
    from_cache: bool
    stopped: bool


#: No time left is told before a step has run this long: its first batches or rows say
#: little of its pace (and a step first seen at batch 1 has no time measured at all).
ETA_MIN_SECONDS = 2.0


def seconds_left(
    started: float,
    fraction: float,
    now: float | None = None,
    *,
    started_fraction: float = 0.0,
    min_seconds: float = ETA_MIN_SECONDS,
) -> float | None:
    """Time left for a step, at its pace since it was first seen.

    ``started`` is when the step was first seen (``time.perf_counter``), at
    ``started_fraction`` done; ``fraction`` is how much of it is done ``now``. The pace
    is the work done in between over the time in between. ``None`` (nothing to tell)
    before ``min_seconds`` have passed or before any work was done since; ``0.0`` once
    the step is complete.
    """
    if not 0.0 < fraction <= 1.0:
        return None
    if fraction >= 1.0:
        return 0.0
    now = time.perf_counter() if now is None else now
    elapsed = now - started
    done = fraction - started_fraction
    if elapsed < min_seconds or done <= 0.0:
        return None
    return elapsed * (1.0 - fraction) / done


def describe_epoch_limit(epoch: int, epochs: int, patience: int | None = None) -> str:
    """``"Epoch 3 (of at most 100; early stopping decides)"``: what is known of the end."""
    if epochs <= 0:
        return "Epoch: waiting for the data"
    if epoch >= epochs:
        return f"Epoch {epoch} of {epochs} (the last)"
    count = f"{patience} epoch" + ("" if patience == 1 else "s")
    rule = f"early stopping after {count} without progress" if patience else None
    return f"Epoch {epoch} of at most {epochs:,} ({rule or 'early stopping decides'})"


def describe_fit_epoch(event: ProgressEvent) -> str:
    """``"epoch 3 of at most 10"`` while epoch 3 runs, ``"epoch 3 of at most 10 done"``
    at its ``"epoch"`` event: what a fit's batch or epoch event says of where it is."""
    limit = f"epoch {event.epoch} of at most {event.epochs:,}"
    return f"{limit} done" if event.kind == "epoch" else limit


def describe_end(history: Sequence[EpochRow], stopped: bool) -> str:
    """How a training ended, from its history: ``"Stopped part way through epoch 3;
    best epoch (2) kept."``, ``"Finished after 6 epoch(s); best epoch (4) kept."``."""
    best = next((row.epoch for row in history if row.best), None)
    kept = f"; best epoch ({best}) kept" if best is not None else ""
    if not stopped:
        return f"Finished after {len(history)} epoch(s){kept}."
    if history and history[-1].partial:
        return f"Stopped part way through epoch {history[-1].epoch}{kept}."
    return f"Stopped after epoch {history[-1].epoch if history else 0}{kept}."


def end_event(saved: SavedRun, message: str) -> ProgressEvent:
    """The ``"end"`` event of a training that ended as the saved run ``saved``."""
    epochs = len(saved.history)
    last = saved.history[-1].metrics if saved.history else {}
    return ProgressEvent(
        kind="end",
        epoch=epochs,
        epochs=epochs,
        batch=0,
        batches=0,
        logs={name: value for name, value in last.items() if value is not None},
        elapsed_s=saved.run.duration_s,
        history=tuple(saved.history),
        message=message,
    )


def cached_event(saved: SavedRun) -> ProgressEvent:
    """The ``"end"`` event that reports ``saved`` as served from the cache."""
    return end_event(saved, "Loaded from cache: trained before on this data and settings.")
