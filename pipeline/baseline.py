"""The yardstick: TF-IDF + logistic regression on the same split as the LSTM.

If the LSTM cannot beat a linear model on word n-grams, it is not earning its
training time; the Results page shows both side by side.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

BASELINE_NAME = "TF-IDF (1-2 grams) + logistic regression"


def fit_and_score_baseline(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    test_texts: Sequence[str],
    test_labels: Sequence[str],
) -> dict[str, Any]:
    """Fit the baseline on the training rows and score it on the test rows.

    Returns ``{"name", "test_accuracy", "macro_f1", "seconds"}``. The fitted
    model is not kept: it is cheap to refit, and saving it would mean pickling.
    """
    started = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000),
        LogisticRegression(max_iter=1000, C=10.0),
    )
    model.fit(list(train_texts), list(train_labels))
    predicted = model.predict(list(test_texts))
    return {
        "name": BASELINE_NAME,
        "test_accuracy": float(accuracy_score(list(test_labels), predicted)),
        "macro_f1": float(f1_score(list(test_labels), predicted, average="macro")),
        "seconds": round(time.perf_counter() - started, 2),
    }
