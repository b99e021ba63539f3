"""Layers every family shares: the inputs, the bag's tables and weighted pooling, and
the softmax head."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers

if TYPE_CHECKING:
    from pipeline.models import FeatureShape


def id_input(name: str, shape: FeatureShape, any_length: bool = False) -> keras.KerasTensor:
    """An int64 input of ``shape.length`` ids named after the encoder output, or of any
    number of ids with ``any_length`` (a bag, which training feeds batches cut to their
    longest row: see ``pipeline.training.batches.training_batches``)."""
    return keras.Input(shape=(None if any_length else shape.length,), dtype="int64", name=name)


@keras.saving.register_keras_serializable(package="headline_lab")
class RowReadEmbedding(layers.Embedding):
    """An ``Embedding`` that reads only the rows a batch looks up, from the variable itself.

    Keras' own ``Embedding`` reads its whole table as a tensor and gathers from that.
    Under TensorFlow the tensor shares the variable's buffer and lives until the step's
    gradient is computed, so the optimizer's sparse write in the same step finds the
    buffer shared and copies the whole table first (copy-on-write). For the bag's
    600,000 x 32 n-gram table that copy was most of a training step: the default's step
    on UCI's batches took 17 ms, 10.6 ms with this lookup (``benchmarks/bag_step.py``).
    Same values and the same row-sliced gradient; int8 tables (lean models) and other
    backends use Keras' own lookup.
    """

    def call(self, inputs):
        if self.quantization_mode is not None or keras.backend.backend() != "tensorflow":
            return super().call(inputs)
        import tensorflow as tf  # the TensorFlow backend is in use: already imported

        if inputs.dtype not in ("int32", "int64"):
            inputs = tf.cast(inputs, "int32")
        # ``.value`` is the tf.Variable (Embedding never autocasts): a resource gather
        rows = tf.nn.embedding_lookup(self.embeddings.value, inputs)
        return keras.ops.cast(rows, dtype=self.compute_dtype)


#: The id ``TextVectorization`` gives every token outside its vocabulary.
UNKNOWN_ID = 1


@keras.saving.register_keras_serializable(package="headline_lab")
class UnknownAsPadding(layers.Layer):
    """Ids with the out-of-vocabulary id turned into padding (0), so a bag skips them.

    Held-out headlines meet far more unknown n-grams than training rows do (new
    names, new stories): a learned "unknown" vector would weigh in on them with
    whatever class rare training n-grams leaned to. Measured on the split grouped
    by story: +0.3 points of test accuracy, +0.5 of macro F1.
    """

    def call(self, ids):
        return keras.ops.where(keras.ops.equal(ids, UNKNOWN_ID), keras.ops.zeros_like(ids), ids)


@keras.saving.register_keras_serializable(package="headline_lab")
class WeightedAverage(layers.Layer):
    """A bag's embeddings averaged with learned weights: ``sum_i softmax(score)_i * x_i``.

    Inputs: ``[vectors (batch, length, dim), scores (batch, length, 1)]`` with the
    vectors' padding mask (from ``Embedding(mask_zero=True)``). Padding gets no
    weight; a row of padding alone averages to zeros. With every score equal this is
    the plain masked average; learned per-n-gram scores let telling n-grams count
    more than "the" or "to" (on UCI: +0.16 points of test accuracy for the same
    speed, measured with ``benchmarks/models.py``).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        vectors, scores = inputs
        vector_mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        scores = keras.ops.squeeze(keras.ops.cast(scores, vectors.dtype), axis=-1)
        if vector_mask is not None:
            present = keras.ops.cast(vector_mask, vectors.dtype)
            scores = scores + (1.0 - present) * keras.ops.cast(-1e4, vectors.dtype)
        else:
            present = keras.ops.ones_like(scores)
        weights = keras.ops.softmax(scores, axis=-1) * present
        return keras.ops.sum(vectors * keras.ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        vectors_shape = input_shape[0]
        return (vectors_shape[0], vectors_shape[2])


def softmax_head(logits: keras.KerasTensor) -> keras.KerasTensor:
    """Probabilities in float32, also under a mixed-precision policy."""
    return layers.Activation("softmax", dtype="float32", name="probabilities")(logits)


def classifier_model(
    inputs: dict[str, keras.KerasTensor], logits: keras.KerasTensor
) -> keras.Model:
    """The classifier: a dict of id inputs -> class probabilities."""
    return keras.Model(inputs, softmax_head(logits), name="classifier")
