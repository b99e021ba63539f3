"""Test-set metrics from predicted probabilities, with ``sklearn.metrics``.

The result is one JSON-ready dict, saved as a run's ``metrics.json``::

    test_accuracy, balanced_accuracy, test_loss, macro_f1, n_test
    per_class          {code: {name, precision, recall, f1, support}}
    confusion_matrix   {labels: [code], names: [name], matrix: [[int]]}  rows = true
    misclassified      [{text, true, predicted, confidence, probabilities: {code: p}}]

and :func:`row_predictions` gives the run's ``test_predictions.json``: every test row's
position in the dataset, true and predicted label and confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)

#: Most misclassified rows kept in metrics.json (the most confident mistakes first).
MAX_MISCLASSIFIED = 5000


def evaluate_probabilities(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str],
    label_names: dict[str, str],
    texts: Sequence[str],
    max_misclassified: int = MAX_MISCLASSIFIED,
) -> dict[str, Any]:
    """Score predicted probabilities against the true classes.

    Parameters
    ----------
    y_true : int array, shape (n,)
        Index into ``classes`` of each row's true label.
    probabilities : float array, shape (n, len(classes))
        The model's softmax output.
    classes : sequence of str
        Label codes in the model's output order.
    label_names : dict
        Display name of each code.
    texts : sequence of str, length n
        The test texts, for the misclassified table.
    """
    indices = list(range(len(classes)))
    y_pred = probabilities.argmax(axis=1)
    return {
        "n_test": len(y_true),
        "test_accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "test_loss": float(log_loss(y_true, probabilities, labels=indices)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=indices, average="macro", zero_division=0)
        ),
        "per_class": per_class_scores(y_true, y_pred, classes, label_names),
        "confusion_matrix": {
            "labels": list(classes),
            "names": [label_names.get(code, code) for code in classes],
            "matrix": confusion_matrix(y_true, y_pred, labels=indices).tolist(),
        },
        "misclassified": _misclassified(
            y_true, y_pred, probabilities, classes, texts, max_misclassified
        ),
    }


def per_class_scores(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[str],
    label_names: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """Precision, recall, F1 and support of every class, found by position.

    ``sklearn.metrics.classification_report(output_dict=True)`` is not used: it keys
    classes and its summary rows (``accuracy``, ``macro avg``, ``weighted avg``, ...) in
    one dict, so a class of that name crashed or took the summary's numbers. Labels are
    data here: any string is a class.

    Parameters
    ----------
    y_true, y_pred : int arrays, shape (n,)
        Index into ``classes`` of each row's true and predicted label.
    classes : sequence of str
        Label codes in the model's output order.
    label_names : dict
        Display name of each code (the code itself when missing).

    Returns
    -------
    dict
        ``{code: {name, precision, recall, f1, support}}`` in the order of ``classes``;
        a class without test rows or predictions scores 0, never an error.
    """
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(len(classes))), zero_division=0
    )
    return {
        code: {
            "name": label_names.get(code, code),
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, code in enumerate(classes)
    }


def _misclassified(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str],
    texts: Sequence[str],
    limit: int,
) -> list[dict[str, Any]]:
    wrong = np.flatnonzero(y_true != y_pred)
    confidence = probabilities[wrong, y_pred[wrong]]
    wrong = wrong[np.argsort(-confidence, kind="stable")][:limit]
    return [
        {
            "text": texts[i],
            "true": classes[y_true[i]],
            "predicted": classes[y_pred[i]],
            "confidence": float(probabilities[i, y_pred[i]]),
            "probabilities": {c: round(float(p), 4) for c, p in zip(classes, probabilities[i])},
        }
        for i in wrong
    ]


def row_predictions(
    rows: np.ndarray,
    y_true: np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str],
) -> dict[str, list]:
    """Every test row's prediction, JSON-ready (a run's ``test_predictions.json``).

    Parameters
    ----------
    rows : int array, shape (n,)
        Each test row's position in the dataset's ``frame``.
    y_true : int array, shape (n,)
        Index into ``classes`` of each row's true label.
    probabilities : float array, shape (n, len(classes))
        The model's softmax output.
    classes : sequence of str
        Label codes in the model's output order.

    Returns
    -------
    dict
        ``row`` (int), ``true`` and ``predicted`` (label codes) and ``confidence`` (the
        predicted class's probability, rounded to 6 digits): four lists of ``n`` items.
    """
    y_pred = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(y_pred)), y_pred]
    return {
        "row": [int(row) for row in rows],
        "true": [classes[i] for i in y_true],
        "predicted": [classes[i] for i in y_pred],
        # clipped: a float32 softmax can exceed 1 by a rounding error
        "confidence": [min(round(float(p), 6), 1.0) for p in confidence],
    }
