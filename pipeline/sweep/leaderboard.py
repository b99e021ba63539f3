"""A sweep's leaderboard: its trials' saved runs side by side, the TF-IDF baseline on top.

Every value comes from the runs folder (each trial's ``history.json``, ``metrics.json``
and ``run.json``), so the leaderboard says exactly what the Runs and Results pages show.
Trials are ranked by validation loss (the sweep's own measure, at the epoch whose weights
the run keeps); test accuracy and macro F1 are shown beside it, never used for choosing.
No Ray and no TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from pipeline.core.config import ExperimentConfig
from pipeline.core.errors import RunNotFoundError, RunRecordError
from pipeline.runs.history import EpochRow
from pipeline.runs.registry import RunRegistry
from pipeline.runs.summary import SavedRun
from pipeline.sweep.space import applied_settings

#: What a trial whose run was not saved, and that gave no reason, went through.
NOT_SAVED_NOTE = "ended before its first epoch did (stopped, or never started within the budget)"
#: The same, for a trial that reported ``{epoch}`` epochs: its save was cut short.
CUT_SHORT_NOTE = (
    "stopped after epoch {epoch}; Tune ended its actor before the run was saved "
    "(a busy machine: run the sweep again, or give it more time)"
)


@dataclass(frozen=True)
class TrialRow:
    """One trial of a sweep.

    ``status`` is ``"complete"`` or ``"stopped"`` (the run's own status: stopped by the
    scheduler or the time budget, its best epoch kept), ``"cached"`` (complete before this
    sweep: not trained again) or ``"not saved"`` (``note`` says why). ``val_loss`` and
    ``val_accuracy`` are the kept epoch's; ``seconds`` is the run's training time.
    """

    run_id: str
    family: str
    settings: dict[str, Any]
    status: str
    epochs: int = 0
    best_epoch: int | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    macro_f1: float | None = None
    seconds: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Leaderboard:
    """A finished sweep: the baseline's scores (``None`` when it could not be fitted) and
    the trials, lowest validation loss first (trials without a saved run last)."""

    dataset: str
    searched: list[str]
    baseline: dict[str, Any] | None
    trials: list[TrialRow]
    runs_dir: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; each trial gets its ``rank`` (1 = lowest validation loss)."""
        payload = dataclasses.asdict(self)
        for rank, row in enumerate(payload["trials"], start=1):
            row["rank"] = rank
        return payload


def trial_row(
    registry: RunRegistry,
    run_id: str,
    config: ExperimentConfig,
    searched: list[str],
    *,
    cached: bool = False,
    error: str | None = None,
    reported_epoch: int | None = None,
) -> TrialRow:
    """The row of the trial that trained (or found) run ``run_id`` with ``config``.

    ``error`` is the reason the trial gave for failing; ``reported_epoch`` the last epoch
    it reported to Tune (``None``: none), which names how far a trial got whose run is
    missing without a reason."""
    try:
        saved = registry.get(run_id)
    except (RunNotFoundError, RunRecordError) as exc:
        problem = error or (None if isinstance(exc, RunNotFoundError) else str(exc))
        if problem is None:
            problem = (
                NOT_SAVED_NOTE
                if reported_epoch is None
                else CUT_SHORT_NOTE.format(epoch=reported_epoch)
            )
        return TrialRow(
            run_id,
            config.model.family,
            applied_settings(config, searched),
            "not saved",
            note=problem,
        )
    kept = _kept_epoch(saved)
    return TrialRow(
        run_id=run_id,
        family=saved.config.family,
        settings=applied_settings(saved.config.experiment, searched),
        status="cached" if cached and saved.complete else saved.run.status,
        epochs=len(saved.history),
        best_epoch=saved.run.best_epoch,
        val_loss=_number(kept.val_loss if kept else None),
        val_accuracy=_number(kept.val_accuracy if kept else None),
        test_accuracy=saved.metrics.test_accuracy,
        macro_f1=saved.metrics.macro_f1,
        seconds=saved.run.duration_s,
        note=error,
    )


def ranked(rows: list[TrialRow]) -> list[TrialRow]:
    """``rows`` by validation loss, lowest first; rows without one last, in their order."""
    return sorted(rows, key=lambda row: (row.val_loss is None, row.val_loss or 0.0))


def baseline_scores(score: dict[str, Any] | None) -> dict[str, Any] | None:
    """The baseline's row: its name and test scores, as a run's ``metrics.json`` holds them."""
    if score is None:
        return None
    keys = ("name", "test_accuracy", "macro_f1", "balanced_accuracy")
    return {key: score.get(key) for key in keys}


def _kept_epoch(saved: SavedRun) -> EpochRow | None:
    """The history row of the epoch whose weights the run keeps (the lowest validation
    loss of its whole epochs when none is marked); ``None`` without whole epochs."""
    marked = [row for row in saved.history if row.best]
    if marked:
        return marked[0]
    whole = [row for row in saved.history if not row.partial]
    return min(
        whole, key=lambda row: math.inf if row.val_loss is None else row.val_loss, default=None
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None
