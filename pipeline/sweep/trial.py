"""One sweep trial on Ray Tune: a real training run, reported to Tune epoch by epoch.

:class:`SweepTrial` is a class trainable (``ray.tune.Trainable``), not a function one,
for one reason found in Ray 2.60's sources: a function trainable learns that the
scheduler stopped it only as a ``SystemExit`` raised inside ``tune.report``, and its
actor is dropped as soon as ``Trainable.stop`` returns, which does not wait for the
function (``session.finish(timeout=0)``); a run being saved then would be cut off. A
class trainable's :meth:`cleanup` runs inside ``stop`` itself, so it can ask the
training to end (``stop_event``: the best epoch so far is kept, the run saved with
status ``"stopped"``) and wait for the save before the actor goes. ASHA's own stops do
not even go through ``stop``: :class:`~pipeline.sweep.scheduler.SaveThenStopASHA` leaves
a marker instead, and :meth:`step` stops the training and saves the run before it
reports the trial's end.

The training runs in a thread of its own (:func:`pipeline.training.train.train_run`);
its progress listener queues every finished epoch and waits for Tune's decision, and
:meth:`step` hands the epochs to Tune one by one (``val_loss``, ``val_accuracy``,
``loss``, ``accuracy``, ``epoch``), then a last result with ``done`` once the run is
saved (the last epoch allowed is held back until then: ASHA stops every trial at that
epoch's result, and Tune kills a stopping actor 10 s after the sweep's last trial ends,
which under load cut saves short). A trial whose run is already complete in the runs
folder (same run id) trains nothing: :meth:`step` replays its saved history, so the
scheduler still sees its curve, with ``cached`` set. Tune reuses an actor for the next
trial (:meth:`reset_config`), so TensorFlow is imported once per actor, not once per
trial.

This module imports Ray: only the ``sweep`` command and Ray's workers import it.
"""

from __future__ import annotations

import math
import queue
import threading
from pathlib import Path
from typing import Any

from ray import tune

from pipeline.core.config import ExperimentConfig
from pipeline.core.errors import HeadlineLabError
from pipeline.core.progress import ProgressEvent
from pipeline.data import Dataset
from pipeline.runs.ids import make_run_id
from pipeline.runs.registry import RunRegistry
from pipeline.sweep.scheduler import stop_marker
from pipeline.sweep.space import trial_config

#: The metrics of a history row that a trial reports to Tune.
REPORTED = ("val_loss", "val_accuracy", "loss", "accuracy")
#: Phases after the fit: a stop then would only mark a finished run "stopped".
_AFTER_FIT = frozenset({"evaluating", "baseline", "saving", "done"})


class SweepTrial(tune.Trainable):
    """A Tune trial that trains (or finds in the cache) one run of the sweep.

    Tune passes the sampled settings as ``config``; ``tune.with_parameters`` passes the
    rest to :meth:`setup`.

    Reporting is synchronous, as Ray's own function trainables report: after each epoch
    but the last the training waits (in its progress listener, at the epoch's end) until
    Tune decides, by calling :meth:`step` again (go on) or :meth:`cleanup` (stop). A stop
    is then applied at the next progress event of the next epoch, never inside the epoch
    end: ``StopOnEvent`` would take a stop seen there for a cut-short epoch and bar that
    whole epoch's weights from being kept.
    """

    def setup(
        self,
        config: dict[str, Any],
        *,
        dataset: Dataset,
        base: ExperimentConfig,
        data_fingerprint: str,
        runs_dir: str,
        threads: int = 1,
        stop_dir: str | None = None,
    ) -> None:
        """Find the trial's run in the cache, or start training it on a thread.

        ``base`` holds every setting that is not sampled; ``data_fingerprint`` is
        ``pipeline.data.fingerprint(dataset)``, computed once by the driver; ``threads``
        caps TensorFlow's thread pools at the CPUs Tune gave the trial; ``stop_dir`` is
        where :class:`~pipeline.sweep.scheduler.SaveThenStopASHA` leaves the marker that
        stops this trial (``None``: Tune's own stops alone).
        """
        self.stop_dir = stop_dir
        self.experiment = trial_config(base, config)
        self.run_id = make_run_id(data_fingerprint, self.experiment, None)
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.stop_event = threading.Event()
        self.decided = threading.Semaphore(0)  # released once per epoch Tune let go on
        self.waiting = False  # the last epoch step() returned waits for a decision
        self.stopping = False  # Tune is done with the trial
        self.fit_over = False  # past the fit: a stop would only mark a finished run stopped
        self.last: dict[str, Any] = {}
        self.thread: threading.Thread | None = None
        cached = RunRegistry(runs_dir).find_complete(self.run_id)
        self.cached = cached is not None
        if cached is not None:
            for row in cached.history:
                self.events.put(("epoch", row))
            self.events.put(("end", None))
            return
        from pipeline.core.device import use_serving_threads

        use_serving_threads(threads)
        self.thread = threading.Thread(
            target=self._train, args=(dataset, Path(runs_dir)), name="sweep-trial", daemon=True
        )
        self.thread.start()

    def step(self) -> dict[str, Any]:
        """The next finished epoch's metrics; once the run is saved (or failed), a last
        result with ``done`` (and ``error``, the reason, when nothing was saved). The last
        epoch allowed is that last result: it comes once the run is saved. When the
        scheduler's stop marker is found, the training stops and the last result (the
        last epoch's metrics, ``done``) comes once the run is saved as stopped."""
        if self.waiting:  # Tune asks for more: the training goes on, or stops and saves
            self.waiting = False
            if self._stop_asked():  # the run is saved before this result goes to Tune
                self.stopping = True
            self.decided.release()
        kind, payload = self.events.get()
        if kind == "epoch":
            reported = {name: payload.metric(name) for name in REPORTED}
            self.last = {
                **{name: value for name, value in reported.items() if value is not None},
                "epoch": payload.epoch,
                "run_id": self.run_id,
                "cached": self.cached,
            }
            self.waiting = self.thread is not None and self._waits_after(payload.epoch)
            if self.thread is None or self.waiting:
                return dict(self.last)
            # The last epoch allowed: ASHA stops a trial at it (max_t), and Tune kills a
            # stopping actor 10 s after the sweep's last trial ends, so the result waits
            # for the run's save and goes to Tune as the trial's end.
            kind, payload = self.events.get()
        result = dict(self.last) or {"val_loss": math.nan, "run_id": self.run_id}
        result["done"] = True
        if kind == "error":
            result["error"] = payload
        return result

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        """Take the next trial in this actor (Tune's ``reuse_actors``): finish the last
        one as :meth:`cleanup` does, then set up the new one (TensorFlow stays imported)."""
        self.cleanup()
        self.setup(new_config)  # Tune's with_parameters wrapper adds the keyword arguments
        return True

    def cleanup(self) -> None:
        """Tune is done with the trial: a fit still running ends at its next progress
        event (the run is saved as ``"stopped"``, its best epoch kept); wait for the save."""
        if self.thread is None:
            return
        self.stopping = True
        self.decided.release()  # a training waiting at an epoch's end goes on, to stop
        self.thread.join()

    def _stop_asked(self) -> bool:
        """Whether the scheduler left this trial's stop marker (taken if so)."""
        if self.stop_dir is None:
            return False
        marker = stop_marker(self.stop_dir, self.run_id)
        if not marker.is_file():
            return False
        marker.unlink(missing_ok=True)
        return True

    def _waits_after(self, epoch: int) -> bool:
        """Whether the training waits for Tune's decision after ``epoch`` (not after the
        last one allowed: the fit ends there by itself)."""
        return epoch < self.experiment.train.epochs

    def _train(self, dataset: Dataset, runs_dir: Path) -> None:
        from pipeline.training.train import train_run

        try:
            result = train_run(
                dataset,
                self.experiment,
                runs_dir=runs_dir,
                on_progress=self._on_progress,
                stop_event=self.stop_event,
            )
        except HeadlineLabError as exc:  # stopped before any epoch ended, diverged, ...
            self.events.put(("error", str(exc)))
        except Exception as exc:  # the trial fails with a reason, never a traceback
            self.events.put(("error", f"{type(exc).__name__}: {exc}"))
        else:
            self.events.put(("end", result.stopped))

    def _on_progress(self, event: ProgressEvent) -> None:
        """Hand each whole epoch to :meth:`step` and wait for Tune's decision; apply a
        stop at the first event after an epoch's end, while the fit runs."""
        if event.kind == "phase" and event.phase in _AFTER_FIT:
            self.fit_over = True
        if event.kind != "epoch":
            if self.stopping and not self.fit_over:
                self.stop_event.set()
            return
        row = event.history[-1] if event.history else None
        if row is None or row.partial or self.stopping:
            return
        self.events.put(("epoch", row))
        if self._waits_after(event.epoch):
            self.decided.acquire()
