"""A 1D CNN over word embeddings: n-gram detectors of width ``kernel_size``, max-pooled."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers

from pipeline.core.config import ModelConfig
from pipeline.models.common import classifier_model, id_input

if TYPE_CHECKING:
    from pipeline.models import FeatureShape


def cnn_features(
    words: keras.KerasTensor, config: ModelConfig, vocabulary: int
) -> keras.KerasTensor:
    """Word ids -> Embedding -> SpatialDropout1D -> Conv1D (ReLU) -> global max pool."""
    embedded = layers.Embedding(vocabulary, config.embedding_dim, name="embedding")(words)
    embedded = layers.SpatialDropout1D(config.spatial_dropout, name="spatial_dropout")(embedded)
    convolved = layers.Conv1D(
        config.filters, config.kernel_size, padding="same", activation="relu", name="conv"
    )(embedded)
    return layers.GlobalMaxPooling1D(name="max_pool")(convolved)


def build(config: ModelConfig, features: dict[str, FeatureShape], num_classes: int) -> keras.Model:
    """``words`` ids -> :func:`cnn_features` -> Dropout -> Dense softmax."""
    words = id_input("words", features["words"])
    pooled = cnn_features(words, config, features["words"].vocabulary)
    pooled = layers.Dropout(config.dropout, name="dropout")(pooled)
    logits = layers.Dense(num_classes, name="logits")(pooled)
    return classifier_model({"words": words}, logits)
