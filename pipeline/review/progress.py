"""What a running label review reports (:class:`ReviewProgress`) and how it is stopped
(:class:`ReviewStopped`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.core.errors import HeadlineLabError

#: What :class:`ReviewProgress` phases say.
PART_NAMES = {"tfidf": "TF-IDF + logistic regression", "neural": "neural model"}


@dataclass(frozen=True)
class ReviewProgress:
    """What a review reports while it runs.

    ``phase`` is ``"tfidf"`` or ``"neural"`` (that model trains on fold ``fold`` of
    ``folds``, counted from 1), then ``"scoring"`` (cleanlab) and ``"done"``; or
    ``"cached"`` alone. In ``"neural"``, ``epoch`` (epochs done, of at most
    ``epochs``) and ``batch`` of ``batches`` count the fit's progress.
    """

    phase: str
    fold: int
    folds: int
    message: str
    elapsed_s: float
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0

    @property
    def fraction_done(self) -> float:
        """Share of the folds done, counting the current fold's epochs (an upper bound on
        what is left: early stopping may end a fold sooner); in [0, 1]."""
        if self.phase in {"scoring", "cached", "done"} or self.folds <= 0:
            return 1.0
        within = self.epoch / self.epochs if self.epochs else 0.0
        return min(max((self.fold - 1 + within) / self.folds, 0.0), 1.0)


ReviewListener = Callable[[ReviewProgress], None]


class ReviewStopped(HeadlineLabError):
    """A stop was asked for before the review ended: nothing was kept."""


def check_stop(stop_event: threading.Event, where: str) -> None:
    """Raise :class:`ReviewStopped` (the review stopped ``where``, e.g. "before fold 2 of
    5") when ``stop_event`` is set; return ``None`` otherwise."""
    if stop_event.is_set():
        raise ReviewStopped(f"The label review was stopped {where}; nothing was kept.")


def seconds_since(started: float) -> float:
    """Seconds from ``started`` (a ``time.perf_counter()`` reading) to now."""
    return time.perf_counter() - started
