"""Bag of n-grams, fastText-like: word 1-2 gram embeddings, averaged, then softmax.

No word order beyond bigrams, no recurrence: the fastest family by far. The average
is weighted by a learned score per n-gram
(:class:`~pipeline.models.common.WeightedAverage`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers

from pipeline.core.config import ModelConfig
from pipeline.models.common import (
    RowReadEmbedding,
    UnknownAsPadding,
    WeightedAverage,
    classifier_model,
    id_input,
)

if TYPE_CHECKING:
    from pipeline.models import FeatureShape


def bag_features(
    ids: keras.KerasTensor, vocabulary: int, config: ModelConfig, prefix: str = "ngram"
) -> keras.KerasTensor:
    """N-gram ids (unknown ones as padding) -> table (ngram_dim, masked) -> average
    weighted by a learned score per n-gram -> Dropout: ``(batch, dim)``."""
    ids = UnknownAsPadding(name=f"{prefix}_known")(ids)
    embedded = RowReadEmbedding(
        vocabulary, config.ngram_dim, mask_zero=True, name=f"{prefix}_embedding"
    )(ids)
    # One score per n-gram, zero at first: training starts from the plain average.
    scores = RowReadEmbedding(
        vocabulary, 1, embeddings_initializer="zeros", name=f"{prefix}_score"
    )(ids)
    pooled = WeightedAverage(name=f"{prefix}_average")([embedded, scores])
    return layers.Dropout(config.dropout, name=f"{prefix}_dropout")(pooled)


def build(config: ModelConfig, features: dict[str, FeatureShape], num_classes: int) -> keras.Model:
    """``ngrams`` ids -> :func:`bag_features` -> Dense -> softmax."""
    ngrams = id_input("ngrams", features["ngrams"], any_length=True)
    pooled = bag_features(ngrams, features["ngrams"].vocabulary, config)
    logits = layers.Dense(num_classes, name="logits")(pooled)
    return classifier_model({"ngrams": ngrams}, logits)
