"""Paired bootstrap intervals (pipeline.evaluation.paired): known answers, sklearn's macro F1,
words."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from pipeline.evaluation.paired import (
    PairedComparison,
    PairedDifference,
    balanced_accuracy_from_counts,
    class_counts,
    macro_f1_from_counts,
    paired_bootstrap,
)


def test_identical_predictions_differ_by_nothing_with_an_empty_interval():
    rng = np.random.default_rng(3)
    true = rng.choice(["b", "e", "m", "t"], 500)
    guessed = np.where(rng.random(500) < 0.7, true, rng.choice(["b", "e", "m", "t"], 500))
    result = paired_bootstrap(true, guessed, guessed)
    for metric in (result.accuracy, result.macro_f1):
        assert metric.to_json() == {"difference": 0.0, "ci95_low": 0.0, "ci95_high": 0.0}
        assert not metric.clear
    assert result.rows == 500 and result.resamples == 1000


def test_a_constructed_difference_is_inside_the_interval_and_zero_is_not():
    # b is right on 60 % more of the rows than a: a right on 20 %, b on 80 %
    rows = 1000
    true = np.array([i % 4 for i in range(rows)])
    a = np.where(np.arange(rows) < 200, true, (true + 1) % 4)
    b = np.where(np.arange(rows) < 800, true, (true + 1) % 4)
    result = paired_bootstrap(true, a, b)
    assert result.accuracy.difference == pytest.approx(0.6)
    assert result.accuracy.ci95_low < 0.6 < result.accuracy.ci95_high
    assert result.accuracy.ci95_low > 0 and result.accuracy.clear
    # swapped: the same interval, mirrored
    swapped = paired_bootstrap(true, b, a)
    assert swapped.accuracy.difference == pytest.approx(-0.6)
    assert swapped.accuracy.ci95_high < 0
    assert "behind the baseline by 60.00 points" in swapped.accuracy.describe()


def test_a_small_difference_on_few_rows_is_no_clear_difference():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 3, 200)
    a = np.where(rng.random(200) < 0.8, true, (true + 1) % 3)
    b = a.copy()
    b[np.flatnonzero(b != true)[:1]] = true[np.flatnonzero(b != true)[:1]]  # one row better
    result = paired_bootstrap(true, a, b)
    assert result.accuracy.difference == pytest.approx(0.005)
    assert result.accuracy.ci95_low <= 0 <= result.accuracy.ci95_high
    assert result.accuracy.describe().startswith("no clear difference from the baseline")


def test_the_point_differences_are_sklearns_including_classes_never_predicted():
    rng = np.random.default_rng(7)
    labels = ["b", "e", "m", "t", "x"]  # "x": in no row; "m": never predicted by a
    true = rng.choice(["b", "e", "m", "t"], 300)
    a = rng.choice(["b", "e", "t"], 300)
    b = np.where(rng.random(300) < 0.6, true, rng.choice(["b", "e", "m", "t"], 300))
    result = paired_bootstrap(true, a, b, labels=labels)

    def f1(guessed):
        return f1_score(true, guessed, labels=labels, average="macro", zero_division=0)

    assert result.macro_f1.difference == pytest.approx(f1(b) - f1(a), abs=1e-9)
    assert result.accuracy.difference == pytest.approx(
        accuracy_score(true, b) - accuracy_score(true, a), abs=1e-9
    )
    # without labels: the labels the rows hold, as sklearn does without them
    plain = paired_bootstrap(true, a, b)
    assert plain.macro_f1.difference == pytest.approx(
        f1_score(true, b, average="macro", zero_division=0)
        - f1_score(true, a, average="macro", zero_division=0),
        abs=1e-9,
    )


def test_macro_f1_from_counts_is_sklearns():
    rng = np.random.default_rng(11)
    true = rng.integers(0, 6, 400)
    guessed = np.where(rng.random(400) < 0.5, true, rng.integers(0, 4, 400))  # 4, 5 never
    counts = np.ones((1, 400))
    hits, true_rows, predicted_rows = class_counts(counts, true, guessed, 7)  # 6: absent
    expected = f1_score(true, guessed, labels=list(range(7)), average="macro", zero_division=0)
    assert macro_f1_from_counts(hits, true_rows, predicted_rows)[0] == pytest.approx(expected)


def test_balanced_accuracy_difference_is_sklearns_with_its_interval():
    """Balanced accuracy (the mean of the classes' recalls) is paired too: the report and
    the Results page show its interval beside accuracy's and macro F1's."""
    rng = np.random.default_rng(13)
    # an imbalanced test set: b is better on the small classes, a on the large one
    true = np.array(["b"] * 400 + ["m"] * 60 + ["t"] * 40)
    a = np.where(true == "b", "b", rng.choice(["b", "m", "t"], 500))
    b = np.where(rng.random(500) < 0.8, true, "b")
    result = paired_bootstrap(true, a, b)
    expected = balanced_accuracy_score(true, b) - balanced_accuracy_score(true, a)
    assert result.balanced_accuracy is not None
    assert result.balanced_accuracy.difference == pytest.approx(expected, abs=1e-9)
    assert result.balanced_accuracy.ci95_low < expected < result.balanced_accuracy.ci95_high
    assert result.balanced_accuracy.clear
    # a class absent from a resample does not count (sklearn: the classes of y_true)
    hits, true_rows, _ = class_counts(
        np.array([[3.0, 1.0, 0.0]]), np.array([0, 0, 1]), np.array([0, 1, 1]), 3
    )
    assert balanced_accuracy_from_counts(hits, true_rows)[0] == pytest.approx(0.75)


def test_the_same_inputs_give_the_same_interval_and_another_seed_another_one():
    rng = np.random.default_rng(5)
    true = rng.integers(0, 4, 300)
    a = np.where(rng.random(300) < 0.7, true, (true + 1) % 4)
    b = np.where(rng.random(300) < 0.75, true, (true + 2) % 4)
    assert paired_bootstrap(true, a, b) == paired_bootstrap(true, a, b)
    assert paired_bootstrap(true, a, b, seed=1) != paired_bootstrap(true, a, b)


def test_a_hundred_thousand_rows_give_an_interval_around_the_difference():
    """Its time (the Results page's intervals on a large test set):
    ``benchmarks/bench_data.py``."""
    rng = np.random.default_rng(2)
    rows = 100_000
    true = rng.integers(0, 4, rows)
    a = np.where(rng.random(rows) < 0.85, true, rng.integers(0, 4, rows))
    b = np.where(rng.random(rows) < 0.86, true, rng.integers(0, 4, rows))
    result = paired_bootstrap(true, a, b, resamples=2000)
    assert result.accuracy.ci95_low < result.accuracy.difference < result.accuracy.ci95_high


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="same rows"):
        paired_bootstrap([0, 1], [0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="at least one test row"):
        paired_bootstrap([], [], [])
    with pytest.raises(ValueError, match="missing from the given labels"):
        paired_bootstrap(["a", "b"], ["a", "c"], ["a", "b"], labels=["a", "b"])


def test_words_in_points():
    ahead = PairedDifference(0.0042, 0.0021, 0.0063)
    assert ahead.describe() == "ahead of the baseline by 0.42 points (95 % interval 0.21 to 0.63)"
    behind = PairedDifference(-0.0042, -0.0063, -0.0021)
    assert behind.describe() == "behind the baseline by 0.42 points (95 % interval 0.21 to 0.63)"
    unclear = PairedDifference(0.00125, -0.001, 0.0035)
    assert unclear.describe("run b") == (
        "no clear difference from run b (95 % interval -0.10 to 0.35 points)"
    )
    assert (
        PairedDifference(0.0, 0.0, 0.0).describe().endswith("(95 % interval 0.00 to 0.00 points)")
    )
    assert PairedDifference(-0.00001, -0.00002, 0.0).describe().count("-0.00") == 0


def test_json_round_trip_and_bad_documents():
    comparison = PairedComparison(
        PairedDifference(0.01, 0.0, 0.02), PairedDifference(-0.02, -0.03, -0.01)
    )
    document = comparison.to_json()
    assert set(document) == {"accuracy", "macro_f1"}  # no balanced accuracy: not written
    with_balanced = PairedComparison(
        comparison.accuracy,
        comparison.macro_f1,
        balanced_accuracy=PairedDifference(0.03, 0.01, 0.05),
    )
    assert set(with_balanced.to_json()) == {"accuracy", "balanced_accuracy", "macro_f1"}
    assert PairedComparison.from_json(with_balanced.to_json()) == with_balanced
    assert [s.split(":")[0] for s in with_balanced.sentences()] == [
        "Test accuracy",
        "Balanced accuracy",
        "Macro F1",
    ]
    assert document["accuracy"] == {"difference": 0.01, "ci95_low": 0.0, "ci95_high": 0.02}
    assert PairedComparison.from_json(document) == comparison
    assert comparison.sentences()[1].startswith("Macro F1: behind the baseline by 2.00 points")
    for bad in (
        None,
        {"accuracy": document["accuracy"]},
        {**document, "macro_f1": {"difference": "1", "ci95_low": 0, "ci95_high": 0}},
        {**document, "accuracy": {"difference": 0.0, "ci95_low": 0.2, "ci95_high": 0.1}},
    ):
        with pytest.raises(ValueError):
            PairedComparison.from_json(bad)


def test_the_baseline_is_paired_on_the_rows_the_model_scored():
    from pipeline.training.baseline import pair_with_baseline

    score = {"name": "TF-IDF", "test_accuracy": 0.6, "test_predicted": ["b", "x", "e", "y", "b"]}
    # the model left out rows 1 and 3 of the test frame (they vectorized to nothing)
    predictions = {"row": [10, 12, 14], "true": ["b", "e", "e"], "predicted": ["b", "e", "b"]}
    kept, paired_rows, vs_baseline = pair_with_baseline(
        score, predictions, np.array([0, 2, 4]), ["b", "e", "x", "y"]
    )
    assert kept == {"name": "TF-IDF", "test_accuracy": 0.6}  # metrics.json stays small
    assert paired_rows["baseline"] == ["b", "e", "b"]
    assert paired_rows["row"] == predictions["row"] and "baseline" not in predictions
    assert vs_baseline == {
        "accuracy": {"difference": 0.0, "ci95_low": 0.0, "ci95_high": 0.0},
        "balanced_accuracy": {"difference": 0.0, "ci95_low": 0.0, "ci95_high": 0.0},
        "macro_f1": {"difference": 0.0, "ci95_low": 0.0, "ci95_high": 0.0},
    }
    # nothing to pair: no score, a score cached before row predictions, rows that do
    # not line up
    assert pair_with_baseline(None, predictions, np.arange(3), ["b"]) == (None, predictions, None)
    old = {"name": "TF-IDF", "test_accuracy": 0.6}
    assert pair_with_baseline(old, predictions, np.arange(3), ["b", "e"]) == (
        old,
        predictions,
        None,
    )
    assert (
        pair_with_baseline(score, predictions, np.array([0, 2, 9]), ["b", "e", "x", "y"])[2] is None
    )
    assert pair_with_baseline(score, predictions, np.array([0, 2]), ["b", "e", "x", "y"])[2] is None


def _metrics_document(**extra) -> dict:
    return {
        "test_accuracy": 0.8,
        "test_loss": 0.5,
        "macro_f1": 0.7,
        "n_test": 3,
        "per_class": {},
        "confusion_matrix": {"labels": [], "names": [], "matrix": []},
        "misclassified": [],
        **extra,
    }


def test_metrics_json_carries_the_interval_typed_and_old_runs_have_none():
    from pipeline.core.errors import RunRecordError
    from pipeline.runs.results import Metrics

    assert Metrics.parse(_metrics_document()).vs_baseline is None  # trained before intervals
    assert "vs_baseline" not in Metrics.parse(_metrics_document()).to_json()
    interval = {
        "accuracy": {"difference": 0.02, "ci95_low": 0.01, "ci95_high": 0.03},
        "macro_f1": {"difference": -0.01, "ci95_low": -0.04, "ci95_high": 0.02},
    }
    metrics = Metrics.parse(_metrics_document(vs_baseline=interval))
    assert metrics.vs_baseline == PairedComparison(
        PairedDifference(0.02, 0.01, 0.03), PairedDifference(-0.01, -0.04, 0.02)
    )
    assert metrics.to_json()["vs_baseline"] == interval and "vs_baseline" not in metrics.extra
    with pytest.raises(RunRecordError, match=r"vs_baseline.*macro_f1"):
        Metrics.parse(_metrics_document(vs_baseline={"accuracy": interval["accuracy"]}))


def test_test_predictions_may_hold_the_baseline_column():
    from types import SimpleNamespace

    from pipeline.core.errors import RunRecordError
    from pipeline.runs.results import RowPredictions

    record = SimpleNamespace(
        metrics=SimpleNamespace(n_test=2), labels=SimpleNamespace(classes=("b", "e"))
    )
    columns = {"row": [4, 9], "true": ["b", "e"], "predicted": ["b", "b"], "confidence": [0.9, 1]}
    old = RowPredictions.parse(columns, record)
    assert old.baseline is None and "baseline" not in old.to_json()
    new = RowPredictions.parse({**columns, "baseline": ["e", "e"]}, record)
    assert new.baseline == ("e", "e") and new.to_json()["baseline"] == ["e", "e"]
    with pytest.raises(RunRecordError, match="'baseline' names a class"):
        RowPredictions.parse({**columns, "baseline": ["e", "zz"]}, record)
    with pytest.raises(RunRecordError, match="one item per test row"):
        RowPredictions.parse({**columns, "baseline": ["e"]}, record)


def _run(run_id: str, fingerprint: str, rows: dict | None):
    from types import SimpleNamespace

    from pipeline.runs.results import RowPredictions

    predictions = None
    if rows is not None:
        predictions = RowPredictions(
            tuple(rows["row"]),
            tuple(rows["true"]),
            tuple(rows["predicted"]),
            tuple(0.5 for _ in rows["row"]),
        )
    return SimpleNamespace(
        run_id=run_id,
        data=SimpleNamespace(fingerprint=fingerprint),
        labels=SimpleNamespace(classes=("b", "e")),
        test_predictions=lambda: predictions,
    )


def test_two_runs_pair_on_the_same_rows_in_any_order_and_say_when_they_cannot():
    from pipeline.evaluation.paired import DIFFERENT_ROWS, pair_runs

    true = ["b", "e"] * 100
    a = _run("a" * 16, "data", {"row": list(range(200)), "true": true, "predicted": ["b"] * 200})
    # b answers every row right, and lists its rows in reverse order
    b = _run(
        "b" * 16,
        "data",
        {"row": list(range(199, -1, -1)), "true": true[::-1], "predicted": true[::-1]},
    )
    pairing = pair_runs(a, b)
    assert pairing.reason is None
    assert pairing.comparison.accuracy.difference == pytest.approx(0.5)
    assert pairing.comparison.accuracy.ci95_low > 0
    assert pair_runs(a, a).comparison.accuracy.to_json() == {
        "difference": 0.0,
        "ci95_low": 0.0,
        "ci95_high": 0.0,
    }
    other_data = _run("c" * 16, "other", {"row": list(range(200)), "true": true, "predicted": true})
    assert pair_runs(a, other_data).reason == DIFFERENT_ROWS
    other_rows = _run(
        "d" * 16, "data", {"row": list(range(1, 201)), "true": true, "predicted": true}
    )
    assert pair_runs(a, other_rows).reason == DIFFERENT_ROWS
    fewer = _run(
        "e" * 16, "data", {"row": list(range(100)), "true": true[:100], "predicted": true[:100]}
    )
    assert pair_runs(a, fewer).reason == DIFFERENT_ROWS
    old = _run("f" * 16, "data", None)
    assert "no per-row test predictions" in pair_runs(a, old).reason
