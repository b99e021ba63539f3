"""Wide and deep: a linear model over word 1-2 grams beside a CNN over words.

The wide part is the n-gram bag family's (averaged 1-2 gram embeddings, then a
linear layer): it memorises exact phrasings. The deep part is the CNN family's feature
extractor: it generalises across words with similar embeddings. Their logits
are added before one softmax, and both are trained together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers

from pipeline.core.config import ModelConfig
from pipeline.models.bag import bag_features
from pipeline.models.common import classifier_model, id_input
from pipeline.models.convolutional import cnn_features

if TYPE_CHECKING:
    from pipeline.models import FeatureShape


def build(config: ModelConfig, features: dict[str, FeatureShape], num_classes: int) -> keras.Model:
    """``ngrams`` -> bag -> Dense logits, plus ``words`` -> CNN -> Dense logits -> softmax."""
    ngrams = id_input("ngrams", features["ngrams"])
    words = id_input("words", features["words"])
    wide = bag_features(ngrams, features["ngrams"].vocabulary, config)
    wide_logits = layers.Dense(num_classes, name="wide_logits")(wide)
    deep = cnn_features(words, config, features["words"].vocabulary)
    deep = layers.Dropout(config.dropout, name="dropout")(deep)
    deep_logits = layers.Dense(num_classes, name="deep_logits")(deep)
    logits = layers.Add(name="logits")([wide_logits, deep_logits])
    return classifier_model({"ngrams": ngrams, "words": words}, logits)
