"""Fixtures that train tiny real models once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny_training import tiny_config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def uci_small():
    """The committed ~2,800-row UCI fixture, loaded."""
    from pipeline.data import load_dataset

    return load_dataset(FIXTURES / "uci_small.csv")


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def trained_run(uci_small, runs_dir):
    """One tiny fast-preset run, trained once and shared (read-only) by many tests."""
    from pipeline.training.train import train_run

    events = []
    result = train_run(uci_small, tiny_config(), runs_dir=runs_dir, on_progress=events.append)
    return result, events


@pytest.fixture(scope="session")
def model_checker():
    """One kept process for the tests' imported-model checks, as the app's server keeps
    one (:class:`pipeline.runs.model_check.ModelChecker`): TensorFlow imported once."""
    from pipeline.runs.model_check import ModelChecker

    checker = ModelChecker()
    yield checker
    checker.shutdown()
