"""The rows a fit reads: encoded splits and their ``tf.data`` batches.

:func:`encode_split` turns a prepared split (``text``, ``label``) into an
:class:`EncodedSplit` (the encoder's id arrays, class indices, sample weights);
:func:`training_batches` feeds one to ``model.fit`` as shuffled ``tf.data`` batches,
cut to their longest row for models that take rows of any length
(:func:`takes_any_length`). The fit itself is :mod:`pipeline.training.fit`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

#: Batches gathered in parallel and kept ready: a gather is one cheap op per input.
_PIPELINE_THREADS = 2
#: Models whose inputs take any number of ids (the n-gram bags) get batches of rows of
#: similar length, cut to their longest row: each epoch's shuffled rows are sorted by
#: length in pools of this many batches, and the pool's batches are shuffled again.
#: Padding is most of a bag's input (the character n-grams of a median UCI headline fill
#: 159 of 306 columns), and a padded column costs a bag as much as a real one.
LENGTH_POOL_BATCHES = 32
#: A cut batch's width is rounded up to a multiple of this.
_WIDTH_STEP = 8
#: No tf.data autotuning: its optimisation thread has to end before an iterator can
#: be freed, and under load that held the end of a stopped fit for 10-20 s (seen in
#: the app, with the Stop pressed during validation: the panel said "Stopping" for
#: that long). A fixed pipeline this small gains nothing from tuning.
_FIXED_PIPELINE = tf.data.Options()
_FIXED_PIPELINE.autotune.enabled = False


@dataclass(frozen=True)
class EncodedSplit:
    """One split, vectorized: encoder outputs, class indices, texts, sample weights.

    ``inputs`` maps each encoder output name to int ids ``(rows, length)``; ``y``
    holds class indices ``(rows,)``; ``weights``, when the loss is class-weighted,
    each row's weight ``(rows,)``; ``positions``, when known, each row's position in
    the frame it was encoded from ``(rows,)`` (rows that encode to nothing are left out).
    """

    inputs: dict[str, np.ndarray]
    y: np.ndarray
    texts: list[str] = field(default_factory=list)
    weights: np.ndarray | None = None
    positions: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def head(self, rows: int) -> EncodedSplit:
        """The first ``rows`` rows."""
        if rows == len(self.y):
            return self
        return EncodedSplit(
            {name: ids[:rows] for name, ids in self.inputs.items()},
            self.y[:rows],
            self.texts[:rows],
            None if self.weights is None else self.weights[:rows],
            None if self.positions is None else self.positions[:rows],
        )


def encode_split(
    frame: Any,
    encode: Callable[[list[str]], dict[str, np.ndarray]],
    classes: list[str],
    class_weights: dict[str, float] | None,
) -> EncodedSplit:
    """Rows of ``frame`` (``text``, ``label``) as model inputs, labels and weights.

    ``encode`` turns texts into the encoder's id arrays. Rows whose every id is
    padding are left out: such a row would trip the cuDNN kernel's mask check (and
    average nothing in a bag). ``prepare()`` drops texts without words, so this
    only removes texts whose every word is filtered out (e.g. punctuation alone).
    """
    texts = frame["text"].tolist()
    inputs = encode(texts)
    index = {code: i for i, code in enumerate(classes)}
    y = np.array([index[label] for label in frame["label"]], dtype=np.int64)
    keep = np.all([ids.any(axis=1) for ids in inputs.values()], axis=0)
    weights = None
    if class_weights is not None:
        per_class = np.array([class_weights[c] for c in classes], "float32")
        weights = per_class[y[keep]]
    if keep.all():  # the usual case: no copy of every id array
        return EncodedSplit(inputs, y, texts, weights, np.arange(len(y)))
    return EncodedSplit(
        {name: ids[keep] for name, ids in inputs.items()},
        y[keep],
        [text for text, kept in zip(texts, keep, strict=True) if kept],
        weights,
        np.flatnonzero(keep),
    )


def takes_any_length(model: keras.Model) -> bool:
    """Whether every input of ``model`` takes rows of any number of ids (``(batch, None)``),
    so that :func:`training_batches` may cut a batch to its longest row."""
    return all(len(x.shape) == 2 and x.shape[1] is None for x in model.inputs)


def training_batches(
    encoded: EncodedSplit,
    batch_size: int,
    shuffle_seed: int | None = None,
    outputs: list[str] | None = None,
    by_length: bool = False,
) -> tf.data.Dataset:
    """``(inputs, y[, weights])`` batches; shuffled each epoch when a seed is given.

    Row indices are shuffled and batched, then each batch is gathered from the
    arrays in one call: shuffling and batching whole rows one by one would cost
    more than a small model's training step. For a model with several ``outputs``
    (the ensemble's heads), the labels and weights are repeated per output name.

    With ``by_length`` (ids padded at the end, a model that :func:`takes_any_length`),
    a batch holds rows of similar length (sorted in pools of
    :data:`LENGTH_POOL_BATCHES` batches) and each input is cut to the batch's longest
    row: the same rows and the same values, minus most of the padding.
    """
    columns: tuple = (encoded.inputs, encoded.y)
    if encoded.weights is not None:
        columns = (*columns, encoded.weights)
    arrays = tf.nest.flatten(columns)
    # the inputs come first in ``arrays``; labels and weights are never cut
    inputs_count = len(tf.nest.flatten(encoded.inputs))
    widths = (
        [_row_lengths(a) if i < inputs_count else None for i, a in enumerate(arrays)]
        if by_length
        else None
    )
    rows = tf.data.Dataset.range(len(encoded))
    if shuffle_seed is not None:
        rows = rows.shuffle(len(encoded), seed=shuffle_seed, reshuffle_each_iteration=True)
    if by_length:
        key = tf.constant(max(widths[:inputs_count], key=lambda lengths: lengths.sum()))
        pools = rows.batch(batch_size * LENGTH_POOL_BATCHES)
        sorted_pools = pools.map(
            lambda index: tf.gather(index, tf.argsort(tf.gather(key, index), stable=True))
        )
        index_batches = sorted_pools.flat_map(
            lambda index: tf.data.Dataset.from_tensor_slices(index).batch(batch_size)
        ).apply(tf.data.experimental.assert_cardinality(_pooled_batches(len(encoded), batch_size)))
        if shuffle_seed is not None:
            index_batches = index_batches.shuffle(
                LENGTH_POOL_BATCHES, seed=shuffle_seed + 1, reshuffle_each_iteration=True
            )
    else:
        index_batches = rows.batch(batch_size)

    def take(index: np.ndarray) -> list[np.ndarray]:
        if widths is None:
            return [array[index] for array in arrays]
        # a view of the needed columns first, so the gather copies only those
        return [
            array[index] if width is None else array[:, : _batch_width(width[index], array)][index]
            for array, width in zip(arrays, widths, strict=True)
        ]

    def gather(index: tf.Tensor) -> tuple:
        # Gathered from the numpy arrays themselves: tf.constant would copy every row
        # into TensorFlow's memory for as long as the fit runs (the character n-grams
        # of the accurate preset: about 400 MB on the bundled data).
        parts = tf.numpy_function(take, [index], [a.dtype for a in arrays], stateful=False)
        for part, array, width in zip(parts, arrays, widths or [None] * len(arrays), strict=True):
            part.set_shape((None, *array.shape[1:]) if width is None else (None, None))
        inputs, *targets = tf.nest.pack_sequence_as(columns, parts)
        # ids are stored as int32 (see pipeline.models.features.encode); the inputs are int64
        inputs = {name: tf.cast(ids, tf.int64) for name, ids in inputs.items()}
        if outputs:
            return (inputs, *({name: target for name in outputs} for target in targets))
        return (inputs, *targets)

    data = index_batches.map(gather, num_parallel_calls=_PIPELINE_THREADS)
    return data.prefetch(_PIPELINE_THREADS).with_options(_FIXED_PIPELINE)


def _pooled_batches(rows: int, batch_size: int) -> int:
    """Batches of :func:`training_batches` by length: every full pool's, then the last
    pool's (so Keras knows an epoch's length from the start, as for plain batches)."""
    pool = batch_size * LENGTH_POOL_BATCHES
    full, rest = divmod(rows, pool)
    return full * LENGTH_POOL_BATCHES + math.ceil(rest / batch_size)


def _row_lengths(ids: np.ndarray) -> np.ndarray:
    """Ids per row before the end padding (every real id is at least 1)."""
    return np.count_nonzero(ids, axis=1).astype(np.int32)


def _batch_width(lengths: np.ndarray, ids: np.ndarray) -> int:
    """The batch's longest row, rounded up to :data:`_WIDTH_STEP`, at most the full width."""
    longest = int(lengths.max(initial=1))
    return min(ids.shape[1], -(-longest // _WIDTH_STEP) * _WIDTH_STEP)
