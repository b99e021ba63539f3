"""The run record's smaller documents, typed (issue 32, item 3): each parses what its
writer puts in the file, writes it back as it was read, and refuses a wrong one with a
message naming the file and the field."""

from __future__ import annotations

import json
import pickle

import pytest

from pipeline.core.errors import RunRecordError
from pipeline.runs.history import EpochRow, history_json, parse_history

# --------------------------------------------------------------------------- history.json

#: As training writes them: epoch, the Keras logs, learning_rate, seconds, then the flags.
TRAINED_HISTORY = [
    {
        "epoch": 1,
        "accuracy": 0.61,
        "loss": 1.02,
        "val_accuracy": 0.7,
        "val_loss": 0.81,
        "learning_rate": 0.001,
        "seconds": 2.5,
    },
    {
        "epoch": 2,
        "accuracy": 0.8,
        "loss": 0.6,
        "val_accuracy": 0.75,
        "val_loss": 0.7,
        "learning_rate": 0.001,
        "seconds": 2.25,
        "best": True,
    },
    {
        "epoch": 3,
        "accuracy": 0.82,
        "loss": 0.55,
        "val_accuracy": 0.5,
        "val_loss": float("inf"),
        "learning_rate": 0.0005,
        "seconds": 0.4,
        "partial": True,
    },
]


def test_history_rows_read_as_attributes() -> None:
    rows = parse_history(TRAINED_HISTORY)
    assert [row.epoch for row in rows] == [1, 2, 3]
    assert [row.best for row in rows] == [False, True, False]
    assert [row.partial for row in rows] == [False, False, True]
    assert (rows[0].loss, rows[0].accuracy, rows[0].val_loss, rows[0].val_accuracy) == (
        1.02,
        0.61,
        0.81,
        0.7,
    )
    assert rows[1].seconds == 2.25 and rows[2].learning_rate == 0.0005
    assert rows[0].metric("val_loss") == 0.81 and rows[0].metric("outputs_loss") is None


def test_history_is_written_back_exactly_as_read() -> None:
    """Same keys, same order, same values: a flag written false stays, one never written
    stays absent, a null metric and a metric this version does not name are kept."""
    odd = [
        {"best": False, "epoch": 1, "loss": 0.9, "val_loss": None, "ngrams_loss": 0.4},
        {"epoch": 2, "partial": False, "seconds": 3, "loss": 0.8},
    ]
    for raw in (TRAINED_HISTORY, odd):
        written = history_json(parse_history(raw))
        assert json.dumps(written) == json.dumps(raw)


def test_a_row_made_in_training_writes_the_flags_that_are_set_after_the_metrics() -> None:
    row = EpochRow(4, {"loss": 0.5, "seconds": 1.0}, partial=True)
    assert list(row.to_json()) == ["epoch", "loss", "seconds", "partial"]
    best = row.marked_best(True)
    assert best.to_json() == {
        "epoch": 4,
        "loss": 0.5,
        "seconds": 1.0,
        "partial": True,
        "best": True,
    }
    # clearing the flag of a row read as best leaves it out, as if never written
    (read,) = parse_history([{"epoch": 1, "loss": 0.5, "best": True}])
    assert read.marked_best(False).to_json() == {"epoch": 1, "loss": 0.5}
    assert EpochRow(1, {"loss": float("nan")}).diverged and not EpochRow(1, {}).diverged


def test_history_rows_travel_between_processes_and_compare_by_value() -> None:
    """The training process sends its rows to the server in progress events (pickled)."""
    rows = parse_history(TRAINED_HISTORY)
    assert pickle.loads(pickle.dumps(rows)) == rows
    assert rows[0] == EpochRow(1, dict(rows[0].metrics))  # the keys' order is not compared


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "history.json must be a list of epochs, not an object"),
        ([["epoch", 1]], "history.json epoch 1 must be a JSON object, not a list"),
        ([{"loss": 0.5}], "history.json epoch 1: 'epoch' must be an integer of at least 1"),
        ([{"epoch": 2}], "history.json: epoch 1 is numbered 2"),
        ([{"epoch": 1, "best": "yes"}], "history.json epoch 1: 'best' must be true or false"),
        (
            [{"epoch": 1}, {"epoch": 2, "loss": "low"}],
            "history.json epoch 2 'loss' must be a number",
        ),
    ],
)
def test_a_wrong_history_names_the_epoch_and_the_field(raw, message) -> None:
    with pytest.raises(RunRecordError, match=message):
        parse_history(raw)


# --------------------------------------------------------------------------- metrics.json

#: ``metrics.json``'s ``blend``, as the training writes it (before issue 29, without
#: ``linear_inputs``).
BLEND = {
    "network_weight": 0.7,
    "linear_rows": 480,
    "linear_inputs": ["ngrams", "linear_chars"],
    "linear_seconds": 0.31,
    "validation": {
        "network": {"accuracy": 0.8, "macro_f1": 0.79, "log_loss": 0.61},
        "linear": {"accuracy": 0.75, "macro_f1": 0.74, "log_loss": 0.7},
        "blend": {"accuracy": 0.82, "macro_f1": 0.81, "log_loss": 0.58},
    },
}
#: ``metrics.json``'s ``prior_shift`` (before its accuracies were kept, without them).
PRIOR_SHIFT = {
    "tau": -0.4,
    "log_prior": [-1.386294, -1.386294, -1.098612, -1.791759],
    "validation_macro_f1_before": 0.8,
    "validation_macro_f1_after": 0.81,
    "validation_accuracy_before": 0.83,
    "validation_accuracy_after": 0.835,
}


def _metrics(**records) -> dict:
    """A small ``metrics.json`` of two classes, with ``records`` added."""
    return {
        "n_test": 4,
        "test_accuracy": 0.75,
        "test_loss": 0.6,
        "macro_f1": 0.73,
        "per_class": {
            code: {"name": code, "precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 2}
            for code in ("b", "t")
        },
        "confusion_matrix": {"labels": ["b", "t"], "names": ["b", "t"], "matrix": [[2, 0], [1, 1]]},
        "misclassified": [],
        "baseline": None,
        "collapsed": None,
        "balanced_accuracy": 0.75,
        **records,
    }


def test_the_blend_and_prior_shift_records_read_as_attributes() -> None:
    from pipeline.runs.results import Metrics

    metrics = Metrics.parse(_metrics(blend=BLEND, prior_shift=PRIOR_SHIFT))
    assert metrics.blend.network_weight == 0.7 and metrics.blend.linear_rows == 480
    assert metrics.blend.reads_characters
    assert metrics.blend.validation["blend"].accuracy == 0.82
    assert metrics.blend.validation["linear"].log_loss == 0.7
    assert metrics.prior_shift.tau == -0.4 and len(metrics.prior_shift.log_prior) == 4
    assert metrics.prior_shift.validation_accuracy_after == 0.835
    assert metrics.extra == {}  # no longer kept as unknown keys
    plain = Metrics.parse(_metrics())
    assert plain.blend is None and plain.prior_shift is None
    assert "blend" not in plain.to_json() and "prior_shift" not in plain.to_json()


def test_the_records_are_written_back_as_read_older_ones_and_unknown_keys_included() -> None:
    from pipeline.runs.results import Metrics

    older_blend = {key: value for key, value in BLEND.items() if key != "linear_inputs"}
    older_shift = {key: value for key, value in PRIOR_SHIFT.items() if "accuracy" not in key}
    newer_blend = {**BLEND, "linear_c": 10.0}
    for blend, shift in ((BLEND, PRIOR_SHIFT), (older_blend, older_shift), (newer_blend, None)):
        raw = _metrics(blend=blend, **({"prior_shift": shift} if shift else {}))
        assert Metrics.parse(raw).to_json() == raw
    assert not Metrics.parse(_metrics(blend=older_blend)).blend.reads_characters


def test_the_training_writes_the_records_this_version_reads() -> None:
    from pipeline.runs.decision import BlendRecord, PriorShiftRecord
    from pipeline.training.blend import Blend
    from pipeline.training.prior_shift import PriorShift

    validation = {
        part: {"accuracy": 0.81234567, "macro_f1": 0.8, "log_loss": 0.5}
        for part in ("network", "linear", "blend")
    }
    blend = Blend(0.6, 480, 0.123, validation, ("ngrams",))
    written = blend.to_json()
    assert BlendRecord.parse(written).to_json() == written
    assert written["validation"]["network"]["accuracy"] == 0.812346
    shift = PriorShift(-0.4, (-1.0, -0.5), 0.8, 0.81, 0.83, 0.84)
    assert PriorShiftRecord.parse(shift.to_json()) == shift.record()


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"prior_shift": [0.4]}, "metrics.json prior_shift must be a JSON object, not a list"),
        ({"prior_shift": {**PRIOR_SHIFT, "tau": "big"}}, "metrics.json prior_shift: 'tau'"),
        (
            {"prior_shift": {**PRIOR_SHIFT, "log_prior": [-1.0, "x"]}},
            "metrics.json prior_shift: 'log_prior' item 2 must be a number",
        ),
        (
            {"prior_shift": {**PRIOR_SHIFT, "validation_accuracy_after": 95.0}},
            "metrics.json prior_shift: 'validation_accuracy_after' must be a number from 0 to 1",
        ),
        # found: a number here crashed the Results page's note ("in" on an int)
        ({"blend": {**BLEND, "linear_inputs": 5}}, "metrics.json blend: 'linear_inputs'"),
        ({"blend": {**BLEND, "network_weight": "most"}}, "metrics.json blend: 'network_weight'"),
        (
            {"blend": {**BLEND, "validation": {"network": BLEND["validation"]["network"]}}},
            "metrics.json blend: 'validation' must hold the scores of network, linear, blend",
        ),
        (
            {"blend": {**BLEND, "validation": {**BLEND["validation"], "linear": {}}}},
            "metrics.json blend validation linear: 'accuracy'",
        ),
    ],
)
def test_a_wrong_record_names_metrics_json_and_the_key(records, message) -> None:
    from pipeline.runs.results import Metrics

    with pytest.raises(RunRecordError, match=message):
        Metrics.parse(_metrics(**records))


# --------------------------------------------------------------------------- summary.json

#: A label review's ``summary.json`` as :func:`pipeline.review.run.run_review` writes it.
REVIEW_SUMMARY = {
    "rows": 8,
    "folds": 2,
    "issues": 1,
    "classes": ["b", "t"],
    "label_names": {"b": "business", "t": "science and technology"},
    "per_class": {
        "b": {"name": "business", "rows": 4, "issues": 1, "suggested": 5},
        "t": {"name": "science and technology", "rows": 4, "issues": 0, "suggested": 3},
    },
    "settings": {
        "folds": 2,
        "seed": 42,
        "models": "tfidf",
        "neural_preset": "accurate",
        "quality_method": "self_confidence",
        "epochs": 10,
    },
    "seconds": 1.25,
    "part_seconds": {"tfidf": 0.5},
    "out_of_sample_accuracy": 0.875,
    "part_accuracy": {"tfidf": 0.875},
    "fingerprint": "0123456789abcdef",
    "key": "fedcba9876543210",
    "dataset": "news.csv",
    "version": 3,
    "from_cache": False,
    "fold_groups": {
        "scheme": "grouped",
        "groups": 6,
        "grouped_rows": 4,
        "largest_group": 3,
        "stories": "00ff00ff00ff00ff",
    },
    "unreviewed_classes": {"t": 1},
}


def test_a_review_summary_reads_as_attributes_and_writes_back_as_read() -> None:
    from pipeline.review.settings import ReviewSettings
    from pipeline.review.summary import ReviewSummary

    summary = ReviewSummary.parse(REVIEW_SUMMARY)
    assert (summary.rows, summary.folds, summary.issues) == (8, 2, 1)
    assert summary.classes == ("b", "t") and summary.name("t") == "science and technology"
    assert summary.per_class["b"].suggested == 5 and summary.per_class["t"].issues == 0
    assert summary.settings == ReviewSettings(folds=2, models="tfidf")
    assert summary.fold_groups.stories == "00ff00ff00ff00ff" and not summary.from_cache
    assert summary.out_of_sample_accuracy == 0.875 and summary.part_seconds == {"tfidf": 0.5}
    assert json.dumps(summary.to_json()) == json.dumps(REVIEW_SUMMARY)  # keys in order
    assert pickle.loads(pickle.dumps(summary)) == summary  # it comes back from the worker
    assert summary.unreviewed == {"t": 1} and summary.reviewed_rows == 7
    # saved before classes too small for the folds were left unreviewed: every class was
    older = {k: v for k, v in REVIEW_SUMMARY.items() if k != "unreviewed_classes"}
    assert ReviewSummary.parse(older).unreviewed == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issues": "many"}, "summary.json: 'issues' must be an integer"),
        ({"classes": []}, "summary.json: 'classes' must list class codes"),
        ({"label_names": {"x": "extra"}}, "summary.json: a class is named that 'classes' lacks"),
        ({"settings": {"folds": 99}}, "summary.json: 'settings'"),
        ({"out_of_sample_accuracy": 87.5}, "'out_of_sample_accuracy' must be a number from 0"),
        ({"fold_groups": {"scheme": "random"}}, "summary.json fold_groups: 'scheme' must be one"),
        ({"per_class": {"b": {"name": "business"}}}, "summary.json per_class b: 'rows'"),
        ({"unreviewed_classes": {"x": 2}}, "summary.json: a class is named that 'classes' lacks"),
        ({"unreviewed_classes": {"t": 0}}, "unreviewed_classes: 't' must be an integer"),
    ],
)
def test_a_wrong_review_summary_names_summary_json_and_the_field(change, message) -> None:
    from pipeline.review.summary import ReviewSummary

    with pytest.raises(RunRecordError, match=message):
        ReviewSummary.parse({**REVIEW_SUMMARY, **change})


# --------------------------------------------------------------------------- data.json

#: ``data.json`` as the training writes it: the data's fingerprint and columns, then
#: :class:`~pipeline.core.preparation.PreparationSummary`'s keys.
DATA = {
    "fingerprint": "4efabd3b58856908",
    "dataset": "uci_small.csv",
    "text_col": "TITLE",
    "label_col": "CATEGORY",
    "rows_loaded": 2826,
    "class_counts_before": {"b": 700, "e": 719, "m": 699, "t": 708},
    "rows_after_dedupe": 2775,
    "duplicates_removed": 51,
    "empty_removed": 0,
    "rows_after_dropping_empty": 2775,
    "class_counts_cleaned": {"b": 692, "e": 694, "m": 695, "t": 694},
    "dropped_classes": {},
    "rows_after_balance": 2775,
    "class_counts_after": {"b": 692, "e": 694, "m": 695, "t": 694},
    "split_sizes": {"train": 1664, "validation": 417, "test": 694},
    "split_class_counts": {
        "train": {"b": 415, "e": 416, "m": 416, "t": 417},
        "validation": {"b": 104, "e": 104, "m": 105, "t": 104},
        "test": {"b": 173, "e": 174, "m": 174, "t": 173},
    },
    "class_weights": {"b": 1.00241, "e": 1.0, "m": 1.0, "t": 0.997602},
    "config": {
        "dedupe": "drop_all",
        "balance": "class_weights",
        "cap_per_class": None,
        "min_class_rows": 10,
        "test_size": 0.25,
        "val_size": 0.2,
        "test_set": "stratified",
        "split": "random",
        "seed": 42,
    },
    "notes": ["The test split has no rows of m: its stories are too few or too big."],
}
#: ``data.json`` as Headline Lab wrote it before small classes were dropped and classes
#: weighted (no ``dropped_classes``, no ``class_weights``).
DATA_BEFORE_WEIGHTS = {
    key: value for key, value in DATA.items() if key not in {"dropped_classes", "class_weights"}
}


def test_the_data_summary_reads_as_attributes() -> None:
    from pipeline.runs.record import DataRecord

    data = DataRecord.parse(DATA)
    summary = data.summary
    assert (data.fingerprint, data.dataset, data.text_col, data.label_col) == (
        "4efabd3b58856908",
        "uci_small.csv",
        "TITLE",
        "CATEGORY",
    )
    assert summary.rows_loaded == 2826 and summary.duplicates_removed == 51
    assert summary.split_sizes.train == 1664 and summary.split_sizes.of("test") == 694
    assert summary.split_sizes.as_dict() == DATA["split_sizes"]
    assert summary.split_class_counts.validation["m"] == 105
    assert summary.class_weights == DATA["class_weights"] and summary.dropped_classes == {}
    assert summary.config["split"] == "random" and summary.classes == ["b", "e", "m", "t"]
    assert data.notes == summary.notes == tuple(DATA["notes"])
    assert pickle.loads(pickle.dumps(summary)) == summary  # plain data, across processes too


def test_data_json_is_written_back_as_read_older_and_newer_ones_included() -> None:
    """Same keys, same order: a run saved before ``dropped_classes`` and
    ``class_weights`` existed loads (none dropped, no weights) and writes back without
    them; a key or a split this version does not know is kept where it was."""
    from pipeline.runs.record import DataRecord

    items = list(DATA.items())
    newer = dict([*items[:8], ("rows_relabelled", 3), *items[8:]])
    newer["split_sizes"] = {**DATA["split_sizes"], "holdout": 12}
    for raw in (DATA, DATA_BEFORE_WEIGHTS, newer):
        assert json.dumps(DataRecord.parse(raw).to_json()) == json.dumps(raw)
    older = DataRecord.parse(DATA_BEFORE_WEIGHTS).summary
    assert older.dropped_classes == {} and older.class_weights is None
    newest = DataRecord.parse(newer).summary
    assert newest.extra == {"rows_relabelled": 3}
    assert newest.split_sizes.extra == {"holdout": 12}
    assert newest.split_sizes.as_dict() == DATA["split_sizes"]


def _data(**changes) -> dict:
    """:data:`DATA` with ``changes`` (a value of ``None`` removes the key)."""
    raw = {**DATA, **changes}
    return {key: value for key, value in raw.items() if value is not None or key not in changes}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "data.json must be a JSON object, not a list"),
        (_data(split_sizes=None), "data.json: 'split_sizes' is missing"),
        (
            _data(split_sizes={"train": 1664, "validation": 417}),
            "data.json: 'split_sizes' must hold train, validation, test \\(missing test\\)",
        ),
        (
            _data(split_sizes={**DATA["split_sizes"], "test": "694"}),
            "data.json split_sizes: 'test' must be an integer of at least 0",
        ),
        (_data(rows_loaded=-1), "data.json: 'rows_loaded' must be an integer of at least 0"),
        (
            _data(class_counts_after={"b": 692, "e": "many"}),
            "data.json class_counts_after: 'e' must be an integer",
        ),
        (
            _data(split_class_counts={**DATA["split_class_counts"], "test": [173, 174]}),
            "data.json split_class_counts: 'test' must be a JSON object",
        ),
        (
            _data(class_weights={"b": "heavy"}),
            "data.json class_weights: 'b' must be a number",
        ),
        (_data(dropped_classes=[]), "data.json: 'dropped_classes' must be a JSON object"),
        (_data(config="random"), "data.json: 'config' must be a JSON object"),
        (_data(notes="none"), "data.json: 'notes' must be a list"),
        (_data(notes=[1]), "data.json: 'notes' must list texts"),
    ],
)
def test_a_wrong_data_summary_names_data_json_and_the_key(raw, message) -> None:
    from pipeline.runs.record import DataRecord

    with pytest.raises(RunRecordError, match=message):
        DataRecord.parse(raw)
