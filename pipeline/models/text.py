"""Turning headlines into token ids with Keras' own ``TextVectorization``.

Keras 3 removed the ``Tokenizer`` and ``pad_sequences`` the seed notebook used.
Their behaviour is rebuilt from layers that save inside a ``.keras`` file and
reload under ``safe_mode=True`` (every custom piece is a registered serializable
of the ``headline_lab`` package; no ``Lambda``).

Two paths exist.

**The default path** (built by :func:`pipeline.models.features.build_encoder`):

* :class:`StandardizeHeadline` lower-cases and turns the punctuation filter
  into spaces (what ``Tokenizer(lower=True)`` did);
* ``TextVectorization`` splits on whitespace, keeps the ``max_tokens`` most
  frequent words (index 0 = padding, 1 = out of vocabulary) and pads on the
  right, truncating at the end;
* :class:`LeftPad` moves the padding to the left (``padding="pre"``).

**The seed-faithful path** (:func:`build_seed_vectorizer` and :class:`SeedSequence`,
put together by :func:`pipeline.models.features.build_encoder` for ``tokenizer="keras2"``)
reproduces, id for id, the 2019 notebook's Keras 2.2 code::

    tokenizer = Tokenizer(num_words=N, filters=SEED_FILTERS, lower=True)
    tokenizer.fit_on_texts(train_titles)
    X = pad_sequences(tokenizer.texts_to_sequences(titles), maxlen=L)

* :class:`StandardizeHeadline` with its default ``filters`` (:data:`SEED_FILTERS`,
  the notebook's filter string: no tab, no newline);
* a ``TextVectorization`` whose vocabulary is the Tokenizer's (see
  :func:`seed_vocabulary`), split on single spaces by :func:`split_on_spaces`,
  and with no ``output_sequence_length``: ids 0 = padding, 1 = out of
  vocabulary, 2 .. N = the N - 1 most frequent words;
* :class:`SeedSequence` drops the out-of-vocabulary ids (``Tokenizer(num_words)``
  drops rare and unseen words, it does not map them to an OOV id), keeps the
  last ``L`` words and pads on the left (``pad_sequences``' ``"pre"`` defaults),
  and shifts the word ids down by one. Its output is exactly the notebook's
  ``X``: 0 = padding, the most frequent word = 1, ids up to N - 1, so an
  ``Embedding`` on it takes ``input_dim = N`` (the notebook's ``num_words``).

An end-to-end seed model is ``keras.Input(shape=(1,), dtype="string")`` ->
``StandardizeHeadline()`` -> the seed vectorizer -> ``SeedSequence(L)`` ->
classifier.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from pipeline.core.config import AUTO_LENGTH_MAX, AUTO_LENGTH_MIN, AUTO_LENGTH_PERCENTILE
from pipeline.core.scripts import CJK_CHARACTER

#: Batch size for vectorizing and counting tokens outside a model.
_TEXT_BATCH = 4096

#: The seed notebook's ``Tokenizer`` filter, character for character: the
#: notebook wrote the literal ``'!"#$%&()*+,-./:;<=>?@[\]^_`{|}~'`` (``\]`` being
#: a backslash and a bracket), i.e. Keras' default filter without ``\t`` and ``\n``.
#: The apostrophe is not in it: "fed's" stays one word.
SEED_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'

_CJK_PATTERN = re.compile(f"({CJK_CHARACTER})")

#: Ids of ``TextVectorization`` (and so of the seed vectorizer's raw output).
PAD_ID, OOV_ID = 0, 1


def _filter_pattern(filters: str) -> str:
    """An RE2 character class matching any one character of ``filters``."""
    return "[" + "".join(f"\\x{{{ord(char):X}}}" for char in filters) + "]"


@keras.saving.register_keras_serializable(package="headline_lab")
class Vectorizer(layers.TextVectorization):
    """``TextVectorization`` whose adapted vocabulary is saved once and loaded fast.

    Keras writes it twice into a ``.keras`` file: from the layer and from the lookup layer
    inside it, which the saver also visits (600,000 n-grams: 7.6 MB each), and loading
    builds its lookup table twice, each time checking every token in Python (0.7 s for
    600,000). Here the lookup layer alone saves it, and both ways run in TensorFlow
    (:meth:`_save_vocabulary`, :meth:`_load_vocabulary`): the tokens were checked when
    the vocabulary was adapted.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # the saver calls the lookup layer's own save_assets and load_assets with its folder
        self._lookup_layer.save_assets = self._save_vocabulary
        self._lookup_layer.load_assets = self._load_vocabulary

    def _save_vocabulary(self, dir_path: str) -> None:
        """The lookup layer's vocabulary to ``dir_path/vocabulary.txt``, byte for byte as
        Keras' ``IndexLookup.save_assets`` writes it (the mask and OOV tokens, then the
        tokens by id, one a line), but joined in TensorFlow: Keras turns every token into
        a Python string first (2.6 s for 600,000, once per model file written)."""
        lookup = self._lookup_layer
        try:
            tokens, ids = lookup.lookup_table.export()
            start, special = self._special_tokens()
            contiguous = tf.reduce_all(
                tf.sort(ids) == tf.range(start, start + tf.size(ids), dtype=ids.dtype)
            )
            if len(special) != start or not bool(contiguous):
                raise AttributeError("not the layout this writer knows")
            ordered = tf.gather(tokens, tf.argsort(ids))
            text = tf.strings.reduce_join(tf.concat([special, ordered], 0), separator="\n")
            tf.io.write_file(os.path.join(dir_path, "vocabulary.txt"), text)
        except AttributeError:  # another Keras, or another layout: Keras' own writing
            type(lookup).save_assets(lookup, dir_path)

    def _special_tokens(self) -> tuple[int, list[str]]:
        """The id of the first token, and the mask and OOV tokens before it, in order."""
        lookup = self._lookup_layer
        start = lookup._token_start_index()
        return start, [lookup.mask_token, lookup.oov_token][:start]

    def save_assets(self, dir_path):
        pass  # the inner lookup layer writes the vocabulary

    def load_assets(self, dir_path):
        pass  # ... and reads it back, through _load_vocabulary

    def _load_vocabulary(self, dir_path: str) -> None:
        """The lookup layer's vocabulary from ``dir_path/vocabulary.txt`` (as Keras'
        ``IndexLookup.save_assets`` wrote it: the mask and OOV tokens first, one token a
        line). Keras' own loading where its internals differ from what this expects."""
        lookup = self._lookup_layer
        path = os.path.join(dir_path, "vocabulary.txt")
        try:
            text = tf.strings.regex_replace(tf.io.read_file(path), "\n+$", "")
            tokens = tf.strings.split(text, "\n")
            start, special = self._special_tokens()
            if [token.decode() for token in tokens[:start].numpy()] != special:
                raise AttributeError("the file does not start with the special tokens")
            lookup.lookup_table = lookup._lookup_table_from_tokens(tokens[start:])
            lookup._record_vocabulary_size()
        except AttributeError:  # another Keras, or another layout: Keras' own loading
            type(lookup).load_assets(lookup, dir_path)


@keras.saving.register_keras_serializable(package="headline_lab")
class StandardizeHeadline(layers.Layer):
    """Lower-case a string tensor and replace each ``filters`` character with a space.

    This is Keras 2's ``text_to_word_sequence(lower=True)`` before its split.
    Input and output: string tensors of any shape.

    Parameters
    ----------
    filters : str
        Characters to replace; defaults to :data:`SEED_FILTERS`. Models saved
        before this argument existed reload with the default, which gives them
        the same token ids (their filter only added ``\\t`` and ``\\n``, on which
        their whitespace split cuts anyway).
    split_cjk : bool
        Put spaces around every Chinese or Japanese character
        (:data:`~pipeline.core.scripts.CJK_CHARACTER`), so that a split on whitespace
        makes each a token: those scripts write no space between words, and a whole
        sentence would be one token. ``False`` (the default) for models saved before it
        existed, which keep their token ids, and for the seed's Keras 2 tokenizer.
    """

    def __init__(self, filters: str = SEED_FILTERS, split_cjk: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.filters = str(filters)
        self.split_cjk = bool(split_cjk)
        self._pattern = _filter_pattern(self.filters)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        standardized = tf.strings.lower(inputs, encoding="utf-8")
        if self.filters:
            standardized = tf.strings.regex_replace(standardized, self._pattern, " ")
        if self.split_cjk:
            standardized = tf.strings.regex_replace(standardized, f"({CJK_CHARACTER})", r" \1 ")
        return standardized

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype="string")

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "split_cjk": self.split_cjk}


@keras.saving.register_keras_serializable(package="headline_lab")
def split_on_spaces(texts: tf.Tensor) -> tf.RaggedTensor:
    """Split a rank-1 string tensor on single spaces, dropping empty words.

    This is Keras 2's ``text.split(" ")`` followed by ``[w for w in seq if w]``:
    unlike ``TextVectorization``'s ``"whitespace"`` split, tabs, newlines and
    other whitespace stay inside words. Used as ``TextVectorization(split=...)``.
    """
    words = tf.strings.split(texts, sep=" ")
    return tf.ragged.boolean_mask(words, tf.strings.length(words) > 0)


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


@keras.saving.register_keras_serializable(package="headline_lab")
class SeedSequence(layers.Layer):
    """``TextVectorization`` ids -> the seed notebook's ``pad_sequences`` ids.

    Input: int tensor ``(batch, any length)`` in ``TextVectorization``'s layout
    (0 = padding, 1 = out of vocabulary, words from 2), padded on the right, as
    the seed vectorizer (no ``output_sequence_length``) produces.

    Output: int tensor ``(batch, sequence_length)`` of the input's dtype, where
    each row holds the row's in-vocabulary words only (padding and OOV ids
    dropped, as ``Tokenizer(num_words=N)`` drops rare and unknown words), the
    last ``sequence_length`` of them (``truncating="pre"``), padded with 0 on
    the left (``padding="pre"``), each word id minus one so that the most
    frequent word is 1, as in the ``Tokenizer``.
    """

    def __init__(self, sequence_length: int, **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        if self.sequence_length < 1:
            raise ValueError(f"sequence_length must be at least 1, got {sequence_length}")

    def call(self, token_ids: tf.Tensor) -> tf.Tensor:
        token_ids = ops.convert_to_tensor(token_ids)
        # A trailing zero column: every row has at least one position to gather from,
        # even when the whole batch is empty (width 0); zeros are dropped anyway.
        token_ids = ops.pad(token_ids, [[0, 0], [0, 1]])
        width = ops.shape(token_ids)[1]
        keep = ops.greater(token_ids, OOV_ID)
        positions = ops.expand_dims(ops.arange(width, dtype="int32"), 0)
        # Kept ids first, each group in its original order: a stable compaction.
        order = ops.argsort(ops.where(keep, positions, positions + width), axis=1)
        compacted = ops.take_along_axis(token_ids, order, axis=1)
        n_kept = ops.sum(ops.cast(keep, "int32"), axis=1, keepdims=True)
        targets = ops.expand_dims(ops.arange(self.sequence_length, dtype="int32"), 0)
        source = targets + (n_kept - self.sequence_length)
        gathered = ops.take_along_axis(compacted, ops.maximum(source, 0), axis=1)
        return ops.where(source >= 0, gathered - 1, ops.zeros_like(gathered))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.sequence_length)

    def compute_output_spec(self, token_ids):
        return keras.KerasTensor((token_ids.shape[0], self.sequence_length), dtype=token_ids.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "sequence_length": self.sequence_length}


def standardize(
    texts: Sequence[str], filters: str = SEED_FILTERS, split_cjk: bool = False
) -> list[str]:
    """Python twin of :class:`StandardizeHeadline`, for word-level explanations.

    Exactly Keras 2's ``text_to_word_sequence`` before its split: ``str.lower``,
    then each ``filters`` character becomes a space; with ``split_cjk``, spaces around
    each Chinese or Japanese character (:func:`space_cjk`).
    """
    table = str.maketrans(dict.fromkeys(filters, " "))
    standardized = [text.lower().translate(table) for text in texts]
    return [space_cjk(text) for text in standardized] if split_cjk else standardized


def space_cjk(text: str) -> str:
    """``text`` with a space before and after each Chinese or Japanese character, as
    :class:`StandardizeHeadline` with ``split_cjk`` writes it."""
    return _CJK_PATTERN.sub(r" \1 ", text)


def seed_words(text: str, filters: str = SEED_FILTERS) -> list[str]:
    """The words Keras 2's ``Tokenizer(filters=filters, lower=True)`` sees in ``text``."""
    return [word for word in standardize([text], filters)[0].split(" ") if word]


def seed_vocabulary(
    train_texts: Iterable[str], num_words: int, filters: str = SEED_FILTERS
) -> list[str]:
    """The ``num_words - 1`` words ``Tokenizer(num_words)`` keeps, most frequent first.

    Counted in Python with the ``Tokenizer``'s rule: words by count, descending,
    ties in order of first appearance (``TextVectorization.adapt`` breaks ties
    by the words themselves, in reverse byte order, so it is not used here).
    Word ``i`` of the list has ``Tokenizer`` id ``i + 1``.
    """
    counts: Counter[str] = Counter()
    for text in train_texts:
        counts.update(seed_words(text, filters))
    # most_common() sorts stably, so equal counts keep their first-appearance order.
    return [word for word, _ in counts.most_common(max(num_words - 1, 0))]


def build_seed_vectorizer(
    train_texts: Sequence[str], num_words: int, name: str = "vectorizer"
) -> layers.TextVectorization:
    """The seed notebook's ``Tokenizer(num_words)`` as a ``TextVectorization`` layer.

    Its vocabulary is :func:`seed_vocabulary` of ``train_texts`` (passed
    explicitly, not adapted), so with padding and OOV it holds at most
    ``num_words + 1`` entries (``max_tokens``). Input: texts already
    standardized by ``StandardizeHeadline()``, shape ``(batch,)`` or
    ``(batch, 1)``. Output: int64 ids ``(batch, longest row)``, padded on the
    right, in ``TextVectorization``'s layout; follow it with
    :class:`SeedSequence` to get the ``Tokenizer`` + ``pad_sequences`` ids.
    Raises ``ValueError`` when ``train_texts`` hold no word at all.
    """
    if num_words < 2:
        raise ValueError(f"num_words must be at least 2, got {num_words}")
    vocabulary = seed_vocabulary(train_texts, num_words)
    if not vocabulary:
        raise ValueError("The training texts hold no word to build a vocabulary from.")
    return layers.TextVectorization(
        max_tokens=num_words + 1,
        standardize=None,
        split=split_on_spaces,
        output_mode="int",
        vocabulary=vocabulary,
        name=name,
    )


def count_tokens(texts: Sequence[str], split_cjk: bool = False) -> np.ndarray:
    """Number of whitespace-separated tokens of each text after standardization
    (:class:`StandardizeHeadline` with ``split_cjk``).

    Returns an int array of shape ``(len(texts),)``.
    """
    standardizer = StandardizeHeadline(split_cjk=split_cjk)
    counts = []
    for start in range(0, len(texts), _TEXT_BATCH):
        batch = tf.constant(list(texts[start : start + _TEXT_BATCH]), dtype=tf.string)
        counts.append(tf.strings.split(standardizer(batch)).row_lengths().numpy())
    return np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)


def choose_sequence_length(texts: Sequence[str], split_cjk: bool = False) -> int:
    """Sequence length covering ``AUTO_LENGTH_PERCENTILE`` % of ``texts`` in full, their
    tokens counted as the encoder will (``split_cjk``: see :class:`StandardizeHeadline`).

    Headlines are short (99.9 % of the UCI titles have at most 17 words), so this
    is far below the seed's 130 and saves most of the LSTM's work.
    """
    counts = count_tokens(texts, split_cjk)
    if counts.size == 0:
        return AUTO_LENGTH_MIN
    length = math.ceil(float(np.percentile(counts, AUTO_LENGTH_PERCENTILE)))
    return int(min(max(length, AUTO_LENGTH_MIN), AUTO_LENGTH_MAX))
