"""Fixtures that train tiny real models once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def tiny_config(preset: str = "fast", **overrides):
    """A preset shrunk to train in seconds on the small UCI fixture."""
    from pipeline.config import get_preset

    settings = {
        "balance": "cap",
        "cap_per_class": 120,
        "epochs": 2,
        "batch_size": 32,
        "max_tokens": 2000,
        "embedding_dim": 16,
        "lstm_units": 8,
    }
    settings.update(overrides)
    return get_preset(preset, **settings)


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
    from pipeline.train import train_run

    events = []
    result = train_run(uci_small, tiny_config(), runs_dir=runs_dir, on_progress=events.append)
    return result, events
