"""pipeline.training.batches, callbacks and fit: the tf.data batches fit reads, and what a
stop leaves in the history."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.training.batches import (
    LENGTH_POOL_BATCHES,
    EncodedSplit,
    takes_any_length,
    training_batches,
)

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


def _padded_split(rows: int = 300, width: int = 40, seed: int = 0) -> EncodedSplit:
    """Rows of 1 to ``width`` ids (all >= 1, a row's number first), padded with 0 at
    the end, as TextVectorization pads; a second, narrower input beside them."""
    rng = np.random.default_rng(seed)
    chars = np.zeros((rows, width), dtype=np.int32)
    words = np.zeros((rows, 6), dtype=np.int32)
    for row, n in enumerate(rng.integers(1, width + 1, rows)):
        chars[row, :n] = rng.integers(1, 50, n)
        chars[row, 0] = row + 1
        words[row, : max(1, n // 8)] = row + 1
    return EncodedSplit(
        {"chars": chars, "words": words}, np.arange(rows) % 4, weights=np.ones(rows, "float32")
    )


@pytest.mark.parametrize("shuffle_seed", [None, 3])
def test_batches_by_length_hold_every_row_once_with_only_padding_cut(shuffle_seed):
    """The n-gram bags get batches of rows of similar length cut to their longest row:
    each row comes exactly once per epoch, with its own label, every id it had, and
    only padding columns removed.

    Found: the width was rounded up to a multiple of 8, so a fifth of the default's ids
    on the bundled data were padding (19.8 %, against 2.5 % cut to the longest row), and
    every lookup, gradient and optimizer row op paid for them."""
    encoded = _padded_split()
    data = training_batches(encoded, 8, shuffle_seed, by_length=True)
    # known ahead, as for plain batches (else Keras warns "Your input ran out of data")
    assert int(data.cardinality()) == len(_epoch(data)) == 38  # 300 rows: 37 x 8 + 4
    for _ in range(2):  # two epochs
        seen, widths = [], []
        for inputs, labels, _weights in _epoch(data):
            rows = inputs["chars"][:, 0] - 1
            seen.extend(rows)
            np.testing.assert_array_equal(labels, encoded.y[rows])
            for name, full in encoded.inputs.items():
                width = inputs[name].shape[1]
                np.testing.assert_array_equal(inputs[name], full[rows, :width])
                assert not full[rows, width:].any()  # nothing but padding was cut
                # and no column of padding alone was kept: the batch's longest row
                assert inputs[name][:, -1].any()
            widths.append(inputs["chars"].shape[1])
        assert sorted(seen) == list(range(len(encoded)))
        # sorted in pools, so most batches are far narrower than the widest row
        assert np.mean(widths) < 0.75 * encoded.inputs["chars"].shape[1]
    assert LENGTH_POOL_BATCHES > 1


def test_only_the_bags_take_rows_of_any_length():
    from pipeline.core.config import ModelConfig
    from pipeline.models import FeatureShape, build_classifier

    shapes = {
        "ngrams": FeatureShape(20, 100),
        "chars": FeatureShape(60, 100),
        "words": FeatureShape(10, 100),
    }
    takes = {
        family: takes_any_length(build_classifier(ModelConfig(family=family), shapes, 3))
        for family in ("ngram_bag", "ngram_ensemble", "cnn", "lstm", "wide_deep")
    }
    assert takes == {
        "ngram_bag": True,
        "ngram_ensemble": True,
        "cnn": False,
        "lstm": False,
        "wide_deep": False,
    }


def test_a_bag_scores_a_row_the_same_with_or_without_its_padding():
    """Cutting padding changes no value: padding gets no weight in the bag's average."""
    from pipeline.core.config import ModelConfig
    from pipeline.models import FeatureShape, build_classifier

    model = build_classifier(
        ModelConfig(family="ngram_ensemble"),
        {"ngrams": FeatureShape(12, 60), "chars": FeatureShape(40, 60)},
        3,
    )
    encoded = _padded_split(rows=16, width=20)
    ngrams, chars = (np.where(ids > 0, ids % 59 + 1, 0) for ids in encoded.inputs.values())
    full = {"ngrams": np.pad(ngrams, ((0, 0), (0, 6))), "chars": np.pad(chars, ((0, 0), (0, 20)))}
    cut = {"ngrams": ngrams, "chars": chars}
    full, cut = (model.predict(inputs, verbose=0) for inputs in (full, cut))
    np.testing.assert_array_equal(full, cut)


def test_the_batches_have_no_autotuning_thread_that_would_hold_the_end_of_a_stopped_fit():
    """Found in the app: with a Stop pressed during validation, the end of ``fit`` waited
    10-20 s for tf.data's autotuning thread while freeing an iterator (py-spy: the main
    thread in ``RootDataset::Iterator::~Iterator`` waiting on its model thread), and the
    panel said "Stopping" all that time. The pipeline is fixed-size instead."""
    data = training_batches(_split(), 4, shuffle_seed=1)
    assert data.options().autotune.enabled is False


def _fit_with(callback_class, val_losses: list[float]):
    """A one-weight model "fitted" for len(val_losses) epochs, whose weight after epoch e is
    e + 1 and whose val_loss is val_losses[e]; returns (the callback, the final weight)."""
    import keras

    from pipeline.training.callbacks import LeanEarlyStopping

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    callback = callback_class(monitor="val_loss", patience=1, restore_best_weights=True)
    callback.set_model(model)
    callback.on_train_begin()
    copies = []
    for epoch, loss in enumerate(val_losses):
        model.set_weights([np.full((1, 1), epoch + 1.0, dtype="float32")])
        callback.on_epoch_end(epoch, {"val_loss": loss})
        copies.append(callback.best_weights)
        if getattr(model, "stop_training", False):
            break
    callback.on_train_end()
    assert callback_class in (keras.callbacks.EarlyStopping, LeanEarlyStopping)
    return callback, float(model.get_weights()[0][0, 0]), copies


@pytest.mark.parametrize(
    "val_losses",
    [[0.9, 0.5, 0.6, 0.7, 0.4], [0.9, 0.8, 0.7], [float("inf"), 0.5, 0.6, 0.7], [1.0, 1.0, 1.0]],
)
def test_lean_early_stopping_keeps_the_epoch_keras_keeps_and_frees_its_copy(val_losses):
    import keras

    from pipeline.training.callbacks import LeanEarlyStopping

    keras_way, keras_weight, _ = _fit_with(keras.callbacks.EarlyStopping, val_losses)
    lean, lean_weight, copies = _fit_with(LeanEarlyStopping, val_losses)
    assert lean_weight == keras_weight  # the same epoch's weights back in the model
    assert (lean.best_epoch, lean.stopped_epoch, lean.best) == (
        keras_way.best_epoch,
        keras_way.stopped_epoch,
        keras_way.best,
    )
    # Between epochs it holds a real copy of the best weights, never the placeholder...
    assert all(isinstance(c, list) and len(c) == 1 for c in copies)
    # ...and lets it go once the weights are back in the model (Keras keeps it).
    assert lean.best_weights is None and keras_way.best_weights is not None


@pytest.mark.parametrize(
    ("val_losses", "flagged"),
    [([0.9, 0.5, 0.6, 0.7, 0.4], 2), ([float("inf"), 0.5, 0.6, 0.7], 2), ([0.9, 0.8, 0.7], 3)],
)
def test_the_restored_epoch_is_flagged_best_in_the_history(val_losses, flagged):
    from pipeline.runs.history import EpochRow
    from pipeline.training.callbacks import LeanEarlyStopping
    from pipeline.training.fit import _mark_best

    callback, weight, _ = _fit_with(LeanEarlyStopping, val_losses)
    history = [EpochRow(e + 1, {"val_loss": loss}) for e, loss in enumerate(val_losses)]
    history = _mark_best(history, callback, 0)
    assert [row.epoch for row in history if row.best] == [flagged]
    assert weight == flagged  # the weights in the model are that epoch's


@pytest.mark.parametrize(
    ("family", "batch_size", "replicas", "per_call"),
    [
        ("ngram_bag", 8, 1, 16),
        ("ngram_bag", 4096, 1, 8),
        ("ngram_bag", 65_536, 1, 1),
        ("ngram_bag", 8, 2, 1),
        ("lstm", 8, 1, 1),
    ],
)
def test_a_bag_runs_many_short_steps_a_call_and_other_families_one(
    family, batch_size, replicas, per_call
):
    """Up to ``ROWS_PER_EXECUTION`` rows (16 batches at most) per call of a bag's step
    function; one batch a call for the families whose steps can last seconds (a stop waits
    for the call to end), and on several devices (found: Keras' loop of steps fails under
    MirroredStrategy, ``test_devices.py``'s real training)."""
    from pipeline.core.config import ModelConfig
    from pipeline.models import FeatureShape, build_classifier
    from pipeline.training.fit import steps_per_execution

    shapes = {"ngrams": FeatureShape(20, 100), "words": FeatureShape(10, 100)}
    model = build_classifier(ModelConfig(family=family), shapes, 3)
    assert steps_per_execution(model, batch_size, replicas) == per_call


@pytest.mark.parametrize("family", ["ngram_bag", "lstm"])
def test_each_epoch_trains_every_batch_once_whatever_the_steps_a_call(family):
    """A real fit of 3 epochs over 37 batches (a bag: 16 a call, so each epoch's last call
    is short): every epoch runs its own 37 batches, no more, no fewer (Keras keeps the
    training iterator from one epoch to the next once it knows the epoch's length), and the
    history has one complete row per epoch."""
    import threading
    import time

    from pipeline.core.config import ModelConfig, TrainConfig
    from pipeline.models import FeatureShape, build_classifier, compile_for_training
    from pipeline.training.fit import fit_classifier

    rng = np.random.default_rng(0)
    rows, width = 37 * 8 - 3, 12
    ids = np.zeros((rows, width), dtype=np.int32)
    for row, n in enumerate(rng.integers(1, width + 1, rows)):
        ids[row, :n] = rng.integers(2, 100, n)
    name = "ngrams" if family == "ngram_bag" else "words"
    train = EncodedSplit({name: ids}, rng.integers(0, 3, rows))
    validation = train.head(40)
    shapes = {"ngrams": FeatureShape(width, 100), "words": FeatureShape(width, 100)}
    model_config = ModelConfig(family=family, units=4, embedding_dim=4, ngram_dim=4)
    model = compile_for_training(build_classifier(model_config, shapes, 3), model_config)
    events = []
    result = fit_classifier(
        model,
        train,
        validation,
        TrainConfig(epochs=3, batch_size=8, patience=5),
        notify=events.append,
        stop_event=threading.Event(),
        started=time.perf_counter(),
    )
    assert model.steps_per_execution == (16 if family == "ngram_bag" else 1)
    assert int(model.optimizer.iterations.numpy()) == 3 * 37
    assert [row.epoch for row in result.history] == [1, 2, 3]
    assert not any(row.partial for row in result.history)
    # each epoch's last training batch is reported, with the epoch's own count
    last_batches = [(e.epoch, e.batch) for e in events if e.kind == "batch" and e.batch == 37]
    assert [epoch for epoch, _ in last_batches] == [1, 2, 3]


@pytest.mark.parametrize("family", ["ngram_bag", "lstm", "ngram_ensemble"])
def test_fit_creates_no_variable_so_tensorflow_traces_each_step_once(family):
    """Every variable a fit uses exists once the model is compiled: the optimizer's slots,
    the accuracy's counts and the ensemble's per-head loss trackers.

    Found: Keras (TensorFlow backend, no distribution strategy) made them while tracing the
    first training step, and TensorFlow traces a ``tf.function`` that creates variables
    twice, so every training traced its step again (0.18 s of a tiny training's 1.3 s,
    0.3 s of a tiny LSTM's first epoch and of a tiny ensemble's)."""
    import threading
    import time

    import tensorflow as tf

    from pipeline.core.config import ModelConfig, TrainConfig
    from pipeline.models import FeatureShape, build_classifier, compile_for_training, family_inputs
    from pipeline.training.fit import fit_classifier

    rng = np.random.default_rng(0)
    rows, width = 64, 12
    inputs = {name: rng.integers(1, 100, (rows, width)).astype("int32")
              for name in family_inputs(family)}  # fmt: skip
    train = EncodedSplit(inputs, rng.integers(0, 3, rows))
    model_config = ModelConfig(family=family, units=4, embedding_dim=4, ngram_dim=4)
    shapes = {name: FeatureShape(width, 100) for name in inputs}
    model = compile_for_training(build_classifier(model_config, shapes, 3), model_config)
    created = []

    def record(next_creator, **kwargs):
        created.append(kwargs.get("name"))
        return next_creator(**kwargs)

    with tf.variable_creator_scope(record):
        fit_classifier(
            model,
            train,
            train.head(16),
            TrainConfig(epochs=1, batch_size=16, patience=5),
            notify=lambda event: None,
            stop_event=threading.Event(),
            started=time.perf_counter(),
            outputs=list(model.output) if isinstance(model.output, dict) else None,
        )
    assert int(model.optimizer.iterations.numpy()) == 4
    assert created == []
