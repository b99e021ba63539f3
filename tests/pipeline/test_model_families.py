"""Every model family trains on a tiny fixture and round-trips end to end.

save -> ``load_model(safe_mode=True)`` -> predict raw strings gives the same
probabilities as the model that was trained; plus what the engine promises
around the families: the baseline is fitted once per split, class weights reach
the loss, and a collapsed model is flagged.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from training_support import tiny_config

from pipeline.config import MODEL_FAMILIES
from pipeline.predict import Predictor
from pipeline.registry import RunRegistry
from pipeline.train import train_run

pytestmark = pytest.mark.training

HEADLINES = ["Stocks rally as Fed holds rates", "Ebola outbreak spreads in West Africa"]


@pytest.mark.parametrize("family", list(MODEL_FAMILIES))
def test_each_family_trains_saves_and_reloads_in_safe_mode(family, uci_small, tmp_path):
    config = tiny_config(family=family, epochs=2, sequence_length=12, char_tokens=3000)
    result = train_run(uci_small, config, runs_dir=tmp_path)
    registry = RunRegistry(tmp_path)
    saved = registry.get(result.run_id)
    assert saved.complete and saved.config.family == family
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(saved.history[-1])
    assert saved.metrics.n_test == saved.data.summary["split_sizes"]["test"]
    model = registry.load_model(result.run_id)  # safe_mode=True inside
    probabilities = np.asarray(model(tf.constant([[text] for text in HEADLINES])))
    assert probabilities.shape == (2, 4)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    predictor = Predictor.from_run(registry, result.run_id)
    assert np.allclose(predictor.probabilities(HEADLINES), probabilities, atol=1e-5)


def test_the_baseline_is_fitted_once_per_split_and_reused(uci_small, tmp_path):
    first = train_run(uci_small, tiny_config(epochs=1), runs_dir=tmp_path)
    second = train_run(uci_small, tiny_config(epochs=1, dropout=0.5), runs_dir=tmp_path)
    registry = RunRegistry(tmp_path)
    one, two = registry.get(first.run_id), registry.get(second.run_id)
    assert first.run_id != second.run_id
    assert not one.metrics.baseline.cached
    assert two.metrics.baseline.cached
    assert two.metrics.baseline.test_accuracy == one.metrics.baseline.test_accuracy
    # another split: a baseline of its own
    third = train_run(uci_small, tiny_config(epochs=1, data_seed=7), runs_dir=tmp_path)
    assert not registry.get(third.run_id).metrics.baseline.cached


def test_class_weights_are_used_by_model_and_baseline(uci_small, tmp_path):
    config = tiny_config(balance="class_weights", epochs=1)
    result = train_run(uci_small, config, runs_dir=tmp_path)
    saved = RunRegistry(tmp_path).get(result.run_id)
    weights = saved.data.summary["class_weights"]
    assert set(weights) == {"b", "e", "m", "t"} and len(set(weights.values())) > 1
    assert saved.metrics.baseline.class_weighted


def test_a_model_that_predicts_one_class_is_flagged():
    from pipeline.prepare import PreparedData
    from pipeline.train import _collapse_note

    prepared = PreparedData(
        train=None, validation=None, test=None, classes=["a", "b", "c"],
        label_names={"a": "sports", "b": "news", "c": "music"},
    )  # fmt: skip
    collapsed = {"confusion_matrix": {"matrix": [[10, 0, 0], [9, 1, 0], [10, 0, 0]]}}
    note = _collapse_note(collapsed, prepared)
    assert note and "'sports' for 97% of the test rows" in note
    healthy = {"confusion_matrix": {"matrix": [[8, 1, 1], [1, 8, 1], [2, 0, 8]]}}
    assert _collapse_note(healthy, prepared) is None
    # a test set that really is (almost) one class is not a collapse
    one_class = {"confusion_matrix": {"matrix": [[95, 0, 0], [2, 1, 0], [2, 0, 0]]}}
    assert _collapse_note(one_class, prepared) is None
