"""The optimizers: lazy AdamW moves only the embedding rows a batch names, and is
exactly AdamW where every row is named; a bag skips unknown n-grams."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from pipeline.core.config import ExperimentConfig, ModelConfig
from pipeline.core.presets import get_preset
from pipeline.models.common import UNKNOWN_ID, UnknownAsPadding, WeightedAverage
from pipeline.models.optimizers import LazyAdamW, build_optimizer


def _embedding_model(seed: int = 3) -> keras.Model:
    """ids (batch, 2) -> Embedding(6, 3) -> mean -> Dense(2): a sparse and a dense gradient."""
    keras.utils.set_random_seed(seed)
    ids = keras.Input(shape=(2,), dtype="int64")
    embedded = keras.layers.Embedding(6, 3, name="table")(ids)
    pooled = keras.layers.GlobalAveragePooling1D()(embedded)
    return keras.Model(ids, keras.layers.Dense(2, activation="softmax", name="head")(pooled))


def _train(optimizer: keras.optimizers.Optimizer, ids: np.ndarray, steps: int = 4) -> keras.Model:
    model = _embedding_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    labels = np.arange(len(ids)) % 2
    for _ in range(steps):
        model.train_on_batch(ids, labels)
    return model


class DenseAdamW(keras.optimizers.AdamW):
    """Keras' AdamW on the embedding's gradient made dense: the reference."""

    def update_step(self, gradient, variable, learning_rate):
        return super().update_step(tf.convert_to_tensor(gradient), variable, learning_rate)


def test_lazy_adamw_equals_adamw_when_every_row_is_in_every_batch():
    every_row = np.array([[0, 1], [2, 3], [4, 5], [1, 4]])  # 1 and 4 twice
    lazy = _train(LazyAdamW(learning_rate=0.05, weight_decay=0.3), every_row)
    dense = _train(DenseAdamW(learning_rate=0.05, weight_decay=0.3), every_row)
    for name in ("table", "head"):
        for got, want in zip(
            lazy.get_layer(name).get_weights(), dense.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_lazy_adamw_leaves_rows_outside_the_batches_and_their_moments_untouched():
    before = _embedding_model().get_layer("table").get_weights()[0]
    optimizer = LazyAdamW(learning_rate=0.05, weight_decay=0.3)
    model = _train(optimizer, np.array([[0, 1], [1, 2]]))
    after = model.get_layer("table").get_weights()[0]
    np.testing.assert_array_equal(after[3:], before[3:])  # rows 3-5 never named
    assert np.all(np.abs(after[:3] - before[:3]).sum(axis=1) > 0)  # rows 0-2 moved
    table = model.get_layer("table").embeddings
    momentum = keras.ops.convert_to_numpy(
        optimizer._momentums[optimizer._get_variable_index(table)]
    )
    np.testing.assert_array_equal(momentum[3:], np.zeros((3, 3)))
    assert np.all(np.abs(momentum[:3]).sum(axis=1) > 0)


def test_the_optimizer_setting_builds_lazy_adamw_by_default_and_adam_for_the_seed():
    fast = build_optimizer(get_preset("fast").model)
    assert isinstance(fast, LazyAdamW)
    assert fast.weight_decay == pytest.approx(ModelConfig().weight_decay)
    seed = build_optimizer(get_preset("seed").model)
    assert type(seed) is keras.optimizers.Adam
    assert float(seed.learning_rate) == pytest.approx(1e-3)


def test_a_run_saved_before_the_optimizer_setting_trained_with_adam():
    saved = get_preset("fast").to_dict()
    del saved["model"]["optimizer"], saved["model"]["weight_decay"]
    config = ExperimentConfig.from_dict(saved)
    assert (config.model.optimizer, config.model.weight_decay) == ("adam", 0.0)


def test_a_bag_averages_known_ngrams_alone():
    ids = keras.Input(shape=(4,), dtype="int64")
    known = UnknownAsPadding()(ids)
    vectors = keras.layers.Embedding(10, 2, mask_zero=True, name="vectors")(known)
    scores = keras.layers.Embedding(10, 1, embeddings_initializer="zeros")(known)
    bag = keras.Model(ids, WeightedAverage()([vectors, scores]))
    with_unknown = np.array([[5, UNKNOWN_ID, 7, UNKNOWN_ID]])
    without = np.array([[5, 7, 0, 0]])
    np.testing.assert_allclose(
        bag.predict(with_unknown, verbose=0), bag.predict(without, verbose=0)
    )
    table = keras.ops.convert_to_numpy(bag.get_layer("vectors").embeddings)
    np.testing.assert_allclose(
        bag.predict(without, verbose=0)[0], table[[5, 7]].mean(axis=0), rtol=1e-6
    )
