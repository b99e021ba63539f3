"""Layers every family shares: the inputs, the masked average and the softmax head."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers

if TYPE_CHECKING:
    from pipeline.models import FeatureShape


def id_input(name: str, shape: FeatureShape) -> keras.KerasTensor:
    """An int64 input of ``shape.length`` ids named after the encoder output."""
    return keras.Input(shape=(shape.length,), dtype="int64", name=name)


def softmax_head(logits: keras.KerasTensor) -> keras.KerasTensor:
    """Probabilities in float32, also under a mixed-precision policy."""
    return layers.Activation("softmax", dtype="float32", name="probabilities")(logits)


def classifier_model(
    inputs: dict[str, keras.KerasTensor], logits: keras.KerasTensor
) -> keras.Model:
    """The classifier: a dict of id inputs -> class probabilities."""
    return keras.Model(inputs, softmax_head(logits), name="classifier")
