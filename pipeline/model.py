"""The LSTM classifier and the end-to-end model that takes raw strings.

The layout is the seed notebook's: Embedding -> SpatialDropout1D -> LSTM ->
Dense softmax, compiled with Adam and categorical cross-entropy. Training runs on
the integer ``classifier`` (text is vectorized once, outside the training loop);
what gets saved is the ``end_to_end_model``, which wraps the same classifier
behind the standardizer and the vectorizer, so a saved run takes raw headlines.
"""

from __future__ import annotations

import keras
from keras import layers

from pipeline.config import ModelConfig
from pipeline.text import LeftPad, StandardizeHeadline

CLASSIFIER_NAME = "classifier"
VECTORIZER_NAME = "vectorizer"


def build_classifier(config: ModelConfig, sequence_length: int, num_classes: int) -> keras.Model:
    """The trainable model: int ids ``(batch, sequence_length)`` -> probabilities.

    With ``padding="post"`` the embedding masks padding (``mask_zero=True``), which
    together with ``recurrent_dropout=0`` lets Keras pick the cuDNN LSTM kernel on
    a GPU. The seed (``padding="pre"``) had no mask and keeps none.
    """
    token_ids = keras.Input(shape=(sequence_length,), dtype="int64", name="token_ids")
    embedded = layers.Embedding(
        input_dim=config.max_tokens,
        output_dim=config.embedding_dim,
        mask_zero=config.padding == "post",
        name="embedding",
    )(token_ids)
    embedded = layers.SpatialDropout1D(config.spatial_dropout, name="spatial_dropout")(embedded)
    encoded = layers.LSTM(
        config.lstm_units,
        dropout=config.dropout,
        recurrent_dropout=config.recurrent_dropout,
        name="lstm",
    )(embedded)
    probabilities = layers.Dense(num_classes, activation="softmax", name="probabilities")(encoded)
    return keras.Model(token_ids, probabilities, name=CLASSIFIER_NAME)


def compile_classifier(classifier: keras.Model, learning_rate: float) -> None:
    """Adam + categorical cross-entropy on one-hot labels, accuracy as metric."""
    classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )


def build_end_to_end_model(
    vectorizer: layers.TextVectorization, classifier: keras.Model, padding: str
) -> keras.Model:
    """Raw strings ``(batch, 1)`` -> class probabilities ``(batch, num_classes)``.

    Only layers that reload under ``safe_mode=True`` are used: the two custom
    layers are registered serializables, no ``Lambda``.
    """
    text = keras.Input(shape=(1,), dtype="string", name="text")
    token_ids = vectorizer(StandardizeHeadline(name="standardize")(text))
    if padding == "pre":
        token_ids = LeftPad(name="left_pad")(token_ids)
    return keras.Model(text, classifier(token_ids), name="end_to_end_model")


def split_end_to_end_model(
    end_to_end_model: keras.Model,
) -> tuple[layers.TextVectorization, keras.Model]:
    """The ``(vectorizer, classifier)`` inside a saved end-to-end model, to train on."""
    return (
        end_to_end_model.get_layer(VECTORIZER_NAME),
        end_to_end_model.get_layer(CLASSIFIER_NAME),
    )
