"""Long-lived objects shared by every session: registry, job manager, predictors.

``st.cache_resource`` keeps one object per argument value for the life of the
server process. ``pipeline.scoring.predictor`` imports TensorFlow,
so it is imported inside the function that needs it; ``pipeline.jobs.manager`` does not
(trainings run in a worker process), so the Train page opens without it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from pipeline.core.device import configure_devices, use_serving_threads
from pipeline.runs.registry import RunRegistry, default_runs_dir
from ui.core.session import principal

if TYPE_CHECKING:
    from pipeline.jobs.manager import JobManager
    from pipeline.jobs.worker import TrainingProcess
    from pipeline.runs.model_check import ModelChecker
    from pipeline.scoring.predictor import Predictor


def runs_dir() -> Path:
    """Folder of saved runs: ``$HEADLINE_LAB_RUNS_DIR`` or ``./runs`` (read on every call)."""
    return default_runs_dir().resolve()


def _end_checks(checker: ModelChecker) -> None:
    checker.shutdown()


@st.cache_resource(show_spinner=False, on_release=_end_checks)
def _model_checker() -> ModelChecker:
    """The server's checker of imported models: one process kept between imports (it
    ends when idle), so a visitor's second import does not wait for TensorFlow again."""
    from pipeline.runs.model_check import ModelChecker

    return ModelChecker()


def get_registry() -> RunRegistry:
    """The registry over :func:`runs_dir` as this session may use it (cheap; it reads the
    disk on each call): every call it answers asks :func:`pipeline.sessions.access.can`."""
    return RunRegistry(runs_dir(), principal=principal(), model_checker=_model_checker())


def _shut_down(manager: JobManager) -> None:
    """Stop the manager's jobs (when the cache drops it)."""
    manager.shutdown()


def _end_process(trainer: TrainingProcess) -> None:
    """End the training process (when the cache drops it)."""
    trainer.shutdown()


@st.cache_resource(show_spinner=False, on_release=_end_process)
def _training_process() -> TrainingProcess:
    """The server's one training process: it sets the devices up and imports TensorFlow
    in the background, so this server process does neither. Kept apart from the job
    manager, so a manager released (tests release one per case) leaves it warm."""
    from pipeline.jobs.worker import TrainingProcess

    return TrainingProcess()


@st.cache_resource(show_spinner=False, on_release=_shut_down)
def _job_manager(root: str) -> JobManager:
    from pipeline.jobs.manager import JobManager

    return JobManager(Path(root), trainer=_training_process())


def release_job_managers() -> None:
    """Drop every job manager (their queued and running jobs are stopped); the training
    process stays, warm, for the next manager."""
    _job_manager.clear()


def end_background_processes() -> None:
    """Drop the job managers, end the training process and the model checker's process
    (a later job or import starts another)."""
    release_job_managers()
    _training_process.clear()
    _model_checker.clear()


def get_job_manager() -> JobManager:
    """The process-wide :class:`~pipeline.jobs.manager.JobManager` for :func:`runs_dir`.

    One object per runs folder, shared by every browser session, so a training
    job outlives page switches and reruns.
    """
    return _job_manager(str(runs_dir()))


@st.cache_resource(show_spinner=False)
def _model_libraries_import() -> threading.Thread:
    thread = threading.Thread(target=_import_model_libraries, name="import-keras", daemon=True)
    thread.start()
    return thread


def import_model_libraries_in_background() -> None:
    """Start importing Keras and TensorFlow in a thread of this server, once per process.

    The first model a visitor loads (the Playground, batch scoring) needs them, and their
    import is most of a cold server's first answer (3.5-4 s here, against 0.4-0.6 s to
    load the model). The entry point calls this when a page's script run is over and the
    visitor has a run to try, so the page just opened never waits for it (a page opened
    while it runs shares the interpreter with it, once per process: ``docs/models.md``
    gives the measured cost), and a server with no run never pays for it (about 230 MB of
    private memory and 360 MB of library pages, shared with the training process). Only
    Keras is imported (TensorFlow with it): neither imports this app's modules, so a page
    importing them meanwhile waits for the same import and can never meet it in a lock
    cycle.
    """
    _model_libraries_import()


def _import_model_libraries() -> None:
    import keras  # noqa: F401  (TensorFlow with it)

    _prepare_for_predictions()


def _prepare_for_predictions() -> None:
    """This process's TensorFlow set up to predict: before any op runs (idempotent)."""
    use_serving_threads()  # this process only predicts; trainings run in their own
    configure_devices()  # GPU memory growth before the model loads
    _keep_keras_state_between_runs()


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _predictor(root: str, run_id: str, created_at: str) -> Predictor:
    from pipeline.scoring.predictor import Predictor

    _prepare_for_predictions()
    return Predictor.from_run(RunRegistry(Path(root)), run_id)


def _keep_keras_state_between_runs() -> None:
    """Stop Streamlit from clearing Keras' session after every script run.

    Streamlit calls ``keras.backend.clear_session()`` at the end of each run of
    any page once Keras is imported (a guard for apps that build models in the
    script). This server never builds or trains a model (trainings run in their
    own process); it only predicts with loaded ones, and that clearing (a full
    ``gc.collect()`` each time) cost about 0.4 s of CPU per Playground answer,
    most of the server's time under load (``benchmarks/app_load.py``).
    """
    import keras

    keras.backend.clear_session = _no_clear_session


def _no_clear_session(*args: object, **kwargs: object) -> None:
    """What ``keras.backend.clear_session`` does in this server: nothing (see above)."""


def get_predictor(run_id: str) -> Predictor:
    """A loaded :class:`~pipeline.scoring.predictor.Predictor` for ``run_id`` (cached).

    The run's creation date is part of the cache key, so a run trained again
    (same id, new files) is loaded afresh.
    """
    registry = get_registry()
    return _predictor(str(registry.root), run_id, registry.run_info(run_id).created_at)


@st.cache_data(show_spinner=False)
def describe_device() -> str:
    """``pipeline.core.device.describe_device()`` once per process (it runs nvidia-smi)."""
    from pipeline.core.device import describe_device as describe

    return describe()
