"""The lean classifier saved as ``model.keras``: n-gram tables folded and quantized.

A bag of n-grams (:func:`pipeline.models.bag.bag_features`) is nearly all of a model's
weights: on the bundled data a 600,000 x 32 float32 table (77 MB), read by a Dense
layer of ``32 x classes`` after a weighted average and a dropout. At inference the
dropout is the identity and the rest is linear::

    logits = (sum_i a_i e_i) W + b = sum_i a_i (e_i W) + b

so the table ``E W`` (600,000 x classes) gives the same logits, with a Dense of
``classes x classes`` (the identity) keeping the bias: an exact rewrite, 8 times smaller
on four classes. It is done where the classes are fewer than the table's width; the
bag's tables are then stored as int8 with a scale per row (Keras' own
``Model.quantize("int8")``, loaded by stock Keras under ``safe_mode=True``).

A linear blend whose weight is 1 (the network alone) carries a TF-IDF part that cannot
change a prediction; :func:`lean_classifier` drops it and keeps the blend layer, whose
class-prior offset still applies. A linear part the blend weighs keeps its idf and its
``vocabulary x classes`` kernel in float16 (half the bytes: on the bundled data it was half
of the lean file's weights), read in float32 arithmetic.

The full model is kept beside the lean one (``training_model.keras``), so that
continuing a run trains what was trained; :func:`trainable_classifier` turns a lean
classifier back into float tables for a run that has only the lean file (an imported
one). Measured on the bundled data: ``benchmarks/lean_models.py``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from pipeline.models.common import RowReadEmbedding
from pipeline.models.linear import LogBlend, TfIdfLinear

#: The layer names :func:`pipeline.models.bag.bag_features` gives a bag, by its prefix.
_TABLE, _DROPOUT = "{}_embedding", "{}_dropout"
_BLEND = "blend"
#: How a lean model keeps a blend's linear part (its idf and kernel): half of float32.
LEAN_STORAGE = "float16"


def lean_classifier(classifier: keras.Model) -> keras.Model:
    """``classifier`` as it is saved for predictions: the same probabilities (up to int8
    rounding of the bags' tables), a fraction of the size.

    Returns a new functional model named like ``classifier`` (its layers are not shared
    with it): bag tables folded into their Dense layer where that makes them smaller,
    every bag table quantized to int8, a linear part of weight 0 dropped. A model with
    no bag comes back as a copy.
    """
    model = _without_silent_linear_part(classifier)
    folds = _foldable_bags(model)
    tables = {layer.name for layer in model.layers if _is_bag_table(model, layer)}
    replacements = {**_plain_tables(model), **_folded(model, folds)}
    lean = _copy_with(model, {**replacements, **_linear_parts(model, LEAN_STORAGE)})
    if tables:
        lean.quantize("int8", filters=lambda layer: layer.name in tables)
    return lean


def is_lean(classifier: keras.Model) -> bool:
    """Whether ``classifier`` holds int8 tables or a float16 linear part (a lean model,
    not one to train on)."""
    return any(
        _is_quantized(layer) or (isinstance(layer, TfIdfLinear) and layer.storage != "float32")
        for layer in classifier.layers
    )


def trainable_classifier(classifier: keras.Model) -> keras.Model:
    """``classifier`` with every int8 table turned back into the float32 values it stands
    for (a :class:`~pipeline.models.common.RowReadEmbedding`, as training builds them)
    and its linear part into float32, to train on. A classifier without any is
    returned as is."""
    if not is_lean(classifier):
        return classifier
    replacements = _linear_parts(classifier, "float32")
    for layer in classifier.layers:
        if _is_quantized(layer):
            values = keras.ops.convert_to_numpy(layer.embeddings).astype("float32")
            scale = keras.ops.convert_to_numpy(layer.embeddings_scale)
            table = RowReadEmbedding(
                layer.input_dim, layer.output_dim, mask_zero=layer.mask_zero, name=layer.name
            )
            replacements[layer.name] = (table, [values / scale[:, None]])
    return _copy_with(classifier, replacements)


def _copy_with(
    model: keras.Model, replacements: dict[str, tuple[layers.Layer, list[np.ndarray]]]
) -> keras.Model:
    """A copy of ``model`` (new layers, the same connections and weights) in which each
    layer named in ``replacements`` is the layer given there, holding the weights given."""

    def clone(layer: layers.Layer) -> layers.Layer:
        if layer.name in replacements:
            return replacements[layer.name][0]
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        target = copy.get_layer(layer.name)
        if layer.name in replacements:
            target.set_weights(replacements[layer.name][1])
        elif layer.weights:
            target.set_weights(layer.get_weights())
    return copy


def _is_quantized(layer: layers.Layer) -> bool:
    return isinstance(layer, layers.Embedding) and layer.quantization_mode == "int8"


def _is_bag_table(model: keras.Model, layer: layers.Layer) -> bool:
    name = layer.name
    return (
        isinstance(layer, layers.Embedding)
        and name.endswith("_embedding")
        and _DROPOUT.format(name.removesuffix("_embedding")) in _names(model)
    )


def _names(model: keras.Model) -> set[str]:
    return {layer.name for layer in model.layers}


def _foldable_bags(model: keras.Model) -> dict[str, str]:
    """Dense layer name -> the bag table it can be folded into: every Dense reading a
    bag's dropout directly, whose classes are fewer than the table's width."""
    names = _names(model)
    folds = {}
    for dropout in model.layers:
        table = _TABLE.format(dropout.name.removesuffix("_dropout"))
        if not (isinstance(dropout, layers.Dropout) and table in names):
            continue
        for dense in model.layers:
            if (
                isinstance(dense, layers.Dense)
                and dense.input is dropout.output
                and dense.units < model.get_layer(table).output_dim
            ):
                folds[dense.name] = table
    return folds


def _linear_parts(
    model: keras.Model, storage: str
) -> dict[str, tuple[layers.Layer, list[np.ndarray]]]:
    """Replacements (for :func:`_copy_with`) keeping each linear part of ``model`` in
    ``storage`` (its idf and kernel cast to it; the bias stays float32)."""
    replacements: dict[str, tuple[layers.Layer, list[np.ndarray]]] = {}
    for layer in model.layers:
        if isinstance(layer, TfIdfLinear) and layer.storage != storage:
            idf, kernel, bias = layer.get_weights()
            copy = TfIdfLinear(layer.vocabulary, layer.classes, storage=storage, name=layer.name)
            replacements[layer.name] = (copy, [idf.astype(storage), kernel.astype(storage), bias])
    return replacements


def _folded(
    model: keras.Model, folds: dict[str, str]
) -> dict[str, tuple[layers.Layer, list[np.ndarray]]]:
    """Replacements (for :func:`_copy_with`) rewriting each ``folds`` pair: the table
    holds ``E W`` and the Dense is the identity plus the bias."""
    replacements = {}
    for dense_name, table_name in folds.items():
        dense, table = model.get_layer(dense_name), model.get_layer(table_name)
        kernel, bias = dense.get_weights()
        folded = layers.Embedding(
            table.input_dim, dense.units, mask_zero=table.mask_zero, name=table.name
        )
        replacements[table.name] = (folded, [table.get_weights()[0] @ kernel])
        identity = layers.Dense(dense.units, name=dense.name, dtype=dense.dtype_policy)
        replacements[dense.name] = (identity, [np.eye(dense.units, dtype="float32"), bias])
    return replacements


def _plain_tables(model: keras.Model) -> dict[str, tuple[layers.Layer, list[np.ndarray]]]:
    """Replacements (for :func:`_copy_with`) turning each training-time
    :class:`~pipeline.models.common.RowReadEmbedding` into Keras' own ``Embedding`` with
    the same weights: a saved model predicts with stock layers, and Keras quantizes no
    subclass of ``Embedding``."""
    replacements = {}
    for layer in model.layers:
        if isinstance(layer, RowReadEmbedding):
            plain = layers.Embedding.from_config(layer.get_config())
            replacements[layer.name] = (plain, layer.get_weights())
    return replacements


def _without_silent_linear_part(classifier: keras.Model) -> keras.Model:
    """``classifier`` without its linear part when the blend gives that part no weight
    (the blend stays, fed the network twice, so its class-prior offset applies exactly:
    ``1 * log p + 0 * log p + offset``); unchanged otherwise. The inputs stay as they
    were (one only the linear part read is left unused), so the encoder still fits."""
    if _BLEND not in _names(classifier):
        return classifier
    blend = classifier.get_layer(_BLEND)
    weight, offset = blend.get_weights()
    if float(weight) != 1.0:
        return classifier
    network = blend.input[0]
    alone = LogBlend(blend.classes, name=_BLEND)
    output = alone([network, network])
    alone.set_weights([weight, offset])
    return keras.Model(classifier.input, output, name=classifier.name)
