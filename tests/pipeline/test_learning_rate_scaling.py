"""The automatic batch on big data, and the learning rate that goes with it.

On the bundled data's training rows the automatic batch is 2,048, and the learning rate
the setting names is meant for 1,024 rows: the fit starts from twice the rate (the linear
scaling rule, :func:`pipeline.core.config.resolve_learning_rate`). Small files and batch
sizes set by hand keep the rate as set.
"""

from __future__ import annotations

import pytest

from pipeline.core import config as config_module
from pipeline.core.config import resolve_batch_size, resolve_learning_rate
from pipeline.core.presets import get_preset
from pipeline.runs.registry import RunRegistry
from pipeline.training.train import train_run
from tests.tiny_training import tiny_config

#: The bundled data's training rows under the default preset (every deduplicated row,
#: the random split).
BUNDLED_TRAIN_ROWS = 236_320


def test_the_bundled_data_gets_batches_of_2048_at_twice_the_rate():
    rate = get_preset("fast").model.learning_rate
    assert resolve_batch_size(None, BUNDLED_TRAIN_ROWS) == 2048
    assert resolve_learning_rate(rate, None, BUNDLED_TRAIN_ROWS) == pytest.approx(2 * rate)


@pytest.mark.parametrize("train_rows", [300, 5_000, 36_000, 68_000])
def test_smaller_files_keep_the_rate_as_set(train_rows):
    assert resolve_batch_size(None, train_rows) <= 1024
    assert resolve_learning_rate(4e-3, None, train_rows) == 4e-3


def test_a_batch_size_set_by_hand_keeps_the_rate_set_beside_it():
    assert resolve_learning_rate(4e-3, 4096, BUNDLED_TRAIN_ROWS) == 4e-3
    seed = get_preset("seed")
    assert resolve_learning_rate(
        seed.model.learning_rate, seed.train.batch_size, BUNDLED_TRAIN_ROWS
    ) == pytest.approx(1e-3)


def test_a_training_starts_from_the_scaled_rate(uci_small, tmp_path, monkeypatch):
    """A real training whose automatic batch is over the reference size (lowered to 16
    so that the fixture's batch of 32 is) records twice the set rate in its history."""
    monkeypatch.setattr(config_module, "LEARNING_RATE_BATCH", 16)
    config = tiny_config(batch_size=None, epochs=1, learning_rate=0.002)
    result = train_run(uci_small, config, runs_dir=tmp_path)
    history = RunRegistry(tmp_path).get(result.run_id).history
    assert [row.learning_rate for row in history] == [pytest.approx(0.004)]
