"""Fixtures for the AppTest tests: a temporary runs folder and the small dataset.

Every test gets its own ``HEADLINE_LAB_RUNS_DIR`` (so nothing is written to
``./runs``); the helpers live in ``apptest_support``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apptest_support import FIXTURES, path_source

from ui.state import DatasetSource


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty runs folder, exported as ``HEADLINE_LAB_RUNS_DIR``.

    Afterwards the job managers the test's app made are released, which ends their
    training processes (each holds TensorFlow in memory while it waits for work).
    """
    folder = tmp_path / "runs"
    monkeypatch.setenv("HEADLINE_LAB_RUNS_DIR", str(folder))
    yield folder
    from ui.resources import _job_manager

    _job_manager.clear()


@pytest.fixture
def small_source() -> DatasetSource:
    """The ~2,800-row UCI fixture as a dataset source."""
    return path_source(FIXTURES / "uci_small.csv")
