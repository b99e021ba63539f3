"""pipeline.fit: the tf.data batches fit reads, and what a stop leaves in the history."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.fit import EncodedSplit, training_batches

pytestmark = pytest.mark.training


def _split(rows: int = 10, weighted: bool = True) -> EncodedSplit:
    ids = np.arange(rows * 3, dtype=np.int64).reshape(rows, 3) + 1
    return EncodedSplit(
        {"ngrams": ids},
        np.arange(rows) % 3,
        [f"text {i}" for i in range(rows)],
        np.linspace(0.5, 2.0, rows).astype("float32") if weighted else None,
    )


def _epoch(data) -> list[tuple]:
    return list(data.as_numpy_iterator())


def test_every_row_once_per_epoch_reshuffled_each_epoch_and_the_same_for_a_seed():
    encoded = _split()
    data = training_batches(encoded, 4, shuffle_seed=7)
    first, second = _epoch(data), _epoch(data)
    assert [len(batch[1]) for batch in first] == [4, 4, 2]
    order = np.concatenate([batch[0]["ngrams"][:, 0] for batch in first])
    assert sorted(order) == sorted(encoded.inputs["ngrams"][:, 0])
    assert not np.array_equal(order, np.concatenate([b[0]["ngrams"][:, 0] for b in second]))
    again = _epoch(training_batches(encoded, 4, shuffle_seed=7))
    np.testing.assert_array_equal(order, np.concatenate([b[0]["ngrams"][:, 0] for b in again]))
    # each row keeps its own label and weight
    for inputs, labels, weights in first:
        rows = (inputs["ngrams"][:, 0] - 1) // 3
        np.testing.assert_array_equal(labels, encoded.y[rows])
        np.testing.assert_allclose(weights, encoded.weights[rows])


def test_unshuffled_batches_keep_the_rows_order_and_repeat_labels_per_output():
    encoded = _split(weighted=False)
    (inputs, labels), *_ = _epoch(training_batches(encoded, 4))
    np.testing.assert_array_equal(inputs["ngrams"], encoded.inputs["ngrams"][:4])
    (inputs, labels), *_ = _epoch(training_batches(encoded, 4, outputs=["word", "char"]))
    assert set(labels) == {"word", "char"}
    np.testing.assert_array_equal(labels["word"], encoded.y[:4])


def test_the_batches_have_no_autotuning_thread_that_would_hold_the_end_of_a_stopped_fit():
    """Found in the app: with a Stop pressed during validation, the end of ``fit`` waited
    10-20 s for tf.data's autotuning thread while freeing an iterator (py-spy: the main
    thread in ``RootDataset::Iterator::~Iterator`` waiting on its model thread), and the
    panel said "Stopping" all that time. The pipeline is fixed-size instead."""
    data = training_batches(_split(), 4, shuffle_seed=1)
    assert data.options().autotune.enabled is False
