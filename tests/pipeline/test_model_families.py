"""Every model family trains on a tiny fixture and round-trips end to end.

save -> ``load_model(safe_mode=True)`` -> predict raw strings gives the same
probabilities as the model that was trained; plus what the engine promises
around the families: the baseline is fitted once per split, class weights reach
the loss, and a collapsed model is flagged.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from pipeline.core.config import MODEL_FAMILIES
from pipeline.data import Dataset, load_dataset
from pipeline.runs.registry import RunRegistry
from pipeline.scoring.predictor import Predictor
from pipeline.training.train import train_run
from tests.tiny_training import tiny_config

pytestmark = pytest.mark.training

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HEADLINES = ["Stocks rally as Fed holds rates", "Ebola outbreak spreads in West Africa"]


@pytest.mark.parametrize("family", list(MODEL_FAMILIES))
def test_each_family_trains_saves_and_reloads_in_safe_mode(family, uci_small, tmp_path):
    config = tiny_config(family=family, epochs=2, sequence_length=12, char_tokens=3000)
    result = train_run(uci_small, config, runs_dir=tmp_path)
    registry = RunRegistry(tmp_path)
    saved = registry.get(result.run_id)
    assert saved.complete and saved.config.family == family
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(saved.history[-1].metrics)
    assert saved.metrics.n_test == saved.data.summary.split_sizes.test
    model = registry.load_model(result.run_id)  # safe_mode=True inside
    probabilities = np.asarray(model(tf.constant([[text] for text in HEADLINES])))
    assert probabilities.shape == (2, 4)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    predictor = Predictor.from_run(registry, result.run_id)
    assert np.allclose(predictor.probabilities(HEADLINES), probabilities, atol=1e-5)


def test_the_baseline_is_fitted_once_per_split_and_reused(uci_small, tmp_path):
    first = train_run(uci_small, tiny_config(epochs=1), runs_dir=tmp_path)
    second = train_run(uci_small, tiny_config(epochs=1, dropout=0.3), runs_dir=tmp_path)
    registry = RunRegistry(tmp_path)
    one, two = registry.get(first.run_id), registry.get(second.run_id)
    assert first.run_id != second.run_id
    assert not one.metrics.baseline.cached
    assert two.metrics.baseline.cached
    assert two.metrics.baseline.test_accuracy == one.metrics.baseline.test_accuracy
    # another split: a baseline of its own
    third = train_run(uci_small, tiny_config(epochs=1, data_seed=7), runs_dir=tmp_path)
    assert not registry.get(third.run_id).metrics.baseline.cached


def _imbalanced(small_csv) -> Dataset:
    """``uci_small.csv`` with business and entertainment kept whole, health and
    science/tech cut to a quarter: their balanced class weights are about five times
    the others'."""
    frame = pd.read_csv(small_csv)
    minority = frame["CATEGORY"].isin(["m", "t"])
    kept = pd.concat([frame[~minority], frame[minority].iloc[::4]])
    return load_dataset(kept.to_csv(index=False).encode(), name="imbalanced.csv")


def test_class_weights_reach_the_loss(tmp_path, monkeypatch):
    """Every training row is fed to ``fit`` with its class's weight, and the weights change
    the loss: the same split and seed without them trains to another loss."""
    import pipeline.training.batches as batching
    import pipeline.training.fit as fitting
    import pipeline.training.train as training

    dataset = _imbalanced(FIXTURES / "uci_small.csv")
    fed: list[tuple[np.ndarray, np.ndarray | None]] = []
    batches = batching.training_batches

    def recording(encoded, batch_size, shuffle_seed=None, outputs=None, by_length=False):
        if shuffle_seed is not None:  # the training split (validation is not shuffled)
            parts = list(batches(encoded, batch_size, None, outputs).as_numpy_iterator())
            labels = np.concatenate([part[1] for part in parts])
            weights = np.concatenate([part[2] for part in parts]) if len(parts[0]) == 3 else None
            fed.append((labels, weights))
        return batches(encoded, batch_size, shuffle_seed, outputs, by_length)

    monkeypatch.setattr(fitting, "training_batches", recording)
    config = tiny_config(balance="class_weights", epochs=1)
    weighted = train_run(dataset, config, runs_dir=tmp_path / "weighted")
    saved = RunRegistry(tmp_path / "weighted").get(weighted.run_id)
    classes = list(saved.labels.classes)
    weights = saved.data.summary.class_weights
    ((labels, row_weights),) = fed
    # balanced weights, n / (k * n_c) over the rows fit trains on...
    counts = np.bincount(labels, minlength=len(classes))
    for code, n in zip(classes, counts, strict=True):
        assert weights[code] == pytest.approx(len(labels) / (len(classes) * n), rel=1e-5)
    assert max(weights.values()) / min(weights.values()) > 3  # the fixture is imbalanced
    # ...each row's sample weight is its class's weight...
    np.testing.assert_allclose(row_weights, [weights[classes[y]] for y in labels], rtol=1e-6)
    assert saved.metrics.baseline.class_weighted

    # ...and they reach the loss: the same prepared split without weights trains otherwise.
    prepare = training.prepare
    monkeypatch.setattr(
        training,
        "prepare",
        lambda *args: dataclasses.replace(prepare(*args), class_weights=None),
    )
    unweighted = train_run(dataset, config, runs_dir=tmp_path / "unweighted")
    plain = RunRegistry(tmp_path / "unweighted").get(unweighted.run_id)
    assert fed[1][1] is None
    np.testing.assert_array_equal(fed[1][0], labels)  # the same rows, in the same order
    assert not plain.metrics.baseline.class_weighted
    weighted_loss, plain_loss = saved.history[0].loss, plain.history[0].loss
    assert abs(weighted_loss - plain_loss) > 0.01, (weighted_loss, plain_loss)


def test_a_model_that_predicts_one_class_is_flagged():
    from pipeline.data.prepare import PreparedData
    from pipeline.training.evaluate import collapse_note

    prepared = PreparedData(
        train=None, validation=None, test=None, classes=["a", "b", "c"],
        label_names={"a": "sports", "b": "news", "c": "music"},
    )  # fmt: skip
    collapsed = {"confusion_matrix": {"matrix": [[10, 0, 0], [9, 1, 0], [10, 0, 0]]}}
    note = collapse_note(collapsed, prepared)
    assert note and "'sports' for 97% of the test rows" in note
    healthy = {"confusion_matrix": {"matrix": [[8, 1, 1], [1, 8, 1], [2, 0, 8]]}}
    assert collapse_note(healthy, prepared) is None
    # a test set that really is (almost) one class is not a collapse
    one_class = {"confusion_matrix": {"matrix": [[95, 0, 0], [2, 1, 0], [2, 0, 0]]}}
    assert collapse_note(one_class, prepared) is None


def test_the_bag_s_weighted_average_ignores_padding_and_follows_its_scores():
    """Equal scores give the plain average of the real n-grams (padding gets no weight);
    a much higher score makes that n-gram's vector the result."""
    from pipeline.models.common import WeightedAverage

    vectors = np.array([[[1.0, 0.0], [3.0, 2.0], [100.0, 100.0]]], dtype="float32")
    mask = np.array([[True, True, False]])
    pool = WeightedAverage()
    equal = pool([vectors, np.zeros((1, 3, 1), "float32")], mask=[mask, mask])
    np.testing.assert_allclose(np.asarray(equal), [[2.0, 1.0]], rtol=1e-6)
    favoured = pool([vectors, np.array([[[0.0], [20.0], [50.0]]], "float32")], mask=[mask, mask])
    np.testing.assert_allclose(np.asarray(favoured), [[3.0, 2.0]], rtol=1e-5)
