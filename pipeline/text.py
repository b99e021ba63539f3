"""Turning headlines into token ids with Keras' own ``TextVectorization``.

Keras 3 removed the ``Tokenizer`` and ``pad_sequences`` the seed notebook used.
Their behaviour is rebuilt from layers that save inside a ``.keras`` file and
reload under ``safe_mode=True``:

* :class:`StandardizeHeadline` lower-cases and turns the seed's punctuation
  filter into spaces (what ``Tokenizer(lower=True)`` did);
* ``TextVectorization`` splits on whitespace, keeps the ``max_tokens`` most
  frequent words (index 0 = padding, 1 = out of vocabulary) and pads on the right;
* :class:`LeftPad` moves the padding to the left, like ``pad_sequences``'
  default ``padding="pre"``, for the ``seed`` preset.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from pipeline.config import SEED_PUNCTUATION, ModelConfig

#: Batch size for vectorizing and counting tokens outside a model.
_TEXT_BATCH = 4096
#: Percentile of training token counts that the automatic sequence length covers.
AUTO_LENGTH_PERCENTILE = 99.9
#: Bounds of the automatic sequence length.
AUTO_LENGTH_MIN, AUTO_LENGTH_MAX = 8, 256

_PUNCTUATION_PATTERN = "[" + re.escape(SEED_PUNCTUATION) + "]"


@keras.saving.register_keras_serializable(package="headline_lab")
class StandardizeHeadline(layers.Layer):
    """Lower-case a string tensor and replace the seed's punctuation with spaces.

    Input and output: string tensors of any shape.
    """

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        lowered = tf.strings.lower(inputs, encoding="utf-8")
        return tf.strings.regex_replace(lowered, _PUNCTUATION_PATTERN, " ")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


@keras.saving.register_keras_serializable(package="headline_lab")
class LeftPad(layers.Layer):
    """Move right padding (zeros at the end of each row) to the left.

    Input: int tensor ``(batch, length)`` whose non-zero ids form a prefix of each
    row, as ``TextVectorization`` produces. Output: same shape and dtype, with
    each row's ids shifted to the end, as ``pad_sequences(padding="pre")`` did.
    """

    def call(self, token_ids: tf.Tensor) -> tf.Tensor:
        length = ops.shape(token_ids)[1]
        n_tokens = ops.sum(ops.cast(ops.not_equal(token_ids, 0), "int32"), axis=1, keepdims=True)
        positions = ops.expand_dims(ops.arange(length, dtype="int32"), 0)
        source = positions - (length - n_tokens)
        gathered = ops.take_along_axis(token_ids, ops.maximum(source, 0), axis=1)
        return ops.where(source >= 0, gathered, ops.zeros_like(gathered))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


def standardize(texts: Sequence[str]) -> list[str]:
    """Python twin of :class:`StandardizeHeadline`, for word-level explanations."""
    return [re.sub(_PUNCTUATION_PATTERN, " ", text.lower()) for text in texts]


def count_tokens(texts: Sequence[str]) -> np.ndarray:
    """Number of whitespace-separated tokens of each text after standardization.

    Returns an int array of shape ``(len(texts),)``.
    """
    standardizer = StandardizeHeadline()
    counts = []
    for start in range(0, len(texts), _TEXT_BATCH):
        batch = tf.constant(list(texts[start : start + _TEXT_BATCH]), dtype=tf.string)
        counts.append(tf.strings.split(standardizer(batch)).row_lengths().numpy())
    return np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)


def choose_sequence_length(texts: Sequence[str]) -> int:
    """Sequence length covering ``AUTO_LENGTH_PERCENTILE`` % of ``texts`` in full.

    Headlines are short (99.9 % of the UCI titles have at most 17 words), so this
    is far below the seed's 130 and saves most of the LSTM's work.
    """
    counts = count_tokens(texts)
    if counts.size == 0:
        return AUTO_LENGTH_MIN
    length = math.ceil(float(np.percentile(counts, AUTO_LENGTH_PERCENTILE)))
    return int(min(max(length, AUTO_LENGTH_MIN), AUTO_LENGTH_MAX))


def build_vectorizer(
    train_texts: Sequence[str], config: ModelConfig, sequence_length: int
) -> layers.TextVectorization:
    """A ``TextVectorization`` layer adapted on the (standardized) training texts.

    Parameters
    ----------
    train_texts : sequence of str
        Training headlines only, so validation and test words stay unseen.
    config : ModelConfig
        ``max_tokens`` bounds the vocabulary (padding and OOV included).
    sequence_length : int
        Every output row has exactly this many ids (right-padded or truncated).
    """
    vectorizer = layers.TextVectorization(
        max_tokens=config.max_tokens,
        standardize=None,
        split="whitespace",
        output_mode="int",
        output_sequence_length=sequence_length,
        name="vectorizer",
    )
    standardized = tf.data.Dataset.from_tensor_slices(list(train_texts)).batch(_TEXT_BATCH)
    vectorizer.adapt(standardized.map(StandardizeHeadline()))
    return vectorizer


def vectorize(
    texts: Sequence[str], vectorizer: layers.TextVectorization, padding: str
) -> np.ndarray:
    """Token ids of ``texts``: int64 array ``(len(texts), sequence_length)``.

    ``padding="pre"`` moves the padding to the left as :class:`LeftPad` does.
    """
    standardizer = StandardizeHeadline()
    left_pad = LeftPad() if padding == "pre" else None
    chunks = []
    for start in range(0, len(texts), _TEXT_BATCH):
        batch = tf.constant(list(texts[start : start + _TEXT_BATCH]), dtype=tf.string)
        ids = vectorizer(standardizer(batch))
        if left_pad is not None:
            ids = left_pad(ids)
        chunks.append(np.asarray(ids, dtype=np.int64))
    if not chunks:
        return np.zeros((0, vectorizer.get_config()["output_sequence_length"]), dtype=np.int64)
    return np.concatenate(chunks)
