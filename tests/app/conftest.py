"""Fixtures for the AppTest tests: a temporary runs folder and the small dataset.

Every test gets its own ``HEADLINE_LAB_RUNS_DIR`` (so nothing is written to
``./runs``); the helpers live in ``apptest_support``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_support import FIXTURES

from ui.state import DatasetSource


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty runs folder, exported as ``HEADLINE_LAB_RUNS_DIR``."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("HEADLINE_LAB_RUNS_DIR", str(folder))
    return folder


@pytest.fixture
def small_source() -> DatasetSource:
    """The ~2,800-row UCI fixture as a dataset source."""
    return DatasetSource.from_path(FIXTURES / "uci_small.csv")
