"""Recurrent families: the seed notebook's LSTM and a bidirectional GRU.

With ``padding="post"`` the embedding masks padding (``mask_zero=True``), which,
with ``recurrent_dropout=0`` and sigmoid gates, lets Keras pick the cuDNN kernel
on a GPU. The seed pads on the left without a mask, as the notebook did, and
uses Keras 2.2's ``hard_sigmoid`` gates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers

from pipeline.core.config import ModelConfig
from pipeline.models.common import classifier_model, id_input

if TYPE_CHECKING:
    from pipeline.models import FeatureShape


def _embedded_words(
    config: ModelConfig, features: dict[str, FeatureShape]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    words = id_input("words", features["words"])
    embedded = layers.Embedding(
        features["words"].vocabulary,
        config.embedding_dim,
        mask_zero=config.padding == "post",
        name="embedding",
    )(words)
    embedded = layers.SpatialDropout1D(config.spatial_dropout, name="spatial_dropout")(embedded)
    return words, embedded


def build_lstm(
    config: ModelConfig, features: dict[str, FeatureShape], num_classes: int
) -> keras.Model:
    """The seed layout: Embedding -> SpatialDropout1D -> LSTM -> Dense softmax.

    As in the notebook, ``dropout`` is the LSTM's input dropout and there is no
    other dropout layer.
    """
    words, embedded = _embedded_words(config, features)
    encoded = layers.LSTM(
        config.units,
        dropout=config.dropout,
        recurrent_dropout=config.recurrent_dropout,
        recurrent_activation=config.recurrent_activation,
        name="lstm",
    )(embedded)
    logits = layers.Dense(num_classes, name="logits")(encoded)
    return classifier_model({"words": words}, logits)


def build_bigru(
    config: ModelConfig, features: dict[str, FeatureShape], num_classes: int
) -> keras.Model:
    """Embedding -> SpatialDropout1D -> Bidirectional GRU -> Dropout -> Dense softmax."""
    words, embedded = _embedded_words(config, features)
    encoded = layers.Bidirectional(
        layers.GRU(
            config.units,
            recurrent_dropout=config.recurrent_dropout,
            recurrent_activation=config.recurrent_activation,
            name="gru",
        ),
        name="bigru",
    )(embedded)
    encoded = layers.Dropout(config.dropout, name="dropout")(encoded)
    logits = layers.Dense(num_classes, name="logits")(encoded)
    return classifier_model({"words": words}, logits)
