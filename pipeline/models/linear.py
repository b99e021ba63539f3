"""The linear part a trained network is blended with: TF-IDF over the n-gram ids, then
logistic regression, and the layer that blends the two.

A bag of n-gram embeddings needs rows to learn from; a linear model over TF-IDF
features needs far fewer, and on small, many-class files it is often the stronger
of the two. Their blend beats either one (:mod:`pipeline.training.blend` fits the linear
part and picks the blend's weight). Both layers live inside the saved end-to-end
model, so a run stays one ``.keras`` file with its encoder inside, reloaded with
``safe_mode=True``; their weights are set after training and never trained by
``fit`` (continuing a run trains the network part alone).

Features: for a row of n-gram ids ``i_1 .. i_L`` (padding 0, unknown 1), each id
counts ``idf[i]`` (0 for padding, unknown and n-grams in fewer than two training
rows), the row's vector is divided by its Euclidean norm, so
``logits = sum_j idf[i_j] * kernel[i_j] / sqrt(sum_j idf[i_j]^2) + bias``.
:func:`pipeline.training.blend.tfidf_matrix` builds the very same features as a sparse
matrix to fit the regression on.
"""

from __future__ import annotations

import keras
from keras import layers

#: The dtypes a :class:`TfIdfLinear` may keep its idf and kernel in.
STORAGE_DTYPES = ("float32", "float16")


@keras.saving.register_keras_serializable(package="headline_lab")
class TfIdfLinear(layers.Layer):
    """N-gram ids ``(batch, length)`` -> class logits ``(batch, classes)`` of a linear
    model over the ids' L2-normalised TF-IDF vector (see the module's docstring).

    ``idf`` ``(vocabulary,)``, ``kernel`` ``(vocabulary, classes)`` and ``bias``
    ``(classes,)`` are set with :meth:`set_weights` after a fit; they are not trainable.
    ``storage`` is the dtype ``idf`` and ``kernel`` are kept in: ``"float32"`` as fitted,
    ``"float16"`` in a lean model (:mod:`pipeline.models.lean`; half the bytes, the rows a
    batch reads cast to float32 before any arithmetic). Models saved before it existed
    load as ``"float32"``.
    """

    def __init__(self, vocabulary: int, classes: int, storage: str = "float32", **kwargs):
        super().__init__(**kwargs)
        if storage not in STORAGE_DTYPES:
            raise ValueError(f"storage must be one of {STORAGE_DTYPES}, not {storage!r}")
        self.vocabulary = int(vocabulary)
        self.classes = int(classes)
        self.storage = storage
        # autocast off: a batch reads a few rows, cast after the gather, never the table
        self.idf = self.add_weight(
            name="idf",
            shape=(self.vocabulary,),
            initializer="zeros",
            trainable=False,
            dtype=storage,
            autocast=False,
        )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.vocabulary, self.classes),
            initializer="zeros",
            trainable=False,
            dtype=storage,
            autocast=False,
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.classes,), initializer="zeros", trainable=False
        )

    def call(self, ids):
        ids = keras.ops.cast(ids, "int32")
        # (batch, length); padding's idf is 0
        weights = keras.ops.cast(keras.ops.take(self.idf, ids), self.compute_dtype)
        norm = keras.ops.sqrt(keras.ops.sum(weights * weights, axis=1, keepdims=True))
        weights = weights / keras.ops.maximum(norm, 1e-12)
        # (batch, length, classes)
        rows = keras.ops.cast(keras.ops.take(self.kernel, ids, axis=0), self.compute_dtype)
        return keras.ops.sum(rows * keras.ops.expand_dims(weights, -1), axis=1) + self.bias

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.classes)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
            "classes": self.classes,
            "storage": self.storage,
        }


@keras.saving.register_keras_serializable(package="headline_lab")
class LogBlend(layers.Layer):
    """Two probability tensors ``(batch, classes)`` -> ``softmax(w * log p_network +
    (1 - w) * log p_linear + offset)``: a weighted geometric mean, renormalised.

    ``weight`` (the network's share, in ``[0, 1]``) and ``offset`` (the class-prior
    shift of :mod:`pipeline.training.prior_shift`, zeros until one is applied) are weights of
    the layer, set after training. In log space a shift of the blend is exactly a shift
    of both parts, so the decision rule tuned on the blend is the one the model applies.
    """

    def __init__(self, classes: int, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.classes = int(classes)
        self.weight = self.add_weight(name="weight", shape=(), initializer="ones", trainable=False)
        self.offset = self.add_weight(
            name="offset", shape=(self.classes,), initializer="zeros", trainable=False
        )

    def call(self, inputs):
        network, linear = (keras.ops.cast(p, "float32") for p in inputs)
        log_network = keras.ops.log(keras.ops.maximum(network, 1e-12))
        log_linear = keras.ops.log(keras.ops.maximum(linear, 1e-12))
        scores = self.weight * log_network + (1.0 - self.weight) * log_linear + self.offset
        return keras.ops.softmax(scores, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "classes": self.classes}
