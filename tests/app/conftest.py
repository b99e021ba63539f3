"""Fixtures for the AppTest tests: a temporary runs folder and the small dataset.

Every test gets its own ``HEADLINE_LAB_RUNS_DIR`` (so nothing is written to
``./runs``); the helpers live in ``apptest_support``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from apptest_support import APP_TINY, FIXTURES, path_source

from pipeline.runs.registry import RunRegistry
from tests.tiny_training import tiny_config
from ui.core.state import DatasetSource


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty runs folder, exported as ``HEADLINE_LAB_RUNS_DIR``.

    Afterwards the job managers the test's app made are released (their jobs stopped).
    The training process they shared stays warm for the next test: it imported
    TensorFlow once (seconds of CPU), and it is ended when the session ends.
    """
    folder = tmp_path / "runs"
    monkeypatch.setenv("HEADLINE_LAB_RUNS_DIR", str(folder))
    yield folder
    from ui.core.resources import release_job_managers

    release_job_managers()


@pytest.fixture(autouse=True)
def _keras_state_kept_between_script_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Streamlit from clearing Keras' session after each script run, as the server does.

    Streamlit calls ``keras.backend.clear_session()`` (a full ``gc.collect()``) after every
    script run once Keras is imported. The app's server imports Keras only to load a
    Playground model, and then turns that off (``ui.core.resources``); in a test process
    other tests imported it, so every AppTest run paid a full collection of TensorFlow's
    heap (about 40 s of CPU over the suite) that the server never pays.
    """
    import sys

    if "keras" in sys.modules:
        monkeypatch.setattr(sys.modules["keras"].backend, "clear_session", lambda *_, **__: None)


@pytest.fixture(scope="session", autouse=True)
def _end_background_processes() -> Iterator[None]:
    """End the app's training and model-checking processes (held by
    ``st.cache_resource``) after the last test."""
    yield
    from ui.core.resources import end_background_processes

    end_background_processes()


@pytest.fixture
def small_source() -> DatasetSource:
    """The ~2,800-row UCI fixture as a dataset source."""
    return path_source(FIXTURES / "uci_small.csv")


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory) -> Path:
    """A runs folder with one tiny run, trained once per test session with the pipeline
    (tests never change it: :func:`saved_run` and the others copy it)."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run

    folder = tmp_path_factory.mktemp("trained") / "runs"
    config = tiny_config(**APP_TINY)
    train_run(load_dataset(FIXTURES / "uci_small.csv"), config, runs_dir=folder)
    return folder


@pytest.fixture
def saved_run(trained_runs: Path, runs_dir: Path) -> str:
    """A private copy of the trained run in this test's runs folder; returns its id."""
    shutil.copytree(trained_runs, runs_dir)
    (run_id,) = [run.run_id for run in RunRegistry(runs_dir).list_runs()]
    return run_id
