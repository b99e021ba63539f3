"""cleanlab's ranking of a review's labels: each row's class index, label quality and
issue flag, from out-of-sample probabilities."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from pipeline.data import Dataset


def score_labels(
    labels: np.ndarray, probabilities: np.ndarray, method: str = "self_confidence"
) -> tuple[np.ndarray, np.ndarray]:
    """Label quality and cleanlab's issue flag for every row.

    Parameters
    ----------
    labels : numpy.ndarray
        Given class indices ``(rows,)``.
    probabilities : numpy.ndarray
        Out-of-sample probabilities ``(rows, classes)``.
    method : str
        A :data:`~pipeline.review.settings.QUALITY_METHODS` name for
        ``cleanlab.rank.get_label_quality_scores``.

    Returns
    -------
    quality : numpy.ndarray
        Floats in [0, 1] ``(rows,)``; low means the label is probably wrong.
    issues : numpy.ndarray
        Booleans ``(rows,)`` from ``cleanlab.filter.find_label_issues``.
    """
    import numpy as np
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    probabilities = _normalised(probabilities)
    quality = get_label_quality_scores(labels, probabilities, method=method)
    # n_jobs=1: cleanlab's multiprocessing would fork a process that may hold TensorFlow.
    issues = find_label_issues(labels, probabilities, n_jobs=1)
    return np.asarray(quality, dtype=float), np.asarray(issues, dtype=bool)


def class_indices(dataset: Dataset) -> np.ndarray:
    """Each row's label as its index in ``dataset.classes`` (the sorted codes).

    Parameters
    ----------
    dataset : Dataset
        Loaded data.

    Returns
    -------
    numpy.ndarray
        int64 ``(rows,)``, in the order of ``dataset.frame``.
    """
    index = {code: i for i, code in enumerate(dataset.classes)}
    return dataset.frame["label"].map(index).to_numpy(dtype="int64")


def _normalised(probabilities: np.ndarray) -> np.ndarray:
    """Rows clipped at 0 and summing to 1 (a row of zeros becomes uniform)."""
    import numpy as np

    probabilities = np.clip(np.asarray(probabilities, dtype=float), 0.0, None)
    totals = probabilities.sum(axis=1, keepdims=True)
    uniform = np.full_like(probabilities, 1.0 / probabilities.shape[1])
    return np.divide(probabilities, totals, out=uniform, where=totals > 0)
