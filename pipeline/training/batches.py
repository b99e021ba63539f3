"""The rows a fit reads: encoded splits and their ``tf.data`` batches.

:func:`encode_split` turns a prepared split (``text``, ``label``) into an
:class:`EncodedSplit` (the encoder's id arrays, class indices, sample weights);
:func:`training_batches` feeds one to ``model.fit`` as shuffled ``tf.data`` batches,
cut to their longest row for models that take rows of any length
(:func:`takes_any_length`). The fit itself is :mod:`pipeline.training.fit`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

#: Batches gathered ahead of the fit (a gather is a numpy copy of the batch's rows).
_PREFETCH_BATCHES = 2
#: Models whose inputs take any number of ids (the n-gram bags) get batches of rows of
#: similar length, cut to their longest row: each epoch's shuffled rows are sorted by
#: length in pools of this many batches, and the pool's batches are shuffled again.
#: Padding is most of a bag's input (the character n-grams of a median UCI headline fill
#: 159 of 306 columns), and a padded column costs a bag as much as a real one.
LENGTH_POOL_BATCHES = 32
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

    Each epoch's batches are planned in numpy (which rows, in which order) and gathered
    from the arrays one batch at a time, in a ``tf.data`` generator that a prefetch keeps
    a few batches ahead of the fit. For a model with several ``outputs`` (the
    ensemble's heads), the labels and weights are repeated per output name.

    With ``by_length`` (ids padded at the end, a model that :func:`takes_any_length`),
    a batch holds rows of similar length (sorted in pools of
    :data:`LENGTH_POOL_BATCHES` batches, the batches shuffled again) and each input is
    cut to the batch's longest row: the same rows and the same values, minus most of
    the padding.

    Why a plan in numpy: the same batches as a ``tf.data`` graph (a shuffle, pools
    sorted with ``argsort``, a ``flat_map``, a ``numpy_function`` gather per batch) cost
    about a second of an epoch of the default on the bundled data (3.2-3.6 s against
    2.6-2.8 s, ``benchmarks/bag_step.py``'s rows): most of it the crossings between the
    graph and Python, on two cores the training also needs.
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
    key = max(widths[:inputs_count], key=lambda lengths: lengths.sum()) if widths else None
    shuffler = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
    rows = len(encoded)

    def take(index: np.ndarray) -> list[np.ndarray]:
        if widths is None:
            return [array[index] for array in arrays]
        # a view of the needed columns first, so the gather copies only those
        return [
            array[index] if width is None else array[:, : _batch_width(width[index], array)][index]
            for array, width in zip(arrays, widths, strict=True)
        ]

    def epoch() -> Iterator[tuple]:
        """One epoch's batches (a new call: a new epoch, shuffled anew)."""
        for index in _epoch_plan(rows, batch_size, shuffler, key):
            inputs, *targets = tf.nest.pack_sequence_as(columns, take(index))
            # ids are stored as int32 (see pipeline.models.features.encode); inputs are int64
            inputs = {name: ids.astype(np.int64) for name, ids in inputs.items()}
            if outputs:
                yield (inputs, *({name: target for name in outputs} for target in targets))
            else:
                yield (inputs, *targets)

    def spec(array: np.ndarray, cut: bool) -> tf.TensorSpec:
        return tf.TensorSpec((None, None) if cut else (None, *array.shape[1:]), array.dtype)

    specs = [
        spec(array, widths is not None and widths[i] is not None) for i, array in enumerate(arrays)
    ]
    inputs_spec, *target_specs = tf.nest.pack_sequence_as(columns, specs)
    inputs_spec = {name: tf.TensorSpec(s.shape, tf.int64) for name, s in inputs_spec.items()}
    if outputs:
        target_specs = [{name: target for name in outputs} for target in target_specs]
    data = tf.data.Dataset.from_generator(epoch, output_signature=(inputs_spec, *target_specs))
    # Keras knows an epoch's length from the start (else it warns "ran out of data")
    batches = _pooled_batches(rows, batch_size) if by_length else math.ceil(rows / batch_size)
    data = data.apply(tf.data.experimental.assert_cardinality(batches))
    return data.prefetch(_PREFETCH_BATCHES).with_options(_FIXED_PIPELINE)


def _epoch_plan(
    rows: int, batch_size: int, shuffler: np.random.Generator | None, lengths: np.ndarray | None
) -> list[np.ndarray]:
    """The row indices of each batch of one epoch, in order: ``rows`` shuffled by
    ``shuffler`` (in order without one) and batched; with ``lengths``, sorted by them in
    pools of :data:`LENGTH_POOL_BATCHES` batches first, and those batches shuffled again."""
    order = np.arange(rows) if shuffler is None else shuffler.permutation(rows)
    if lengths is None:
        return [order[start : start + batch_size] for start in range(0, rows, batch_size)]
    pool = batch_size * LENGTH_POOL_BATCHES
    plan = []
    for start in range(0, rows, pool):
        part = order[start : start + pool]
        part = part[np.argsort(lengths[part], kind="stable")]
        plan += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    if shuffler is not None:
        plan = [plan[i] for i in shuffler.permutation(len(plan))]
    return plan


def _pooled_batches(rows: int, batch_size: int) -> int:
    """Batches of an epoch by length: every full pool's, then the last pool's."""
    pool = batch_size * LENGTH_POOL_BATCHES
    full, rest = divmod(rows, pool)
    return full * LENGTH_POOL_BATCHES + math.ceil(rest / batch_size)


def _row_lengths(ids: np.ndarray) -> np.ndarray:
    """Ids per row before the end padding (every real id is at least 1)."""
    return np.count_nonzero(ids, axis=1).astype(np.int32)


def _batch_width(lengths: np.ndarray, ids: np.ndarray) -> int:
    """The batch's longest row (at least 1), at most the full width.

    Not rounded up: the batches' spec leaves the width unknown, so the step is traced
    once whatever the widths. Rounded up to a multiple of 8, a fifth of the default's
    ids on the bundled data were padding that every lookup, gradient and optimizer row
    op paid for (19.8 %, against 2.5 %): its epochs took 5 % longer (1.63 s against
    1.55 s, CPU 2.73 s against 2.60 s, this machine, one run of four epochs each).
    """
    return min(ids.shape[1], int(lengths.max(initial=1)))
