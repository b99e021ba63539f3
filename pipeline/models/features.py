"""The text encoder: raw strings -> the int inputs a model family reads.

One small Keras model, :func:`build_encoder`, does all the text processing. It
vectorizes the training data once before ``fit`` (:func:`encode`), and the very
same layers sit in front of the classifier inside the saved end-to-end model,
so a saved run takes raw headlines and can never disagree with its training
data's ids. Outputs (see :mod:`pipeline.models`):

``words``
    ``TextVectorization`` word ids, cut or padded to ``sequence_length``; or with
    ``tokenizer="keras2"`` the seed notebook's ``Tokenizer`` + ``pad_sequences``
    ids exactly (:class:`pipeline.models.text.SeedSequence`).
``ngrams``
    word 1-2 gram ids (``TextVectorization(ngrams=2)``), ``2 * sequence_length``
    per row, padded on the right.
``chars``
    character 3-5 gram ids (``TextVectorization(split="character")``),
    ``18 * sequence_length`` per row, padded on the right;
``linear_chars``
    the same, from a smaller vocabulary of their own, read by the linear part of a
    blend on a small file alone (:mod:`pipeline.training.blend`, added after the fit
    with :func:`with_output`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from pipeline.core.config import ModelConfig
from pipeline.models import FeatureShape, family_inputs
from pipeline.models.text import (
    LeftPad,
    SeedSequence,
    StandardizeHeadline,
    Vectorizer,
    build_seed_vectorizer,
)

ENCODER_NAME = "encoder"
#: Character n-gram sizes of the ``chars`` output.
CHAR_NGRAMS = (3, 4, 5)
#: ``chars`` ids per row, per word of the sequence length (3 sizes x about 6 characters).
CHARS_PER_WORD = 18
#: Rows the character n-gram vocabulary is counted on, at most: beyond it, an even
#: sample of the training rows. Counting is the slowest part of building the
#: vocabularies (17 s for UCI's 281,567 training rows, 9 s for 150,000) and the sample
#: finds the same frequent n-grams: 97 % of the 100,000 most frequent are the full
#: count's; what differs is the rare tail of the 300,000 kept.
CHAR_VOCABULARY_ROWS = 150_000
#: The vectorizer layer behind each encoder output but ``words``.
VECTORIZERS = {
    "ngrams": "ngram_vectorizer",
    "chars": "char_vectorizer",
    "linear_chars": "linear_char_vectorizer",
}
_ADAPT_BATCH = 4096
_ENCODE_BATCH = 8192


#: ``on_rows(step, rows_done, rows_total)``: progress of a vectorizer's adaptation.
#: It may raise (e.g. to stop a training) and the build ends there.
RowsListener = Callable[[str, int, int], None]


def build_encoder(
    train_texts: Sequence[str],
    config: ModelConfig,
    sequence_length: int,
    on_rows: RowsListener | None = None,
) -> keras.Model:
    """Adapt the vectorizers ``config.family`` needs on ``train_texts``.

    Returns a model: strings ``(batch, 1)`` -> dict of int64 ids per output name.
    Only training texts are seen, so validation and test words stay unknown; the
    character n-grams are counted on at most :data:`CHAR_VOCABULARY_ROWS` of them
    (:func:`even_sample`).
    ``on_rows`` hears each vectorizer's progress through ``train_texts``
    ("Word vocabulary", "Word-pair vocabulary", "Character n-gram vocabulary").
    """
    wanted = family_inputs(config.family)
    text = keras.Input(shape=(1,), dtype="string", name="text")
    standardize = StandardizeHeadline(split_cjk=splits_cjk(config), name="standardize")
    standardized = standardize(text)
    outputs: dict[str, keras.KerasTensor] = {}
    if "words" in wanted:
        outputs["words"] = _word_ids(
            standardized, standardize, train_texts, config, sequence_length, on_rows
        )
    if "ngrams" in wanted:
        ngram_vectorizer = Vectorizer(
            max_tokens=config.ngram_tokens,
            standardize=None,
            ngrams=2,
            output_mode="int",
            output_sequence_length=2 * sequence_length,
            name="ngram_vectorizer",
        )
        _adapt(ngram_vectorizer, train_texts, standardize, "Word-pair vocabulary", on_rows)
        outputs["ngrams"] = ngram_vectorizer(standardized)
    if "chars" in wanted:
        char_vectorizer = char_ngram_vectorizer(
            train_texts,
            standardize,
            config.char_tokens,
            sequence_length,
            "char_vectorizer",
            on_rows,
        )
        outputs["chars"] = char_vectorizer(standardized)
    return keras.Model(text, outputs, name=ENCODER_NAME)


def splits_cjk(config: ModelConfig) -> bool:
    """Whether ``config``'s encoder makes each Chinese or Japanese character a token
    (:class:`~pipeline.models.text.StandardizeHeadline`'s ``split_cjk``): every tokenizer
    but the seed's Keras 2 one, which stays the notebook's exactly."""
    return config.tokenizer != "keras2"


def char_ngram_vectorizer(
    train_texts: Sequence[str],
    standardize: StandardizeHeadline,
    max_tokens: int,
    sequence_length: int,
    name: str,
    on_rows: RowsListener | None = None,
) -> layers.TextVectorization:
    """A character 3-5 gram ``TextVectorization`` named ``name``, adapted on at most
    :data:`CHAR_VOCABULARY_ROWS` of ``train_texts`` (:func:`even_sample`) as ``standardize``
    (the encoder's own layer) reads them: standardized strings ->
    ``CHARS_PER_WORD * sequence_length`` ids per row, padded on the right."""
    vectorizer = Vectorizer(
        max_tokens=max_tokens,
        standardize=None,
        split="character",
        ngrams=CHAR_NGRAMS,
        output_mode="int",
        output_sequence_length=CHARS_PER_WORD * sequence_length,
        name=name,
    )
    _adapt(
        vectorizer,
        even_sample(train_texts, CHAR_VOCABULARY_ROWS),
        standardize,
        "Character n-gram vocabulary",
        on_rows,
    )
    return vectorizer


def with_output(encoder: keras.Model, name: str, vectorizer: layers.Layer) -> keras.Model:
    """``encoder`` with one more output, ``name``: ``vectorizer`` applied to the encoder's
    standardized text. The same layers (and vocabularies) as ``encoder``, a new model."""
    standardized = encoder.get_layer("standardize").output
    outputs = {**encoder.output, name: vectorizer(standardized)}
    return keras.Model(encoder.input, outputs, name=ENCODER_NAME)


def _word_ids(
    standardized: keras.KerasTensor,
    standardize: StandardizeHeadline,
    train_texts: Sequence[str],
    config: ModelConfig,
    sequence_length: int,
    on_rows: RowsListener | None,
) -> keras.KerasTensor:
    if config.tokenizer == "keras2":
        vectorizer = build_seed_vectorizer(train_texts, config.max_tokens, name="word_vectorizer")
        return SeedSequence(sequence_length, name="pad_sequences")(vectorizer(standardized))
    vectorizer = Vectorizer(
        max_tokens=config.max_tokens,
        standardize=None,
        split="whitespace",
        output_mode="int",
        output_sequence_length=sequence_length,
        name="word_vectorizer",
    )
    _adapt(vectorizer, train_texts, standardize, "Word vocabulary", on_rows)
    ids = vectorizer(standardized)
    return LeftPad(name="left_pad")(ids) if config.padding == "pre" else ids


def even_sample(texts: Sequence[str], limit: int) -> Sequence[str]:
    """``texts`` when it holds at most ``limit`` rows, else every k-th row (k the
    smallest step that keeps at most ``limit``): spread over the whole list whatever
    its order, and the same rows every time."""
    if len(texts) <= limit:
        return texts
    return texts[:: math.ceil(len(texts) / limit)]


def _adapt(
    vectorizer: layers.TextVectorization,
    texts: Sequence[str],
    standardize: StandardizeHeadline,
    step: str,
    on_rows: RowsListener | None,
) -> None:
    """``vectorizer.adapt`` on ``texts`` as ``standardize`` (the encoder's own layer)
    reads them, one batch at a time so that progress is heard.

    The same calls ``adapt`` makes (``reset_state``, ``update_state`` per batch,
    ``finalize_state``), with ``on_rows`` after each batch.
    """
    vectorizer.reset_state()
    done = 0
    for batch in _standardized_batches(texts, standardize):
        vectorizer.update_state(batch)
        done = min(done + _ADAPT_BATCH, len(texts))
        if on_rows is not None:
            on_rows(step, done, len(texts))
    vectorizer.finalize_state()


def _standardized_batches(
    texts: Sequence[str], standardize: StandardizeHeadline
) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(list(texts)).batch(_ADAPT_BATCH).map(standardize)


def feature_shapes(encoder: keras.Model, config: ModelConfig) -> dict[str, FeatureShape]:
    """Length and real vocabulary size of each encoder output.

    Embeddings are sized to the vocabulary the data really has, not to the
    ``max_tokens`` limit, so small datasets give small model files.
    """
    shapes = {}
    for name, tensor in encoder.output.items():
        if name == "words":
            vectorizer = encoder.get_layer("word_vectorizer")
            size = vectorizer.vocabulary_size()
            # The keras2 ids drop padding and OOV and count words from 1.
            vocabulary = size - 1 if config.tokenizer == "keras2" else size
        else:
            vocabulary = encoder.get_layer(VECTORIZERS[name]).vocabulary_size()
        shapes[name] = FeatureShape(length=int(tensor.shape[1]), vocabulary=int(vocabulary))
    return shapes


def encode(
    encoder: keras.Model,
    texts: Sequence[str],
    on_rows: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run the encoder over ``texts`` in batches: ``{name: int32 (len(texts), length)}``.

    The ids are kept as int32 (half the memory of the encoder's int64: a vocabulary
    never nears 2**31); the model's inputs cast them back.

    ``on_rows(rows_done)`` is called after each batch (it may raise to stop).
    """
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in encoder.output}
    # As a graph, the encoder's branches (words, n-grams, characters) run side by side:
    # a fifth faster than calling it eagerly (5.5 -> 4.3 s for 120,000 headlines).
    # One trace for every batch, the last and shorter one included (a trace per shape
    # made TensorFlow warn of "excessive retracing" in the CLI's output).
    run = tf.function(encoder, input_signature=[tf.TensorSpec((None, 1), tf.string)])
    for start in range(0, len(texts), _ENCODE_BATCH):
        batch = tf.constant([[text] for text in texts[start : start + _ENCODE_BATCH]])
        for name, ids in run(batch).items():
            chunks[name].append(np.asarray(ids, dtype=np.int32))
        if on_rows is not None:
            on_rows(min(start + _ENCODE_BATCH, len(texts)))
    return {
        name: np.concatenate(parts)
        if parts
        else np.zeros((0, int(encoder.output[name].shape[1])), dtype=np.int32)
        for name, parts in chunks.items()
    }


def build_end_to_end_model(encoder: keras.Model, classifier: keras.Model) -> keras.Model:
    """Raw strings ``(batch, 1)`` -> class probabilities ``(batch, num_classes)``.

    Only layers that reload under ``safe_mode=True`` are used: the custom layers
    are registered serializables, no ``Lambda``.
    """
    text = keras.Input(shape=(1,), dtype="string", name="text")
    return keras.Model(text, classifier(encoder(text)), name="end_to_end_model")


def split_end_to_end_model(end_to_end_model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """The ``(encoder, classifier)`` inside a saved end-to-end model, to train on."""
    return end_to_end_model.get_layer(ENCODER_NAME), end_to_end_model.get_layer("classifier")
