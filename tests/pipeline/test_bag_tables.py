"""The bag's n-gram tables in a training step: only the rows a batch names are read.

A table read whole by the forward pass is still alive when the optimizer writes the rows
it updates, so TensorFlow copies the whole table (copy-on-write) at every step; on the
bundled data (600,000 x 32) that copy was most of a step (``benchmarks/bag_step.py``).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from pipeline.core.config import ModelConfig
from pipeline.models import FeatureShape, build_classifier, compile_for_training
from pipeline.models.common import RowReadEmbedding
from pipeline.models.lean import lean_classifier

VOCABULARY = 500


def _bag(classes: int = 4, dim: int = 8) -> keras.Model:
    config = ModelConfig(family="ngram_bag", ngram_dim=dim)
    features = {"ngrams": FeatureShape(length=12, vocabulary=VOCABULARY)}
    return compile_for_training(build_classifier(config, features, classes), config)


def _batch(rows: int = 16, classes: int = 4) -> tuple[tf.Tensor, tf.Tensor]:
    rng = np.random.default_rng(0)
    ids = rng.integers(2, VOCABULARY, (rows, 12))
    ids[:, 9:] = 0  # end padding
    return tf.constant(ids, tf.int64), tf.constant(rng.integers(0, classes, rows))


def _whole_table_reads(model: keras.Model, ids: tf.Tensor, labels: tf.Tensor) -> dict[str, int]:
    """Per bag table, the ops of one traced training step (forward, gradient, the
    model's own optimizer) that read the whole table (``ReadVariableOp`` on it)."""
    loss = keras.losses.SparseCategoricalCrossentropy()

    @tf.function
    def step(ids, labels):
        with tf.GradientTape() as tape:
            value = loss(labels, model({"ngrams": ids}, training=True))
        gradients = tape.gradient(value, model.trainable_variables)
        model.optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return value

    graph = step.get_concrete_function(ids, labels).graph
    captured = {id(outer): inner for outer, inner in graph.captures}
    reads = {}
    for name in ("ngram_embedding", "ngram_score"):
        handle = captured[id(model.get_layer(name).embeddings.value.handle)]
        reads[name] = sum(
            op.type == "ReadVariableOp" and op.inputs[0] is handle for op in graph.get_operations()
        )
    return reads


def test_a_training_step_reads_only_the_rows_of_the_bags_tables():
    model = _bag()
    assert isinstance(model.get_layer("ngram_embedding"), RowReadEmbedding)
    assert _whole_table_reads(model, *_batch()) == {"ngram_embedding": 0, "ngram_score": 0}


def test_row_reads_give_keras_own_lookup_and_gradient():
    """The same values and the same row-sliced gradient as ``keras.layers.Embedding``."""
    ids, _ = _batch()
    ours = RowReadEmbedding(VOCABULARY, 8, mask_zero=True)
    stock = keras.layers.Embedding(VOCABULARY, 8, mask_zero=True)
    ours.build(ids.shape), stock.build(ids.shape)
    stock.set_weights(ours.get_weights())
    gradients = []
    for layer in (ours, stock):
        with tf.GradientTape() as tape:
            out = layer(ids)
            value = tf.reduce_sum(out * tf.range(8, dtype=out.dtype))
        gradients.append(tf.convert_to_tensor(tape.gradient(value, layer.embeddings.value)))
        np.testing.assert_array_equal(out, stock(ids))
    np.testing.assert_array_equal(gradients[0], gradients[1])


def test_the_saved_model_keeps_stock_tables_all_int8_also_unfolded():
    """More classes than the table is wide: no folding, yet the lean model's tables are
    Keras' own ``Embedding``, stored as int8 (Keras quantizes no subclass)."""
    model = _bag(classes=10, dim=8)
    ids, labels = _batch(64, classes=10)
    model.fit({"ngrams": ids}, labels, epochs=1, verbose=0)
    lean = lean_classifier(model)
    table = lean.get_layer("ngram_embedding")
    assert type(table) is keras.layers.Embedding and table.quantization_mode == "int8"
    assert type(lean.get_layer("ngram_score")) is keras.layers.Embedding
    inputs = {"ngrams": _batch()[0]}
    full_p, lean_p = np.asarray(model(inputs)), np.asarray(lean(inputs))
    np.testing.assert_allclose(lean_p, full_p, atol=0.02)
