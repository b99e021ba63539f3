"""Metrics from probabilities, checked against hand-computed values."""

import numpy as np
import pytest

from pipeline.evaluation.metrics import evaluate_probabilities


def test_metrics_confusion_and_misclassified():
    classes = ["b", "e", "m"]
    names = {"b": "business", "e": "entertainment", "m": "health"}
    y_true = np.array([0, 0, 1, 1, 2, 2])
    probabilities = np.array(
        [
            [0.8, 0.1, 0.1],
            [0.2, 0.7, 0.1],  # b predicted as e (0.7)
            [0.1, 0.8, 0.1],
            [0.1, 0.6, 0.3],
            [0.05, 0.05, 0.9],
            [0.6, 0.1, 0.3],  # m predicted as b (0.6)
        ]
    )
    texts = [f"t{i}" for i in range(6)]
    metrics = evaluate_probabilities(y_true, probabilities, classes, names, texts)
    assert metrics["test_accuracy"] == pytest.approx(4 / 6)
    expected_loss = -np.mean(np.log(probabilities[np.arange(6), y_true]))
    assert metrics["test_loss"] == pytest.approx(expected_loss)
    assert metrics["confusion_matrix"]["matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert metrics["confusion_matrix"]["names"] == ["business", "entertainment", "health"]
    assert metrics["per_class"]["e"]["precision"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["m"]["recall"] == pytest.approx(0.5)
    assert metrics["per_class"]["b"]["support"] == 2
    wrong = metrics["misclassified"]
    assert [row["text"] for row in wrong] == ["t1", "t5"]  # most confident mistake first
    assert wrong[0]["true"] == "b" and wrong[0]["predicted"] == "e"
    assert wrong[0]["confidence"] == pytest.approx(0.7)


def test_balanced_accuracy_is_the_mean_recall_of_the_classes():
    """Three rows of ``b`` (all right) and one of ``e`` (wrong): accuracy 3/4, but the
    classes' recalls are 1 and 0, so balanced accuracy is 1/2."""
    y_true = np.array([0, 0, 0, 1])
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    metrics = evaluate_probabilities(y_true, probabilities, ["b", "e"], {}, ["a", "b", "c", "d"])
    assert metrics["test_accuracy"] == pytest.approx(0.75)
    assert metrics["balanced_accuracy"] == pytest.approx(0.5)
