"""ASHA whose early stops the trial carries out itself, so that a stopped trial's run is
always saved.

Tune stops a trial by calling ``Trainable.stop`` on its actor, and once the sweep's last
trial has ended it kills an actor still stopping 10 s later (``TuneController``'s
``_actor_force_cleanup_timeout``, fixed in Ray 2.60). A trial that ASHA stops at a rung
saves its run while stopping (its best epoch evaluated on the test rows, the lean model
exported): on the bundled data, with one CPU per trial, that takes longer than 10 s, so a
trial stopped at a rung as the sweep ended lost its run.

:class:`SaveThenStopASHA` keeps ASHA's decisions and changes how a stop is carried out: it
answers Tune "continue" and leaves a marker file named after the trial's run in the
sweep's stop folder; the trial, asked for its next result, finds the marker, stops its
training at once, saves the run as ``"stopped"`` and only then reports its end (``done``),
for as long as that takes. A trial replaying a cached run (nothing to save) is stopped by
Tune as ever.

This module imports Ray: only the ``sweep`` command and Ray's workers import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.tune.schedulers import ASHAScheduler, TrialScheduler


def stop_marker(stop_dir: str | Path, run_id: str) -> Path:
    """The file that tells the trial of run ``run_id`` to stop and save (see the module)."""
    return Path(stop_dir) / run_id


class SaveThenStopASHA(ASHAScheduler):
    """:class:`~ray.tune.schedulers.ASHAScheduler` whose stops of a training trial are
    marker files in ``stop_dir`` (a folder every node reads: the runs folder's) that the
    trial acts on; every other argument is ASHA's."""

    def __init__(self, stop_dir: str | Path, **asha: Any) -> None:
        super().__init__(**asha)
        self.stop_dir = Path(stop_dir)

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
        """ASHA's decision; a stop of a trial that is training becomes its marker and
        "continue" (the trial then ends itself, saved)."""
        decision = super().on_trial_result(tune_controller, trial, result)
        run_id = result.get("run_id")
        if decision != TrialScheduler.STOP or result.get("cached") or not run_id:
            return decision
        self.stop_dir.mkdir(parents=True, exist_ok=True)
        stop_marker(self.stop_dir, run_id).touch()
        return TrialScheduler.CONTINUE
