"""Two n-gram bags, over words and over characters, averaged: the most accurate family.

The word bag sees word 1-2 grams, the character bag character 3-5 grams (spelling,
inflections, names split differently). Each head has its own softmax and is
trained on its own loss, as two separate models would be; the classifier's output
is the mean of their probabilities. Views this different make mistakes on
different headlines, so their average beats either one (and, here, the TF-IDF
baseline), at the cost of a few times the training time of the word bag alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers

from pipeline.core.config import ModelConfig
from pipeline.models.bag import bag_features
from pipeline.models.common import id_input

if TYPE_CHECKING:
    from pipeline.models import FeatureShape

#: The heads, each trained on its own loss: output name -> encoder input it reads.
HEADS: dict[str, str] = {"word_probabilities": "ngrams", "char_probabilities": "chars"}


def _bag_head(
    ids: keras.KerasTensor, vocabulary: int, config: ModelConfig, name: str, num_classes: int
) -> keras.KerasTensor:
    pooled = bag_features(ids, vocabulary, config, prefix=name)
    logits = layers.Dense(num_classes, name=f"{name}_logits")(pooled)
    return layers.Activation("softmax", dtype="float32", name=f"{name}_probabilities")(logits)


def build(config: ModelConfig, features: dict[str, FeatureShape], num_classes: int) -> keras.Model:
    """``ngrams`` and ``chars`` ids -> two bag heads -> the mean of their probabilities."""
    ngrams = id_input("ngrams", features["ngrams"], any_length=True)
    chars = id_input("chars", features["chars"], any_length=True)
    words_p = _bag_head(ngrams, features["ngrams"].vocabulary, config, "word", num_classes)
    chars_p = _bag_head(chars, features["chars"].vocabulary, config, "char", num_classes)
    probabilities = layers.Average(name="probabilities", dtype="float32")([words_p, chars_p])
    return keras.Model({"ngrams": ngrams, "chars": chars}, probabilities, name="classifier")


def training_model(classifier: keras.Model) -> keras.Model:
    """The same layers with every head's probabilities as outputs, for ``fit``.

    Outputs: a dict with each head of :data:`HEADS` and ``"probabilities"`` (the
    mean, scored for accuracy only, with no loss of its own).
    """
    outputs = {name: classifier.get_layer(name).output for name in HEADS}
    outputs["probabilities"] = classifier.output
    return keras.Model(classifier.input, outputs, name="ensemble_training")
