"""Bag of n-grams, fastText-like: word 1-2 gram embeddings, averaged, then softmax.

No word order beyond bigrams, no recurrence: the fastest family by far.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers

from pipeline.config import ModelConfig
from pipeline.models.common import classifier_model, id_input

if TYPE_CHECKING:
    from pipeline.models import FeatureShape


def build(config: ModelConfig, features: dict[str, FeatureShape], num_classes: int) -> keras.Model:
    """``ngrams`` ids -> Embedding(ngram_dim, masked) -> average -> Dropout -> Dense."""
    ngrams = id_input("ngrams", features["ngrams"])
    embedded = layers.Embedding(
        features["ngrams"].vocabulary, config.ngram_dim, mask_zero=True, name="ngram_embedding"
    )(ngrams)
    pooled = layers.GlobalAveragePooling1D(name="average")(embedded)
    pooled = layers.Dropout(config.dropout, name="dropout")(pooled)
    logits = layers.Dense(num_classes, name="logits")(pooled)
    return classifier_model({"ngrams": ngrams}, logits)
