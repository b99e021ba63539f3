"""cleanlab's ranking of a review's labels: each row's class index, label quality and
issue flag, from out-of-sample probabilities and the row's agreement with its group
mates (:mod:`pipeline.review.agreement`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from pipeline.data import Dataset
    from pipeline.review.agreement import GroupAgreement


def score_labels(
    labels: np.ndarray,
    probabilities: np.ndarray,
    method: str = "self_confidence",
    agreement: GroupAgreement | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Label quality and issue flag for every row.

    Parameters
    ----------
    labels : numpy.ndarray
        Given class indices ``(rows,)``.
    probabilities : numpy.ndarray
        Out-of-sample probabilities ``(rows, classes)``.
    method : str
        A :data:`~pipeline.review.settings.QUALITY_METHODS` name for
        ``cleanlab.rank.get_label_quality_scores``.
    agreement : GroupAgreement, optional
        Each row's group mates and those with its label
        (:func:`pipeline.review.agreement.group_agreement`); ``None``: rows alone.

    Returns
    -------
    quality : numpy.ndarray
        Floats in [0, 1] ``(rows,)``; low means the label is probably wrong: cleanlab's
        score times :meth:`GroupAgreement.factor`.
    issues : numpy.ndarray
        Booleans ``(rows,)``: ``cleanlab.filter.find_label_issues``, or a label that most
        of the row's mates and the model's most probable class both contradict.
    """
    import numpy as np
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    probabilities = _normalised(probabilities)
    quality = get_label_quality_scores(labels, probabilities, method=method)
    # n_jobs=1: cleanlab's multiprocessing would fork a process that may hold TensorFlow.
    issues = np.asarray(find_label_issues(labels, probabilities, n_jobs=1), dtype=bool)
    quality = np.asarray(quality, dtype=float)
    if agreement is not None:
        quality = quality * agreement.factor()
        issues |= agreement.outvoted() & (probabilities.argmax(axis=1) != labels)
    return quality, issues


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
